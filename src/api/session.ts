/**
 * InferenceSession, shaped like onnxruntime-web's: `create(model, options)`, `inputNames`,
 * `outputNames`, `run(feeds)`, `release()`.
 */
import { decodeModel } from '../onnx/decode.js';
import { type ExternalFiles, filesFromBytes, safeLocation } from '../onnx/external-data.js';
import { defaultRegistry } from '../ops/index.js';
import { Executor } from '../plan/executor.js';
import { type LoadedGraph, checkWeightsFit, loadGraph } from '../plan/load.js';
import { optimize } from '../graph/passes/index.js';
import type { Model } from '../graph/ir.js';
import { Engine } from '../runtime/engine.js';
import type { WasmVariant } from '../runtime/wasm.js';
import type { ModelCache } from '../platform/fetch-model.js';
import { platform } from '../platform/platform.js';
import type { OpenedModel } from '../platform/model-stream.js';
import { walkModel } from '../onnx/stream-walk.js';
import { type ResidentSink, fileSink, residentSink } from '../plan/stream-sink.js';
import { TesseraError, asTesseraError } from './errors.js';
import { Tensor } from './tensor.js';
import { validateFeeds } from './feeds.js';

/** How `InferenceSession.create` loads, optimizes and runs a model; every field is optional. */
export interface SessionOptions {
  /** Refuse models or shapes that would need more Wasm memory than this. */
  maxMemoryBytes?: number;
  /** 'all' (default) runs the fusions; 'disabled' runs the graph as written (for debugging). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Force a kernel build: 'simd' (SIMD128) or 'relaxed' (needs relaxed-SIMD support). */
  wasmVariant?: WasmVariant;
  /**
   * Threads for large kernels (GEMM, convolution, big element-wise ops): a count, or 'auto' for the
   * cores available (at most 4). Default 1. Results are bit-identical for any count. Where threads
   * cannot run (no SharedArrayBuffer, a page that is not cross-origin isolated, Cloudflare
   * Workers) the session runs on one thread and a console warning says why.
   */
  threads?: number | 'auto';
  /** Accepted for onnxruntime-web compatibility; tessera runs on its Wasm CPU kernels. */
  executionProviders?: unknown[];
  /** Download progress when `create` is given a URL: bytes so far, and the total when known. */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /**
   * Downloaded models are cached (Cache API in browsers, ~/.cache/tessera or TESSERA_CACHE_DIR in
   * Node) and revalidated by ETag. false: always download; or pass your own ModelCache.
   */
  cache?: ModelCache | false;
  /**
   * Files holding tensors stored outside the model (onnxruntime-web's option): `path` is the
   * `location` the model names; `data` is the file's bytes, or a path (Node) / URL to read them
   * from. In Node a model loaded by path finds them beside it without this.
   */
  externalData?: readonly { path: string; data: Uint8Array | ArrayBuffer | string | URL }[];
  /**
   * 'low' trades speed for footprint (small devices, Workers): one thread, and float32 MatMul
   * weights of 1 MiB or more stay as stored, packed a band at a time into scratch on every run,
   * so loading never needs a packed weight beside its source (docs/memory.md). Default 'default'.
   */
  memory?: 'default' | 'low';
  /**
   * Node, a model loaded by path: large embedding tables (initializers of 16 MiB or more that only
   * Gathers read) stay in the file, and each row is read into Wasm memory the first time a run
   * gathers it, so a session holds the rows its inputs used, not the whole vocabulary; MatMul
   * weights of 256 KiB or more are read at their first packing, from the file straight into their
   * panels. The file is kept open until `release()` while a table is read from it (else until the
   * run that read the last weight) and must not change meanwhile (a change is detected and fails the
   * run). false: read every weight at create and close the file. Default true (docs/memory.md).
   */
  tablesOnDemand?: boolean;
}

/** Per-call options of `session.run`. */
export interface RunOptions {
  /** Accepted for onnxruntime-web compatibility. */
  tag?: string;
  /** Time every node of this run; the result is in `session.lastProfile`. */
  profile?: boolean;
}

/** Per-node timings of a profiled run, in execution order. */
export interface RunProfile {
  /** Wall time of the whole run() call, ms. */
  totalMs: number;
  /** Feeds copied in and outputs copied out, plus planning if this shape was new, ms. */
  overheadMs: number;
  /** One entry per executed node: its name, op type, input and output dims, and time in ms. */
  nodes: { node: string; opType: string; inputs: number[][]; outputs: number[][]; ms: number }[];
}

/** A run's inputs: input name → Tensor. Every model input must be present (else INVALID_FEED). */
export type FeedsType = Record<string, Tensor>;
/** A run's outputs: output name → Tensor, for every output or the `fetches` asked for. */
export type ReturnType = Record<string, Tensor>;
/**
 * Which outputs to return, as onnxruntime-web takes them: names, or output name → a Tensor to write
 * that output into (its type and dims must be the output's; the same Tensor object is returned, so a
 * loop reuses one buffer instead of a new array a run) or null (a new Tensor, as by name).
 */
export type FetchesType = readonly string[] | Record<string, Tensor | null>;

/** What a model declares about an input or output, as onnxruntime-web's `inputMetadata`. */
export interface ValueMetadata {
  /** The input or output name, as in `inputNames` / `outputNames`. */
  name: string;
  /** Always true: tessera's inputs and outputs are tensors (onnxruntime-web compatibility). */
  isTensor: true;
  /** Element type, when the model declares it. */
  type: string | undefined;
  /** Dims: numbers where fixed, names where symbolic (`'batch'`), undefined where unknown. */
  shape: (number | string | undefined)[] | undefined;
}

/**
 * A loaded model, ready to run. Create with `InferenceSession.create`; call `release()` when done,
 * since its Wasm memory is not garbage-collected.
 */
export class InferenceSession {
  /** The graph inputs to feed, in model order (initializers are excluded). */
  readonly inputNames: readonly string[];
  /** The graph outputs `run` returns, in model order. */
  readonly outputNames: readonly string[];
  /** Declared type and shape of each input, in the order of `inputNames`. */
  readonly inputMetadata: readonly ValueMetadata[];
  /** Declared type and shape of each output, in the order of `outputNames`. */
  readonly outputMetadata: readonly ValueMetadata[];
  private released = false;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    // Not readonly: release() drops them, so a released session kept by the user holds no memory.
    private graph: LoadedGraph,
    private engine: Engine,
    private executor: Executor,
    // The model file, kept open while tables are read from it on demand (SessionOptions.tablesOnDemand).
    private file?: OpenedModel,
  ) {
    if (file) openFiles?.register(this, file, this);
    this.wasmVariant = engine.variant;
    this.inputNames = Object.freeze(graph.inputs.map((v) => v.name));
    this.outputNames = Object.freeze(graph.outputs.map((v) => v.name));
    const meta = (v: LoadedGraph['inputs'][number]): ValueMetadata => ({ name: v.name, isTensor: true, type: v.dtype, shape: v.shape && [...v.shape] });
    this.inputMetadata = Object.freeze(graph.inputs.map(meta));
    this.outputMetadata = Object.freeze(graph.outputs.map(meta));
  }

  /** Loads a model from bytes, or from a path (Node) / URL (browsers, Workers). */
  static async create(model: Uint8Array | ArrayBuffer | string | URL, options: SessionOptions = {}): Promise<InferenceSession> {
    return InferenceSession.createRewritten(model, options);
  }

  /**
   * @internal `create`, with a graph rewrite applied after decoding and before the fusions
   * (the fill-mask pipeline's selectRows), and optionally one after them (text generation's
   * q8 head). Not part of the onnxruntime-web-shaped API.
   */
  static async createRewritten(model: Uint8Array | ArrayBuffer | string | URL, options: SessionOptions, rewrite?: (m: Model) => void,
    rewriteFused?: (m: Model) => void): Promise<InferenceSession> {
    let engine: Engine | undefined;
    let beside: (ExternalFiles & { close(): void }) | undefined;
    let opened: OpenedModel | undefined;
    let ok = false;
    try {
      if (options.memory !== undefined && options.memory !== 'default' && options.memory !== 'low') {
        throw new TesseraError('INVALID_ARGUMENT', `memory must be 'default' or 'low', got ${String(options.memory)}`);
      }
      const makeEngine = () => Engine.create({ maxMemoryBytes: options.maxMemoryBytes, variant: options.wasmVariant, threads: options.threads, memory: options.memory });
      const source = await openSource(model, options);
      let files: ExternalFiles | undefined;
      if (options.externalData) {
        const given = await readExternalData(options.externalData, options);
        files = given.files;
        beside = given.close;
      }
      else if (typeof model === 'string' && !/^(https?|data|blob):/.test(model)) files = beside = platform.filesBeside?.(model);
      let decoded: Model;
      let resident: ResidentSink | undefined;
      if (source instanceof Uint8Array) decoded = decodeModel(source, { externalFiles: files });
      else {
        opened = source;
        // A file is walked with seeks and its weights read by offset at load; a stream is one pass.
        // A download needs the engine first: its large weights stream straight into the heap.
        if (!source.readAt) engine = await makeEngine();
        const sink = source.readAt ? fileSink(source.readAt) : (resident = residentSink(engine!));
        const walked = await walkModel(source.source, sink);
        if (!source.readAt) { await source.close(true); opened = undefined; }
        decoded = decodeModel(walked.skeleton, { externalFiles: files, streamed: walked.raws });
      }
      // Sizes are known from the tensor headers: refuse before reading the weights of a file.
      engine ??= await makeEngine();
      checkWeightsFit(decoded.graph, engine);
      rewrite?.(decoded);
      if ((options.graphOptimizationLevel ?? 'all') !== 'disabled') optimize(decoded);
      rewriteFused?.(decoded);
      const graph = loadGraph(decoded, defaultRegistry, engine, options.tablesOnDemand !== false && opened?.readAt !== undefined);
      resident?.releaseUnadopted();
      const executor = new Executor(graph, engine);
      ok = true;
      // Tables left in the file are read from it on demand: the session keeps it open.
      const keep = engine.tablesOnDemand > 0 || engine.deferredWeights > 0 ? opened : undefined;
      if (keep) opened = undefined;
      return new InferenceSession(graph, engine, executor, keep);
    } catch (e) {
      // A model that fails to load must not keep its Wasm memory alive.
      engine?.release();
      throw asTesseraError(e, 'InferenceSession.create');
    } finally {
      beside?.close();
      await opened?.close(ok);
    }
  }

  /** Threads this session's kernels use: 1 unless `threads` was asked for and could run. */
  get threads(): number { return this.engine?.threads ?? 1; }

  /** @internal Plans made so far (text generation's flat-cost tests). */
  get planCount(): number { return this.executor?.plansMade ?? 0; }

  /** @internal Wasm heap bytes in use (text generation's flat-cost tests). */
  get heapBytesInUse(): number { return this.engine?.heap.bytesInUse ?? 0; }

  /**
   * What the session holds in Wasm memory, in bytes: `wasmMemoryBytes`, the size of its
   * WebAssembly.Memory (it grows ahead of need and never shrinks; pages never touched cost no
   * physical memory); `heapHighWaterBytes`, the most of it ever used (weights, packed weights,
   * the activation arena: the part that is resident); `heapBytesInUse`, what is allocated now.
   * 0s after release().
   */
  memoryUsage(): { wasmMemoryBytes: number; heapHighWaterBytes: number; heapBytesInUse: number } {
    return { wasmMemoryBytes: this.wasmMemoryBytes, heapHighWaterBytes: this.heapHighWaterBytes, heapBytesInUse: this.heapBytesInUse };
  }

  /** @internal Bytes of the session's Wasm memory (it never shrinks: its high-water mark; the memory bench). */
  get wasmMemoryBytes(): number { return this.engine?.memory.buffer.byteLength ?? 0; }

  /**
   * @internal Gather tables left in the model file and the rows read from them so far, and weights
   * still to be read from it at their packing (SessionOptions.tablesOnDemand).
   */
  get tablesOnDemand(): { tables: number; rowsRead: number; deferred: number; packedFromFile: number } {
    return { tables: this.engine?.tablesOnDemand ?? 0, rowsRead: this.engine?.tableRowsRead ?? 0, deferred: this.engine?.deferredWeights ?? 0,
      packedFromFile: this.engine?.packedFromFile ?? 0 };
  }

  /** @internal The highest heap address ever used: Wasm memory actually touched (memory tests, the memory bench). */
  get heapHighWaterBytes(): number { return this.engine?.heap.highWaterBytes ?? 0; }

  /** Which kernel build this session runs: 'relaxed' where the engine has relaxed SIMD. */
  readonly wasmVariant: WasmVariant;

  /**
   * Runs the model. Overlapping calls are queued, so each result equals what the call returns
   * alone. `fetches` may name a subset of the outputs.
   */
  run(feeds: FeedsType, fetches?: FetchesType | RunOptions, options?: RunOptions): Promise<ReturnType> {
    let into: Record<string, Tensor | null> | undefined;
    try {
      into = fetchesMap(fetches, this.outputNames);
    } catch (e) {
      return Promise.reject(asTesseraError(e, 'run'));
    }
    const names = Array.isArray(fetches) ? fetches as readonly string[] : into ? Object.keys(into) : undefined;
    const opts = Array.isArray(fetches) || into ? options : (fetches as RunOptions | undefined) ?? options;
    const result = this.queue.then(() => {
      try {
        return this.runNow(feeds, names, opts?.profile === true, into);
      } catch (e) {
        throw asTesseraError(e, 'run');
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * @internal Makes and builds the plan for these feeds without running it (queued like `run`), so
   * that what a first run pays once — the plan, weights packed for its kernels — is paid now
   * (text generation plans its decode step at load).
   */
  warm(feeds: FeedsType): Promise<void> {
    const result = this.queue.then(() => {
      try {
        if (this.released) throw new TesseraError('RELEASED', 'This session was released; create a new one to run again');
        const ordered = validateFeeds(feeds, this.graph.inputs);
        this.executor.build(this.executor.planFor(ordered.map((t, i) => ({ name: this.inputNames[i]!, dtype: t.type, dims: [...t.dims], data: t.data as never }))));
        this.closeFileWhenRead();
      } catch (e) {
        throw asTesseraError(e, 'warm');
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Timings of the last run made with `{ profile: true }`. */
  lastProfile: RunProfile | undefined;

  private runNow(feeds: FeedsType, fetches: readonly string[] | undefined, profile: boolean, into?: Record<string, Tensor | null>): ReturnType {
    if (this.released) throw new TesseraError('RELEASED', 'This session was released; create a new one to run again');
    const start = profile ? performance.now() : 0;
    const ordered = validateFeeds(feeds, this.graph.inputs);
    const plan = this.executor.planFor(ordered.map((t, i) => ({ name: this.inputNames[i]!, dtype: t.type, dims: [...t.dims], data: t.data as never })));
    const timings: number[] | undefined = profile ? [] : undefined;
    const wanted = fetches ?? this.outputNames;
    for (const name of wanted) {
      if (!this.outputNames.includes(name)) throw new TesseraError('INVALID_ARGUMENT', `Unknown output '${name}' requested; outputs are ${this.outputNames.join(', ')}`);
    }
    const outs = this.executor.run(plan, ordered, timings, into && this.outputNames.map((n) => into[n] ?? undefined),
      fetches && this.outputNames.map((n) => fetches.includes(n)));
    this.closeFileWhenRead();
    if (timings) {
      const totalMs = performance.now() - start;
      const nodes = plan.describeSteps().map((s, i) => ({ ...s, ms: timings[i]! }));
      this.lastProfile = { totalMs, overheadMs: totalMs - timings.reduce((a, b) => a + b, 0), nodes };
    }
    const result: ReturnType = Object.create(null);
    for (const name of wanted) result[name] = outs[this.outputNames.indexOf(name)]!;
    return result;
  }

  /**
   * The model file kept open for weights read at their packing is closed once they all are (and no
   * Gather table is read from it on demand): a session does not hold the file longer than it needs.
   */
  private closeFileWhenRead(): void {
    if (!this.file || this.engine.tablesOnDemand > 0 || this.engine.deferredWeights > 0) return;
    openFiles?.unregister(this);
    const file = this.file;
    this.file = undefined;
    file.close(true).catch(() => undefined);
  }

  /** Frees the session's Wasm memory. Further runs fail with code RELEASED. */
  async release(): Promise<void> {
    await this.queue;
    if (this.released) return;
    this.released = true;
    this.executor.release();
    this.engine.release();
    this.graph = this.engine = this.executor = undefined as never;
    if (this.file) {
      openFiles?.unregister(this);
      const file = this.file;
      this.file = undefined;
      await file.close(true);
    }
  }
}

/**
 * `fetches` as an output name → Tensor | null map (onnxruntime-web's rule: an object is one when a
 * key is an output name whose value is a Tensor or null), else undefined (names or RunOptions).
 */
function fetchesMap(fetches: unknown, outputNames: readonly string[]): Record<string, Tensor | null> | undefined {
  if (!fetches || typeof fetches !== 'object' || Array.isArray(fetches)) return undefined;
  const given = fetches as Record<string, unknown>;
  const keys = Object.keys(given);
  if (!keys.some((k) => outputNames.includes(k) && (given[k] === null || given[k] instanceof Tensor))) return undefined;
  for (const k of keys) {
    if (!outputNames.includes(k)) throw new TesseraError('INVALID_ARGUMENT', `Unknown output '${k}' in fetches; outputs are ${outputNames.join(', ')}`);
    if (given[k] !== null && !(given[k] instanceof Tensor)) throw new TesseraError('INVALID_ARGUMENT', `fetches['${k}'] must be a Tensor to write into, or null`);
  }
  return given as Record<string, Tensor | null>;
}

// A session dropped without release() closes the model file it kept open for its tables.
const openFiles = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<OpenedModel>((file) => { file.close(true).catch(() => undefined); }) : undefined;

/**
 * externalData entries: bytes as given; a local path (Node) opened and read by offset straight into
 * Wasm memory; a URL read like a model (fetch, cache, progress).
 */
async function readExternalData(list: NonNullable<SessionOptions['externalData']>, options: SessionOptions) {
  if (!Array.isArray(list)) throw new TesseraError('INVALID_ARGUMENT', 'externalData must be an array of { path, data }');
  const isLocal = (d: unknown): d is string | URL => (typeof d === 'string' && !/^(https?|data|blob):/.test(d)) || (d instanceof URL && d.protocol === 'file:');
  const paths = new Map<string, string>();
  const rest: { path: string; data: Uint8Array | ArrayBuffer }[] = [];
  for (const item of list) {
    if (platform.filesAt && item && typeof item.path === 'string' && isLocal(item.data)) {
      const text = String(item.data);
      // file: URLs by string operations: the Workers bundle must not contain URL construction.
      paths.set(safeLocation(item.path, `externalData '${item.path}'`), text.startsWith('file:') ? decodeURIComponent(text.replace(/^file:\/\//, '')) : text);
    } else {
      rest.push(await Promise.resolve(item).then(async (i) => ({
        path: i?.path,
        data: typeof i?.data === 'string' || i?.data instanceof URL
          ? await platform.readModel(i.data, { onProgress: options.onProgress, cache: options.cache })
          : i?.data,
      })) as { path: string; data: Uint8Array | ArrayBuffer });
    }
  }
  const bytes = filesFromBytes(rest);
  if (paths.size === 0) return { files: bytes, close: undefined };
  const onDisk = platform.filesAt!(paths);
  const files: ExternalFiles = {
    size: (location) => (paths.has(location) ? onDisk.size(location) : bytes.size(location)),
    slice: (location, offset, length) => (paths.has(location) ? onDisk : bytes).slice(location, offset, length),
    describe: () => `${onDisk.describe()}; ${bytes.describe()}`,
  };
  return { files, close: onDisk };
}

/** Bytes are read in place; a path or URL is opened for a streamed load (or read whole where it must). */
async function openSource(model: Uint8Array | ArrayBuffer | string | URL, options: SessionOptions): Promise<Uint8Array | OpenedModel> {
  if (model instanceof Uint8Array) return model;
  if (model instanceof ArrayBuffer) return new Uint8Array(model);
  if (typeof model === 'string' || model instanceof URL) return platform.openModel(model, { onProgress: options.onProgress, cache: options.cache });
  throw new TesseraError('INVALID_ARGUMENT', 'InferenceSession.create takes a Uint8Array, an ArrayBuffer, a path or a URL');
}
