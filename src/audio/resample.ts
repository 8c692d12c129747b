/**
 * Band-limited resampling between any two integer sample rates: a Kaiser-windowed sinc evaluated
 * as a polyphase filter. Output sample j sits at input time j·from/to (no delay); its value is the
 * input convolved with a low-pass below min(from, to)/2. Two designs:
 *
 * - `'ffmpeg'` (the default): ffmpeg's default resampler (libswresample: filter_size 32, Kaiser
 *   β 9, cutoff 0.97 of the lower Nyquist frequency as the sinc's −6 dB point, taps normalised so
 *   phase 0 sums to 1, no cutoff when upsampling). openai-whisper's `load_audio` and the Python
 *   transformers ASR pipeline decode through `ffmpeg -ar 16000`, so Whisper was trained on audio
 *   resampled this way; on the espeak-ng fixture readAudio is within ~1e-4 of ffmpeg's own output
 *   (test/audio/ffmpeg-resample.test.ts). It lets a little through above the new Nyquist (the
 *   transition band is centred on it): a tone 20 % above is ≥ 60 dB down.
 * - `'sharp'`: 32 zero crossings a side, cutoff 0.9 of the lower Nyquist: flat within 0.01 dB to
 *   0.8 of it, ≥ 80 dB down from Nyquist on — no aliasing at all, at ~2× the taps.
 *
 * The ratio reduced by the gcd, L/M, gives L filter phases; beyond MAX_PHASES the phase is
 * interpolated linearly between a table of MAX_PHASES + 1 (rates like 44101 → 16000), as ffmpeg
 * does beyond its 1024 phases.
 */
import { TesseraError } from '../api/errors.js';

/** Which low-pass `resample` uses (see the file header). */
export type ResampleFilter = 'ffmpeg' | 'sharp';

/** Options of {@link resample}. */
export interface ResampleOptions {
  /** 'ffmpeg' (default: ffmpeg's default filter, what Whisper was trained on) or 'sharp' (no aliasing). */
  filter?: ResampleFilter;
}

const BETA = 9;
const MAX_PHASES = 1024;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for x ≤ 30). */
function besselI0(x: number): number {
  let sum = 1, term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

interface Filter {
  /** Phases in the table (P), each `taps` long; phase P (= phase 0 one tap on) ends the table. */
  phases: number;
  taps: number;
  /** Offset of tap 0 from floor(t): tap i multiplies x[floor(t) − half + 1 + i]. */
  half: number;
  table: Float32Array;
}

const filters = new Map<string, Filter>();

/**
 * The polyphase table of a windowed sinc with cutoff `fc` (cycles per input sample), `half`
 * taps each side, the Kaiser window spanning ±width input samples, P phases; `normalize` scales
 * every phase by phase 0's sum (ffmpeg's build_filter).
 */
function makeFilter(fc: number, half: number, width: number, phases: number, normalize: boolean): Filter {
  const key = `${fc}/${half}/${width}/${phases}/${normalize}`;
  const cached = filters.get(key);
  if (cached) return cached;
  const taps = 2 * half;
  const table = new Float32Array((phases + 1) * taps);
  const tmp = new Float64Array(taps);
  let norm = 1;
  for (let p = 0; p <= phases; p++) {
    const frac = p / phases;
    let sum = 0;
    for (let i = 0; i < taps; i++) {
      const tau = frac - (i - half + 1); // t − n for n = floor(t) − half + 1 + i
      const r = tau / width;
      const x = 2 * fc * tau;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      tmp[i] = Math.abs(r) > 1 ? 0 : 2 * fc * sinc * besselI0(BETA * Math.sqrt(Math.max(0, 1 - r * r)));
      sum += tmp[i]!;
    }
    if (p === 0) norm = normalize ? sum : besselI0(BETA);
    for (let i = 0; i < taps; i++) table[p * taps + i] = tmp[i]! / norm;
  }
  const f = { phases, taps, half, table };
  if (filters.size > 16) filters.clear();
  filters.set(key, f);
  return f;
}

/** The filter for L/M (reduced) in the chosen design. */
function designFilter(L: number, M: number, design: ResampleFilter): Filter {
  const phases = L <= MAX_PHASES ? L : MAX_PHASES;
  if (design === 'sharp') {
    const fc = 0.5 * Math.min(1, L / M) * 0.9;
    const width = 32 / (2 * fc);
    return makeFilter(fc, Math.ceil(width), width, phases, false);
  }
  // libswresample resample_init: factor = min(out·cutoff/in, 1); filter_length = ceil(32 / factor)
  // rounded up to even; sinc(π·τ·factor) under a Kaiser window over the filter's length.
  const factor = Math.min((L * 0.97) / M, 1);
  let length = Math.max(Math.ceil(32 / factor), 1);
  if (length > 1) length += length & 1;
  return makeFilter(factor / 2, length / 2, length / 2, phases, true);
}

/**
 * Where sample i of the extended signal comes from: mirrored without repeating x[0] before the
 * start (x[−k] = x[k]) and mirrored with x[n−1] repeated after the end (x[n−1+k] = x[n−k]), as
 * libswresample extends the first and the last block; folded again for signals shorter than the
 * filter.
 */
function edgeIndex(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 1 - i;
  return i;
}

// Four accumulators: one chain of dependent adds would bound the loop by the FP add latency.
function dot(table: Float32Array, row: number, x: Float32Array | Float64Array, start: number, lo: number, hi: number): number {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    a0 += table[row + i]! * x[start + i]!;
    a1 += table[row + i + 1]! * x[start + i + 1]!;
    a2 += table[row + i + 2]! * x[start + i + 2]!;
    a3 += table[row + i + 3]! * x[start + i + 3]!;
  }
  for (; i < hi; i++) a0 += table[row + i]! * x[start + i]!;
  return (a0 + a1) + (a2 + a3);
}

/** The taps of phase `row` moved a fraction `a` of the way to the next phase's. */
function dotLerp(table: Float32Array, row: number, taps: number, a: number, x: Float32Array | Float64Array, start: number, lo: number, hi: number): number {
  const next = row + taps;
  let a0 = 0, a1 = 0;
  let i = lo;
  for (; i + 2 <= hi; i += 2) {
    a0 += (table[row + i]! + a * (table[next + i]! - table[row + i]!)) * x[start + i]!;
    a1 += (table[row + i + 1]! + a * (table[next + i + 1]! - table[row + i + 1]!)) * x[start + i + 1]!;
  }
  if (i < hi) a0 += (table[row + i]! + a * (table[next + i]! - table[row + i]!)) * x[start + i]!;
  return a0 + a1;
}

function checkRate(rate: number, what: string): void {
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate <= 0 || rate > 2 ** 24) {
    throw new TesseraError('INVALID_ARGUMENT', `resample: ${what} must be a positive integer number of Hz (up to 2^24), got ${String(rate)}`);
  }
}

/**
 * Resamples mono audio from `fromRate` to `toRate` Hz (e.g. 44100 → 16000 for Whisper) with a
 * Kaiser-windowed sinc low-pass (anti-aliasing when downsampling): by default ffmpeg's default
 * filter, or `{ filter: 'sharp' }` for one that lets nothing above Nyquist through. Same rates
 * return a copy. Output length: ceil(samples.length · toRate / fromRate).
 * @throws TesseraError INVALID_ARGUMENT for a rate that is not a positive integer or a
 * non-finite sample (its index is named).
 */
export function resample(samples: Float32Array | Float64Array, fromRate: number, toRate: number, options: ResampleOptions = {}): Float32Array {
  const design = options.filter ?? 'ffmpeg';
  if (design !== 'ffmpeg' && design !== 'sharp') throw new TesseraError('INVALID_ARGUMENT', `resample: filter must be 'ffmpeg' or 'sharp', got ${String(design)}`);
  checkRate(fromRate, 'fromRate');
  checkRate(toRate, 'toRate');
  if (!(samples instanceof Float32Array || samples instanceof Float64Array)) {
    throw new TesseraError('INVALID_ARGUMENT', `resample: samples must be a Float32Array or Float64Array, got ${(samples as object)?.constructor?.name ?? typeof samples}`);
  }
  const n = samples.length;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(samples[i]!)) throw new TesseraError('INVALID_ARGUMENT', `resample: sample ${i} is ${samples[i]}: the audio must be finite numbers`);
  }
  if (fromRate === toRate) return Float32Array.from(samples);
  const g = gcd(fromRate, toRate);
  const L = toRate / g, M = fromRate / g;
  const outLength = Math.ceil((n * L) / M);
  const out = new Float32Array(outLength);
  const exact = L <= MAX_PHASES;
  const { phases, taps, half, table } = designFilter(L, M, design);
  const edge = new Float64Array(taps);
  for (let j = 0; j < outLength; j++) {
    // t = j·M/L input samples: integer part and phase, exactly in integers.
    const num = j * M;
    const base = Math.floor(num / L);
    const rem = num - base * L;
    const start = base - half + 1;
    let row: number, a = 0;
    if (exact) row = rem * taps;
    else {
      const pos = (rem / L) * phases;
      const p = Math.min(Math.floor(pos), phases - 1);
      a = pos - p;
      row = p * taps;
    }
    let src: Float32Array | Float64Array = samples, at = start;
    if (start < 0 || start + taps > n) {
      // Near the ends the window reads past the signal: extend it as ffmpeg does.
      for (let i = 0; i < taps; i++) edge[i] = samples[edgeIndex(start + i, n)]!;
      src = edge;
      at = 0;
    }
    out[j] = exact || a === 0 ? dot(table, row, src, at, 0, taps) : dotLerp(table, row, taps, a, src, at, 0, taps);
  }
  return out;
}
