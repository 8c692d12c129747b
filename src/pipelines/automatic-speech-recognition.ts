/**
 * The 'automatic-speech-recognition' pipeline on Whisper, shaped like transformers.js v4's:
 * `await asr(audio, options)` → `{ text, chunks? }` with its options — `language`, `task`,
 * `return_timestamps` (segments), `chunk_length_s` / `stride_length_s` for audio longer than 30 s
 * (windows merged at their overlaps as its tokenizer's _decode_asr), `max_new_tokens`,
 * `suppress_tokens` / `begin_suppress_tokens` (from the configs), a `streamer`, a `signal` — and,
 * beyond transformers.js, OpenAI whisper's no-speech detection (`no_speech_threshold`,
 * `logprob_threshold`, `return_no_speech_prob`; docs/speech-recognition.md).
 * The folder is transformers.js's: config.json, generation_config.json, preprocessor_config.json,
 * tokenizer.json and onnx/encoder_model{suffix}.onnx + onnx/decoder_model_merged{suffix}.onnx
 * (or the unmerged decoder_model + decoder_with_past_model with `decoder: 'pair'`).
 * Audio: Float32Array/Float64Array samples at 16 kHz, or WAV bytes / a WAV path or URL (read
 * and resampled to 16 kHz). Features: WhisperFeatureExtractor (src/audio, Wasm); model:
 * WhisperModel (resident cross- and self-attention caches); tokens: whisperGenerate.
 */
import { TesseraError } from '../api/errors.js';
import type { SessionOptions } from '../api/session.js';
import { WhisperFeatureExtractor, type WhisperFeatureExtractorConfig } from '../audio/index.js';
import type { BaseStreamer } from '../generation/streamers.js';
import { type ModelFolderOptions, openModelFolder } from '../platform/model-folder.js';
import { type AsrChunk, type AsrWindow, decodeAsr } from '../speech/decode-asr.js';
import { loadAudio, type AudioInput } from '../speech/audio-input.js';
import { whisperBatchSize, whisperConfig, whisperGenerateBatch, type WhisperGenerationOptions, type WhisperPassReport } from '../speech/whisper-generate.js';
import { type ModelSource, WhisperModel } from '../speech/whisper-model.js';
import { Tokenizer } from '../text/tokenizer.js';
import { DTYPE_SUFFIX } from './load.js';

/** A dtype name, or one per file as transformers.js takes it ({ encoder_model: 'fp32', decoder_model_merged: 'q8' }). */
export type AsrDtype = keyof typeof DTYPE_SUFFIX | Partial<Record<'encoder_model' | 'decoder_model_merged' | 'decoder_model' | 'decoder_with_past_model', keyof typeof DTYPE_SUFFIX>>;

/** Options of `pipeline('automatic-speech-recognition', folder, options)`. */
export interface AsrPipelineOptions extends ModelFolderOptions {
  /** Which weights: 'fp32' (default), 'fp16', 'q8', 'q4', … or one per file. */
  dtype?: AsrDtype;
  /** 'merged' (default): decoder_model_merged; 'pair': decoder_model + decoder_with_past_model. */
  decoder?: 'merged' | 'pair';
  /** Threads of the sessions' large kernels (default 1). */
  threads?: number | 'auto';
  /** Passed to both sessions. */
  sessionOptions?: SessionOptions;
  /**
   * Most windows of a chunked call decoded together as one batch (default 2; 1: one at a time).
   * Each batch row holds its own caches: cross-attention layers × 2 × 1,500 × d_model floats plus
   * self-attention layers × 2 × 448 × d_model floats (tiny: 18.4 + 5.5 MB; base: 36.9 + 11 MB),
   * allocated once for the most rows when a call first batches. docs/speech-recognition.md.
   */
  batch_size?: number;
}

/** Per-call options (transformers.js's names). */
export interface AsrCallOptions extends Omit<WhisperGenerationOptions, 'return_timestamps'> {
  /**
   * Segment timestamps (true), or word timestamps ('word': each word's start and end from the
   * alignment heads' cross-attention, as transformers.js; needs a decoder exported with its
   * cross-attention outputs, e.g. the '_timestamped' folders).
   */
  return_timestamps?: boolean | 'word' | null;
  /** Cut audio longer than this into windows of this many seconds (0: one window of 30 s). */
  chunk_length_s?: number;
  /** Overlap of consecutive windows on each side, seconds (default chunk_length_s / 6). */
  stride_length_s?: number | null;
  /** Throw when a timestamped transcription does not end with a timestamp (default false). */
  force_full_sequences?: boolean;
  /** Receives each window's prompt and tokens (put/end per decoding pass, as transformers.js). */
  streamer?: BaseStreamer | null;
  /** Add `no_speech` to the output: one entry per decoding pass (default false). */
  return_no_speech_prob?: boolean;
  /**
   * Most windows (`chunk_length_s`) decoded together in lockstep, one decoder run per token for all
   * of them (HF's name; default and maximum: the pipeline's `batch_size`). Each window's tokens are
   * exactly those it gets decoded alone; batching applies to greedy single-pass windows on
   * fp32, fp16 and q8 decoders (not q4), else windows go one by one. With a
   * streamer, each window's put/end still arrive in window order: later windows' calls are held
   * until the earlier windows have ended.
   */
  batch_size?: number;
}

/** No-speech detection's view of one decoding pass (OpenAI whisper's segment fields). */
export interface AsrNoSpeech {
  /** Start and end of the audio the pass decoded, seconds from the input's start. */
  timestamp: [number, number];
  /** Probability of <|nospeech|> at the <|startoftranscript|> position, before any suppression. */
  no_speech_prob: number;
  /** Average log-probability of the pass's generated tokens (EOS included, ÷ text tokens + 1). */
  avg_logprob: number;
  /** True when `no_speech_threshold` / `logprob_threshold` made the pass silence (no text from it). */
  skipped: boolean;
}

/** One transcription. */
export interface AsrOutput {
  /** The text. */
  text: string;
  /** The segments, with `return_timestamps`. */
  chunks?: AsrChunk[];
  /** With `return_no_speech_prob`: each decoding pass's no-speech probability, in order. */
  no_speech?: AsrNoSpeech[];
}

/** The pipeline: call it with audio. */
export interface AutomaticSpeechRecognitionPipeline {
  /** Transcribes one input → { text, chunks? }, or a list → one result each. */
  (audio: AudioInput, options?: AsrCallOptions): Promise<AsrOutput>;
  (audio: AudioInput[], options?: AsrCallOptions): Promise<AsrOutput[]>;
  /** 'automatic-speech-recognition'. */
  readonly task: 'automatic-speech-recognition';
  /** The tokenizer. */
  readonly tokenizer: Tokenizer;
  /** The encoder and decoder (`model.stats`: plans and steps). */
  readonly model: WhisperModel;
  /** The log-mel feature extractor. */
  readonly processor: WhisperFeatureExtractor;
  /** Frees the model's and the extractor's memory. */
  dispose(): Promise<void>;
}

const TASK = "pipeline('automatic-speech-recognition')";

/** Builds the pipeline from a Whisper folder (path, URL base or hub id). */
export async function automaticSpeechRecognitionPipeline(location: string | URL, options: AsrPipelineOptions = {}): Promise<AutomaticSpeechRecognitionPipeline> {
  const { host, revision, cache, onProgress, dtype = 'fp32', decoder = 'merged', threads, sessionOptions, batch_size } = options;
  if (batch_size !== undefined && !(Number.isInteger(batch_size) && batch_size >= 1)) throw new TesseraError('INVALID_ARGUMENT', `${TASK}: batch_size must be a positive integer, got ${String(batch_size)}`);
  const folderOptions = { host, revision, cache, onProgress };
  const folder = await openModelFolder(location, folderOptions);
  const json = async (file: string, required: boolean): Promise<Record<string, unknown>> => {
    const bytes = await folder.read(file);
    if (!bytes) {
      if (required) throw new TesseraError('INVALID_ARGUMENT', `${TASK}: no ${folder.locate(file)}`);
      return {};
    }
    try { return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>; } catch { throw new TesseraError('INVALID_ARGUMENT', `${TASK}: ${folder.locate(file)} is not valid JSON`); }
  };
  const config = await json('config.json', true);
  if (config.model_type !== 'whisper' && config.model_type !== 'lite-whisper') {
    throw new TesseraError('INVALID_ARGUMENT', `${TASK}: model_type '${String(config.model_type)}' is not supported (Whisper only)`);
  }
  const generationConfig = await json('generation_config.json', false);
  const preprocessor = await json('preprocessor_config.json', true);
  const tokenizer = await Tokenizer.fromPretrained(location, folderOptions);
  const suffix = (file: keyof Exclude<AsrDtype, string>) => {
    const d = typeof dtype === 'string' ? dtype : dtype[file] ?? 'fp32';
    if (!(d in DTYPE_SUFFIX)) throw new TesseraError('INVALID_ARGUMENT', `${TASK}: unknown dtype '${d}'; one of ${Object.keys(DTYPE_SUFFIX).join(', ')}`);
    return DTYPE_SUFFIX[d as keyof typeof DTYPE_SUFFIX];
  };
  const source = async (name: keyof Exclude<AsrDtype, string>): Promise<ModelSource> => {
    const file = `onnx/${name}${suffix(name)}.onnx`;
    const bytes = folder.kind === 'local' ? undefined : await folder.read(file);
    if (folder.kind === 'local' ? !(await folder.read(file)) : !bytes) throw new TesseraError('INVALID_ARGUMENT', `${TASK}: no ${folder.locate(file)}`);
    return bytes ?? folder.locate(file);
  };
  const files = decoder === 'pair'
    ? { encoder: await source('encoder_model'), decoder: await source('decoder_with_past_model'), decoderNoPast: await source('decoder_model') }
    : { encoder: await source('encoder_model'), decoder: await source('decoder_model_merged') };
  const opts: SessionOptions = { ...sessionOptions, ...(threads !== undefined ? { threads } : {}), ...(cache !== undefined ? { cache } : {}) };
  const model = await WhisperModel.create(files, {
    max_source_positions: Number(config.max_source_positions ?? 1500),
    max_target_positions: Number(config.max_target_positions ?? 448),
    ...(batch_size !== undefined ? { batch_capacity: batch_size } : {}),
  }, opts);
  let processor: WhisperFeatureExtractor;
  try {
    processor = await WhisperFeatureExtractor.create(preprocessor as WhisperFeatureExtractorConfig);
  } catch (e) {
    await model.release();
    throw e;
  }
  return makePipeline(model, processor, tokenizer, config, generationConfig, preprocessor);
}

function makePipeline(model: WhisperModel, processor: WhisperFeatureExtractor, tokenizer: Tokenizer, config: Record<string, unknown>,
  generationConfig: Record<string, unknown>, preprocessor: Record<string, unknown>): AutomaticSpeechRecognitionPipeline {
  const samplingRate = Number(preprocessor.sampling_rate ?? 16000);
  const hop = Number(preprocessor.hop_length ?? 160);
  const timePrecision = Number(preprocessor.chunk_length ?? 30) / model.encoderPositions;
  const vocab = Number(config.vocab_size ?? Infinity);
  // OpenAI's tokenizer names it <|nospeech|> (<|nocaptions|> in the first releases).
  const noSpeechToken = tokenizer.tokenToId('<|nospeech|>') ?? tokenizer.tokenToId('<|nocaptions|>') ?? null;
  const asrTokenizer = {
    decode: (ids: readonly number[]) => tokenizer.decode(ids),
    allSpecialIds: tokenizer.allSpecialIds,
    tokenToId: (t: string) => tokenizer.tokenToId(t),
  };
  let busy = false;

  const one = async (input: AudioInput, options: AsrCallOptions): Promise<AsrOutput> => {
    const { chunk_length_s = 0, force_full_sequences = false } = options;
    let { stride_length_s = null } = options;
    const audio = await loadAudio(input, samplingRate);
    const windows: { stride: [number, number, number]; start: number; end: number }[] = [];
    if (chunk_length_s > 0) {
      if (stride_length_s === null) stride_length_s = chunk_length_s / 6;
      else if (chunk_length_s <= stride_length_s) throw new TesseraError('INVALID_ARGUMENT', `${TASK}: chunk_length_s (${chunk_length_s}) must be larger than stride_length_s (${stride_length_s})`);
      const window = samplingRate * chunk_length_s, stride = samplingRate * stride_length_s, jump = window - 2 * stride;
      for (let offset = 0; ; offset += jump) {
        const end = Math.min(offset + window, audio.length);
        const last = offset + window >= audio.length;
        windows.push({ stride: [end - offset, offset === 0 ? 0 : stride, last ? 0 : stride], start: offset, end });
        if (last) break;
      }
    } else {
      windows.push({ stride: [audio.length, 0, 0], start: 0, end: audio.length });
    }
    const cfg = whisperConfig(config, generationConfig, options as Record<string, unknown>);
    cfg.no_speech_token_id ??= noSpeechToken;
    const words = options.return_timestamps === 'word';
    // 'word' is timestamps plus the token times (cfg); the generation options proper see a boolean.
    const generationOptions: WhisperGenerationOptions = { ...options, return_timestamps: words || options.return_timestamps === true };
    if (words) Object.assign(cfg, { return_timestamps: true, return_token_timestamps: true, median_filter_width: config.median_filter_width });
    const decoded: AsrWindow[] = [];
    const noSpeech: AsrNoSpeech[] | undefined = options.return_no_speech_prob ? [] : undefined;
    // Windows go in groups decoded as one batch (whisperBatchSize: 1 where batching is not exact);
    // features are extracted a group at a time, so a long input holds one group's in memory.
    const group = whisperBatchSize(model, cfg, options.batch_size);
    for (let g = 0; g < windows.length && !options.signal?.aborted; g += group) {
      const ws = windows.slice(g, g + group);
      const features = ws.map((w) => processor.extract(audio.subarray(w.start, w.end)).input_features);
      const reports = ws.map((): WhisperPassReport[] | undefined => (noSpeech ? [] : undefined));
      const cfgs = ws.map((w) => ({ ...cfg, num_frames: Math.floor(w.stride[0] / hop) }));
      const times = ws.map((): number[] | undefined => (words ? [] : undefined));
      const tokens = await whisperGenerateBatch(model, features, cfgs, generationOptions, vocab, reports, times);
      tokens.forEach((t, i) => {
        const w = ws[i]!;
        const stride = w.stride.map((x) => x / samplingRate) as [number, number, number];
        decoded.push(words ? { tokens: t, token_timestamps: times[i]!, stride } : { tokens: t, stride });
        for (const r of reports[i] ?? []) {
          const { no_speech_prob, avg_logprob, skipped } = r;
          noSpeech!.push({ timestamp: [(w.start + r.seekFrame * hop) / samplingRate, w.end / samplingRate], no_speech_prob, avg_logprob, skipped });
        }
      });
    }
    const out: AsrOutput = decodeAsr(asrTokenizer, decoded, { returnTimestamps: words ? 'word' : !!options.return_timestamps, timePrecision, forceFullSequences: force_full_sequences });
    return noSpeech ? { ...out, no_speech: noSpeech } : out;
  };

  const call = (async (input: AudioInput | AudioInput[], options: AsrCallOptions = {}) => {
    if (busy) throw new TesseraError('INVALID_ARGUMENT', `${TASK}: already transcribing; await the previous call`);
    busy = true;
    try {
      if (Array.isArray(input)) {
        const out: AsrOutput[] = [];
        for (const x of input) out.push(await one(x, options));
        return out;
      }
      return await one(input, options);
    } finally {
      busy = false;
    }
  }) as AutomaticSpeechRecognitionPipeline;

  return Object.assign(call, {
    task: 'automatic-speech-recognition' as const,
    tokenizer,
    model,
    processor,
    dispose: async () => { processor.release(); await model.release(); },
  });
}
