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
 */
import { TesseraError } from '../api/errors.js';
import { InferenceSession, type SessionOptions } from '../api/session.js';
import { Tensor } from '../api/tensor.js';
import type { Model } from '../graph/ir.js';
import { constantContextTargets, residentEncoderDecoder, untransposedHead } from '../graph/passes/encoder-decoder-cache.js';
import { KEY_MASK_INPUT, PAST_LENGTH_INPUT } from '../graph/passes/kv-cache.js';
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
}

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

/** Whisper's two networks, ready to encode windows and decode tokens. Call `release()` when done. */
export class WhisperModel {
  /** Counters of the decoder. */
  readonly stats: WhisperStats = { decoderPlans: 0, decoderSteps: 0, bytesFedLastStep: 0 };
  /** 'merged' (If resolved at load) or 'pair' (decoder_model + decoder_with_past_model). */
  readonly decoderSource: 'merged' | 'pair';
  private past = 0;
  private readonly mask: Float32Array;
  private readonly emptyEncoder: Tensor;
  private readonly lastRowOnly: boolean;

  private constructor(
    /** The encoder's session. */
    readonly encoder: InferenceSession,
    /** The rewritten decoder's session. */
    readonly decoder: InferenceSession,
    private readonly cfg: WhisperModelConfig,
    source: 'merged' | 'pair', lastRowOnly: boolean, hidden: number, hiddenType: string | undefined,
  ) {
    this.decoderSource = source;
    this.lastRowOnly = lastRowOnly;
    this.mask = new Float32Array(cfg.max_target_positions);
    this.emptyEncoder = hiddenType === 'float16' ? new Tensor('float16', new Uint16Array(0), [1, 0, hidden]) : new Tensor('float32', new Float32Array(0), [1, 0, hidden]);
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
    let source: 'merged' | 'pair' = 'merged';
    let lastRowOnly = false;
    const rewrite = (m: Model) => {
      const r = residentEncoderDecoder(m, L, noPast);
      if (typeof r === 'string') throw new TesseraError('INVALID_MODEL', `Whisper decoder: ${r}`);
      source = r.source;
      try { selectRows(m, { output: 'logits', rowsInput: 'tessera_rows' }); lastRowOnly = true; } catch { lastRowOnly = false; }
      untransposedHead(m);
    };
    const encoder = await InferenceSession.createRewritten(files.encoder, options, (m) => { constantContextTargets(m); });
    try {
      const decoder = await InferenceSession.createRewritten(files.decoder, options, rewrite);
      const enc = decoder.inputMetadata.find((m) => m.name === 'encoder_hidden_states');
      const D = enc?.shape?.[2];
      if (typeof D !== 'number') {
        await decoder.release();
        throw new TesseraError('INVALID_MODEL', `Whisper decoder: encoder_hidden_states must declare its hidden size, got [${enc?.shape}]`);
      }
      return new WhisperModel(encoder, decoder, config, source, lastRowOnly, D, enc?.type);
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
    const input = this.encoder.inputMetadata[0]!;
    const x = input.type === 'float16' && features.type === 'float32'
      ? new Tensor('float16', Uint16Array.from(features.data as Float32Array, floatToHalf), [...features.dims]) : features;
    const out = await this.encoder.run({ [input.name]: x });
    const h = out[this.encoder.outputNames[0]!]!;
    if (h.type === this.emptyEncoder.type) return h;
    if (h.type === 'float16') return new Tensor('float32', Float32Array.from(h.data as Uint16Array, halfToFloat), [...h.dims]);
    return new Tensor('float16', Uint16Array.from(h.data as Float32Array, floatToHalf), [...h.dims]);
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
    if (hidden) this.past = 0;
    else if (this.past === 0) throw new TesseraError('INVALID_ARGUMENT', 'WhisperModel.step: the first step of a window needs the encoder output');
    const S = ids.length;
    if (!S) throw new TesseraError('INVALID_ARGUMENT', 'WhisperModel.step: no token ids');
    if (!rows.length || rows.some((r) => !Number.isInteger(r) || r < 0 || r >= S)) {
      throw new TesseraError('INVALID_ARGUMENT', `WhisperModel.stepRows: rows must be positions below ${S}, got [${rows.join(', ')}]`);
    }
    if (this.past + S > this.cfg.max_target_positions) {
      throw new TesseraError('INVALID_ARGUMENT', `Whisper decoder: ${this.past} + ${S} tokens exceed max_target_positions (${this.cfg.max_target_positions})`);
    }
    const feeds: Record<string, Tensor> = {
      input_ids: new Tensor('int64', BigInt64Array.from(ids, (t) => BigInt(t)), [1, S]),
      encoder_hidden_states: hidden ?? this.emptyEncoder,
      tessera_positions: new Tensor('int64', BigInt64Array.from({ length: S }, (_, i) => BigInt(this.past + i)), [S]),
      [PAST_LENGTH_INPUT]: new Tensor('int32', Int32Array.of(this.past), [1]),
      [KEY_MASK_INPUT]: new Tensor('float32', this.mask, [1, this.mask.length]),
    };
    if (this.lastRowOnly) feeds.tessera_rows = new Tensor('int64', BigInt64Array.from(rows, (r) => BigInt(r)), [rows.length]);
    const out = await this.decoder.run(feeds);
    this.past += S;
    const s = this.stats as { -readonly [K in keyof WhisperStats]: WhisperStats[K] };
    s.decoderSteps++;
    s.decoderPlans = (this.decoder as unknown as { planCount: number }).planCount;
    s.bytesFedLastStep = Object.values(feeds).reduce((n, t) => n + (t.data as { byteLength: number }).byteLength, 0);
    const logits = out.logits!;
    const V = logits.dims[logits.dims.length - 1]!;
    return rows.map((r, i) => {
      const row = this.lastRowOnly ? i : r;
      if (logits.type === 'float16') return Float32Array.from((logits.data as Uint16Array).subarray(row * V, row * V + V), halfToFloat);
      return (logits.data as Float32Array).slice(row * V, row * V + V);
    });
  }

  /** Positions of the encoder output (1,500): a window is twice as many feature frames. */
  get encoderPositions(): number { return this.cfg.max_source_positions; }

  /** Frees both sessions' Wasm memory. */
  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.decoder.release()]);
  }
}
