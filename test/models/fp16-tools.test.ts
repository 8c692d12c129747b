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
import { DT, int64Tensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
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

// With op_block_list=[] the converter leaves nothing in float32: the ops it blocks by default then
// see float16 inputs. Each graph below runs in float32 and in float16 on the same (float16-exact)
// values; the results must agree to float16 rounding.
const r16 = (v: number) => halfToFloat(floatToHalf(v));
const ftensor = (elem: number, name: string, dims: number[], v: number[]) => elem === DT.FLOAT
  ? { name, dims, dataType: DT.FLOAT, rawData: new Uint8Array(Float32Array.from(v.map(r16)).buffer) }
  : { name, dims, dataType: DT.FLOAT16, rawData: new Uint8Array(Uint16Array.from(v, floatToHalf).buffer) };
type Spec = { name: string; build: (e: number) => Uint8Array; feeds: Record<string, [number[], number[]]> };
const vals = (n: number, s: number) => Array.from({ length: n }, (_, i) => r16(Math.sin(i * 1.3 + s) * 3));
const unblocked: Spec[] = [
  { name: 'CumSum', build: (e) => model({ nodes: [node('CumSum', ['x', 'ax'], ['y'])], inputs: [valueInfo('x', e, [2, 5])], outputs: [valueInfo('y', e)], initializers: [int64Tensor('ax', [], [1])] }), feeds: { x: [[2, 5], vals(10, 1)] } },
  { name: 'Max', build: (e) => model({ nodes: [node('Max', ['x', 'c'], ['y'])], inputs: [valueInfo('x', e, [2, 5])], outputs: [valueInfo('y', e)], initializers: [ftensor(e, 'c', [5], vals(5, 2)) as never] }), feeds: { x: [[2, 5], vals(10, 1)] } },
  { name: 'Min', build: (e) => model({ nodes: [node('Min', ['x', 'c'], ['y'])], inputs: [valueInfo('x', e, [2, 5])], outputs: [valueInfo('y', e)], initializers: [ftensor(e, 'c', [5], vals(5, 2)) as never] }), feeds: { x: [[2, 5], vals(10, 1)] } },
  { name: 'TopK', build: (e) => model({ nodes: [node('TopK', ['x', 'k'], ['y', 'i'])], inputs: [valueInfo('x', e, [2, 5])], outputs: [valueInfo('y', e), valueInfo('i', DT.INT64)], initializers: [int64Tensor('k', [1], [3])] }), feeds: { x: [[2, 5], vals(10, 1)] } },
  { name: 'RoiAlign', build: (e) => model({ nodes: [node('RoiAlign', ['x', 'rois', 'bi'], ['y'], { output_height: 2, output_width: 3, sampling_ratio: 2, spatial_scale: 0.5 })], inputs: [valueInfo('x', e, [1, 2, 6, 6])], outputs: [valueInfo('y', e)], initializers: [ftensor(e, 'rois', [2, 4], [0, 0, 8, 8, 2, 1, 9, 10]) as never, int64Tensor('bi', [2], [0, 0])], opset: 16 }), feeds: { x: [[1, 2, 6, 6], vals(72, 3)] } },
  { name: 'Resize (tf_crop_and_resize, float16 roi)', build: (e) => model({ nodes: [node('Resize', ['x', 'roi', 'sc'], ['y'], { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: 0.5 })], inputs: [valueInfo('x', e, [1, 1, 4, 4])], outputs: [valueInfo('y', e)], initializers: [ftensor(e, 'roi', [8], [0, 0, 0.25, 0.125, 1, 1, 0.75, 1.25]) as never, ftensor(DT.FLOAT, 'sc', [4], [1, 1, 2, 1.5]) as never], opset: 13 }), feeds: { x: [[1, 1, 4, 4], vals(16, 4)] } },
  { name: 'Resize (nearest tf_crop_and_resize, float16 roi)', build: (e) => model({ nodes: [node('Resize', ['x', 'roi', 'sc'], ['y'], { mode: 'nearest', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: 0.5 })], inputs: [valueInfo('x', e, [1, 1, 4, 4])], outputs: [valueInfo('y', e)], initializers: [ftensor(e, 'roi', [8], [0, 0, 0.25, 0.125, 1, 1, 0.75, 1.25]) as never, ftensor(DT.FLOAT, 'sc', [4], [1, 1, 2, 1.5]) as never], opset: 13 }), feeds: { x: [[1, 1, 4, 4], vals(16, 4)] } },
  { name: 'Range (float16 is outside the spec; accepted)', build: (e) => model({ nodes: [node('Range', ['a', 'b', 'c'], ['y'], {}, 'rng')], inputs: [valueInfo('a', e, [])], outputs: [valueInfo('y', e)], initializers: [ftensor(e, 'b', [], [3.3]) as never, ftensor(e, 'c', [], [0.7]) as never] }), feeds: { a: [[], [0.25]] } },
  { name: 'NonMaxSuppression', build: (e) => model({ nodes: [node('NonMaxSuppression', ['b', 's', 'm', 'iou', 'st'], ['y'], {}, 'nms')], inputs: [valueInfo('b', e, [1, 3, 4]), valueInfo('s', e, [1, 1, 3])], outputs: [valueInfo('y', DT.INT64)], initializers: [int64Tensor('m', [1], [2]), ftensor(e, 'iou', [1], [0.5]) as never, ftensor(e, 'st', [1], [0.1]) as never] }), feeds: { b: [[1, 3, 4], [0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 2, 1, 3]], s: [[1, 1, 3], [0.9, 0.75, 0.6]] } },
];

describe('blocked-by-default ops run in float16 (op_block_list=[]), and others that read float16 values', () => {
  it.each(unblocked)('$name', async ({ build, feeds }) => {
    const results = [];
    for (const e of [DT.FLOAT, DT.FLOAT16]) {
      const s = await InferenceSession.create(build(e));
      const f: Record<string, Tensor> = {};
      for (const [k, [d, v]] of Object.entries(feeds)) f[k] = e === DT.FLOAT ? new Tensor('float32', Float32Array.from(v), d) : new Tensor('float16', Uint16Array.from(v, floatToHalf), d);
      results.push(await s.run(f));
      await s.release();
    }
    const [wide, narrow] = results as [Record<string, Tensor>, Record<string, Tensor>];
    for (const [k, t] of Object.entries(wide)) {
      expect(narrow[k]!.dims, k).toEqual(t.dims);
      expect(narrow[k]!.type, k).toBe(t.type === 'float32' ? 'float16' : t.type);
      const a = asFloats(narrow[k]!), b = asFloats(t);
      b.forEach((v, i) => expect(Math.abs(a[i]! - v), `${k}[${i}]`).toBeLessThanOrEqual(t.type === 'int64' ? 0 : 4e-3 * Math.max(1, Math.abs(v))));
    }
  });

  it('Unique sorts float16 values as numbers (negatives first, -0 equal to 0)', async () => {
    const x = [1.5, -0, -2.25, 0, 1.5, -3, 2];
    const s = await InferenceSession.create(model({
      nodes: [node('Unique', ['x'], ['y', 'idx', 'inv', 'cnt'], { sorted: 1 })],
      inputs: [valueInfo('x', DT.FLOAT16, [7])],
      outputs: [valueInfo('y', DT.FLOAT16), valueInfo('idx', DT.INT64), valueInfo('inv', DT.INT64), valueInfo('cnt', DT.INT64)],
    }));
    const r = await s.run({ x: new Tensor('float16', Uint16Array.from(x, floatToHalf), [7]) });
    expect(r.y!.type).toBe('float16');
    expect(Array.from(r.y!.data as Uint16Array, halfToFloat).map((v) => v + 0)).toEqual([-3, -2.25, 0, 1.5, 2]);
    expect(Array.from(r.cnt!.data as BigInt64Array, Number)).toEqual([1, 1, 2, 2, 1]);
    await s.release();
  });

  it('Resize with float16 scales (outside the spec) is refused with the cause and the fix', async () => {
    const bytes = model({
      nodes: [node('Resize', ['x', '', 'sc'], ['y'], { mode: 'nearest' }, 'up')],
      inputs: [valueInfo('x', DT.FLOAT16, [1, 1, 4, 4])], outputs: [valueInfo('y', DT.FLOAT16)],
      initializers: [ftensor(DT.FLOAT16, 'sc', [4], [1, 1, 2, 1.5]) as never], opset: 13,
    });
    const s = await InferenceSession.create(bytes);
    const x = new Tensor('float16', new Uint16Array(16), [1, 1, 4, 4]);
    await expect(s.run({ x })).rejects.toThrow(/Resize node 'up': scales \(input 2, 'sc'\) is float16, but ONNX allows only float32 there.*op_block_list/);
    await s.release();
  });
});
