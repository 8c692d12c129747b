/**
 * float16 / bfloat16 graphs run on the float32 kernels: inputs widened, outputs rounded back once.
 * Each result equals the float32 graph's on the same (fp16-representable) values, rounded.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { bfloat16ToFloat, floatToBfloat16, floatToHalf, halfToFloat } from '../../src/onnx/float-formats.js';
import { narrowHalf, widenHalf } from '../../src/ops/widen.js';
import { DT, int64Tensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../helpers/ort.js';

type Narrow = 'float16' | 'bfloat16';
const enc = (t: Narrow) => (t === 'float16' ? floatToHalf : floatToBfloat16);
const dec = (t: Narrow) => (t === 'float16' ? halfToFloat : bfloat16ToFloat);

/** Conv(3×3, bias) → Relu → Flatten → Gemm(transB) → Softmax, in `elem`. */
function net(elem: number, tensor: (name: string, dims: number[], v: number[]) => object): Uint8Array {
  const vals = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 0.5);
  return model({
    nodes: [
      node('Conv', ['x', 'cw', 'cb'], ['c'], { kernel_shape: [3, 3] }),
      node('Relu', ['c'], ['r']),
      node('Flatten', ['r'], ['f']),
      node('Gemm', ['f', 'gw', 'gb'], ['g'], { transB: 1 }),
      node('Softmax', ['g'], ['y'], { axis: 1 }),
    ],
    inputs: [valueInfo('x', elem, ['n', 2, 6, 6])],
    outputs: [valueInfo('y', elem, ['n', 5])],
    initializers: [
      tensor('cw', [4, 2, 3, 3], vals(72, 1)), tensor('cb', [4], vals(4, 2)),
      tensor('gw', [5, 64], vals(320, 3)), tensor('gb', [5], vals(5, 4)),
    ] as never,
  });
}

const round = (t: Narrow, v: number[]) => v.map((x) => dec(t)(enc(t)(x)));
const f32 = (name: string, dims: number[], v: number[]) => ({ name, dims, dataType: DT.FLOAT, rawData: new Uint8Array(Float32Array.from(v).buffer) });
const narrowTensor = (t: Narrow) => (name: string, dims: number[], v: number[]) => ({
  name, dims, dataType: t === 'float16' ? DT.FLOAT16 : DT.BFLOAT16, rawData: new Uint8Array(Uint16Array.from(v, enc(t)).buffer),
});

describe.each(['float16', 'bfloat16'] as const)('%s graph', (t) => {
  it('Conv, Relu, Gemm and Softmax match the float32 graph on the same values', async () => {
    const wide = await InferenceSession.create(net(DT.FLOAT, (n, d, v) => f32(n, d, round(t, v))));
    const narrow = await InferenceSession.create(net(t === 'float16' ? DT.FLOAT16 : DT.BFLOAT16, narrowTensor(t)));
    for (const n of [1, 3]) {
      const x = round(t, Array.from({ length: n * 72 }, (_, i) => Math.cos(i * 0.37)));
      const want = (await wide.run({ x: new Tensor('float32', Float32Array.from(x), [n, 2, 6, 6]) })).y!.data as Float32Array;
      const got = (await narrow.run({ x: new Tensor(t, Uint16Array.from(x, enc(t)), [n, 2, 6, 6]) })).y!;
      expect(got.type).toBe(t);
      expect(got.dims).toEqual([n, 5]);
      // Each op rounds its output once; four ops of rounding at most.
      const tol = t === 'float16' ? 4e-3 : 3e-2;
      Array.from(got.data as Uint16Array, dec(t)).forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(tol));
    }
    await wide.release();
    await narrow.release();
  });
});

describe('narrowHalf', () => {
  it('agrees with floatToHalf on every half, the midpoints between halves and specials', () => {
    const halves = new Float32Array(65536);
    widenHalf(Uint16Array.from({ length: 65536 }, (_, i) => i), halves);
    const bits = new Uint32Array(halves.buffer);
    // Each half's float32 bits, and those ± 1 ulp and ± half a half-ulp (ties and near-ties).
    const probe = new Uint32Array(65536 * 5);
    for (let i = 0; i < 65536; i++) for (const [j, d] of [0, 1, -1, 0x1000, -0x1000].entries()) probe[i * 5 + j] = (bits[i]! + d) >>> 0;
    const src = new Float32Array(probe.buffer);
    const got = new Uint16Array(src.length);
    narrowHalf(src, got);
    const want = Uint16Array.from(src, floatToHalf);
    let bad = 0;
    for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) bad++;
    expect(bad).toBe(0);
  });
});

describe('widenHalf', () => {
  it('agrees with halfToFloat on every half', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const out = new Float32Array(65536);
    widenHalf(all, out);
    for (let h = 0; h < 65536; h++) {
      const want = halfToFloat(h);
      if (Number.isNaN(want)) expect(out[h]).toBeNaN();
      else expect(Object.is(out[h], want) || out[h] === want).toBe(true);
    }
  });
});

describe('constant float16 inputs an op reads at plan time', () => {
  it('stay readable for every later shape (Clip min/max, MatMul weight)', async () => {
    const h = (name: string, dims: number[], v: number[]) => ({ name, dims, dataType: DT.FLOAT16, rawData: new Uint8Array(Uint16Array.from(v, floatToHalf).buffer) });
    const s = await InferenceSession.create(model({
      nodes: [node('MatMul', ['x', 'w'], ['m']), node('Clip', ['m', 'lo', 'hi'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT16, ['n', 2])], outputs: [valueInfo('y', DT.FLOAT16, ['n', 2])],
      initializers: [h('w', [2, 2], [1, 2, 3, 4]), h('lo', [], [-5]), h('hi', [], [5])],
    }));
    for (const n of [1, 3, 2]) {
      const x = new Tensor('float16', Uint16Array.from({ length: 2 * n }, (_, i) => floatToHalf(i % 2 ? 1 : -1)), [n, 2]);
      const y = Array.from((await s.run({ x })).y!.data as Uint16Array, halfToFloat);
      expect(y).toEqual(Array.from({ length: n }, () => [2, 2]).flat()); // [-1, 1]·w = [2, 2], inside the clip
    }
    await s.release();
  });
});

describe('float16 weights in memory', () => {
  const h = (name: string, dims: number[], v: number[]) => ({ name, dims, dataType: DT.FLOAT16, rawData: new Uint8Array(Uint16Array.from(v, floatToHalf).buffer) });
  const K = 16, w = Array.from({ length: K * K }, (_, i) => ((i * 37) % 17) / 8 - 1);
  const expected = (x: number[], rows: number) => Array.from({ length: rows * K }, (_, i) => {
    const r = Math.floor(i / K), c = i % K;
    let s = 0;
    for (let k = 0; k < K; k++) s += x[r * K + k]! * halfToFloat(floatToHalf(w[k * K + c]!));
    return halfToFloat(floatToHalf(s));
  });

  it('a weight shared by two MatMuls is widened once and stays right for both, across shapes', async () => {
    const s = await InferenceSession.create(model({
      nodes: [node('MatMul', ['x', 'w'], ['a']), node('MatMul', ['a', 'w'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT16, ['n', K])], outputs: [valueInfo('a', DT.FLOAT16, ['n', K]), valueInfo('y', DT.FLOAT16, ['n', K])],
      initializers: [h('w', [K, K], w)],
    }));
    for (const n of [1, 4, 1]) {
      const x = Array.from({ length: n * K }, (_, i) => ((i % 5) - 2) / 4);
      const out = await s.run({ x: new Tensor('float16', Uint16Array.from(x, floatToHalf), [n, K]) });
      const a = Array.from(out.a!.data as Uint16Array, halfToFloat);
      expect(a).toEqual(expected(x, n));
      const y = Array.from(out.y!.data as Uint16Array, halfToFloat);
      expected(a, n).forEach((v, i) => expect(Math.abs(y[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2e-3 + 1e-3));
    }
    await s.release();
  });

  it('a weight with one MatMul reader is held once, packed, and right across shapes', async () => {
    const s = await InferenceSession.create(model({
      nodes: [node('MatMul', ['x', 'w'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT16, ['n', K])], outputs: [valueInfo('y', DT.FLOAT16, ['n', K])],
      initializers: [h('w', [K, K], w)],
    }));
    for (const n of [2, 5, 2]) {
      const x = Array.from({ length: n * K }, (_, i) => ((i % 3) - 1) / 2);
      const y = Array.from((await s.run({ x: new Tensor('float16', Uint16Array.from(x, floatToHalf), [n, K]) })).y!.data as Uint16Array, halfToFloat);
      expect(y).toEqual(expected(x, n));
    }
    expect((s as unknown as { graph: { consts: Map<string, { released?: boolean }> } }).graph.consts.get('w')?.released).toBe(true);
    await s.release();
  });
});

describe('plan-time values through widened float16 ops', () => {
  // Shape(x)[0] → float16 → Add 2 (widened to float32) → int64 → Range: the Add folds at plan time
  // on a value constant for this plan only. Each shape's plan must see its own value, not the
  // first plan's widened copy (the widened-constant cache is per session, keyed by name).
  const bytes = model({
    nodes: [
      node('Shape', ['x'], ['s']),
      node('Gather', ['s', 'zero'], ['n'], { axis: 0 }),
      node('Cast', ['n'], ['nh'], { to: DT.FLOAT16 }),
      node('Add', ['nh', 'two'], ['lh']),
      node('Cast', ['lh'], ['limit'], { to: DT.INT64 }),
      node('Range', ['start', 'limit', 'step'], ['r']),
      node('Cast', ['r'], ['rh'], { to: DT.FLOAT16 }),
      node('Mul', ['rh', 'half'], ['y']),
      node('Add', ['x', 'x'], ['z']),
    ],
    inputs: [valueInfo('x', DT.FLOAT16, ['n', 4])],
    outputs: [valueInfo('y', DT.FLOAT16, ['m']), valueInfo('z', DT.FLOAT16, ['n', 4])],
    initializers: [
      int64Tensor('zero', [], [0]), int64Tensor('start', [], [0]), int64Tensor('step', [], [1]),
      { name: 'two', dims: [], dataType: DT.FLOAT16, rawData: new Uint8Array(Uint16Array.of(floatToHalf(2)).buffer) },
      { name: 'half', dims: [1], dataType: DT.FLOAT16, rawData: new Uint8Array(Uint16Array.of(floatToHalf(0.5)).buffer) },
    ] as never,
  });

  it('a Range fed by a widened Add follows each input shape in one session, as onnxruntime-web', async () => {
    const s = await InferenceSession.create(bytes);
    const ort = await ortSession(bytes);
    for (const n of [3, 7, 2, 7]) {
      const x = new Tensor('float16', Uint16Array.from({ length: n * 4 }, (_, i) => floatToHalf((i % 7) - 3)), [n, 4]);
      const ours = await s.run({ x });
      const theirs = await ortRun(ort, { x });
      expect(ours.y!.dims).toEqual([n + 2]);
      expect(Array.from(ours.y!.data as Uint16Array)).toEqual(Array.from(theirs.y!.data as Uint16Array));
      expect(Array.from(ours.z!.data as Uint16Array)).toEqual(Array.from(theirs.z!.data as Uint16Array));
    }
    await s.release();
    await ort.release();
  });
});
