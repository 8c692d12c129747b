/**
 * Whisper's log-mel features from a preprocessor_config.json, computed as transformers.js v4
 * computes them (models/whisper/feature_extraction_whisper.js + utils/audio.js `spectrogram`):
 * the audio zero-padded or cut to n_samples (30 s), reflect-padded by n_fft/2 on each side,
 * periodic-Hann-windowed frames every hop_length samples, |FFT|² (float64, rounded to float32),
 * the Slaney mel projection, log10 of max(·, 1e-10), clamped at (max − 8), then (x + 4) / 4;
 * min(n_samples / hop, nb_max_frames) frames (3000). The FFT, power and log steps are Wasm
 * kernels (assembly/audio.ts), the mel projection the f32 GEMM; every buffer is allocated once
 * when the extractor is created, so a call allocates only the returned tensor.
 */
import { TesseraError } from '../api/errors.js';
import { Tensor } from '../api/tensor.js';
import { Engine } from '../runtime/engine.js';
import { packedBFloats } from '../runtime/kernels.js';
import { fftRadices, hannWindow, melFilterBank, reflectIndex, stftTwiddles } from './spectral.js';

/** The preprocessor_config.json fields the Whisper feature extractor reads (Python's defaults apply). */
export interface WhisperFeatureExtractorConfig {
  /** Mel bins: 80 (tiny … large-v2) or 128 (large-v3). Default 80. */
  feature_size?: number;
  /** Sample rate the audio must have, Hz. Default 16000. */
  sampling_rate?: number;
  /** Samples between frames. Default 160. */
  hop_length?: number;
  /** Frame and FFT length (even). Default 400. */
  n_fft?: number;
  /** Seconds of audio one window holds. Default 30. */
  chunk_length?: number;
  /** Samples of one window. Default chunk_length · sampling_rate. */
  n_samples?: number;
  /** Frames of one window. Default n_samples / hop_length. */
  nb_max_frames?: number;
  /** Value padding the audio to n_samples; only 0 (what transformers.js pads with) is accepted. */
  padding_value?: number;
  /** Precomputed mel filters, feature_size rows of n_fft/2 + 1 (or that matrix transposed); computed when absent. */
  mel_filters?: number[][];
  /** Any other field (feature_extractor_type, return_attention_mask, …), ignored. */
  [key: string]: unknown;
}

/** Options of one extraction. */
export interface WhisperExtractOptions {
  /** Pad or cut the audio to this many samples instead of n_samples (at most n_samples). */
  max_length?: number;
  /** The audio's sample rate, when the caller knows it: refused unless it equals the config's. */
  sampling_rate?: number;
}

/** What `extract` returns: the encoder's input. */
export interface WhisperFeatures {
  /** float32 [1, feature_size, frames] log-mel features (frames = 3000 for 30 s). */
  input_features: Tensor;
}

interface Resolved {
  featureSize: number;
  samplingRate: number;
  hopLength: number;
  nFft: number;
  nSamples: number;
  nbMaxFrames: number;
  melFilters: Float64Array;
}

function fail(message: string): never {
  throw new TesseraError('INVALID_ARGUMENT', `WhisperFeatureExtractor: ${message}`);
}

function positiveInteger(config: WhisperFeatureExtractorConfig, key: string, fallback: number): number {
  const v = config[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(`preprocessor_config.json ${key} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function resolveConfig(config: WhisperFeatureExtractorConfig): Resolved {
  if (config === null || typeof config !== 'object') fail(`the config must be the preprocessor_config.json object, got ${config === null ? 'null' : typeof config}`);
  const featureSize = positiveInteger(config, 'feature_size', 80);
  const samplingRate = positiveInteger(config, 'sampling_rate', 16000);
  const hopLength = positiveInteger(config, 'hop_length', 160);
  const nFft = positiveInteger(config, 'n_fft', 400);
  if (nFft % 2 !== 0 || nFft < 4 || nFft > 65536) fail(`n_fft must be even, from 4 to 65536, got ${nFft}`);
  if (featureSize > 1024) fail(`feature_size ${featureSize} is more mel bins than any model uses (at most 1024)`);
  const chunkLength = positiveInteger(config, 'chunk_length', 30);
  const nSamples = positiveInteger(config, 'n_samples', chunkLength * samplingRate);
  const nbMaxFrames = positiveInteger(config, 'nb_max_frames', Math.floor(nSamples / hopLength));
  // 2^26 samples (70 min at 16 kHz) in one window is far past any Whisper config; it bounds memory.
  if (nSamples < 2 || nSamples > 2 ** 26) fail(`n_samples must be from 2 to 2^26, got ${nSamples}`);
  if (Math.floor(nSamples / hopLength) < 1) fail(`n_samples ${nSamples} is shorter than one hop (${hopLength})`);
  if (nFft > nSamples) fail(`n_fft ${nFft} is longer than the window (n_samples ${nSamples})`);
  const padding = config.padding_value ?? 0;
  if (padding !== 0) fail(`padding_value ${JSON.stringify(padding)} is not supported (transformers.js pads with 0)`);
  const bins = nFft / 2 + 1;
  let melFilters: Float64Array;
  if (config.mel_filters != null) melFilters = melFromConfig(config.mel_filters, featureSize, bins);
  else {
    if (samplingRate < 16000) fail(`sampling_rate ${samplingRate} is below 16000: the mel filters reach 8000 Hz`);
    melFilters = melFilterBank(bins, featureSize, 0, 8000, samplingRate, 'slaney', 'slaney');
  }
  return { featureSize, samplingRate, hopLength, nFft, nSamples, nbMaxFrames, melFilters };
}

function melFromConfig(m: unknown, featureSize: number, bins: number): Float64Array {
  const rows = Array.isArray(m) ? m as unknown[] : fail('mel_filters must be an array of rows');
  const ok = (r: unknown, n: number): r is number[] => Array.isArray(r) && r.length === n && r.every((v) => typeof v === 'number' && Number.isFinite(v));
  const out = new Float64Array(featureSize * bins);
  if (rows.length === featureSize && rows.every((r) => ok(r, bins))) {
    rows.forEach((r, i) => out.set(r as number[], i * bins));
  } else if (rows.length === bins && rows.every((r) => ok(r, featureSize))) {
    // transformers (Python) ≥ 4.27 holds the filters as [bins, mels]: accept that layout too.
    rows.forEach((r, j) => (r as number[]).forEach((v, i) => { out[i * bins + j] = v; }));
  } else {
    fail(`mel_filters must be ${featureSize} rows of ${bins} finite numbers (feature_size × n_fft/2 + 1), got ${rows.length} rows`);
  }
  return out;
}

/**
 * Whisper's feature extractor: audio at 16 kHz → `input_features` [1, 80 or 128, 3000], equal to
 * transformers.js' WhisperFeatureExtractor within 1e-4 (docs/audio.md). Create one per model with
 * {@link WhisperFeatureExtractor.create}; calls run on one thread in the extractor's own Wasm
 * memory (about 6 MB for the 30 s window), released by {@link WhisperFeatureExtractor.release}.
 *
 * Audio longer than n_samples (30 s) is cut to its first n_samples, as transformers.js does (the
 * ASR pipeline splits long audio into windows before calling this); shorter audio is padded with
 * zeros. Empty audio, non-finite samples and a declared sample rate other than the config's are
 * refused with a TesseraError.
 */
export class WhisperFeatureExtractor {
  /** The mel bins (feature_size). */
  readonly featureSize: number;
  /** The sample rate audio must have. */
  readonly samplingRate: number;
  /** Samples between frames. */
  readonly hopLength: number;
  /** Frame length. */
  readonly nFft: number;
  /** Samples of one window (30 s). */
  readonly nSamples: number;
  /** Frames of one window (3000). */
  readonly nbMaxFrames: number;
  /** The original config object. */
  readonly config: WhisperFeatureExtractorConfig;

  private engine: Engine | undefined;
  private readonly factors: number[];
  private readonly ptr: { signal: number; window: number; factors: number; tw: number; scratch: number; panels: number; mel: number; out: number };

  private constructor(config: WhisperFeatureExtractorConfig, r: Resolved, engine: Engine) {
    this.config = config;
    this.featureSize = r.featureSize;
    this.samplingRate = r.samplingRate;
    this.hopLength = r.hopLength;
    this.nFft = r.nFft;
    this.nSamples = r.nSamples;
    this.nbMaxFrames = r.nbMaxFrames;
    this.engine = engine;
    const N = r.nFft, M = N / 2, bins = M + 1;
    const frames = Math.min(Math.floor(r.nSamples / r.hopLength), r.nbMaxFrames);
    this.factors = fftRadices(M);
    const maxRadix = Math.max(...this.factors, 1);
    const heap = engine.heap;
    const k = engine.kernels;
    this.ptr = {
      // The signal with n_fft/2 reflected samples each side, plus the kernels' 16-byte over-read.
      signal: heap.alloc((r.nSamples + N) * 4 + 16, 'audio signal'),
      window: heap.alloc(M * 16, 'hann window'),
      factors: heap.alloc(this.factors.length * 4, 'fft radices'),
      tw: heap.alloc((2 * M + 2 * bins) * 8, 'fft twiddles'),
      scratch: heap.alloc((2 * M + maxRadix) * 32, 'fft scratch'),
      panels: heap.alloc(packedBFloats(bins, frames) * 4, 'power spectrogram'),
      mel: heap.alloc(Math.ceil(r.featureSize / 4) * 4 * bins * 4, 'mel filters'),
      out: heap.alloc(r.featureSize * frames * 4, 'mel spectrogram'),
    };
    const buf = engine.memory.buffer;
    // window: pairs (w[2n], w[2n+1]), the layout the kernel loads as one f64x2.
    new Float64Array(buf, this.ptr.window, N).set(hannWindow(N));
    new Int32Array(buf, this.ptr.factors, this.factors.length).set(this.factors);
    new Float64Array(buf, this.ptr.tw, 2 * M + 2 * bins).set(stftTwiddles(N));
    const melSrc = heap.alloc(r.featureSize * bins * 4, 'mel filters (unpacked)');
    new Float32Array(engine.memory.buffer, melSrc, r.featureSize * bins).set(r.melFilters);
    k.pack_a_f32(melSrc, bins, this.ptr.mel, r.featureSize, bins);
    heap.release(melSrc);
  }

  /**
   * An extractor for a preprocessor_config.json object (missing fields take Python's defaults:
   * 80 mels, 16 kHz, hop 160, n_fft 400, 30 s).
   * @throws TesseraError INVALID_ARGUMENT naming the config field that is wrong.
   */
  static async create(config: WhisperFeatureExtractorConfig = {}): Promise<WhisperFeatureExtractor> {
    const r = resolveConfig(config);
    const engine = await Engine.create({ threads: 1 });
    try {
      return new WhisperFeatureExtractor(config, r, engine);
    } catch (e) {
      engine.release();
      throw e;
    }
  }

  /**
   * Log-mel features of mono audio at `samplingRate`: [1, featureSize, frames] float32.
   * @throws TesseraError INVALID_ARGUMENT for empty audio, a non-finite sample (its index is
   * named), a wrong declared sample rate or max_length; RELEASED after release().
   */
  extract(audio: Float32Array | Float64Array, options: WhisperExtractOptions = {}): WhisperFeatures {
    const engine = this.engine;
    if (!engine) throw new TesseraError('RELEASED', 'WhisperFeatureExtractor: extract() after release()');
    if (!(audio instanceof Float32Array || audio instanceof Float64Array)) {
      const got = audio === null ? 'null' : (audio as object)?.constructor?.name ?? typeof audio;
      fail(`audio must be a Float32Array or Float64Array of samples, got ${got}`);
    }
    if (audio.length === 0) fail('the audio is empty (0 samples)');
    const rate = options.sampling_rate;
    if (rate !== undefined && rate !== this.samplingRate) {
      const why = typeof rate === 'number' && Number.isInteger(rate) && rate > 0 ? '' : ' (not a positive integer)';
      fail(`the audio's sampling_rate ${String(rate)}${why} is not the model's ${this.samplingRate} Hz: resample it first (resample())`);
    }
    const length = options.max_length ?? this.nSamples;
    if (!Number.isInteger(length) || length < 2 || length > this.nSamples) fail(`max_length must be an integer from 2 to n_samples (${this.nSamples}), got ${String(length)}`);
    const frames = Math.min(Math.floor(length / this.hopLength), this.nbMaxFrames);
    if (frames < 1) fail(`max_length ${length} is shorter than one hop (${this.hopLength} samples)`);

    const N = this.nFft, pad = N / 2, bins = pad + 1;
    const buf = engine.memory.buffer;
    const sig = new Float32Array(buf, this.ptr.signal, length + N);
    const used = Math.min(audio.length, length);
    // Audio past `length` is never read: a 2-hour array costs nothing beyond its first window.
    for (let i = 0; i < used; i++) {
      const v = audio[i]!;
      if (!Number.isFinite(v)) fail(`sample ${i} is ${v}: the audio must be finite numbers`);
      sig[pad + i] = v;
    }
    sig.fill(0, pad + used, pad + length);
    const w = length - 1;
    for (let i = 1; i <= pad; i++) {
      sig[pad - i] = sig[pad + reflectIndex(i, w)]!;
      sig[pad + w + i] = sig[pad + reflectIndex(w - i, w)]!;
    }
    const k = engine.kernels;
    const p = this.ptr;
    k.stft_power_f64(p.signal, this.hopLength, frames, p.window, N, p.factors, this.factors.length, p.tw, p.scratch, p.panels);
    k.gemm_f32(p.mel, bins, p.panels, p.out, frames, this.featureSize, frames, bins, 0, 0, 0, 0, 0, 0, 1);
    const n = this.featureSize * frames;
    k.log_mel_norm_f32(p.out, n, 1e-10, 8, 4, 0.25);
    const data = new Float32Array(engine.memory.buffer, p.out, n).slice();
    return { input_features: new Tensor('float32', data, [1, this.featureSize, frames]) };
  }

  /** Frees the extractor's Wasm memory; extract() afterwards throws RELEASED. */
  release(): void {
    this.engine?.release();
    this.engine = undefined;
  }
}
