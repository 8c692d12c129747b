/**
 * WhisperModel: Whisper's encoder and decoder, loaded for transcription. The encoder runs once per
 * 30-second window (log-mel features → hidden states). The decoder is rewritten at load
 * (graph/passes/encoder-decoder-cache.ts) so that the cross-attention keys and values are
 * projected once per window, on the first decoding step, and stay in Wasm memory for every later
 * step, and the self-attention cache is resident as text generation's (CachedAttention): a step
 * feeds the new token ids, their positions, one int32 of cache length and a mask row, and reads
 * one row of logits back. The merged decoder's `If` is resolved once at load (its with-past branch
 * plus the no-past branch's cross projections), never per step: two plans in all (a window's first
 * step, then every token).
 * Every node of the rewritten decoder works on each batch row alone, so `stepBatch` decodes B
 * windows in lockstep (one shared past length): the weights are read once per step for all of them
 * (src/speech/decode-rows.ts). That is exact only where a row's numbers cannot depend on the other
 * rows. q8 decoders (onnxruntime's dynamic quantization: one range over the whole tensor) are
 * made so by quantizing each window with its own range (graph/passes/per-item-quantize.ts);
 * `rowsIndependent` is false for what remains (4-bit weights, q4: MatMulNBits, or quantization the
 * fusions left unfused), which then decodes one window at a time.
 * A decoder exported with output_attentions (`cross_attentions.{i}`, the `_timestamped` folders)
 * keeps those outputs (CrossAttention's probabilities); `collectCrossAttentions` names the
 * (layer, head) pairs word timestamps need, and only steps made while it is on fetch them.
 */
import { TesseraError } from '../api/errors.js';
import { InferenceSession, type SessionOptions } from '../api/session.js';
import { Tensor } from '../api/tensor.js';
import type { Model } from '../graph/ir.js';
import { constantContextTargets, CROSS_ATTENTIONS, residentEncoderDecoder, untransposedHead } from '../graph/passes/encoder-decoder-cache.js';
import { KEY_MASK_INPUT, PAST_LENGTH_INPUT } from '../graph/passes/kv-cache.js';
import { perItemQuantization } from '../graph/passes/per-item-quantize.js';
import { selectRows } from '../graph/passes/select-rows.js';
import { decodeModel } from '../onnx/decode.js';
import { floatToHalf, halfToFloat } from '../onnx/float-formats.js';
import { platform } from '../platform/platform.js';

/** A model file: bytes, or a path (Node) / URL. */
export type ModelSource = Uint8Array | ArrayBuffer | string | URL;

/** What `WhisperModel.create` loads. */
export interface WhisperModelFiles {
  /** encoder_model*.onnx: input_features [B, mels, frames] → last_hidden_state [B, L, D]. */
  encoder: ModelSource;
  /** decoder_model_merged*.onnx, or decoder_with_past_model*.onnx when `decoderNoPast` is given. */
  decoder: ModelSource;
  /** decoder_model*.onnx (the unmerged pair's first-step decoder). */
  decoderNoPast?: ModelSource;
}

/** Shapes from config.json the model needs. */
export interface WhisperModelConfig {
  /** Encoder output positions (1,500 for every Whisper). */
  max_source_positions: number;
  /** Decoder positions (448): the self-attention cache's capacity. */
  max_target_positions: number;
  /**
   * Most windows a batched step decodes together (default 2; 1: never batch). Not from config.json:
   * it sizes the one cache block per layer that batches of 2 … this many rows share.
   */
  batch_capacity?: number;
}

/**
 * Default `batch_capacity`: 2 windows per decoder step. A batched step costs ~0.8× its rows' steps
 * alone here (the per-row arithmetic of the one-row kernels dominates, not the weights' reads:
 * docs/speech-recognition.md), and 4 rows cost no less per row than 2, while each row holds its
 * own caches (tiny: 24 MB, base: 48 MB).
 */
export const DEFAULT_BATCH_CAPACITY = 2;

/** Counters for tests and tools. */
export interface WhisperStats {
  /** Decoder plans made in the session's life (2 when every step reuses its plan). */
  decoderPlans: number;
  /** Decoder runs so far. */
  decoderSteps: number;
  /** Bytes fed from JavaScript on the last decoder step. */
  bytesFedLastStep: number;
}

async function bytesOf(source: ModelSource, options: SessionOptions): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  return platform.readModel(source, { onProgress: options.onProgress, cache: options.cache });
}

/** The cross-attention weights one step fetched (collection on). */
interface CrossAttentionStep {
  heads: readonly (readonly [number, number])[];
  /** cross_attentions.{layer} of the step, [B, H, S, Lk]. */
  byLayer: Map<number, Tensor>;
}

/** Whisper's two networks, ready to encode windows and decode tokens. Call `release()` when done. */
export class WhisperModel {
  /** Counters of the decoder. */
  readonly stats: WhisperStats = { decoderPlans: 0, decoderSteps: 0, bytesFedLastStep: 0 };
  /** 'merged' (If resolved at load) or 'pair' (decoder_model + decoder_with_past_model). */
  readonly decoderSource: 'merged' | 'pair';
  /** False when a batch row's numbers could depend on the other rows (4-bit weights, unfused quantization): no batching. */
  readonly rowsIndependent: boolean;
  /** Most rows of a batched step (`batch_capacity`). */
  readonly batchCapacity: number;
  /** The decoder has `cross_attentions.*` outputs (exported with output_attentions). */
  readonly hasCrossAttentions: boolean;
  /** Output name of each layer's cross-attention probabilities, by layer. */
  private readonly crossOutputs = new Map<number, string>();
  /** Heads of the cross-attention outputs, when the decoder declares them. */
  private readonly crossHeads: number | undefined;
  private collecting: (readonly [number, number])[] | null = null;
  private lastCross: CrossAttentionStep | undefined;
  private past = 0;
  /** Batch rows of the window(s) being decoded. */
  private rowsInFlight = 0;
  private readonly masks = new Map<number, Float32Array>();
  private readonly emptyEncoders = new Map<number, Tensor>();
  private readonly logitsBuffers = new Map<string, Tensor>();
  private readonly lastRowOnly: boolean;
  private readonly hidden: number;
  private readonly hiddenType: 'float16' | 'float32';

  private constructor(
    /** The encoder's session. */
    readonly encoder: InferenceSession,
    /** The rewritten decoder's session. */
    readonly decoder: InferenceSession,
    private readonly cfg: WhisperModelConfig,
    source: 'merged' | 'pair', lastRowOnly: boolean, hidden: number, hiddenType: string | undefined,
    rowsIndependent: boolean,
  ) {
    this.decoderSource = source;
    this.lastRowOnly = lastRowOnly;
    this.hidden = hidden;
    this.hiddenType = hiddenType === 'float16' ? 'float16' : 'float32';
    this.batchCapacity = cfg.batch_capacity ?? DEFAULT_BATCH_CAPACITY;
    this.rowsIndependent = rowsIndependent && this.batchCapacity > 1;
    for (const o of decoder.outputMetadata) {
      const m = CROSS_ATTENTIONS.exec(o.name);
      if (!m) continue;
      this.crossOutputs.set(Number(m[1]), o.name);
      const H = o.shape?.[1];
      if (typeof H === 'number') this.crossHeads = H;
    }
    this.hasCrossAttentions = this.crossOutputs.size > 0;
  }

  /**
   * From the next step on, each step also fetches the cross-attention probabilities of these
   * (layer, head) pairs (generation_config's `alignment_heads`); null stops. Steps without it fetch
   * and copy nothing but the logits.
   */
  collectCrossAttentions(heads: readonly (readonly [layer: number, head: number])[] | null): void {
    if (heads === null) { this.collecting = null; return; }
    const where = 'WhisperModel.collectCrossAttentions';
    if (!this.hasCrossAttentions) throw new TesseraError('INVALID_ARGUMENT', `${where}: this decoder has no cross_attentions.* outputs (export it with output_attentions, as the *_timestamped folders are)`);
    if (!Array.isArray(heads) || !heads.length) throw new TesseraError('INVALID_ARGUMENT', `${where}: heads must be a non-empty list of [layer, head] pairs, or null`);
    const layers = this.crossOutputs.size;
    heads.forEach((p, i) => {
      const [layer, head] = Array.isArray(p) ? p : [NaN, NaN];
      if (!Number.isInteger(layer) || !this.crossOutputs.has(layer!)) throw new TesseraError('INVALID_ARGUMENT', `${where}: heads[${i}] names layer ${layer}; the decoder returns cross_attentions of layers 0 … ${layers - 1}`);
      if (!Number.isInteger(head) || head! < 0 || (this.crossHeads !== undefined && head! >= this.crossHeads)) {
        throw new TesseraError('INVALID_ARGUMENT', `${where}: heads[${i}] names head ${head}; the cross-attentions have ${this.crossHeads ?? 'an undeclared number of'} heads`);
      }
    });
    this.collecting = heads.map(([l, h]) => [l, h] as const);
  }

  /**
   * After a step made with collection on: batch row `row`'s weights of that step, a new array laid
   * out [heads.length][S][Lk] (the pairs given to collectCrossAttentions, S that step's new tokens,
   * Lk the encoder positions).
   */
  lastCrossAttentions(row: number): Float32Array {
    const where = 'WhisperModel.lastCrossAttentions';
    const last = this.lastCross;
    if (!last) throw new TesseraError('INVALID_ARGUMENT', `${where}: the last step did not collect cross-attentions (call collectCrossAttentions before it)`);
    const [B, H, S, Lk] = last.byLayer.values().next().value!.dims as [number, number, number, number];
    if (!Number.isInteger(row) || row < 0 || row >= B) throw new TesseraError('INVALID_ARGUMENT', `${where}: row ${row} is not a batch row of the last step (0 … ${B - 1})`);
    const n = S * Lk;
    const out = new Float32Array(last.heads.length * n);
    last.heads.forEach(([layer, head], j) => {
      if (head >= H) throw new TesseraError('INVALID_ARGUMENT', `${where}: head ${head} of layer ${layer}, but the cross-attentions have ${H} heads`);
      const at = (row * H + head) * n, t = last.byLayer.get(layer)!;
      if (t.type === 'float16') for (let i = 0; i < n; i++) out[j * n + i] = halfToFloat((t.data as Uint16Array)[at + i]!);
      else out.set((t.data as Float32Array).subarray(at, at + n), j * n);
    });
    return out;
  }

  /** Windows one batched step may decode: 1 when batching cannot be exact. */
  maxBatch(): number {
    return this.rowsIndependent ? this.batchCapacity : 1;
  }

  /** Stacks windows' encoder outputs [1, L, D] into the [B, L, D] a batch's first step feeds. */
  stack(hidden: readonly Tensor[]): Tensor {
    if (hidden.length === 1) return hidden[0]!;
    const [, L, D] = hidden[0]!.dims as [number, number, number];
    const n = L * D;
    const data = this.hiddenType === 'float16' ? new Uint16Array(n * hidden.length) : new Float32Array(n * hidden.length);
    hidden.forEach((h, b) => {
      if (h.dims.join() !== hidden[0]!.dims.join() || h.type !== this.hiddenType) {
        throw new TesseraError('INVALID_ARGUMENT', `WhisperModel.stack: window ${b} is ${h.type} [${h.dims}], window 0 ${hidden[0]!.type} [${hidden[0]!.dims}]`);
      }
      data.set(h.data as Float32Array & Uint16Array, b * n);
    });
    return new Tensor(this.hiddenType, data, [hidden.length, L, D]);
  }

  /**
   * Loads the encoder and the decoder. The decoder rewrite is required: a decoder it does not
   * recognise is refused with the reason (INVALID_MODEL).
   */
  static async create(files: WhisperModelFiles, config: WhisperModelConfig, options: SessionOptions = {}): Promise<WhisperModel> {
    const L = config.max_source_positions, T = config.max_target_positions;
    if (!(Number.isInteger(L) && L > 0 && Number.isInteger(T) && T > 0)) {
      throw new TesseraError('INVALID_ARGUMENT', `Whisper config: max_source_positions and max_target_positions must be positive integers, got ${L} and ${T}`);
    }
    const noPast = files.decoderNoPast ? decodeModel(await bytesOf(files.decoderNoPast, options)) : undefined;
    const capacity = config.batch_capacity ?? DEFAULT_BATCH_CAPACITY;
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new TesseraError('INVALID_ARGUMENT', `Whisper: batch_capacity must be a positive integer, got ${capacity}`);
    let source: 'merged' | 'pair' = 'merged';
    let lastRowOnly = false, rowsIndependent = false;
    const rewrite = (m: Model) => {
      const r = residentEncoderDecoder(m, L, noPast, capacity);
      if (typeof r === 'string') throw new TesseraError('INVALID_MODEL', `Whisper decoder: ${r}`);
      source = r.source;
      try { selectRows(m, { output: 'logits', rowsInput: 'tessera_rows', perBatch: true }); lastRowOnly = true; } catch { lastRowOnly = false; }
      untransposedHead(m);
    };
    // After the fusions: q8's quantize_dynamic ranges per window (batch item), not per tensor; 4-bit
    // MatMulNBits (one-row and several-row kernels sum differently: test/speech/whisper-batch-model.test.ts)
    // or unfused quantization leave the windows dependent on each other.
    const perItem = (m: Model) => { rowsIndependent = capacity > 1 && perItemQuantization(m).length === 0; };
    const encoder = await InferenceSession.createRewritten(files.encoder, options, (m) => { constantContextTargets(m); });
    try {
      const decoder = await InferenceSession.createRewritten(files.decoder, options, rewrite, perItem);
      const enc = decoder.inputMetadata.find((m) => m.name === 'encoder_hidden_states');
      const D = enc?.shape?.[2];
      if (typeof D !== 'number') {
        await decoder.release();
        throw new TesseraError('INVALID_MODEL', `Whisper decoder: encoder_hidden_states must declare its hidden size, got [${enc?.shape}]`);
      }
      return new WhisperModel(encoder, decoder, config, source, lastRowOnly, D, enc?.type, rowsIndependent);
    } catch (e) {
      await encoder.release();
      throw e;
    }
  }

  /**
   * Encodes one window of log-mel features [1, mels, frames] (float32; narrowed here for a
   * float16 encoder) → hidden states [1, L, D] in the type the decoder takes.
   */
  async encode(features: Tensor): Promise<Tensor> {
    const out = await this.encoder.run(this.encoderFeeds(features));
    const h = out[this.encoder.outputNames[0]!]!;
    if (h.type === this.hiddenType) return h;
    if (h.type === 'float16') return new Tensor('float32', Float32Array.from(h.data as Uint16Array, halfToFloat), [...h.dims]);
    return new Tensor('float16', Uint16Array.from(h.data as Float32Array, floatToHalf), [...h.dims]);
  }

  /**
   * Encodes B windows (each [1, mels, frames]) → their hidden states stacked [B, L, D], as
   * `stack(encode(…) each)` gives, but each window's run writes its output straight into its rows
   * of the stack: no copy of each window out of the session and then into the stack (tiny: 2.3 MB
   * each, in fresh memory).
   */
  async encodeBatch(features: readonly Tensor[]): Promise<Tensor> {
    const name = this.encoder.outputNames[0]!;
    if (features.length === 1 || this.encoder.outputMetadata[0]!.type !== this.hiddenType) {
      const hidden: Tensor[] = [];
      for (const f of features) hidden.push(await this.encode(f));
      return this.stack(hidden);
    }
    const L = this.cfg.max_source_positions, n = L * this.hidden;
    const data = this.hiddenType === 'float16' ? new Uint16Array(n * features.length) : new Float32Array(n * features.length);
    for (let b = 0; b < features.length; b++) {
      const into = new Tensor(this.hiddenType, data.subarray(b * n, b * n + n) as Float32Array & Uint16Array, [1, L, this.hidden]);
      await this.encoder.run(this.encoderFeeds(features[b]!), { [name]: into });
    }
    return new Tensor(this.hiddenType, data as Float32Array & Uint16Array, [features.length, L, this.hidden]);
  }

  /** The encoder's feeds for features [1, mels, frames] (float32; narrowed here for a float16 encoder). */
  private encoderFeeds(features: Tensor): Record<string, Tensor> {
    const input = this.encoder.inputMetadata[0]!;
    const x = input.type === 'float16' && features.type === 'float32'
      ? new Tensor('float16', Uint16Array.from(features.data as Float32Array, floatToHalf), [...features.dims]) : features;
    return { [input.name]: x };
  }

  /**
   * One decoder step: `ids` are the new tokens (the prompt on a window's first step, then one).
   * `hidden` (the encoder's output) starts a new window: the caches are reset and the
   * cross-attention keys/values are projected from it. Returns the logits of the last position.
   */
  async step(ids: readonly number[], hidden?: Tensor): Promise<Float32Array> {
    return (await this.stepRows(ids, hidden, [ids.length - 1]))[0]!;
  }

  /**
   * A step that returns the logits at each of `rows` (positions among `ids`, ascending or not):
   * no-speech detection reads the row of <|startoftranscript|> besides the last one. A row count
   * other than one makes the decoder plan once more for that shape.
   */
  async stepRows(ids: readonly number[], hidden: Tensor | undefined, rows: readonly number[]): Promise<Float32Array[]> {
    return (await this.stepBatch([ids], hidden, rows))[0]!;
  }

  /**
   * One step for B windows in lockstep: `ids[b]` are row b's new tokens (every row as many), `hidden`
   * [B, L, D] starts B new windows. Returns, per batch row, the logits at each of `rows`. Rows cannot
   * see each other (rowsIndependent), so each row's logits are those of `stepRows` on its window
   * alone; a batch of B > 1 makes its own plans (one per prompt length and rows, one per token).
   */
  async stepBatch(ids: readonly (readonly number[])[], hidden: Tensor | undefined, rows: readonly number[]): Promise<Float32Array[][]> {
    return (await this.stepBatchViews(ids, hidden, rows)).map((r) => r.map((logits) => logits.slice()));
  }

  /**
   * `stepBatch` whose logits are views into one buffer per step shape that the next step
   * overwrites: the token loop (decode-rows.ts) reads and edits them before its next step, so it
   * neither allocates B × 51,865 floats a token (twice: out of the session, then per row) nor
   * leaves them to the collector.
   */
  async stepBatchViews(ids: readonly (readonly number[])[], hidden: Tensor | undefined, rows: readonly number[]): Promise<Float32Array[][]> {
    const B = ids.length;
    if (!B) throw new TesseraError('INVALID_ARGUMENT', 'WhisperModel.stepBatch: no rows');
    if (B > 1 && !this.rowsIndependent) throw new TesseraError('INVALID_ARGUMENT', 'WhisperModel.stepBatch: this decoder cannot decode windows as one batch (q4 kernels are not batch-invariant, or batch_capacity is 1)');
    if (B > this.batchCapacity) throw new TesseraError('INVALID_ARGUMENT', `WhisperModel.stepBatch: ${B} rows exceed batch_capacity (${this.batchCapacity})`);
    if (hidden) {
      if (hidden.dims[0] !== B) throw new TesseraError('INVALID_ARGUMENT', `WhisperModel.stepBatch: the encoder output has ${hidden.dims[0]} rows for ${B} windows`);
      this.past = 0;
      this.rowsInFlight = B;
    } else if (this.past === 0) {
      throw new TesseraError('INVALID_ARGUMENT', 'WhisperModel.step: the first step of a window needs the encoder output');
    } else if (B !== this.rowsInFlight) {
      throw new TesseraError('INVALID_ARGUMENT', `WhisperModel.stepBatch: ${B} rows, but the windows being decoded have ${this.rowsInFlight}`);
    }
    const S = ids[0]!.length;
    if (!S) throw new TesseraError('INVALID_ARGUMENT', 'WhisperModel.step: no token ids');
    if (ids.some((r) => r.length !== S)) throw new TesseraError('INVALID_ARGUMENT', `WhisperModel.stepBatch: every row must have ${S} new tokens, got [${ids.map((r) => r.length).join(', ')}]`);
    if (!rows.length || rows.some((r) => !Number.isInteger(r) || r < 0 || r >= S)) {
      throw new TesseraError('INVALID_ARGUMENT', `WhisperModel.stepRows: rows must be positions below ${S}, got [${rows.join(', ')}]`);
    }
    if (this.past + S > this.cfg.max_target_positions) {
      throw new TesseraError('INVALID_ARGUMENT', `Whisper decoder: ${this.past} + ${S} tokens exceed max_target_positions (${this.cfg.max_target_positions})`);
    }
    const T = this.cfg.max_target_positions;
    let mask = this.masks.get(B);
    if (!mask) this.masks.set(B, mask = new Float32Array(B * T));
    const feeds: Record<string, Tensor> = {
      input_ids: new Tensor('int64', BigInt64Array.from(ids.flat(), (t) => BigInt(t)), [B, S]),
      encoder_hidden_states: hidden ?? this.emptyEncoder(B),
      tessera_positions: new Tensor('int64', BigInt64Array.from({ length: S }, (_, i) => BigInt(this.past + i)), [S]),
      [PAST_LENGTH_INPUT]: new Tensor('int32', Int32Array.of(this.past), [1]),
      [KEY_MASK_INPUT]: new Tensor('float32', mask, [B, T]),
    };
    // Flat row indices b·S + r of the [B·S] rows the head may compute, [B, rows]: each window's rows stay a matrix of their own.
    const flat = Array.from({ length: B }, (_, b) => rows.map((r) => b * S + r)).flat();
    if (this.lastRowOnly) feeds.tessera_rows = new Tensor('int64', BigInt64Array.from(flat, (r) => BigInt(r)), [B, rows.length]);
    // The logits' dims follow from B, S and the rows asked for: one buffer each, made by the first run.
    const shape = `${B}x${S}x${rows.length}`;
    const reuse = this.logitsBuffers.get(shape);
    // Only what this step needs is copied out: logits, and the collected layers' cross-attentions.
    const fetches: Record<string, Tensor | null> = { logits: reuse ?? null };
    const collect = this.collecting;
    if (collect) for (const [layer] of collect) fetches[this.crossOutputs.get(layer)!] = null;
    this.lastCross = undefined;
    const out = await this.decoder.run(feeds, fetches);
    if (!reuse && out.logits!.type === 'float32') this.logitsBuffers.set(shape, out.logits!);
    if (collect) {
      const byLayer = new Map<number, Tensor>();
      for (const [layer] of collect) byLayer.set(layer, out[this.crossOutputs.get(layer)!]!);
      this.lastCross = { heads: collect, byLayer };
    }
    this.past += S;
    const s = this.stats as { -readonly [K in keyof WhisperStats]: WhisperStats[K] };
    s.decoderSteps++;
    s.decoderPlans = (this.decoder as unknown as { planCount: number }).planCount;
    s.bytesFedLastStep = Object.values(feeds).reduce((n, t) => n + (t.data as { byteLength: number }).byteLength, 0);
    const logits = out.logits!;
    const V = logits.dims[logits.dims.length - 1]!;
    const at = (row: number) => {
      if (logits.type === 'float16') return Float32Array.from((logits.data as Uint16Array).subarray(row * V, row * V + V), halfToFloat);
      return (logits.data as Float32Array).subarray(row * V, row * V + V);
    };
    return Array.from({ length: B }, (_, b) => rows.map((r, i) => at(this.lastRowOnly ? b * rows.length + i : b * S + r)));
  }

  /** The empty encoder input [B, 0, D] of every step after a window's first. */
  private emptyEncoder(B: number): Tensor {
    let t = this.emptyEncoders.get(B);
    if (!t) {
      t = this.hiddenType === 'float16' ? new Tensor('float16', new Uint16Array(0), [B, 0, this.hidden]) : new Tensor('float32', new Float32Array(0), [B, 0, this.hidden]);
      this.emptyEncoders.set(B, t);
    }
    return t;
  }

  /** Positions of the encoder output (1,500): a window is twice as many feature frames. */
  get encoderPositions(): number { return this.cfg.max_source_positions; }

  /** Frees both sessions' Wasm memory. */
  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.decoder.release()]);
  }
}
