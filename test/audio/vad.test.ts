/**
 * VoiceActivityDetector on the Silero-VAD-v5 look-alike (models/vad): the model runs as on
 * onnxruntime-web, speech is found where the espeak-ng sentences are in the committed clips and
 * nowhere in silence or noise, and the segments do not depend on how the stream is chunked.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tensor, TesseraError, VoiceActivityDetector, type SpeechSegment } from '../../src/index.js';
import { ortRun, ortSession } from '../helpers/ort.js';
import { readWav } from '../../src/audio/wav.js';

const dir = new URL('../../models/vad/', import.meta.url);
const modelBytes = new Uint8Array(readFileSync(new URL('silero-lookalike.onnx', dir)));
const truth = JSON.parse(readFileSync(new URL('speech.json', dir), 'utf8')) as Record<string, { sampleRate: number; speech: [number, number][] }>;
const clip = (name: string): Float32Array => readWav(readFileSync(new URL(name, dir))).samples;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
function whiteNoise(n: number, rms: number, seed: number): Float32Array {
  const r = lcg(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() + r() + r() - 1.5) * 2 * rms; // ~Gaussian, variance 3·(1/12)·4 = 1
  return out;
}
function pinkNoise(n: number, rms: number, seed: number): Float32Array {
  const w = whiteNoise(n, 1, seed);
  const out = new Float32Array(n);
  let b0 = 0, b1 = 0, b2 = 0, sum = 0; // Paul Kellet's economy pink filter
  for (let i = 0; i < n; i++) {
    b0 = 0.99765 * b0 + w[i]! * 0.099046;
    b1 = 0.963 * b1 + w[i]! * 0.2965164;
    b2 = 0.57 * b2 + w[i]! * 1.0526913;
    out[i] = b0 + b1 + b2 + w[i]! * 0.1848;
    sum += out[i]! * out[i]!;
  }
  const k = rms / Math.sqrt(sum / n);
  for (let i = 0; i < n; i++) out[i]! *= k;
  return out;
}
function chunked(samples: Float32Array, sizes: number[]): Float32Array[] {
  const out: Float32Array[] = [];
  for (let at = 0, i = 0; at < samples.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(samples.slice(at, at + n));
    at += n;
  }
  return out;
}
const spans = (segs: SpeechSegment[]): [number, number][] => segs.map((s) => [s.startSample, s.endSample]);

describe('VoiceActivityDetector', () => {
  let vad16: VoiceActivityDetector;
  let vad8: VoiceActivityDetector;
  const speech16 = clip('speech-16k.wav');
  const speech8 = clip('speech-8k.wav');
  beforeAll(async () => {
    // 300 ms of silence ends a segment: the sentences' comma pauses (~130 ms) do not
    vad16 = await VoiceActivityDetector.create(modelBytes, { min_silence_duration_ms: 300 });
    vad8 = await VoiceActivityDetector.create(modelBytes, { sampling_rate: 8000, min_silence_duration_ms: 300 });
  });

  it('the look-alike model runs as on onnxruntime-web at both rates, state carried', async () => {
    const ort = await ortSession(modelBytes);
    for (const [vad, samples, sr] of [[vad16, speech16, 16000], [vad8, speech8, 8000]] as const) {
      const probs = await vad.speechProbabilities(samples);
      const win = vad.windowSize;
      const ctx = vad.contextSize;
      let state = new Float32Array(256);
      const input = new Float32Array(ctx + win);
      let maxDiff = 0;
      for (let i = 0; i < probs.length; i++) {
        input.copyWithin(0, win, win + ctx);
        input.fill(0, ctx);
        input.set(samples.subarray(i * win, (i + 1) * win), ctx);
        const out = await ortRun(ort, {
          input: new Tensor('float32', input.slice(), [1, ctx + win]),
          state: new Tensor('float32', state, [2, 1, 128]),
          sr: new Tensor('int64', BigInt64Array.of(BigInt(sr)), []),
        });
        state = new Float32Array(out.stateN!.data as Float32Array);
        maxDiff = Math.max(maxDiff, Math.abs((out.output!.data as Float32Array)[0]! - probs[i]!));
      }
      expect(maxDiff).toBeLessThan(1e-4);
      // the probabilities mean something: high inside the sentences, low in the silences
      const t = truth[sr === 16000 ? 'speech-16k.wav' : 'speech-8k.wav']!;
      const inSpeech = (i: number): boolean => t.speech.some(([a, b]) => i * win >= a && (i + 1) * win <= b);
      const inSilence = (i: number): boolean => t.speech.every(([a, b]) => (i + 1) * win <= a - win * 4 || i * win >= b + win * 4);
      const mean = (f: (i: number) => boolean): number => {
        let s = 0, n = 0;
        probs.forEach((p, i) => { if (f(i)) { s += p; n++; } });
        return s / n;
      };
      expect(mean(inSpeech)).toBeGreaterThan(0.6);
      expect(mean(inSilence)).toBeLessThan(0.1);
    }
  });

  for (const [name, rate] of [['speech-16k.wav', 16000], ['speech-8k.wav', 8000]] as const) {
    it(`finds the two sentences of ${name} (± padding), nothing in the silences`, async () => {
      const vad = rate === 16000 ? vad16 : vad8;
      const samples = rate === 16000 ? speech16 : speech8;
      const segs = await vad.detect(samples);
      const t = truth[name]!;
      expect(segs).toHaveLength(2);
      const slack = 0.25 * rate; // a window, the padding, the model's own onset and release
      segs.forEach((s, i) => {
        const [a, b] = t.speech[i]!;
        expect(Math.abs(s.startSample - a)).toBeLessThan(slack);
        expect(Math.abs(s.endSample - b)).toBeLessThan(slack);
        expect(s.start).toBeCloseTo(s.startSample / rate, 9);
        expect(s.audio).toEqual(samples.slice(s.startSample, s.endSample));
      });
    });
  }

  it('finds no speech in silence, white noise, pink noise or mains hum', async () => {
    const n = 16000 * 4;
    const hum = new Float32Array(n).map((_, i) => 0.05 * Math.sin((2 * Math.PI * 50 * i) / 16000) + 0.02 * Math.sin((2 * Math.PI * 150 * i) / 16000));
    for (const signal of [new Float32Array(n), whiteNoise(n, 1e-3, 1), whiteNoise(n, 0.03, 2), pinkNoise(n, 0.03, 3), hum]) {
      expect(spans(await vad16.detect(signal))).toEqual([]);
    }
  });

  it('gives the same segments at any chunk sizes, from a live async stream', async () => {
    const want = spans(await vad16.detect(speech16));
    async function* live(chunks: Float32Array[]): AsyncGenerator<Float32Array> {
      for (const c of chunks) {
        await Promise.resolve();
        yield c;
      }
    }
    for (const sizes of [[1000], [128], [511, 1, 4099], [16000 * 3]]) {
      const got: SpeechSegment[] = [];
      for await (const s of vad16.segments(live(chunked(speech16, sizes)))) got.push(s);
      expect(spans(got)).toEqual(want);
      got.forEach((s) => expect(s.audio).toEqual(speech16.slice(s.startSample, s.endSample)));
    }
    // a ReadableStream too (what a browser's audio pipeline hands over)
    const parts = chunked(speech16, [2048]);
    const stream = new ReadableStream<Float32Array>({ pull(c) { const p = parts.shift(); if (p) c.enqueue(p); else c.close(); } });
    const got: SpeechSegment[] = [];
    for await (const s of vad16.segments(stream)) got.push(s);
    expect(spans(got)).toEqual(want);
  });

  it('yields each segment while the stream is still going', async () => {
    const t = truth['speech-16k.wav']!;
    const chunks = chunked(speech16, [1600]);
    let given = 0;
    async function* live(): AsyncGenerator<Float32Array> {
      for (const c of chunks) { given += c.length; yield c; }
    }
    const seenAt: number[] = [];
    for await (const _ of vad16.segments(live())) seenAt.push(given);
    expect(seenAt).toHaveLength(2);
    // the first sentence comes out well before the clip ends: after its silence, not at the end
    expect(seenAt[0]!).toBeLessThan(t.speech[1]![0]);
  });

  it('starts each stream afresh (state, context, sample count)', async () => {
    const a = await vad16.speechProbabilities(speech16.subarray(0, 16000));
    await vad16.detect(whiteNoise(20000, 0.1, 9));
    const b = await vad16.speechProbabilities(speech16.subarray(0, 16000));
    expect(b).toEqual(a);
    expect(spans(await vad16.detect(speech16))).toEqual(spans(await vad16.detect(speech16)));
  });

  it('applies the options: minimum silence, padding, minimum speech, threshold', async () => {
    const base = spans(await vad16.detect(speech16));
    // Silero's default 100 ms of silence also splits the first sentence at its two commas
    const eager = await VoiceActivityDetector.create(modelBytes);
    const split = spans(await eager.detect(speech16));
    expect(split).toHaveLength(4);
    expect(split[0]![0]).toBe(base[0]![0]);
    expect(split[2]![1]).toBe(base[0]![1]);
    expect(split[3]).toEqual(base[1]);
    const padded = await VoiceActivityDetector.create(modelBytes, { speech_pad_ms: 100, min_silence_duration_ms: 300 });
    const p = spans(await padded.detect(speech16));
    expect(p.map(([a, b], i) => [base[i]![0] - a, b - base[i]![1]])).toEqual([[1120, 1120], [1120, 1120]]);
    const long = await VoiceActivityDetector.create(modelBytes, { min_speech_duration_ms: 4_000 }); // both sentences are shorter
    expect(await long.detect(speech16)).toEqual([]);
    const deaf = await VoiceActivityDetector.create(modelBytes, { threshold: 1 });
    expect(await deaf.detect(speech16)).toEqual([]);
    await Promise.all([eager.release(), padded.release(), long.release(), deaf.release()]);
  });

  it('refuses bad input with TesseraErrors', async () => {
    const bad = new Float32Array(1000);
    bad[700] = NaN;
    await expect(vad16.detect(bad)).rejects.toThrow(/sample 700 is NaN/);
    await expect(VoiceActivityDetector.create(modelBytes, { sampling_rate: 44100 as 16000 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(VoiceActivityDetector.create(modelBytes, { threshold: -1 })).rejects.toBeInstanceOf(TesseraError);
    const mnist = new Uint8Array(readFileSync(new URL('../../models/mnist/mnist-cnn.onnx', import.meta.url)));
    await expect(VoiceActivityDetector.create(mnist)).rejects.toMatchObject({ code: 'INVALID_MODEL' });
    const it1 = vad16.segments([speech16]);
    await it1.next();
    await expect(vad16.detect(speech16)).rejects.toThrow(/already reading a stream/);
    await it1.return(undefined);
    expect(spans(await vad16.detect(speech16))).toHaveLength(2);
  });
});
