/**
 * GenerationSession: a decoder-only model loaded for generation, and the loop that drives it.
 *
 * At load the graph is rewritten twice (both opt-in, for generation only): `selectRows` makes the
 * lm_head run at the last position of each sequence only (a q8 head, after the fusions, through
 * `selectQuantizedHeadRows`), and `residentKvCache` turns each
 * layer's Concat(past, new) → attention into one `tessera.CachedAttention` over a cache held in
 * the session's Wasm memory. Then a step feeds only the new tokens, their positions, the cache
 * length (one int32) and the padding mask, and reads back one row of logits per sequence: the
 * bytes crossing JavaScript per token do not grow with the context, and one plan serves every
 * decode step. `kvCache` says which path runs: 'resident', or 'copied' where the rewrite could not
 * match the graph (then every `present` is copied out and fed back as `past`, as transformers.js
 * does, and each new past length is a new plan; `kvCacheReason` says why).
 */
import { TesseraError } from '../api/errors.js';
import { type InferenceSession, InferenceSession as Session, type SessionOptions } from '../api/session.js';
import { Tensor } from '../api/tensor.js';
import { KEY_MASK_INPUT, PAST_LENGTH_INPUT, residentKvCache } from '../graph/passes/kv-cache.js';
import { selectQuantizedHeadRows, selectRows } from '../graph/passes/select-rows.js';
import { halfToFloat } from '../onnx/float-formats.js';
import { type GenerationConfig, resolveConfig } from './config.js';
import { TokenSampler } from './sampling.js';

/** Options of `GenerationSession.create`: the session's, plus the cache's capacity. */
export interface GenerationSessionOptions extends SessionOptions {
  /**
   * Positions the resident cache holds at first (prompt + new tokens); it grows, by multiples of
   * 256, when a generation needs more. Default: what the first generation needs.
   */
  maxLength?: number;
  /** 'auto' (default): the resident cache where the graph allows; 'copied': always present → past (for comparisons). */
  kvCache?: 'auto' | 'copied';
  /**
   * How 4-bit MatMulNBits nodes compute. 'model' (default): as each node's `accuracy_level` says
   * (0 … 3: float32-grade — decode rows quantized to 16 bits per block, each x within 2^-16 of its
   * block's largest, exact integer sums; logits within 1e-4 of onnxruntime's float32 on the test
   * decoders). 'int8': every MatMulNBits runs as accuracy_level 4 (onnxruntime's int8 compute:
   * activations quantized to int8 per block), faster again per decode token on the relaxed-SIMD
   * build (docs/decode-kernels.md), within 1e-2 of Σ|x·w| of the float product. Opt-in because it
   * changes the numbers the model file asks for (logits 1–3 % of the largest apart on the test
   * decoders).
   */
  q4Compute?: 'model' | 'int8';
}

/** Hooks the pipeline uses: a stop test (stop strings) and a per-token callback. */
export interface GenerateHooks {
  /** Called after each new token with the sequences so far; true stops that sequence. */
  stop?: (batchIndex: number, sequence: readonly number[], promptLength: number) => boolean;
}

/** Counters for tests and tooling: what the last `generate` cost in plans and bytes. */
export interface GenerationStats {
  /** Model runs (prefill + decode steps). */
  steps: number;
  /** Plans the session has made in its life (one per new input shape). */
  plans: number;
  /** Bytes fed from JavaScript on the last step, and the most on any decode step. */
  bytesFedLastStep: number;
  /** Bytes read back on the last step. */
  bytesReadLastStep: number;
  /** Wasm heap bytes in use after the last step. */
  heapBytes: number;
}

const NEG = -3.4028234663852886e38; // float32's lowest: HF's finfo.min mask value
const yieldToEvents = eventYielder();

/**
 * A yield to the event loop between tokens (so an abort, a stream's reader or a UI gets its turn)
 * that costs microseconds: setImmediate in Node; in a page or web worker a MessageChannel message,
 * because browsers clamp a chain of setTimeout(0) to 4 ms from the fifth call on (+4 ms a token).
 */
function eventYielder(): () => Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void; document?: unknown; importScripts?: unknown };
  if (g.setImmediate) return () => new Promise((r) => g.setImmediate!(r));
  if ((g.document !== undefined || typeof g.importScripts === 'function') && typeof MessageChannel === 'function') {
    const channel = new MessageChannel();
    const waiting: (() => void)[] = [];
    channel.port1.onmessage = () => waiting.shift()?.();
    return () => new Promise((r) => { waiting.push(r); channel.port2.postMessage(0); });
  }
  return () => new Promise((r) => setTimeout(r, 0));
}

/** A decoder-only language model, ready to generate token ids. Call `release()` when done. */
export class GenerationSession {
  /** 'resident': the KV cache stays in Wasm memory; 'copied': present → past through JavaScript. */
  readonly kvCache: 'resident' | 'copied';
  /** Why the resident cache could not be used, when `kvCache` is 'copied'. */
  readonly kvCacheReason: string | undefined;
  /** 'last': the lm_head runs at the last position only; 'all': the graph's logits, every position. */
  readonly logitsAt: 'last' | 'all';
  /** Counters of the last generation. */
  readonly stats: GenerationStats = { steps: 0, plans: 0, bytesFedLastStep: 0, bytesReadLastStep: 0, heapBytes: 0 };
  private capacity: number;
  private busy = false;
  /** The genai layout on the resident cache: fed an attention_mask as long as the cache. */
  private gqa = false;

  private constructor(
    /** The underlying session (rewritten graph). */
    readonly session: InferenceSession,
    kvCache: 'resident' | 'copied', reason: string | undefined, logitsAt: 'last' | 'all', maxLength: number,
    private readonly pastLayout: PastLayout | undefined,
  ) {
    this.kvCache = kvCache;
    this.kvCacheReason = reason;
    this.logitsAt = logitsAt;
    this.capacity = maxLength;
  }

  /** Loads a decoder (optimum layout: input_ids, attention_mask, position_ids?, past_key_values.*). */
  static async create(model: Uint8Array | ArrayBuffer | string | URL, options: GenerationSessionOptions = {}): Promise<GenerationSession> {
    const { maxLength, kvCache = 'auto', q4Compute = 'model', ...opts } = options;
    if (q4Compute !== 'model' && q4Compute !== 'int8') throw new TesseraError('INVALID_ARGUMENT', `q4Compute must be 'model' or 'int8', got ${String(q4Compute)}`);
    // The model is loaded once, as given: a path stays a path (external data beside it), a URL is
    // streamed into Wasm memory. The resident-cache rewrite decides on the decoded graph; when it
    // refuses (leaving the graph unchanged) the same load goes on with the cache copied.
    let reason: string | undefined;
    let kind: 'attention' | 'gqa' = 'attention';
    let logitsAt: 'last' | 'all' = 'all';
    let path: 'resident' | 'copied' = 'resident';
    if (kvCache === 'copied') { reason = 'kvCache: copied was asked for'; path = 'copied'; }
    const rewrite = (m: import('../graph/ir.js').Model) => {
      if (q4Compute === 'int8') int8Compute(m);
      if (m.graph.outputs.some((o) => o.name === 'logits')) {
        try { selectRows(m, { output: 'logits', rowsInput: 'tessera_rows' }); logitsAt = 'last'; } catch { logitsAt = 'all'; }
      }
      if (path === 'resident') {
        const r = residentKvCache(m);
        if (typeof r === 'string') { reason = r; path = 'copied'; } else kind = r.kind;
      }
    };
    // A q8 head (DynamicQuantizeLinear → MatMulInteger …) becomes one op in the fusions; it then
    // runs at the last rows with its quantization range still taken over every row.
    const fused = (m: import('../graph/ir.js').Model) => {
      if (logitsAt === 'last' || !m.graph.outputs.some((o) => o.name === 'logits')) return;
      try { selectQuantizedHeadRows(m, { output: 'logits', rowsInput: 'tessera_rows' }); logitsAt = 'last'; } catch { /* logits at every row */ }
    };
    const session = await Session.createRewritten(model, opts, rewrite, fused);
    const layout = path === 'copied' ? pastLayoutOf(session) : undefined;
    if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength > 0)) throw new TesseraError('INVALID_ARGUMENT', `maxLength must be a positive integer, got ${maxLength}`);
    // Without maxLength the first generation's capacity is what it needs rounded up to 256, so
    // 256 is where it starts (a longer first generation grows it, as any later one may).
    const g = new GenerationSession(session, path, reason, logitsAt, maxLength ?? 256, layout);
    g.gqa = path === 'resident' && (kind as string) === 'gqa';
    try {
      await g.warmDecodePlan();
    } catch (e) {
      await session.release();
      throw e;
    }
    return g;
  }

  /**
   * Generates from one prompt (ids) or a batch (prompts of any lengths: left-padded with
   * pad_token_id). Returns each sequence, prompt included, as transformers.js's generate does.
   * An aborted `signal` stops between tokens and returns what was generated so far.
   */
  async generate(inputIds: readonly number[], config?: GenerationConfig, hooks?: GenerateHooks): Promise<number[]>;
  async generate(inputIds: readonly (readonly number[])[], config?: GenerationConfig, hooks?: GenerateHooks): Promise<number[][]>;
  async generate(inputIds: readonly number[] | readonly (readonly number[])[], config: GenerationConfig = {}, hooks: GenerateHooks = {}): Promise<number[] | number[][]> {
    const single = !Array.isArray(inputIds[0]);
    const prompts = (single ? [inputIds as readonly number[]] : inputIds as readonly (readonly number[])[]).map((p) => Array.from(p));
    if (!prompts.length || prompts.some((p) => !p.length)) throw new TesseraError('INVALID_ARGUMENT', 'generate: every prompt needs at least one token id');
    for (const p of prompts) for (const t of p) if (!Number.isInteger(t) || t < 0) throw new TesseraError('INVALID_ARGUMENT', `generate: token ids must be non-negative integers, got ${t}`);
    if (this.busy) throw new TesseraError('INVALID_ARGUMENT', 'generate: this session is already generating; await the previous call');
    this.busy = true;
    try {
      const out = await this.loop(prompts, config, hooks);
      return single ? out[0]! : out;
    } finally {
      this.busy = false;
    }
  }

  private async loop(prompts: number[][], config: GenerationConfig, hooks: GenerateHooks): Promise<number[][]> {
    const B = prompts.length;
    const S0 = Math.max(...prompts.map((p) => p.length));
    const cfg = resolveConfig([config], S0);
    const samplers = prompts.map((_, b) => new TokenSampler(cfg, b));
    const pad = cfg.padTokenId;
    // The genai layout's GroupQueryAttention takes right-padded prompts (seqlens_k counts each
    // row's live positions from 0); the optimum layout's masks take transformers.js's left padding.
    const fill = (p: number[]) => new Array<number>(S0 - p.length).fill(pad);
    const padded = prompts.map((p) => (this.gqa ? [...p, ...fill(p)] : [...fill(p), ...p]));
    const real = prompts.map((p) => new Array<boolean>(S0 - p.length).fill(false).concat(new Array<boolean>(p.length).fill(true)));
    const sequences = prompts.map((p) => [...p]);
    const done = new Array<boolean>(B).fill(false);
    const streamer = config.streamer ?? undefined;
    streamer?.put(prompts.map((p) => [...p]));
    const run = this.kvCache === 'copied' ? this.copiedStepper(B)
      : this.gqa ? this.gqaStepper(prompts.map((p) => p.length), S0 + cfg.maxNewTokens) : this.residentStepper(B, S0 + cfg.maxNewTokens);
    try {
      let ids = padded, generated = 0;
      while (generated < cfg.maxNewTokens && !done.every(Boolean)) {
        if (config.signal?.aborted) break;
        const logits = await run(ids, real);
        const next: number[] = [];
        for (let b = 0; b < B; b++) {
          if (done[b]) { next.push(pad); continue; }
          const t = samplers[b]!.next(logits[b]!, sequences[b]!, generated);
          sequences[b]!.push(t);
          next.push(t);
          if (cfg.eos.includes(t) || hooks.stop?.(b, sequences[b]!, prompts[b]!.length)) done[b] = true;
        }
        generated++;
        streamer?.put(next.map((t) => [t]));
        for (let b = 0; b < B; b++) real[b]!.push(true);
        ids = next.map((t) => [t]);
        await yieldToEvents();
      }
    } finally {
      streamer?.end();
    }
    return sequences;
  }

  /**
   * Plans the decode step (batch 1, one token, the current capacity) at load without running it:
   * the packing its kernels do once per weight (f32 panels, int8 byte panels, 4-bit scale groups)
   * and the cache blocks are paid by `create`, not by the first prompt's prefill. The resident
   * paths only: the copied one has a new shape every step.
   */
  private async warmDecodePlan(): Promise<void> {
    if (this.kvCache !== 'resident') return;
    const names = this.session.inputNames, maxLen = this.capacity;
    const feeds: Record<string, Tensor> = { input_ids: int64([0], [1, 1]) };
    if (names.includes('position_ids')) feeds.position_ids = int64([0], [1, 1]);
    if (this.logitsAt === 'last') feeds.tessera_rows = int64([0], [1]);
    if (this.gqa) {
      const mask = new BigInt64Array(maxLen);
      mask[0] = 1n;
      feeds.attention_mask = new Tensor('int64', mask, [1, maxLen]);
    } else {
      feeds[PAST_LENGTH_INPUT] = new Tensor('int32', Int32Array.of(0), [1]);
      feeds[KEY_MASK_INPUT] = new Tensor('float32', new Float32Array(maxLen), [1, maxLen]);
    }
    await this.session.warm(feeds);
  }

  /** Steps over the resident cache: prefill, then one token per sequence per step. */
  private residentStepper(B: number, needed: number) {
    if (needed > this.capacity) this.capacity = Math.ceil(needed / 256) * 256;
    const maxLen = this.capacity;
    const mask = new Float32Array(B * maxLen);
    let past = 0;
    const names = this.session.inputNames;
    return async (ids: number[][], real: boolean[][]): Promise<Float32Array[]> => {
      const S = ids[0]!.length;
      const feeds: Record<string, Tensor> = {};
      for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) mask[b * maxLen + past + s] = real[b]![past + s] ? 0 : NEG;
      feeds.input_ids = int64(ids.flat(), [B, S]);
      if (names.includes('position_ids')) feeds.position_ids = int64(positions(real, past, S), [B, S]);
      feeds[PAST_LENGTH_INPUT] = new Tensor('int32', Int32Array.of(past), [1]);
      feeds[KEY_MASK_INPUT] = new Tensor('float32', mask, [B, maxLen]);
      if (this.logitsAt === 'last') feeds.tessera_rows = int64(Array.from({ length: B }, (_, b) => b * S + S - 1), [B]);
      const out = await this.runStep(feeds, `${B}×${S}`);
      past += S;
      return lastRows(out, B, S, this.logitsAt);
    };
  }

  /**
   * Steps over GroupQueryAttention's shared buffers (genai layout): attention_mask is as long as
   * the cache (1 for the live positions), so total_sequence_length and the plan stay fixed, and
   * the graph's own seqlens_k (mask sum − 1) tells each layer how much is live. A batch of prompts
   * of different lengths is right-padded: the prefill treats every row as S0 long (causal attention
   * keeps a row's real tokens blind to the pads after them), its logits are read at each row's last
   * real token, and each row's first decoded token overwrites the cache at its own length.
   */
  private gqaStepper(lengths: number[], needed: number) {
    if (needed > this.capacity) this.capacity = Math.ceil(needed / 256) * 256;
    const maxLen = this.capacity, B = lengths.length;
    const mask = new BigInt64Array(B * maxLen);
    const live = new Array<number>(B).fill(0);
    const names = this.session.inputNames;
    return async (ids: number[][]): Promise<Float32Array[]> => {
      const S = ids[0]!.length;
      const prefill = live[0] === 0;
      const pos: number[] = [], rows: number[] = [];
      for (let b = 0; b < B; b++) {
        for (let s = 0; s < S; s++) { mask[b * maxLen + live[b]! + s] = 1n; pos.push(live[b]! + s); }
        rows.push(b * S + (prefill ? lengths[b]! : S) - 1);
      }
      const feeds: Record<string, Tensor> = { input_ids: int64(ids.flat(), [B, S]), attention_mask: new Tensor('int64', mask, [B, maxLen]) };
      if (names.includes('position_ids')) feeds.position_ids = int64(pos, [B, S]);
      if (this.logitsAt === 'last') feeds.tessera_rows = int64(rows, [B]);
      const out = await this.runStep(feeds, `${B}×${S}`);
      for (let b = 0; b < B; b++) {
        live[b] = prefill ? lengths[b]! : live[b]! + S;
        if (prefill) mask.fill(0n, b * maxLen + live[b]!, b * maxLen + S); // the pads are no longer live
      }
      return pickRows(out, this.logitsAt === 'last' ? rows.map((_, b) => b) : rows);
    };
  }

  /** Steps as transformers.js drives onnxruntime-web: attention_mask and past grow, present → past. */
  private copiedStepper(B: number) {
    const layout = this.pastLayout!;
    const names = this.session.inputNames;
    let pastFeeds: Record<string, Tensor> = {};
    for (const n of layout.names) {
      pastFeeds[n] = layout.dtype === 'float16' ? new Tensor('float16', new Uint16Array(0), [B, layout.kvHeads, 0, layout.headDim])
        : new Tensor('float32', new Float32Array(0), [B, layout.kvHeads, 0, layout.headDim]);
    }
    let past = 0;
    return async (ids: number[][], real: boolean[][]): Promise<Float32Array[]> => {
      const S = ids[0]!.length;
      const feeds: Record<string, Tensor> = { ...pastFeeds };
      feeds.input_ids = int64(ids.flat(), [B, S]);
      if (names.includes('attention_mask')) feeds.attention_mask = int64(real.flatMap((r) => r.slice(0, past + S).map(Number)), [B, past + S]);
      if (names.includes('position_ids')) feeds.position_ids = int64(positions(real, past, S), [B, S]);
      if (this.logitsAt === 'last') feeds.tessera_rows = int64(Array.from({ length: B }, (_, b) => b * S + S - 1), [B]);
      const out = await this.runStep(feeds);
      pastFeeds = {};
      for (const n of layout.names) {
        const present = out[n.replace(/^past_key_values/, 'present')];
        if (!present) throw new TesseraError('INVALID_MODEL', `the model has input '${n}' but no matching present output`);
        pastFeeds[n] = present;
      }
      past += S;
      return lastRows(out, B, S, this.logitsAt);
    };
  }

  /**
   * One run. With `logitsShape` (the resident paths, whose only output read is the logits), a step of
   * the same batch × length as the last writes its logits into the last step's tensor (consumed by
   * then) instead of a new 600 KB array a token.
   */
  private async runStep(feeds: Record<string, Tensor>, logitsShape?: string): Promise<Record<string, Tensor>> {
    const reuse = logitsShape !== undefined && logitsShape === this.logitsOut?.shape ? this.logitsOut.tensor : undefined;
    const out = await (reuse ? this.session.run(feeds, { logits: reuse }) : this.session.run(feeds));
    if (logitsShape !== undefined && out.logits) this.logitsOut = { shape: logitsShape, tensor: out.logits };
    const bytes = (ts: Iterable<Tensor>) => { let n = 0; for (const t of ts) n += (t.data as ArrayLike<unknown> & { byteLength: number }).byteLength; return n; };
    const s = this.stats as { -readonly [K in keyof GenerationStats]: GenerationStats[K] };
    s.steps++;
    s.bytesFedLastStep = bytes(Object.values(feeds));
    s.bytesReadLastStep = bytes(Object.values(out));
    const internal = this.session as unknown as { planCount: number; heapBytesInUse: number };
    s.plans = internal.planCount;
    s.heapBytes = internal.heapBytesInUse;
    return out;
  }

  private logitsOut: { shape: string; tensor: Tensor } | undefined;

  /** Frees the model's Wasm memory (and its cache). */
  release(): Promise<void> { return this.session.release(); }
}

/** q4Compute 'int8': accuracy_level 4 on every 4-bit MatMulNBits (the op reads it at prepare). */
function int8Compute(m: import('../graph/ir.js').Model): void {
  for (const n of m.graph.nodes) {
    if (n.opType === 'MatMulNBits' && n.domain === 'com.microsoft') n.attributes.set('accuracy_level', { type: 'int', value: 4 });
  }
}

function int64(values: readonly number[], dims: number[]): Tensor {
  return new Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

/** transformers.js's position ids: cumulative sum of the mask − 1, padding at 1. */
function positions(real: boolean[][], past: number, S: number): number[] {
  const out: number[] = [];
  for (const r of real) {
    let count = 0;
    for (let i = 0; i < past; i++) if (r[i]) count++;
    for (let s = 0; s < S; s++) {
      if (r[past + s]) out.push(count++); else out.push(1);
    }
  }
  return out;
}

function lastRows(out: Record<string, Tensor>, B: number, S: number, at: 'last' | 'all'): Float32Array[] {
  return pickRows(out, Array.from({ length: B }, (_, b) => (at === 'last' ? b : b * S + S - 1)));
}

/** The logits rows at the given indices (rows of logits flattened over batch and positions). */
function pickRows(out: Record<string, Tensor>, rows: number[]): Float32Array[] {
  const logits = out.logits;
  if (!logits || (logits.type !== 'float32' && logits.type !== 'float16')) throw new TesseraError('INVALID_MODEL', "the model has no float32 or float16 'logits' output");
  const data = logits.type === 'float16' ? Float32Array.from(logits.data as Uint16Array, halfToFloat) : logits.data as Float32Array;
  const V = logits.dims[logits.dims.length - 1]!;
  // Views, not copies: the run's output tensor is this step's own (nothing else holds it), and a
  // copy of a 151,936-float row cost ~0.5 ms a token (a fresh 600 KB buffer to zero and collect).
  return rows.map((row) => data.subarray(row * V, row * V + V));
}

interface PastLayout { names: string[]; kvHeads: number; headDim: number; dtype: string }

function pastLayoutOf(session: InferenceSession): PastLayout {
  const names = session.inputNames.filter((n) => /^past_key_values\.\d+\.(key|value)$/.test(n));
  if (!names.length) throw new TesseraError('INVALID_MODEL', `not a decoder with a KV cache: no past_key_values.{i}.key|value inputs (inputs: ${session.inputNames.join(', ')})`);
  const meta = session.inputMetadata.find((m) => m.name === names[0])!;
  const [, kvHeads, , headDim] = meta.shape ?? [];
  if (typeof kvHeads !== 'number' || typeof headDim !== 'number') throw new TesseraError('INVALID_MODEL', `input '${names[0]}' must declare its key/value heads and head size, got [${meta.shape}]`);
  return { names, kvHeads, headDim, dtype: meta.type ?? 'float32' };
}
