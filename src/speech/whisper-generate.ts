/**
 * Whisper's generation, as transformers.js v4 does it (WhisperForConditionalGeneration.generate):
 * the prompt of special tokens (<|startoftranscript|> <|lang|> <|task|> [<|notimestamps|>]), the
 * logits processors in its order — suppress_tokens, begin_suppress_tokens at the first generated
 * position, and with timestamps WhisperTimeStampLogitsProcessor (timestamps in pairs, text
 * forbidden when the timestamps' total probability beats every text token) — then greedy or
 * sampled tokens (TokenSampler, src/generation/sampling.ts) until EOS or max_length. With
 * `return_timestamps` and no `max_new_tokens`, the window is decoded in seek passes as
 * transformers.js's `_generate_with_seek`: a pass that ends inside a segment is decoded again from
 * that segment's end timestamp (features shifted and zero-padded, the encoder run again).
 * Each decoding pass runs on WhisperModel: the caches resident in Wasm memory.
 * Word timestamps (`return_token_timestamps`, transformers.js's): each step's cross-attention of the
 * alignment heads is collected while decoding (a decoder exported with `cross_attentions.*`
 * outputs), and a pass's token times come from it (token-timestamps.ts: normalised, median-filtered,
 * averaged over the heads, aligned to the audio by DTW).
 * No-speech detection (not in transformers.js; OpenAI whisper's transcribe() and HF transformers'
 * WhisperNoSpeechDetection): the probability of <|nospeech|> in the softmax of the raw logits at
 * the <|startoftranscript|> position, and the pass's average log-probability; a pass whose
 * no-speech probability is above `no_speech_threshold` and whose average log-probability is not
 * above `logprob_threshold` is silence: its tokens are dropped.
 */
import { TesseraError } from '../api/errors.js';
import { Tensor } from '../api/tensor.js';
import type { GenerationConfig } from '../generation/config.js';
import { decodeRows, type NoSpeech, orderedStreams, type PassRow, type Processor } from './decode-rows.js';
import { whisperLanguageToCode } from './languages.js';
import { suppress, suppressAtBegin, timestamps } from './logits-processors.js';
import { tokenTimestamps } from './token-timestamps.js';
import type { WhisperModel } from './whisper-model.js';

/** Options of one transcription window (transformers.js's names). */
export interface WhisperGenerationOptions extends Omit<GenerationConfig, 'stop_strings'> {
  /** Source language: a name ('french'), a code ('fr') or the token ('<|fr|>'). Default English on multilingual models. */
  language?: string | null;
  /** 'transcribe' (default) or 'translate' (to English). */
  task?: 'transcribe' | 'translate' | string | null;
  /** Generate timestamp tokens (segments). */
  return_timestamps?: boolean | null;
  /** The prompt ids instead of the ones built from language/task/timestamps. */
  decoder_input_ids?: number[];
  /**
   * No-speech detection (default off): a decoding pass whose <|nospeech|> probability is above
   * this and whose average log-probability is not above `logprob_threshold` is silence.
   */
  no_speech_threshold?: number | null;
  /** With `no_speech_threshold`: keep a pass whose average log-probability is above this (default -1, OpenAI's; null: no-speech probability alone decides). */
  logprob_threshold?: number | null;
}

/** What no-speech detection saw on one decoding pass (OpenAI whisper's segment fields). */
export interface WhisperPassReport {
  /** First feature frame of the pass in its window (non-zero for seek passes). */
  seekFrame: number;
  /** Probability of <|nospeech|> at the <|startoftranscript|> position, before any suppression. */
  no_speech_prob: number;
  /** Sum of the generated tokens' log-probabilities (EOS included) ÷ (text tokens + 1). */
  avg_logprob: number;
  /** True when the thresholds made this pass silence (its tokens dropped). */
  skipped: boolean;
}

/** The merged configuration a window is decoded with (config.json, generation_config.json, options). */
export interface WhisperConfig {
  max_length: number;
  max_new_tokens: number | null;
  decoder_start_token_id: number;
  eos_token_id: number | number[] | null;
  suppress_tokens: number[] | null;
  begin_suppress_tokens: number[] | null;
  no_timestamps_token_id: number | null;
  is_multilingual: boolean | null;
  lang_to_id: Record<string, number> | null;
  task_to_id: Record<string, number> | null;
  language: string | null;
  task: string | null;
  return_timestamps: boolean | null;
  max_initial_timestamp_index: number | null;
  /** See WhisperGenerationOptions (null: detection off). */
  no_speech_threshold: number | null;
  /** See WhisperGenerationOptions. */
  logprob_threshold: number | null;
  /** <|nospeech|>'s id (the pipeline sets it from the tokenizer; else no_timestamps_token_id - 1, as HF transformers). */
  no_speech_token_id: number | null;
  [key: string]: unknown;
}

// GenerationConfig's own fields: the only ones picked from config.json (transformers.js picks by
// the base class's property names, before WhisperGenerationConfig's fields exist).
const BASE_FIELDS = ['max_length', 'max_new_tokens', 'min_length', 'min_new_tokens', 'do_sample', 'temperature', 'top_k', 'top_p',
  'repetition_penalty', 'no_repeat_ngram_size', 'suppress_tokens', 'begin_suppress_tokens', 'forced_decoder_ids',
  'pad_token_id', 'bos_token_id', 'eos_token_id', 'decoder_start_token_id', 'forced_bos_token_id', 'forced_eos_token_id'];
const WHISPER_FIELDS = ['return_timestamps', 'return_token_timestamps', 'num_frames', 'alignment_heads', 'task', 'language',
  'no_timestamps_token_id', 'prompt_ids', 'is_multilingual', 'lang_to_id', 'task_to_id', 'max_initial_timestamp_index',
  'no_speech_threshold', 'logprob_threshold', 'no_speech_token_id'];
const DEFAULTS = { max_length: 20, max_new_tokens: null, min_length: 0, min_new_tokens: null, do_sample: false, temperature: 1, top_k: 50, top_p: 1,
  repetition_penalty: 1, no_repeat_ngram_size: 0, suppress_tokens: null, begin_suppress_tokens: null, pad_token_id: null, bos_token_id: null,
  eos_token_id: null, decoder_start_token_id: null, return_timestamps: null, task: null, language: null, no_timestamps_token_id: null,
  is_multilingual: null, lang_to_id: null, task_to_id: null, max_initial_timestamp_index: 1,
  no_speech_threshold: null, logprob_threshold: -1, no_speech_token_id: null };

const pick = (o: Record<string, unknown> | undefined, keys: readonly string[]) =>
  Object.fromEntries(keys.filter((k) => o?.[k] !== undefined).map((k) => [k, o![k]]));

/** config.json's generation fields, then generation_config.json, then the call's options. */
export function whisperConfig(modelConfig: Record<string, unknown>, generationConfig: Record<string, unknown>, options: Record<string, unknown>): WhisperConfig {
  return { ...DEFAULTS, ...pick(modelConfig, BASE_FIELDS), ...generationConfig, ...pick(options, [...BASE_FIELDS, ...WHISPER_FIELDS, 'seed', 'top_k', 'min_p']) } as unknown as WhisperConfig;
}

/** The prompt: <|startoftranscript|> [<|lang|> <|task|>] [<|notimestamps|>] (transformers.js's _retrieve_init_tokens). */
export function initTokens(cfg: WhisperConfig): number[] {
  const tokens: (number | null | undefined)[] = [cfg.decoder_start_token_id];
  const { task } = cfg;
  let { language } = cfg;
  if (cfg.is_multilingual) {
    language ??= 'en';
    const code = whisperLanguageToCode(language);
    const id = cfg.lang_to_id?.[`<|${code}|>`];
    if (id === undefined) throw new TesseraError('INVALID_ARGUMENT', `Whisper: the model's generation_config has no token for language '${code}'`);
    tokens.push(id);
    const t = cfg.task_to_id?.[task ?? 'transcribe'];
    if (t === undefined) throw new TesseraError('INVALID_ARGUMENT', `Whisper: unknown task '${task}'; one of ${Object.keys(cfg.task_to_id ?? {}).join(', ')}`);
    tokens.push(t);
  } else if (language || task) {
    throw new TesseraError('INVALID_ARGUMENT', 'Whisper: this model is English-only (is_multilingual is not set): `language` and `task` cannot be set');
  }
  if (!cfg.return_timestamps && cfg.no_timestamps_token_id != null && tokens.at(-1) !== cfg.no_timestamps_token_id) tokens.push(cfg.no_timestamps_token_id);
  else if (cfg.return_timestamps && tokens.at(-1) === cfg.no_timestamps_token_id) tokens.pop();
  return tokens.filter((t): t is number => t != null);
}

/** Checks a token list from a config or the options. */
function tokenList(name: string, v: unknown, V: number): number[] | null {
  if (v == null) return null;
  if (!Array.isArray(v) || v.some((t) => !Number.isInteger(t) || t < 0 || t >= V)) throw new TesseraError('INVALID_ARGUMENT', `Whisper: ${name} must be a list of token ids below ${V}`);
  return v as number[];
}

/** Decodes one pass over an encoded window [1, L, D]: the prompt `init`, then tokens until EOS or max_length. */
async function decodePass(model: WhisperModel, hidden: Tensor, init: number[], cfg: WhisperConfig, processors: Processor[], opts: WhisperGenerationOptions,
  detect?: NoSpeech, attentions?: Float32Array[]): Promise<number[]> {
  return (await decodeRows(model, hidden, [{ init, cfg, processors, detect, streamer: opts.streamer, attentions }], opts.signal))[0]!;
}

/** Word timestamps' setup: the alignment heads whose cross-attention decoding collects. */
function alignmentHeads(model: WhisperModel, cfg: WhisperConfig): [number, number][] | null {
  if (!cfg.return_token_timestamps) return null;
  const heads = cfg.alignment_heads;
  if (!Array.isArray(heads) || !heads.length) {
    throw new TesseraError('INVALID_ARGUMENT', 'Whisper: word timestamps need `alignment_heads` ([layer, head] pairs) in generation_config.json');
  }
  if (!model.hasCrossAttentions) {
    throw new TesseraError('INVALID_ARGUMENT', "Whisper: word timestamps need a decoder that outputs its cross-attention weights (cross_attentions.*: exported with output_attentions=True, as the '_timestamped' folders are)");
  }
  return heads as [number, number][];
}

/**
 * One pass's token timestamps from the cross-attention its steps collected (transformers.js's
 * _extract_token_timestamps): one time per token of the pass's sequence, the prompt's 0.
 * `numFrames`: encoder positions to align against (clipped to the encoder's).
 */
function passTimes(pieces: readonly Float32Array[], heads: number, positions: number, numFrames: number, cfg: WhisperConfig, numInputIds: number): Float32Array {
  const rows = pieces.reduce((n, p) => n + p.length / (heads * positions), 0);
  const weights = Array.from({ length: heads }, () => new Float32Array(rows * positions));
  let at = 0;
  for (const p of pieces) {
    const S = p.length / (heads * positions);
    for (let h = 0; h < heads; h++) weights[h]!.set(p.subarray(h * S * positions, (h + 1) * S * positions), at * positions);
    at += S;
  }
  const medianFilterWidth = Number(cfg.median_filter_width ?? 7);
  return tokenTimestamps(weights, rows, positions, { numFrames: Math.min(numFrames, positions), medianFilterWidth, numInputIds, timePrecision: 0.02 });
}

/** Runs `decode` with the model collecting `heads`' cross-attention (none when null). */
async function collecting<T>(model: WhisperModel, heads: [number, number][] | null, decode: () => Promise<T>): Promise<T> {
  if (!heads) return decode();
  model.collectCrossAttentions(heads);
  try {
    return await decode();
  } finally {
    model.collectCrossAttentions(null);
  }
}

/** Starts a pass's detection when the thresholds or a report ask for it. */
function noSpeechState(cfg: WhisperConfig, report: WhisperPassReport[] | undefined, vocabSize: number): NoSpeech | undefined {
  const th = cfg.no_speech_threshold, lp = cfg.logprob_threshold;
  if (th == null && !report) return undefined;
  if (th != null && !(typeof th === 'number' && th >= 0 && th <= 1)) throw new TesseraError('INVALID_ARGUMENT', `Whisper: no_speech_threshold must be a probability in [0, 1], got ${String(th)}`);
  if (lp != null && !(typeof lp === 'number' && !Number.isNaN(lp))) throw new TesseraError('INVALID_ARGUMENT', `Whisper: logprob_threshold must be a number or null, got ${String(lp)}`);
  const token = cfg.no_speech_token_id ?? (cfg.no_timestamps_token_id != null ? cfg.no_timestamps_token_id - 1 : null);
  if (token == null || !Number.isInteger(token) || token < 0 || token >= vocabSize) {
    throw new TesseraError('INVALID_ARGUMENT', `Whisper: no-speech detection needs the <|nospeech|> token (no_speech_token_id or no_timestamps_token_id in generation_config.json), got ${String(token)}`);
  }
  return { token, no_speech_prob: NaN, sumLogprob: 0, textTokens: 0 };
}

/** OpenAI transcribe()'s rule: silence when no-speech is likely and the text is not confident. */
function judge(cfg: WhisperConfig, d: NoSpeech, seekFrame: number, report: WhisperPassReport[] | undefined): boolean {
  const avg_logprob = d.sumLogprob / (d.textTokens + 1);
  const th = cfg.no_speech_threshold, lp = cfg.logprob_threshold;
  const skipped = th != null && d.no_speech_prob > th && !(lp != null && avg_logprob > lp);
  report?.push({ seekFrame, no_speech_prob: d.no_speech_prob, avg_logprob, skipped });
  return skipped;
}

/** A window's prompt, logits processors and mode, from its configuration. */
interface WindowSetup { init: number[]; processors: Processor[]; detecting: boolean; seek: boolean }

function setupWindow(cfg: WhisperConfig, opts: WhisperGenerationOptions, vocabSize: number, report: WhisperPassReport[] | undefined): WindowSetup {
  const init = opts.decoder_input_ids ?? initTokens(cfg);
  const processors: Processor[] = [];
  const sup = tokenList('suppress_tokens', cfg.suppress_tokens, vocabSize);
  const begin = tokenList('begin_suppress_tokens', cfg.begin_suppress_tokens, vocabSize);
  if (sup) processors.push(suppress(sup));
  if (begin) processors.push(suppressAtBegin(begin, init.length));
  if (cfg.return_timestamps) {
    if (cfg.no_timestamps_token_id == null) throw new TesseraError('INVALID_ARGUMENT', 'Whisper: return_timestamps needs no_timestamps_token_id in generation_config.json');
    processors.push(timestamps(cfg, init));
  }
  if (begin) processors.push(suppressAtBegin(begin, init.length));
  const detecting = noSpeechState(cfg, report, vocabSize) !== undefined;
  return { init, processors, detecting, seek: seeks(cfg) };
}

/** With timestamps and no max_new_tokens a window is decoded in seek passes (transformers.js's _generate_with_seek). */
const seeks = (cfg: WhisperConfig): boolean => !!cfg.return_timestamps && !cfg.max_new_tokens;

/** A single pass's tokens after no-speech judging: a silent pass gives the prompt then EOS. */
function judged(cfg: WhisperConfig, init: readonly number[], seq: number[], detect: NoSpeech | undefined, report: WhisperPassReport[] | undefined): number[] {
  if (detect && judge(cfg, detect, 0, report)) {
    const eos = Array.isArray(cfg.eos_token_id) ? cfg.eos_token_id[0] : cfg.eos_token_id;
    return eos == null ? [...init] : [...init, eos];
  }
  return seq;
}

/**
 * Transcribes one window of log-mel features [1, mels, frames] → the token ids (prompt
 * included, EOS at the end unless max_length stopped it), exactly as transformers.js's
 * `model.generate({ inputs, ...options })`. With no-speech detection, a silent pass gives no
 * tokens (the prompt then EOS); `report` receives one entry per decoding pass.
 */
export async function whisperGenerate(model: WhisperModel, features: Tensor, cfg: WhisperConfig, opts: WhisperGenerationOptions = {}, vocabSize = Infinity,
  report?: WhisperPassReport[], times?: number[]): Promise<number[]> {
  const { init, processors, detecting, seek } = setupWindow(cfg, opts, vocabSize, report);
  const heads = alignmentHeads(model, cfg);
  return collecting(model, heads, async () => {
    if (seek) return seekPasses(model, features, init, cfg, processors, opts, detecting ? vocabSize : undefined, report, heads, times);
    const detect = detecting ? noSpeechState(cfg, report, vocabSize) : undefined;
    const attentions = heads ? [] : undefined;
    const seq = await decodePass(model, await model.encode(features), init, cfg, processors, opts, detect, attentions);
    const out = judged(cfg, init, seq, detect, report);
    if (times && heads) times.push(...windowTimes(model, heads, attentions!, cfg, init, seq, out));
    return out;
  });
}

/**
 * A single-pass window's token timestamps (one per token of `out`): `num_frames` as transformers.js
 * passes it here (the window's feature frames, not halved to encoder positions: so it crops less
 * than HF transformers does), or the whole encoder output. A pass judged silent gives zeros.
 */
function windowTimes(model: WhisperModel, heads: [number, number][], attentions: Float32Array[], cfg: WhisperConfig, init: readonly number[],
  seq: readonly number[], out: readonly number[]): Float32Array {
  if (out !== seq) return new Float32Array(out.length);
  const L = model.encoderPositions;
  return passTimes(attentions, heads.length, L, Number(cfg.num_frames ?? L), cfg, init.length);
}

/**
 * How many windows of a call `whisperGenerateBatch` decodes together: up to `requested` (the
 * `batch_size` option; default the model's batch_capacity) when batching gives exactly the
 * one-window tokens — greedy decoding (sampling draws from one random stream window after
 * window), single-pass windows (seek passes re-decode a window from a point its own tokens
 * decide), a decoder whose rows are independent — else 1.
 */
export function whisperBatchSize(model: WhisperModel, cfg: WhisperConfig, requested?: number | null): number {
  const cap = requested ?? model.batchCapacity;
  if (!(Number.isInteger(cap) && cap >= 1)) throw new TesseraError('INVALID_ARGUMENT', `Whisper: batch_size must be a positive integer, got ${String(cap)}`);
  if (cap > model.batchCapacity) {
    throw new TesseraError('INVALID_ARGUMENT', `Whisper: batch_size ${cap} exceeds the ${model.batchCapacity} windows the model was loaded for (the pipeline's batch_size option)`);
  }
  return batchable(model, cfg) ? Math.min(cap, model.maxBatch()) : 1;
}

/**
 * Whether a window with this configuration may share a batch and still get exactly its one-window
 * tokens: greedy, a single pass, and a decoder whose rows are independent (WhisperModel.maxBatch).
 * Any prompt length: the GEMM sums each row alone whatever tile it lands in.
 */
function batchable(model: WhisperModel, cfg: WhisperConfig): boolean {
  return model.maxBatch() > 1 && !cfg.do_sample && !seeks(cfg);
}

/**
 * Transcribes several windows of one call as one batch: each encoded alone (the encoder is
 * compute-bound: a batch saves nothing there), their outputs stacked, then decoded in lockstep
 * (decodeRows). Every window's tokens (and no-speech report) are exactly whisperGenerate's on it
 * alone; windows that cannot be batched (see whisperBatchSize) are decoded one by one.
 */
export async function whisperGenerateBatch(model: WhisperModel, features: readonly Tensor[], cfgs: readonly WhisperConfig[], opts: WhisperGenerationOptions = {},
  vocabSize = Infinity, reports: readonly (WhisperPassReport[] | undefined)[] = [], times: readonly (number[] | undefined)[] = []): Promise<number[][]> {
  const setups = cfgs.map((cfg, i) => setupWindow(cfg, opts, vocabSize, reports[i]));
  // Word timestamps: every window of one call has the same alignment heads (generation_config's).
  const heads = cfgs.length ? alignmentHeads(model, cfgs[0]!) : null;
  const together = features.length > 1 && features.length <= model.maxBatch()
    && setups.every((s, i) => batchable(model, cfgs[i]!) && s.init.length === setups[0]!.init.length && s.detecting === setups[0]!.detecting);
  if (!together) {
    const out: number[][] = [];
    for (let i = 0; i < features.length; i++) {
      out.push(await whisperGenerate(model, features[i]!, cfgs[i]!, opts, vocabSize, reports[i], times[i]));
      if (opts.signal?.aborted) break;
    }
    return out;
  }
  const hidden = await model.encodeBatch(features);
  const streams = orderedStreams(opts.streamer, features.length);
  const rows: PassRow[] = setups.map((s, i) => ({
    init: s.init, cfg: cfgs[i]!, processors: s.processors, streamer: streams[i],
    detect: s.detecting ? noSpeechState(cfgs[i]!, reports[i], vocabSize) : undefined,
    attentions: heads ? [] : undefined,
  }));
  const seqs = await collecting(model, heads, () => decodeRows(model, hidden, rows, opts.signal));
  return seqs.map((seq, i) => {
    const out = judged(cfgs[i]!, rows[i]!.init, seq, rows[i]!.detect, reports[i]);
    if (heads) times[i]?.push(...windowTimes(model, heads, rows[i]!.attentions!, cfgs[i]!, rows[i]!.init, seq, out));
    return out;
  });
}

/** transformers.js's _generate_with_seek: decode, then resume at the last complete segment. */
async function seekPasses(model: WhisperModel, features: Tensor, init: number[], cfg: WhisperConfig, processors: Processor[], opts: WhisperGenerationOptions,
  detectVocab?: number, report?: WhisperPassReport[], heads: [number, number][] | null = null, times?: number[]): Promise<number[]> {
  const tsBegin = cfg.no_timestamps_token_id! + 1;
  const eos = Array.isArray(cfg.eos_token_id) ? cfg.eos_token_id[0]! : cfg.eos_token_id!;
  const [, mels, total] = features.dims as [number, number, number];
  const stride = 2, window = stride * model.encoderPositions;
  const data = features.data as Float32Array;
  const all: number[] = [];
  const allTimes: number[] = []; // with word timestamps: one per token of `all`
  let seek = 0;
  while (seek < total) {
    const end = Math.min(seek + window, total);
    const seg = new Float32Array(mels * window);
    for (let m = 0; m < mels; m++) seg.set(data.subarray(m * total + seek, m * total + end), m * window);
    for (const p of processors) if (p.beginIndex !== undefined) p.beginIndex = init.length;
    const hidden = await model.encode(new Tensor('float32', seg, [1, mels, window]));
    const detect = detectVocab !== undefined ? noSpeechState(cfg, report, detectVocab) : undefined;
    const attentions = heads ? [] : undefined;
    const seq = await decodePass(model, hidden, init, cfg, processors, opts, detect, attentions);
    const tokens = seq.slice(init.length);
    // Times of the pass's tokens, shifted by the pass's start (transformers.js: float32 times + a float64 offset).
    const passTs = heads ? Array.from(passTimes(attentions!, heads.length, model.encoderPositions, Math.floor((end - seek) / stride), cfg, init.length).subarray(init.length), (t) => t + (seek / stride) * 0.02) : [];
    if (detect && judge(cfg, detect, seek, report)) {
      // OpenAI's transcribe(): a silent pass is skipped whole, the next starts after its window.
      if (opts.signal?.aborted) break;
      seek = end;
      continue;
    }
    if (tokens.length && tokens[tokens.length - 1] === eos) tokens.pop();
    if (!tokens.length || opts.signal?.aborted) { all.push(...tokens); allTimes.push(...passTs.slice(0, tokens.length)); break; }
    const isTs = tokens.map((t) => t >= tsBegin);
    const single = tokens.length >= 2 && isTs[tokens.length - 1] && !isTs[tokens.length - 2];
    const boundaries: number[] = [];
    for (let i = 0; i < tokens.length - 1; i++) if (isTs[i] && isTs[i + 1]) boundaries.push(i + 1);
    let offset: number, keepN = tokens.length;
    if (boundaries.length && !single) {
      const last = boundaries[boundaries.length - 1]!;
      offset = (tokens[last - 1]! - tsBegin) * stride;
      keepN = last;
    } else {
      offset = end - seek;
    }
    const shift = Math.floor(seek / stride);
    for (let i = 0; i < keepN; i++) if (tokens[i]! >= tsBegin) tokens[i] = Math.min(tokens[i]! + shift, tsBegin + 1500);
    all.push(...tokens.slice(0, keepN));
    allTimes.push(...passTs.slice(0, keepN));
    seek += offset;
    if (offset <= 0) break; // a pass that cannot advance would loop forever (transformers.js would)
  }
  all.push(eos);
  // The prompt's times 0, then the passes', then 0 for the EOS, as float32 (transformers.js's tensor).
  if (times && heads) times.push(...Float32Array.from([...init.map(() => 0), ...allTimes, 0]));
  return [...init, ...all];
}
