// WhisperFeatureExtractor against transformers.js v4's (the same config object, the same audio):
// speech-like and synthetic signals, clips shorter and longer than the 30 s window, 80 and 128
// mels, filters given in the config; then the refusals (empty, NaN, wrong rate, bad config).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WhisperFeatureExtractor as ReferenceExtractor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudio, TesseraError, WhisperFeatureExtractor } from '../../src/index.js';
import { rng } from '../unit/harness';

const CONFIG = { feature_size: 80, sampling_rate: 16000, hop_length: 160, n_fft: 400, chunk_length: 30, n_samples: 480000, nb_max_frames: 3000, padding_value: 0 };
const RATE = 16000;
// `espeak-ng -s 170 -w speech-espeak-22k.wav "Tessera listens on the device."` (82 KB).
const FIXTURE = join(__dirname, '..', 'fixtures', 'audio', 'speech-espeak-22k.wav');

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function reference(config: object, audio: Float32Array | Float64Array): Promise<{ data: Float32Array; dims: number[] }> {
  const fe = new ReferenceExtractor(structuredClone(config));
  const { input_features } = await fe(audio);
  return { data: input_features.data as Float32Array, dims: input_features.dims as number[] };
}

/** A chirp with vibrato and pauses over a noise floor: harmonics and silence, like speech. */
function speechLike(seconds: number, seed: number): Float32Array {
  const r = rng(seed);
  const n = Math.round(seconds * RATE);
  const a = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const f0 = 120 + 40 * Math.sin(2 * Math.PI * 3 * t) + 30 * t;
    phase += (2 * Math.PI * f0) / RATE;
    const voiced = Math.sin(2 * Math.PI * 1.3 * t) > -0.3 ? 1 : 0;
    let s = 0;
    for (let h = 1; h <= 12; h++) s += Math.sin(h * phase) / h;
    a[i] = 0.3 * voiced * s + 0.003 * (r() - 0.5);
  }
  return a;
}

function noise(n: number, seed: number, amp = 0.5): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => amp * (2 * r() - 1));
}

function sweep(n: number, f0: number, f1: number): Float32Array {
  const a = new Float32Array(n);
  const T = n / RATE;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    a[i] = 0.8 * Math.sin(2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * T)));
  }
  return a;
}

describe('WhisperFeatureExtractor equals transformers.js', () => {
  let fe: WhisperFeatureExtractor;
  beforeAll(async () => { fe = await WhisperFeatureExtractor.create(CONFIG); });
  afterAll(() => fe.release());

  const cases: [string, () => Float32Array | Float64Array][] = [
    ['espeak-ng speech (test/fixtures/audio, 22.05 kHz → 16 kHz through readAudio)', () => readAudio(readFileSync(FIXTURE))],
    ['speech-like 4 s', () => speechLike(4, 1)],
    ['sine sweep 50 Hz → 7.9 kHz, 30 s exactly', () => sweep(480000, 50, 7900)],
    ['speech-like, silence, white noise, then a 0.1 s click', () => {
      const a = new Float32Array(6 * RATE);
      a.set(speechLike(2, 2));
      a.set(noise(RATE, 3), 3 * RATE);
      a.set(noise(1600, 4, 0.9), 5 * RATE);
      return a;
    }],
    ['a 0.1 s clip (fewer samples than n_fft × 4)', () => noise(1600, 3, 0.9)],
    ['37 s (cut to 30 s)', () => { const a = speechLike(37, 4); a.set(noise(16000, 5), 30 * RATE); return a; }],
    ['Float64Array input', () => Float64Array.from(speechLike(2, 6))],
    ['loud and very quiet halves (dynamic-range floor)', () => { const a = sweep(48000, 300, 3000); for (let i = 24000; i < 48000; i++) a[i]! *= 1e-5; return a; }],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const audio = make();
      const want = await reference(CONFIG, audio);
      const got = fe.extract(audio).input_features;
      expect(got.dims).toEqual(want.dims);
      expect(got.type).toBe('float32');
      expect(maxAbsDiff(got.data as Float32Array, want.data)).toBeLessThan(1e-4);
    });
  }

  it('silence: log10(1e-10) everywhere, so (−10 + 4) / 4 = −1.5, as transformers.js gives', () => {
    const got = fe.extract(new Float32Array(32000)).input_features.data as Float32Array;
    expect(got.every((v) => v === -1.5)).toBe(true);
  });

  it('128 mels (large-v3)', async () => {
    const config = { ...CONFIG, feature_size: 128 };
    const fe128 = await WhisperFeatureExtractor.create(config);
    try {
      const audio = speechLike(3, 7);
      const want = await reference(config, audio);
      const got = fe128.extract(audio).input_features;
      expect(got.dims).toEqual([1, 128, 3000]);
      expect(maxAbsDiff(got.data as Float32Array, want.data)).toBeLessThan(1e-4);
    } finally {
      fe128.release();
    }
  });

  it('mel_filters from the config, as [mels][bins] (transformers.js) or [bins][mels] (Python ≥ 4.27)', async () => {
    // Any filters will do: triangles of a different shape than the computed ones prove they are used.
    const mel: number[][] = Array.from({ length: 80 }, (_, i) => Array.from({ length: 201 }, (_, j) => Math.max(0, 1 - Math.abs(j - 2.5 * i) / 3) * 0.01));
    const config = { ...CONFIG, mel_filters: mel };
    const audio = speechLike(2, 8);
    const want = await reference(config, audio);
    for (const filters of [mel, mel[0]!.map((_, j) => mel.map((row) => row[j]!))]) {
      const f = await WhisperFeatureExtractor.create({ ...CONFIG, mel_filters: filters });
      try {
        expect(maxAbsDiff(f.extract(audio).input_features.data as Float32Array, want.data)).toBeLessThan(1e-4);
      } finally {
        f.release();
      }
    }
    expect(maxAbsDiff(fe.extract(audio).input_features.data as Float32Array, want.data)).toBeGreaterThan(0.1);
  });

  it('max_length pads or cuts to fewer frames', async () => {
    const audio = speechLike(3, 9);
    const ref = new ReferenceExtractor(structuredClone(CONFIG));
    for (const max_length of [16000, 40000]) {
      const want = (await ref(audio, { max_length })).input_features;
      const got = fe.extract(audio, { max_length }).input_features;
      expect(got.dims).toEqual(want.dims);
      expect(maxAbsDiff(got.data as Float32Array, want.data as Float32Array)).toBeLessThan(1e-4);
    }
  });

  it('the same call twice gives the same bits (no state leaks across calls)', () => {
    const a = fe.extract(noise(8000, 10)).input_features.data as Float32Array;
    fe.extract(sweep(480000, 100, 5000));
    const b = fe.extract(noise(8000, 10)).input_features.data as Float32Array;
    expect(maxAbsDiff(a, b)).toBe(0);
  });
});

describe('WhisperFeatureExtractor refuses bad audio and configs', () => {
  let fe: WhisperFeatureExtractor;
  beforeAll(async () => { fe = await WhisperFeatureExtractor.create(CONFIG); });
  afterAll(() => fe.release());

  function refuses(f: () => unknown, pattern: RegExp, code = 'INVALID_ARGUMENT'): void {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(TesseraError);
      expect((e as TesseraError).code).toBe(code);
      expect((e as Error).message).toMatch(pattern);
      return;
    }
    throw new Error('expected a TesseraError');
  }

  it('empty, non-finite, not a typed array', () => {
    refuses(() => fe.extract(new Float32Array(0)), /empty/);
    const nan = new Float32Array(1000); nan[617] = NaN;
    refuses(() => fe.extract(nan), /sample 617 is NaN/);
    const inf = new Float64Array(1000); inf[3] = -Infinity;
    refuses(() => fe.extract(inf), /sample 3 is -Infinity/);
    refuses(() => fe.extract([0.1, 0.2] as unknown as Float32Array), /Float32Array or Float64Array.*Array/);
  });

  it('NaN past the 30 s window is never read (a 2-hour array is cut, in bounded memory)', () => {
    // 2 hours at 16 kHz would be 460 MB; a view of 115 M samples over a small buffer is not
    // possible, so this proves the rule on 31 s: samples past n_samples are not looked at.
    const a = noise(31 * RATE, 11);
    a[480000 + 5] = NaN;
    const got = fe.extract(a).input_features;
    expect(got.dims).toEqual([1, 80, 3000]);
    expect(maxAbsDiff(got.data as Float32Array, fe.extract(a.subarray(0, 480000)).input_features.data as Float32Array)).toBe(0);
  });

  it('a 2-hour Float32Array is cut to 30 s without reading past it', () => {
    // A typed array that reports 2 hours (115.2 M samples) but holds 30 s: any read past 30 s
    // would see undefined, which the finiteness check refuses, so passing proves it is never read.
    class TwoHours extends Float32Array { override get length(): number { return 2 * 3600 * RATE; } }
    const audio = new TwoHours(480000);
    audio.set(noise(480000, 12));
    const got = fe.extract(audio).input_features.data as Float32Array;
    expect(maxAbsDiff(got, fe.extract(Float32Array.from(audio.subarray(0, 480000))).input_features.data as Float32Array)).toBe(0);
  });

  it('a declared sample rate other than 16000', () => {
    refuses(() => fe.extract(new Float32Array(100), { sampling_rate: 44100 }), /44100 is not the model's 16000/);
    refuses(() => fe.extract(new Float32Array(100), { sampling_rate: 16000.5 }), /not a positive integer/);
    refuses(() => fe.extract(new Float32Array(100), { sampling_rate: -16000 }), /not a positive integer/);
    expect(fe.extract(new Float32Array(100), { sampling_rate: 16000 }).input_features.dims).toEqual([1, 80, 3000]);
  });

  it('max_length out of range', () => {
    refuses(() => fe.extract(new Float32Array(100), { max_length: 480001 }), /max_length/);
    refuses(() => fe.extract(new Float32Array(100), { max_length: 100 }), /shorter than one hop/);
  });

  it('bad configs', async () => {
    const bad = async (config: Record<string, unknown>, pattern: RegExp) => {
      await expect(WhisperFeatureExtractor.create(config)).rejects.toThrow(pattern);
      await expect(WhisperFeatureExtractor.create(config)).rejects.toBeInstanceOf(TesseraError);
    };
    await bad({ ...CONFIG, feature_size: 0 }, /feature_size must be a positive integer/);
    await bad({ ...CONFIG, n_fft: 401 }, /n_fft must be even/);
    await bad({ ...CONFIG, n_fft: 1 << 20 }, /n_fft must be even, from 4 to 65536/);
    await bad({ ...CONFIG, feature_size: 5000 }, /feature_size 5000/);
    await bad({ ...CONFIG, n_samples: 300, n_fft: 400 }, /longer than the window/);
    await bad({ ...CONFIG, hop_length: 'x' }, /hop_length/);
    await bad({ ...CONFIG, padding_value: 1 }, /padding_value/);
    await bad({ ...CONFIG, sampling_rate: 8000 }, /below 16000/);
    await bad({ ...CONFIG, mel_filters: [[1, 2]] }, /mel_filters must be 80 rows of 201/);
  });

  it('release', async () => {
    const f = await WhisperFeatureExtractor.create(CONFIG);
    f.release();
    refuses(() => f.extract(new Float32Array(10)), /after release/, 'RELEASED');
  });
});
