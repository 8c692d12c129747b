/**
 * The load-time arithmetic of a spectrogram, in float64 exactly as transformers.js v4 writes it
 * (src/utils/audio.js): the periodic Hann window, the mel scales and the triangular mel filter
 * bank with Slaney area normalisation; and the tables the FFT kernel reads (`stft_power_f64` in
 * assembly/audio.ts): the radix plan and the twiddle factors.
 */

/** numpy.hanning(M + 1)[:M] when periodic (transformers.js' window_function(M, 'hann')). */
export function hannWindow(length: number, periodic = true): Float64Array {
  const M = periodic ? length + 1 : length;
  const w = new Float64Array(M);
  if (M === 1) w[0] = 1;
  else {
    const factor = (2 * Math.PI) / (M - 1);
    for (let i = 0; i < M; i++) w[i] = 0.5 - 0.5 * Math.cos(i * factor);
  }
  return periodic ? w.subarray(0, length) : w;
}

/** Mel scales transformers.js knows. */
export type MelScale = 'htk' | 'slaney' | 'kaldi';

/** Hertz → mel. */
export function hertzToMel(freq: number, scale: MelScale = 'htk'): number {
  switch (scale) {
    case 'htk': return 2595.0 * Math.log10(1.0 + freq / 700.0);
    case 'kaldi': return 1127.0 * Math.log(1.0 + freq / 700.0);
    default: return freq >= 1000.0 ? 15.0 + Math.log(freq / 1000.0) * (27.0 / Math.log(6.4)) : (3.0 * freq) / 200.0;
  }
}

/** Mel → hertz. */
export function melToHertz(mels: number, scale: MelScale = 'htk'): number {
  switch (scale) {
    case 'htk': return 700.0 * (10.0 ** (mels / 2595.0) - 1.0);
    case 'kaldi': return 700.0 * (Math.exp(mels / 1127.0) - 1.0);
    default: return mels >= 15.0 ? 1000.0 * Math.exp((Math.log(6.4) / 27.0) * (mels - 15.0)) : (200.0 * mels) / 3.0;
  }
}

function linspace(start: number, end: number, num: number): Float64Array {
  const step = (end - start) / (num - 1);
  return Float64Array.from({ length: num }, (_, i) => start + step * i);
}

/**
 * transformers.js' mel_filter_bank(bins, nMels, fmin, fmax, rate, norm, scale) (triangles in
 * hertz): nMels rows of `bins` weights, row-major (the projection a spectrogram is multiplied by).
 */
export function melFilterBank(bins: number, nMels: number, fmin: number, fmax: number, samplingRate: number,
  norm: 'slaney' | null = null, scale: MelScale = 'htk'): Float64Array {
  const melFreqs = linspace(hertzToMel(fmin, scale), hertzToMel(fmax, scale), nMels + 2);
  const filterFreqs = melFreqs.map((m) => melToHertz(m, scale));
  const fftFreqs = linspace(0, Math.floor(samplingRate / 2), bins);
  const out = new Float64Array(nMels * bins);
  for (let j = 0; j < bins; j++) {
    for (let i = 0; i < nMels; i++) {
      const down = -(filterFreqs[i]! - fftFreqs[j]!) / (filterFreqs[i + 1]! - filterFreqs[i]!);
      const up = (filterFreqs[i + 2]! - fftFreqs[j]!) / (filterFreqs[i + 2]! - filterFreqs[i + 1]!);
      out[i * bins + j] = Math.max(0, Math.min(down, up));
    }
  }
  if (norm === 'slaney') {
    for (let i = 0; i < nMels; i++) {
      const enorm = 2.0 / (filterFreqs[i + 2]! - filterFreqs[i]!);
      for (let j = 0; j < bins; j++) out[i * bins + j] *= enorm;
    }
  }
  return out;
}

/**
 * The radices of an M-point FFT: the hand-written butterflies 4, 2 and 5 first, then 3 and any
 * other prime, which run as a plain R-point DFT (fine for small primes).
 */
export function fftRadices(M: number): number[] {
  const out: number[] = [];
  let m = M;
  while (m % 4 === 0) { out.push(4); m /= 4; }
  for (const p of [2, 5, 3]) while (m % p === 0) { out.push(p); m /= p; }
  for (let p = 7; m > 1; p += 2) while (m % p === 0) { out.push(p); m /= p; }
  return out;
}

/**
 * Twiddles for `stft_power_f64` with frame length N (even): W_M^k for k < M = N/2, then W_N^k for
 * k ≤ M, each (cos, −sin) as two f64.
 */
export function stftTwiddles(N: number): Float64Array {
  const M = N / 2;
  const t = new Float64Array(2 * M + 2 * (M + 1));
  for (let k = 0; k < M; k++) {
    const a = (2 * Math.PI * k) / M;
    t[2 * k] = Math.cos(a);
    t[2 * k + 1] = -Math.sin(a);
  }
  for (let k = 0; k <= M; k++) {
    const a = (2 * Math.PI * k) / N;
    t[2 * M + 2 * k] = Math.cos(a);
    t[2 * M + 2 * k + 1] = -Math.sin(a);
  }
  return t;
}

/** numpy-style reflect index for a signal whose last index is w (transformers.js calculateReflectOffset). */
export function reflectIndex(i: number, w: number): number {
  return Math.abs(((i + w) % (2 * w)) - w);
}
