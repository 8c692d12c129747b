/**
 * One session's machine: its kernel instance, its own Wasm memory and the heap over it. Weights
 * and folded constants are written into that memory once; plans and steps refer to them by
 * address. Releasing the engine drops the memory as a whole.
 */
import { TYPED_ARRAY, bytesPerElement, shapeSize } from '../api/tensor.js';
import type { ConstTensor, DType } from '../graph/ir.js';
import type { Bound, Prepared } from '../ops/types.js';
import { Heap } from './heap.js';
import type { Kernels } from './kernels.js';
import { type NumericArray, viewOf } from './memory.js';
import { type WasmVariant, instantiateKernels } from './wasm.js';
import { type ReadTableBytes, TableOnDemand } from './table-on-demand.js';
import { type Team, joinPool, parallelKernels, resolveThreads, type ThreadsOption } from './threads/index.js';

/** A tensor whose contents are fixed: in Wasm memory at `ptr`, or in `strings` for text. */
export interface ConstValue {
  dtype: DType;
  dims: number[];
  ptr: number;
  strings?: string[];
  /** Freed after a pre-packed copy replaced it (its only reader packed it); never read again. */
  released?: boolean;
}

export interface EngineOptions {
  maxMemoryBytes?: number;
  variant?: WasmVariant;
  /** Threads for large kernels; more than 1 puts the session on a shared memory and the pool. */
  threads?: ThreadsOption;
  /** SessionOptions.memory: 'low' makes ops trade speed for footprint (OpContext.memory). */
  memory?: 'default' | 'low';
}

/**
 * Weights from this size on are packed within their own block where the op can (Bound.persistent's
 * inPlace: float32 MatMul weights), not through a temporary copy: the temporary of the largest
 * weight would otherwise set the heap's high-water mark (BERT-base's 89 MiB MLM decoder). In-place
 * packing follows a permutation's cycles through memory at random, ~10 ns a float against ~1 for
 * the copy, so smaller weights keep the faster path.
 */
const IN_PLACE_MIN_BYTES = 64 * 2 ** 20;

/**
 * A weight matrix of a model file from this size on is not read at load when its one reader packs
 * it from rows (a float32 MatMul's B, an int8 weight of a dynamically quantized MatMul): the
 * packing reads it from the file a band of rows at a time straight into panels in its block
 * (Bound.persistent's inPlace.packRows), instead of the load reading it raw and the first run then
 * packing it into a temporary and copying that back (or, from 64 MiB, permuting it in place): one
 * pass over the weight instead of three, and no packing temporary (the int8 Qwen3-shaped decoder's
 * 148 MiB lm_head needed one its size; docs/memory.md, "Time to first result"). Read whole if
 * anything else reads it first. Smaller weights are not worth a read each.
 */
export const DEFERRED_MIN_BYTES = 256 * 2 ** 10;
/** Rows of a deferred weight read per band: about this many bytes of scratch. */
const BAND_BYTES = 2 * 2 ** 20;

// Created only where it exists (workerd's older compatibility dates lack it, and have no threads).
const unreleased = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<Team>((team) => team.leave()) : undefined;

/** Bound.persistent's way to pack a weight from its stored rows, a band at a time. */
type PackRows = NonNullable<NonNullable<Parameters<Bound['persistent']>[5]>['packRows']>;

export class Engine {
  /** Pre-packed weights and other per-session derived data, keyed by what they derive from. */
  private readonly persistentBlocks = new Map<string, number>();
  /** Constants with one reader in the whole graph, by address: freed when that reader packs them. */
  private readonly releasable = new Map<number, ConstValue>();
  /** Gather tables left in the model file, by address: rows read into their block on first use. */
  private readonly onDemand = new Map<number, TableOnDemand>();
  /** Weights of the model file not read yet, by address (DEFERRED_MIN_BYTES): read at their packing or first use. */
  private readonly deferred = new Map<number, { read: ReadTableBytes; bytes: number }>();

  private constructor(
    readonly kernels: Kernels,
    readonly memory: WebAssembly.Memory,
    readonly heap: Heap,
    readonly variant: WasmVariant,
    private team?: Team,
  ) {}

  /** 'low': ops keep no packed copy of large weights where they can read them as stored (SessionOptions.memory). */
  memoryMode: 'default' | 'low' = 'default';

  /** Threads this engine's kernels may use (1: the caller's alone). */
  get threads(): number { return this.team ? this.team.workers + 1 : 1; }

  static async create(options: EngineOptions = {}): Promise<Engine> {
    const engine = await Engine.start(options);
    if (options.memory === 'low') engine.memoryMode = 'low';
    return engine;
  }

  private static async start(options: EngineOptions): Promise<Engine> {
    // The low-memory profile runs on one thread: no shared memory, no pool, no per-thread scratch.
    const threads = options.memory === 'low' ? 1 : resolveThreads(options.threads);
    const inst = await instantiateKernels(1, options.variant, threads > 1);
    const heap = new Heap(inst.memory, Math.max(inst.kernels.heap_base(), 1024), options.maxMemoryBytes);
    if (threads === 1) return new Engine(inst.kernels, inst.memory, heap, inst.variant);
    let team: Team;
    try {
      team = await joinPool(inst.module, inst.memory, threads);
    } catch (e) {
      // Threads that cannot start (a CSP without worker-src, a sandbox) cost speed, not the
      // session: the threads build runs correctly on the caller alone.
      console.warn(`tessera: threads: ${threads} requested, running on one thread: ${(e as Error).message}`);
      return new Engine(inst.kernels, inst.memory, heap, inst.variant);
    }
    const engine = new Engine(parallelKernels(inst.kernels, team), inst.memory, heap, inst.variant, team);
    // A session dropped without release() must not pin its memory in the pool's threads forever.
    unreleased?.register(engine, team, team);
    return engine;
  }

  /** Drops every reference to the memory so the engine can reclaim it as a whole. */
  release(): void {
    this.persistentBlocks.clear();
    this.releasable.clear();
    this.onDemand.clear();
    this.deferred.clear();
    // The pool's threads drop their instances over this memory; the last session stops the pool.
    if (this.team) {
      unreleased?.unregister(this.team);
      this.team.leave();
    }
    this.team = undefined;
  }

  /** `c` is read by one node only, which may replace it by a persistent block (see Bound.persistent). */
  markReleasable(c: ConstValue): void {
    if (c.ptr >= 0) this.releasable.set(c.ptr, c);
  }

  /** Copies a constant into Wasm memory (straight from the model's bytes when they are raw). */
  writeConst(t: ConstTensor, what: string): ConstValue {
    if (t.dtype === 'string') return { dtype: t.dtype, dims: t.dims, ptr: -1, strings: t.data as string[] };
    const n = shapeSize(t.dims);
    const bytes = n * bytesPerElement(t.dtype);
    const ptr = this.heap.alloc(roomForPacking(t.dtype, t.dims), what);
    // Raw and external bytes go in as bytes: no typed array of the weights is ever made in JS.
    if (t.readInto) t.readInto(new Uint8Array(this.memory.buffer, ptr, bytes));
    else if (t.raw) new Uint8Array(this.memory.buffer, ptr, bytes).set(t.raw);
    else viewOf(this.memory, t.dtype, ptr, n).set(t.data as NumericArray as never);
    return { dtype: t.dtype, dims: t.dims, ptr };
  }

  /**
   * Reserves a heap block for a Gather table without writing it: `read` fills rows on first use
   * (TableOnDemand). Pages of the block no run reads are never touched, so cost no physical memory.
   */
  reserveTable(t: ConstTensor, read: ReadTableBytes, name: string): ConstValue {
    const bytes = shapeSize(t.dims) * bytesPerElement(t.dtype);
    const ptr = this.heap.alloc(bytes, `initializer '${name}'`);
    const rows = t.dims[0]!;
    this.onDemand.set(ptr, new TableOnDemand(this.memory, ptr, rows, rows ? bytes / rows : 0, read, name));
    return { dtype: t.dtype, dims: t.dims, ptr };
  }

  /**
   * Reserves the block of a large weight (with room for its panels) without reading it: its
   * packing reads it from the file in bands (DEFERRED_MIN_BYTES), or it is read whole the first
   * time anything else may read it (`settle`).
   */
  deferWeight(t: ConstTensor, read: ReadTableBytes, name: string): ConstValue {
    const ptr = this.heap.alloc(roomForPacking(t.dtype, t.dims), `initializer '${name}'`);
    this.deferred.set(ptr, { read, bytes: shapeSize(t.dims) * bytesPerElement(t.dtype) });
    return { dtype: t.dtype, dims: t.dims, ptr };
  }

  /** Reads whichever of these constants are deferred weights (an op built over them reads them as stored). */
  settle(ptrs: readonly number[]): void {
    if (this.deferred.size === 0) return;
    for (const ptr of ptrs) {
      const d = this.deferred.get(ptr);
      if (!d) continue;
      this.deferred.delete(ptr);
      d.read(new Uint8Array(this.memory.buffer, ptr, d.bytes), 0);
    }
  }

  /** Weights still to be read from the model file (the session keeps it open while there are any). */
  get deferredWeights(): number { return this.deferred.size; }

  /** Deferred weights packed from the file a band of rows at a time (not read whole first). */
  packedFromFile = 0;

  /** The table read on demand at `ptr`, if that constant is one. */
  tableAt(ptr: number): TableOnDemand | undefined { return this.onDemand.get(ptr); }

  /** Gather tables read on demand (the session keeps the model file open while there are any). */
  get tablesOnDemand(): number { return this.onDemand.size; }

  /** Rows read so far from the tables read on demand. */
  get tableRowsRead(): number {
    let n = 0;
    for (const t of this.onDemand.values()) n += t.rowsRead;
    return n;
  }

  allocConst(dtype: DType, dims: number[], what: string): ConstValue {
    if (dtype === 'string') return { dtype, dims, ptr: -1, strings: [] };
    const ptr = this.heap.alloc(shapeSize(dims) * bytesPerElement(dtype), what);
    return { dtype, dims, ptr };
  }

  /** A copy of a constant's contents, safe to keep across memory growth. */
  readConst(c: ConstValue): NumericArray | string[] {
    if (c.strings) return c.strings;
    if (c.released) throw new Error(`a constant was read after its only reader replaced it by a packed copy`);
    this.onDemand.get(c.ptr)?.ensureAll();
    this.settle([c.ptr]);
    return viewOf(this.memory, c.dtype, c.ptr, shapeSize(c.dims)).slice();
  }

  freeConst(c: ConstValue): void {
    if (c.released) return;
    this.releasable.delete(c.ptr);
    this.onDemand.delete(c.ptr);
    this.deferred.delete(c.ptr);
    if (c.ptr >= 0) this.heap.release(c.ptr);
  }

  view(dtype: DType, ptr: number, length: number): () => NumericArray {
    let buffer: ArrayBuffer | undefined;
    let cached: NumericArray | undefined;
    return () => {
      if (buffer !== this.memory.buffer) {
        buffer = this.memory.buffer;
        cached = viewOf(this.memory, dtype, ptr, length);
      }
      return cached!;
    };
  }

  bind(inputs: readonly number[], outputs: readonly number[], scratch: number): Bound {
    return {
      k: this.kernels,
      memory: this.memory,
      inputs,
      outputs,
      scratch,
      view: (dtype, ptr, length) => this.view(dtype, ptr, length),
      tableAt: (ptr) => this.onDemand.get(ptr),
      persistent: (key, bytes, fill, replaces, releasable, inPlace) => {
        let ptr = this.persistentBlocks.get(key);
        if (ptr === undefined) {
          const source = replaces === undefined ? undefined : this.releasable.get(replaces);
          const unread = source && this.deferred.get(source.ptr);
          if (source && unread && inPlace?.packRows && this.heap.capacityOf(source.ptr) >= bytes) {
            this.deferred.delete(source.ptr);
            this.packFromFile(source.ptr, unread.read, inPlace.packRows, key);
            this.packedFromFile++;
            this.heap.shrink(source.ptr, bytes);
            ptr = source.ptr;
          } else {
            // `fill` reads the node's inputs as stored: any still in the model file are read first.
            this.settle(inputs);
            if (source && this.heap.capacityOf(source.ptr) >= bytes && inPlace?.run && bytes >= IN_PLACE_MIN_BYTES) {
              const scratch = this.heap.alloc(inPlace.scratchBytes ?? 0, `${key} (in place)`);
              try { inPlace.run(source.ptr, scratch); } finally { this.heap.release(scratch); }
              this.heap.shrink(source.ptr, bytes);
              ptr = source.ptr;
            } else if (source && this.heap.capacityOf(source.ptr) >= bytes) {
              ptr = this.packOver(source, bytes, fill, key);
            } else {
              ptr = this.heap.alloc(bytes, key);
              fill(ptr);
              if (source) this.heap.release(source.ptr);
            }
          }
          this.persistentBlocks.set(key, ptr);
          if (source) {
            this.releasable.delete(replaces!);
            source.released = true;
            // The block inherits its source's single reader, so that reader may replace it in turn.
            if (releasable) this.releasable.set(ptr, { dtype: 'uint8', dims: [bytes], ptr });
          }
        }
        return ptr;
      },
    };
  }

  /** A deferred weight's panels written into its block from the file, a band of rows at a time. */
  private packFromFile(dst: number, read: ReadTableBytes, how: PackRows, key: string): void {
    // Bands of a multiple of 8 rows (the int8 panels interleave rows by 8); the last ends at `rows`.
    const band = Math.min(how.rows, Math.max(8, Math.floor(BAND_BYTES / how.rowBytes / 8) * 8));
    const scratch = this.heap.alloc(band * how.rowBytes, `${key} (rows read from the file)`);
    try {
      for (let k0 = 0; k0 < how.rows; k0 += band) {
        const n = Math.min(band, how.rows - k0);
        read(new Uint8Array(this.memory.buffer, scratch, n * how.rowBytes), k0 * how.rowBytes);
        how.run(dst, scratch, k0, n);
      }
    } finally {
      this.heap.release(scratch);
    }
  }

  /**
   * Packs a weight into its own block: into a temporary block, copied back over the source, whose
   * unused tail is then freed. The heap's high-water mark thus grows by one packed tensor at most
   * (the temporary, reused by the next weight), instead of by every packed block allocated at the
   * top while the sources' holes below go unused (Wasm memory never shrinks).
   */
  private packOver(source: ConstValue, bytes: number, fill: (ptr: number) => void, key: string): number {
    const temp = this.heap.alloc(bytes, key);
    try {
      fill(temp);
      new Uint8Array(this.memory.buffer).copyWithin(source.ptr, temp, temp + bytes);
    } finally {
      this.heap.release(temp);
    }
    this.heap.shrink(source.ptr, bytes);
    return source.ptr;
  }

  /**
   * Runs a prepared op once on constant inputs (constant folding at load or plan time) and returns
   * its outputs as new constants, which the caller owns.
   */
  evaluate(prepared: Prepared, inputs: readonly (ConstValue | undefined)[], what: string): ConstValue[] {
    if (prepared.evaluate) {
      // Reserve the outputs first: the heap refuses what is over the limit (OUT_OF_MEMORY) before
      // evaluate() builds a JS array of that size (a RangeError for 2^40 elements).
      const reserved = prepared.outputs.map((info) => this.allocConst(info.dtype, info.dims, what));
      let values: ReturnType<NonNullable<Prepared['evaluate']>>;
      try {
        values = prepared.evaluate(inputs.map((c) => (c ? this.readConst(c) : undefined)));
      } catch (e) {
        reserved.forEach((c) => this.freeConst(c));
        throw e;
      }
      return prepared.outputs.map((info, i) => {
        const out = reserved[i]!;
        const v = values[i]!;
        if (out.strings) out.strings = v as string[];
        else viewOf(this.memory, info.dtype, out.ptr, shapeSize(info.dims)).set(v as never);
        return out;
      });
    }
    if (prepared.aliasOf !== undefined) {
      const src = inputs[prepared.aliasOf]!;
      const info = prepared.outputs[0]!;
      const out = this.allocConst(info.dtype, info.dims, what);
      if (src.strings) out.strings = src.strings;
      else new Uint8Array(this.memory.buffer, out.ptr, shapeSize(info.dims) * bytesPerElement(info.dtype))
        .set(new Uint8Array(this.memory.buffer, src.ptr, shapeSize(info.dims) * bytesPerElement(info.dtype)));
      return [out];
    }
    const outs = prepared.outputs.map((info) => this.allocConst(info.dtype, info.dims, what));
    const scratch = prepared.scratchBytes ? this.heap.alloc(prepared.scratchBytes, `${what} scratch`) : 0;
    try {
      const ptrs = inputs.map((c) => c?.ptr ?? 0);
      const step = prepared.build!(this.bind(ptrs, outs.map((o) => o.ptr), scratch));
      this.settle(ptrs);
      step();
    } finally {
      if (scratch) this.heap.release(scratch);
    }
    return outs;
  }
}

/**
 * Bytes to reserve for a constant: its own, or, for a large matrix, what its packed panels may
 * take (both of its last two dims rounded up to 8: the GEMM panels' padding), so that packing can
 * write the panels over the source (Engine.packOver) instead of beside it. At most 7 rows and 7
 * columns more, only for constants of 64 KiB or more.
 */
export function roomForPacking(dtype: DType, dims: readonly number[]): number {
  const bytes = shapeSize(dims as number[]) * bytesPerElement(dtype);
  if (dims.length < 2 || bytes < 65536) return bytes;
  const C = dims[dims.length - 1]!, R = bytes / bytesPerElement(dtype) / C;
  return Math.max(bytes, Math.ceil(R / 8) * 8 * Math.ceil(C / 8) * 8 * bytesPerElement(dtype));
}

export function constToTyped(dtype: DType, data: ArrayLike<number> | ArrayLike<bigint>): NumericArray {
  if (dtype === 'string') throw new Error('string');
  return new (TYPED_ARRAY[dtype] as unknown as new (d: ArrayLike<number> | ArrayLike<bigint>) => NumericArray)(data);
}
