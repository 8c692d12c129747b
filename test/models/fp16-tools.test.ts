/**
 * Models converted to float16 the way onnxconverter-common's `convert_float_to_float16` does
 * (models/fp16-tools/convert.py re-implements it): with and without keep_io_types, Resize kept in
 * float32 behind Casts, Cast nodes appended out of topological order. Each runs in tessera and
 * agrees with onnxruntime-web on the same converted model, and with the float32 original within
 * float16 tolerance.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { floatToHalf, halfToFloat } from '../../src/onnx/float-formats.js';
import { ortRun, ortSession } from '../helpers/ort.js';

const load = (path: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../models/${path}`, import.meta.url)));

/** Uniform [0, 1) from a 32-bit LCG, scaled: the same input every run. */
function uniform(n: number, seed: number, scale = 1): Float32Array {
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; data[i] = (s / 2 ** 32) * scale; }
  return data;
}

type Feeds = (half: boolean) => Record<string, Tensor>;

/** A float image input; rounded to float16 values so fp32 and fp16 models see the same numbers. */
function image(name: string, dims: number[], seed: number): Feeds {
  const v = uniform(dims.reduce((a, b) => a * b, 1), seed).map((x) => halfToFloat(floatToHalf(x)));
  return (half) => ({ [name]: half ? new Tensor('float16', Uint16Array.from(v, floatToHalf), dims) : new Tensor('float32', v, dims) });
}

function bertFeeds(batch: number, seq: number): Feeds {
  const ids = BigInt64Array.from(uniform(batch * seq, 11, 1000), (x) => BigInt(Math.floor(x)));
  const mask = BigInt64Array.from({ length: batch * seq }, (_, i) => (i % seq < seq - 1 || batch === 1 ? 1n : 0n));
  const types = BigInt64Array.from({ length: batch * seq }, (_, i) => (i % seq >= seq / 2 ? 1n : 0n));
  return () => ({
    input_ids: new Tensor('int64', ids, [batch, seq]),
    attention_mask: new Tensor('int64', mask, [batch, seq]),
    token_type_ids: new Tensor('int64', types, [batch, seq]),
  });
}

/** models/fp16-tools/mixed.onnx: x [n, 8], TopK's k, the Loop's trip count. */
function mixedFeeds(n: number, k: number, steps: number, seed: number): Feeds {
  const x = image('x', [n, 8], seed);
  return (half) => ({ ...x(half), k: new Tensor('int64', BigInt64Array.of(BigInt(k)), [1]), steps: new Tensor('int64', BigInt64Array.of(BigInt(steps)), []) });
}

interface Case { stem: string; source: string; feeds: Feeds[]; tol: number; variants: string[] }
// tol: worst |a − b| / max(1, |b|) allowed, against the float32 original and against onnxruntime-web
// on the float16 model. Both engines round to float16 at op boundaries but not at the same ones
// (onnxruntime fuses Conv+BatchNormalization, Clip, …), so each is float16 noise away from the other.
const cases: Case[] = [
  { stem: 'mnist-cnn', source: 'mnist/mnist-cnn.onnx', feeds: [image('input', [1, 1, 28, 28], 3), image('input', [4, 1, 28, 28], 4)], tol: 2e-2, variants: ['', '-keepio'] },
  { stem: 'bert-tiny', source: 'bert/tiny-random.onnx', feeds: [bertFeeds(1, 8), bertFeeds(2, 5)], tol: 2e-2, variants: ['', '-keepio', '-ort-keepio'] },
  { stem: 'resize-op11', source: 'zoo/resize-op11.onnx', feeds: [image('x', [1, 3, 10, 12], 7), image('x', [2, 3, 7, 5], 8)], tol: 1e-2, variants: ['', '-keepio', '-ort-keepio', '-resize16'] },
  { stem: 'det-op11', source: 'zoo/det-op11.onnx', feeds: [image('x', [1, 3, 64, 96], 7), image('x', [2, 3, 40, 56], 8)], tol: 1e-1, variants: ['', '-keepio', '-ort-keepio', '-resize16'] },
  { stem: 'rec-gru-op13', source: 'zoo/rec-gru-op13.onnx', feeds: [image('x', [1, 3, 32, 100], 7), image('x', [2, 3, 32, 70], 8)], tol: 5e-2, variants: ['', '-keepio'] },
  { stem: 'mixed', source: 'fp16-tools/mixed.onnx', feeds: [mixedFeeds(1, 3, 2, 21), mixedFeeds(3, 5, 0, 22), mixedFeeds(2, 8, 4, 23)], tol: 2e-2, variants: ['', '-keepio', '-ort-keepio'] },
  { stem: 'mobile-det', source: 'mobile-det/mobile-det.onnx', feeds: [image('image', [1, 3, 64, 96], 7)], tol: 5e-2, variants: ['', '-keepio'] },
];

const asFloats = (t: { type: string; data: unknown }): Float64Array =>
  t.type === 'float16' ? Float64Array.from(t.data as Uint16Array, halfToFloat)
    : t.type === 'int64' ? Float64Array.from(t.data as BigInt64Array, Number) : Float64Array.from(t.data as Float32Array);

/** Largest |a − b| / max(1, |b|) over every output of `want`; dims must match. */
function worst(got: Record<string, Tensor>, want: Record<string, { type: string; data: unknown; dims: readonly number[] }>): number {
  let w = 0;
  for (const [name, t] of Object.entries(want)) {
    const o = got[name];
    expect(o, name).toBeDefined();
    expect([...o!.dims], name).toEqual([...t.dims]);
    const a = asFloats(o!), b = asFloats(t);
    for (let i = 0; i < b.length; i++) {
      const e = Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!));
      if (!(e <= w)) w = Number.isNaN(e) ? Infinity : e;
    }
  }
  return w;
}

// Variants (models/fp16-tools/README.md): '' the classic tool, '-keepio' with keep_io_types,
// '-ort-keepio' onnxruntime's fork (float32 initializers kept for blocked Resizes), '-resize16'
// Resize unblocked (float16 X and roi, float32 scales).
describe.each(cases)('$stem', ({ stem, source, feeds, tol, variants }) => {
  const sessions: InferenceSession[] = [];
  afterAll(async () => { for (const s of sessions) await s.release(); });

  it.each(variants)('fp16%s: matches onnxruntime-web and the float32 model', async (variant) => {
    const bytes = load(`fp16-tools/${stem}-fp16${variant}.onnx`);
    const keep = variant.includes('keepio');
    const ours = await InferenceSession.create(bytes);
    const fp32 = await InferenceSession.create(load(source));
    sessions.push(ours, fp32);
    const theirs = await ortSession(bytes);
    for (const f of feeds) {
      const halfIo = !keep && stem !== 'bert-tiny';
      const got = await ours.run(f(halfIo));
      for (const t of Object.values(got)) if (t.type !== 'int64') expect(t.type).toBe(keep ? 'float32' : 'float16');
      const oracle = await ortRun(theirs, f(halfIo));
      expect(worst(got, oracle)).toBeLessThan(tol);
      expect(worst(got, await fp32.run(f(false)))).toBeLessThan(tol);
    }
    await theirs.release();
  });
});
