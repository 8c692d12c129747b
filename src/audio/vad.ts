/**
 * VoiceActivityDetector: speech segments from a live stream of samples, on any model with Silero
 * VAD v5's ONNX interface (`input` [1, context + window], `state` [2, 1, 128], `sr` int64 →
 * `output` [1, 1], `stateN`). Windows of 512 samples at 16 kHz (256 at 8 kHz) are cut from chunks
 * of any size, each run with the previous window's last 64 (32) samples in front, the LSTM state
 * carried from window to window. The decisions are Silero's `get_speech_timestamps`, made as the
 * windows arrive (vad-segmenter.ts), so a stream gives the segments the whole clip would give, at
 * any chunk sizes. One session, feeds made once and rewritten in place for every window.
 */
import { TesseraError } from '../api/errors.js';
import { InferenceSession, type SessionOptions } from '../api/session.js';
import { Tensor } from '../api/tensor.js';
import { SpeechSegmenter, type RawSegmentSink, type SegmenterSettings } from './vad-segmenter.js';

/** Options, as Silero's `get_speech_timestamps` / `VADIterator` name them. */
export interface VoiceActivityOptions {
  /** Sample rate of the audio given: 16000 (default) or 8000, the rates the model has branches for. */
  sampling_rate?: 16000 | 8000;
  /** A window whose speech probability is at least this is speech (default 0.5). */
  threshold?: number;
  /** Inside speech, a window below this is silence (default max(threshold − 0.15, 0.01)). */
  neg_threshold?: number;
  /** Segments shorter than this are dropped (default 250 ms). */
  min_speech_duration_ms?: number;
  /** Silence needed to close a segment (default 100 ms). */
  min_silence_duration_ms?: number;
  /** Padding added to each side of a segment (default 30 ms); halved gaps where segments are closer. */
  speech_pad_ms?: number;
  /** Longer speech is cut, at its longest inner silence if any (default Infinity). */
  max_speech_duration_s?: number;
  /** Shortest inner silence that counts as a cut point for max_speech_duration_s (default 98 ms). */
  min_silence_at_max_speech?: number;
  /** Cut long speech at its longest inner silence (default true) rather than its last one. */
  use_max_poss_sil_at_max_speech?: boolean;
  /** Options for the session made from a path, URL or bytes. */
  sessionOptions?: SessionOptions;
}

/** One stretch of speech: times in seconds and samples from the start of the stream, and its audio. */
export interface SpeechSegment {
  /** Start, in seconds. */
  start: number;
  /** End (exclusive), in seconds. */
  end: number;
  /** Start, in samples. */
  startSample: number;
  /** End (exclusive), in samples. */
  endSample: number;
  /** The samples from startSample to endSample (a copy, the caller's to keep). */
  audio: Float32Array;
}

/** What `segments()` reads: chunks of mono float samples at the detector's rate, of any size. */
export type SampleStream = AsyncIterable<Float32Array> | Iterable<Float32Array> | ReadableStream<Float32Array>;

/** Speech segments from audio with a Silero-VAD-v5-style model; see docs/speech.md. */
export class VoiceActivityDetector {
  /** The model's session (owned by the detector unless it was given one). */
  readonly session: InferenceSession;
  /** Sample rate of the audio the detector takes. */
  readonly samplingRate: 16000 | 8000;
  /** New samples per model run: 512 at 16 kHz, 256 at 8 kHz. */
  readonly windowSize: number;
  /** Samples of the previous window run again in front of each window: 64 at 16 kHz, 32 at 8 kHz. */
  readonly contextSize: number;

  private readonly ownsSession: boolean;
  private readonly settings: SegmenterSettings;
  private readonly inputData: Float32Array;
  private readonly stateData = new Float32Array(2 * 128);
  private readonly feeds: Record<string, Tensor>;
  private filled = 0; // new samples in inputData after the context
  private windows = 0; // windows run since reset
  private received = 0; // samples received since reset
  private history = new Float32Array(0); // samples from historyStart on, kept while a segment may need them
  private historyStart = 0;
  private historyLength = 0;
  private segmenter!: SpeechSegmenter;
  private ready: SpeechSegment[] = [];
  private busy = false;

  private constructor(session: InferenceSession, ownsSession: boolean, options: VoiceActivityOptions) {
    this.session = session;
    this.ownsSession = ownsSession;
    const sr = options.sampling_rate ?? 16000;
    if (sr !== 16000 && sr !== 8000) {
      throw new TesseraError('INVALID_ARGUMENT', `VoiceActivityDetector: sampling_rate ${String(sr)} is not supported; give 16000 or 8000 Hz audio (resample it first)`);
    }
    this.samplingRate = sr;
    this.windowSize = sr === 16000 ? 512 : 256;
    this.contextSize = sr === 16000 ? 64 : 32;
    this.settings = settingsFrom(options, sr, this.windowSize);
    this.inputData = new Float32Array(this.contextSize + this.windowSize);
    this.feeds = {
      input: new Tensor('float32', this.inputData, [1, this.inputData.length]),
      state: new Tensor('float32', this.stateData, [2, 1, 128]),
      sr: new Tensor('int64', BigInt64Array.of(BigInt(sr)), []),
    };
    this.reset();
  }

  /**
   * Loads the model (a path in Node, a URL, the bytes, or an `InferenceSession` to share) and checks
   * it has Silero VAD v5's inputs and outputs.
   */
  static async create(model: string | URL | Uint8Array | ArrayBuffer | InferenceSession, options: VoiceActivityOptions = {}): Promise<VoiceActivityDetector> {
    const given = model instanceof InferenceSession;
    const session = given ? model : await InferenceSession.create(model, options.sessionOptions);
    try {
      for (const name of ['input', 'state', 'sr']) {
        if (!session.inputNames.includes(name)) throw new TesseraError('INVALID_MODEL', `VoiceActivityDetector: the model has no input '${name}' (inputs: ${session.inputNames.join(', ')}); it needs Silero VAD v5's inputs input, state, sr`);
      }
      for (const name of ['output', 'stateN']) {
        if (!session.outputNames.includes(name)) throw new TesseraError('INVALID_MODEL', `VoiceActivityDetector: the model has no output '${name}' (outputs: ${session.outputNames.join(', ')}); it needs Silero VAD v5's outputs output, stateN`);
      }
      return new VoiceActivityDetector(session, !given, options);
    } catch (e) {
      if (!given) await session.release();
      throw e;
    }
  }

  /** Forgets the stream: LSTM state, context, partial window, open segment, sample count. */
  reset(): void {
    this.stateData.fill(0);
    this.inputData.fill(0);
    this.filled = 0;
    this.windows = 0;
    this.received = 0;
    this.historyStart = 0;
    this.historyLength = 0;
    this.ready = [];
    const sink: RawSegmentSink = (start, end) => this.ready.push(this.cut(start, end));
    this.segmenter = new SpeechSegmenter(this.settings, sink);
  }

  /**
   * Speech segments of a live stream, each yielded once the silence after it (and its padding)
   * has arrived. Starts from a reset; the last segment comes when the stream ends.
   */
  async *segments(stream: SampleStream): AsyncGenerator<SpeechSegment, void, undefined> {
    this.claim();
    try {
      this.reset();
      for await (const chunk of iterate(stream)) {
        await this.feed(chunk);
        yield* this.take();
      }
      await this.finish();
      yield* this.take();
    } finally {
      this.busy = false;
    }
  }

  /** The speech segments of a whole clip (the same as `segments()` gives for it in any chunks). */
  async detect(samples: Float32Array): Promise<SpeechSegment[]> {
    const out: SpeechSegment[] = [];
    for await (const s of this.segments([samples])) out.push(s);
    return out;
  }

  /** Speech probability of every window of a clip (the last one zero-padded), from a reset. */
  async speechProbabilities(samples: Float32Array): Promise<Float32Array> {
    this.claim();
    try {
      this.reset();
      const probs = new Float32Array(Math.ceil(samples.length / this.windowSize));
      for (let i = 0; i < probs.length; i++) {
        const part = samples.subarray(i * this.windowSize, (i + 1) * this.windowSize);
        checkSamples(part, i * this.windowSize);
        this.inputData.set(part, this.contextSize);
        this.inputData.fill(0, this.contextSize + part.length);
        probs[i] = await this.runWindow();
      }
      this.reset();
      return probs;
    } finally {
      this.busy = false;
    }
  }

  /** Releases the session if the detector made it. */
  async release(): Promise<void> {
    if (this.ownsSession) await this.session.release();
  }

  private claim(): void {
    if (this.busy) throw new TesseraError('INVALID_ARGUMENT', 'VoiceActivityDetector: it is already reading a stream; make one detector per stream');
    this.busy = true;
  }

  private *take(): Generator<SpeechSegment> {
    const out = this.ready;
    this.ready = [];
    yield* out;
  }

  /** Appends a chunk, running the model on every window it completes. */
  private async feed(chunk: Float32Array): Promise<void> {
    if (!(chunk instanceof Float32Array)) {
      throw new TesseraError('INVALID_ARGUMENT', `VoiceActivityDetector: a stream chunk must be a Float32Array of samples, got ${chunk === null ? 'null' : typeof chunk === 'object' ? (chunk as object).constructor?.name : typeof chunk}`);
    }
    checkSamples(chunk, this.received);
    this.keep(chunk);
    this.received += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(chunk.length - at, this.windowSize - this.filled);
      this.inputData.set(chunk.subarray(at, at + n), this.contextSize + this.filled);
      this.filled += n;
      at += n;
      if (this.filled === this.windowSize) await this.step();
    }
  }

  /** End of stream: the partial window zero-padded and run, the open segment closed. */
  private async finish(): Promise<void> {
    if (this.filled > 0) {
      this.inputData.fill(0, this.contextSize + this.filled);
      this.filled = this.windowSize;
      await this.step();
    }
    this.segmenter.finish(this.received);
  }

  private async step(): Promise<void> {
    const p = await this.runWindow();
    this.segmenter.push(p, this.windows * this.windowSize);
    this.windows++;
    this.segmenter.settle(this.windows * this.windowSize, this.received);
    this.forget(this.segmenter.earliestNeeded(this.windows * this.windowSize));
  }

  /** One model run on inputData; the state carried in place, the context shifted for the next window. */
  private async runWindow(): Promise<number> {
    const out = await this.session.run(this.feeds);
    this.stateData.set(out.stateN!.data as Float32Array);
    const p = (out.output!.data as Float32Array)[0]!;
    this.inputData.copyWithin(0, this.windowSize, this.windowSize + this.contextSize);
    this.filled = 0;
    return p;
  }

  private keep(chunk: Float32Array): void {
    const need = this.historyLength + chunk.length;
    if (need > this.history.length) {
      const grown = new Float32Array(Math.max(need, this.history.length * 2, 4 * this.windowSize));
      grown.set(this.history.subarray(0, this.historyLength));
      this.history = grown;
    }
    this.history.set(chunk, this.historyLength);
    this.historyLength += chunk.length;
  }

  /** Drops the samples before `sample` (no segment can need them any more). */
  private forget(sample: number): void {
    const drop = Math.min(Math.max(0, sample - this.historyStart), this.historyLength);
    if (drop < this.windowSize * 8 && drop < this.historyLength) return; // shift in batches
    this.history.copyWithin(0, drop, this.historyLength);
    this.historyLength -= drop;
    this.historyStart += drop;
  }

  private cut(start: number, end: number): SpeechSegment {
    const from = start - this.historyStart;
    const audio = this.history.slice(Math.max(0, from), end - this.historyStart);
    if (from < 0) throw new TesseraError('INTERNAL', `VoiceActivityDetector: samples ${start}..${this.historyStart} were dropped before their segment was cut (a tessera bug)`);
    return { start: start / this.samplingRate, end: end / this.samplingRate, startSample: start, endSample: end, audio };
  }
}

function settingsFrom(o: VoiceActivityOptions, sr: number, window: number): SegmenterSettings {
  const threshold = o.threshold ?? 0.5;
  const num = (name: keyof VoiceActivityOptions, v: number, min = 0): number => {
    if (typeof v !== 'number' || Number.isNaN(v) || v < min) throw new TesseraError('INVALID_ARGUMENT', `VoiceActivityDetector: option ${name} must be a number ≥ ${min}, got ${String(v)}`);
    return v;
  };
  num('threshold', threshold);
  if (threshold > 1) throw new TesseraError('INVALID_ARGUMENT', `VoiceActivityDetector: threshold must be in [0, 1], got ${threshold}`);
  const pad = num('speech_pad_ms', o.speech_pad_ms ?? 30) * sr / 1000;
  const maxSpeech = num('max_speech_duration_s', o.max_speech_duration_s ?? Infinity);
  return {
    threshold,
    negThreshold: num('neg_threshold', o.neg_threshold ?? Math.max(threshold - 0.15, 0.01)),
    minSpeechSamples: num('min_speech_duration_ms', o.min_speech_duration_ms ?? 250) * sr / 1000,
    minSilenceSamples: num('min_silence_duration_ms', o.min_silence_duration_ms ?? 100) * sr / 1000,
    padSamples: pad,
    maxSpeechSamples: sr * maxSpeech - window - 2 * pad,
    minSilenceAtMaxSpeech: num('min_silence_at_max_speech', o.min_silence_at_max_speech ?? 98) * sr / 1000,
    useMaxPossibleSilence: o.use_max_poss_sil_at_max_speech ?? true,
  };
}

function checkSamples(samples: Float32Array, offset: number): void {
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i]!)) throw new TesseraError('INVALID_ARGUMENT', `VoiceActivityDetector: sample ${offset + i} is ${samples[i]}; audio must be finite`);
  }
}

async function* iterate(stream: SampleStream): AsyncGenerator<Float32Array> {
  if (typeof ReadableStream !== 'undefined' && stream instanceof ReadableStream) {
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* stream as AsyncIterable<Float32Array> | Iterable<Float32Array>;
}
