/**
 * Each fusion on small hand-built graphs: it fires on the variants exporters write, gives the
 * numbers of the unfused graph, and does not fire when a condition fails (wrong constant, axis,
 * perm, or an intermediate read outside the pattern).
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { DT, floatTensor, int64Tensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { opHistogram, relError } from './helpers.js';
import { ortRun, ortSession } from '../helpers/ort.js';

const scalar = (name: string, v: number) => floatTensor(name, [], [v]);
const rand = (n: number, seed: number, lo = -2, hi = 2) => {
  let s = seed;
  return Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * (hi - lo) + lo);
};

/** Runs fused and unfused; returns the fused op histogram after checking both agree. */
async function check(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, number>> {
  const fused = await InferenceSession.create(bytes);
  const plain = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const a = await fused.run(feeds), b = await plain.run(feeds);
  for (const k of Object.keys(b)) expect(relError(a[k]!.data as Float32Array, b[k]!.data as Float32Array)).toBeLessThan(1e-5);
  return opHistogram(fused, feeds);
}

function layerNormGraph(opts: { axes?: number[]; pow?: number; extraOutput?: boolean } = {}): Uint8Array {
  return model({
    opset: 13,
    inputs: [valueInfo('x', DT.FLOAT, [2, 3, 8])],
    outputs: [valueInfo('y', DT.FLOAT, [2, 3, 8]), ...(opts.extraOutput ? [valueInfo('s', DT.FLOAT)] : [])],
    initializers: [scalar('two', opts.pow ?? 2), scalar('eps', 1e-5), floatTensor('g', [8], rand(8, 1)), floatTensor('b', [8], rand(8, 2))],
    nodes: [
      node('ReduceMean', ['x'], ['m'], { axes: opts.axes ?? [-1] }),
      node('Sub', ['x', 'm'], ['s']),
      node('Pow', ['s', 'two'], ['p']),
      node('ReduceMean', ['p'], ['v'], { axes: opts.axes ?? [-1] }),
      node('Add', ['v', 'eps'], ['ve']),
      node('Sqrt', ['ve'], ['sd']),
      node('Div', ['s', 'sd'], ['n']),
      node('Mul', ['n', 'g'], ['ng']),
      node('Add', ['ng', 'b'], ['y']),
    ],
  });
}

describe('fuse-layernorm', () => {
  const x = { x: new Tensor('float32', Float32Array.from(rand(48, 3, 5, 9)), [2, 3, 8]) };
  it('fuses ReduceMean … Add into LayerNormalization', async () => {
    const h = await check(layerNormGraph(), x);
    expect(h).toEqual({ LayerNormalization: 1 });
  });
  it('leaves other axes, other powers and shared intermediates alone', async () => {
    expect((await check(layerNormGraph({ axes: [1] }), x)).LayerNormalization).toBeUndefined();
    expect((await check(layerNormGraph({ pow: 4 }), x)).LayerNormalization).toBeUndefined();
    expect((await check(layerNormGraph({ extraOutput: true }), x)).LayerNormalization).toBeUndefined();
  });
});

function rmsNormGraph(opts: { axes?: number[]; pow?: number; one?: number; reciprocal?: boolean; gammaFirst?: boolean; extraOutput?: boolean } = {}): Uint8Array {
  const inv = opts.reciprocal ? node('Reciprocal', ['sd'], ['r']) : node('Div', ['one', 'sd'], ['r']);
  return model({
    opset: 13,
    inputs: [valueInfo('x', DT.FLOAT, [2, 3, 8])],
    outputs: [valueInfo('y', DT.FLOAT, [2, 3, 8]), ...(opts.extraOutput ? [valueInfo('v', DT.FLOAT)] : [])],
    initializers: [scalar('two', opts.pow ?? 2), scalar('eps', 1e-6), scalar('one', opts.one ?? 1), floatTensor('g', [8], rand(8, 4))],
    nodes: [
      node('Pow', ['x', 'two'], ['p']),
      node('ReduceMean', ['p'], ['v'], { axes: opts.axes ?? [-1] }),
      node('Add', ['v', 'eps'], ['ve']),
      node('Sqrt', ['ve'], ['sd']),
      inv,
      node('Mul', ['x', 'r'], ['n']),
      node('Mul', opts.gammaFirst ? ['g', 'n'] : ['n', 'g'], ['y']),
    ],
  });
}

describe('fuse-rmsnorm', () => {
  const x = { x: new Tensor('float32', Float32Array.from(rand(48, 7, -3, 3)), [2, 3, 8]) };
  it('fuses Pow … Mul γ into SimplifiedLayerNormalization (Div 1/· or Reciprocal, γ either side)', async () => {
    expect(await check(rmsNormGraph(), x)).toEqual({ SimplifiedLayerNormalization: 1 });
    expect(await check(rmsNormGraph({ reciprocal: true, gammaFirst: true }), x)).toEqual({ SimplifiedLayerNormalization: 1 });
  });
  it('gives onnxruntime-web\'s numbers', async () => {
    const bytes = rmsNormGraph({ gammaFirst: true });
    const ours = await (await InferenceSession.create(bytes)).run(x);
    const ref = await ortRun(await ortSession(bytes), x);
    expect(relError(ours.y!.data as Float32Array, ref.y!.data as Float32Array)).toBeLessThan(1e-6);
  });
  it('leaves other axes, powers, numerators and shared intermediates alone', async () => {
    for (const opts of [{ axes: [1] }, { pow: 4 }, { one: 2 }, { extraOutput: true }]) {
      expect((await check(rmsNormGraph(opts), x)).SimplifiedLayerNormalization).toBeUndefined();
    }
  });
});

/** y = MatMul(x, W) + b then GELU written as `form`. */
function geluGraph(form: 'half-first' | 'half-inside' | 'half-last' | 'tanh' | 'wrong-half' | 'mul-rsqrt2'): Uint8Array {
  const nodes = [node('MatMul', ['x', 'W'], ['xw']), node('Add', ['bias', 'xw'], ['h'])];
  const erfOf = (arg: string) => {
    if (form === 'mul-rsqrt2') nodes.push(node('Mul', [arg, 'rs2'], ['dv']));
    else nodes.push(node('Div', [arg, 'sqrt2'], ['dv']));
    nodes.push(node('Erf', ['dv'], ['e']), node('Add', ['one', 'e'], ['ope']));
    return 'ope';
  };
  if (form === 'tanh') {
    nodes.push(node('Pow', ['h', 'three'], ['h3']), node('Mul', ['c044', 'h3'], ['h3c']), node('Add', ['h', 'h3c'], ['in']),
      node('Mul', ['in', 'k'], ['ink']), node('Tanh', ['ink'], ['t']), node('Add', ['t', 'one'], ['opt']),
      node('Mul', ['h', 'half'], ['hh']), node('Mul', ['hh', 'opt'], ['y']));
  } else if (form === 'half-first' || form === 'wrong-half' || form === 'mul-rsqrt2') {
    nodes.push(node('Mul', ['h', form === 'wrong-half' ? 'notHalf' : 'half'], ['hh']));
    nodes.push(node('Mul', ['hh', erfOf('h')], ['y']));
  } else if (form === 'half-inside') {
    nodes.push(node('Mul', ['half', erfOf('h')], ['inner']), node('Mul', ['h', 'inner'], ['y']));
  } else {
    nodes.push(node('Mul', [erfOf('h'), 'h'], ['xe']), node('Mul', ['xe', 'half'], ['y']));
  }
  return model({
    opset: 13,
    inputs: [valueInfo('x', DT.FLOAT, [5, 6])],
    outputs: [valueInfo('y', DT.FLOAT, [5, 12])],
    initializers: [floatTensor('W', [6, 12], rand(72, 4, -1, 1)), floatTensor('bias', [12], rand(12, 5)), scalar('half', 0.5), scalar('notHalf', 0.4),
      scalar('sqrt2', Math.SQRT2), scalar('rs2', Math.SQRT1_2), scalar('one', 1), scalar('three', 3), scalar('c044', 0.044715), scalar('k', Math.sqrt(2 / Math.PI))],
    nodes,
  });
}

describe('fuse-gelu', () => {
  const x = { x: new Tensor('float32', Float32Array.from(rand(30, 6, -3, 3)), [5, 6]) };
  for (const form of ['half-first', 'half-inside', 'half-last', 'tanh', 'mul-rsqrt2'] as const) {
    it(`${form}: MatMul + Add + GELU → one FusedMatMul with a GELU epilogue`, async () => {
      expect(await check(geluGraph(form), x)).toEqual({ FusedMatMul: 1 });
    });
  }
  it('a 0.4 instead of 0.5 is not GELU', async () => {
    const h = await check(geluGraph('wrong-half'), x);
    expect(h.Erf).toBe(1);
    expect(h.Gelu).toBeUndefined();
  });
});

/** Attention with constant reshape targets [0, 0, heads, d], Mul scale (constant first when masked), optional mask. */
function attentionGraph(opts: { softmaxAxis?: number; kPerm?: number[]; mask?: boolean; heads?: number } = {}): Uint8Array {
  const H = 2, d = 3, heads = opts.heads ?? H;
  return model({
    opset: 13,
    inputs: [valueInfo('q', DT.FLOAT, [2, 5, 6]), valueInfo('k', DT.FLOAT, [2, 4, 6]), valueInfo('v', DT.FLOAT, [2, 4, 6]),
      ...(opts.mask ? [valueInfo('mask', DT.FLOAT, [2, 1, 5, 'keys'])] : [])],
    outputs: [valueInfo('y', DT.FLOAT, [2, 5, 6])],
    initializers: [int64Tensor('split', [4], [0, 0, heads, (H * d) / heads]), int64Tensor('merge', [3], [0, 0, H * d]), scalar('scale', 0.37)],
    nodes: [
      node('Reshape', ['q', 'split'], ['q4']), node('Transpose', ['q4'], ['qt'], { perm: [0, 2, 1, 3] }),
      node('Reshape', ['k', 'split'], ['k4']), node('Transpose', ['k4'], ['kt'], { perm: opts.kPerm ?? [0, 2, 3, 1] }),
      node('Reshape', ['v', 'split'], ['v4']), node('Transpose', ['v4'], ['vt'], { perm: [0, 2, 1, 3] }),
      node('MatMul', ['qt', 'kt'], ['s']), node('Mul', opts.mask ? ['scale', 's'] : ['s', 'scale'], ['ss']),
      ...(opts.mask ? [node('Add', ['mask', 'ss'], ['sm'])] : []),
      node('Softmax', [opts.mask ? 'sm' : 'ss'], ['p'], { axis: opts.softmaxAxis ?? -1 }),
      node('MatMul', ['p', 'vt'], ['o']), node('Transpose', ['o'], ['ot'], { perm: [0, 2, 1, 3] }),
      node('Reshape', ['ot', 'merge'], ['y']),
    ],
  });
}

describe('fuse-attention', () => {
  const t = (dims: number[], seed: number) => new Tensor('float32', Float32Array.from(rand(dims.reduce((a, b) => a * b), seed)), dims);
  const feeds = { q: t([2, 5, 6], 1), k: t([2, 4, 6], 2), v: t([2, 4, 6], 3) };
  it('fuses the pattern with constant reshape targets and a Mul scale, with and without a mask', async () => {
    expect(await check(attentionGraph(), feeds)).toEqual({ FusedAttention: 1 });
    expect(await check(attentionGraph({ mask: true }), { ...feeds, mask: t([2, 1, 5, 4], 4) })).toEqual({ FusedAttention: 1 });
    // The head count comes from the reshape target: 3 heads of 2 is another valid attention.
    expect(await check(attentionGraph({ heads: 3 }), feeds)).toEqual({ FusedAttention: 1 });
  });
  it('a mask that does not broadcast to [B, heads, Sq, Sk] is a SHAPE_MISMATCH naming the mask', async () => {
    const g = attentionGraph({ mask: true });
    const s = await InferenceSession.create(g);
    const bad = { ...feeds, mask: t([2, 1, 5, 3], 4) };
    await expect(s.run(bad)).rejects.toMatchObject({ code: 'SHAPE_MISMATCH', message: expect.stringContaining("mask 'mask' [2,1,5,3]") });
  });
  it('leaves the pattern alone for a softmax over another axis, or a K transposed like Q', async () => {
    expect((await check(attentionGraph({ softmaxAxis: 2 }), feeds)).FusedAttention).toBeUndefined();
    // K transposed like Q gives [B, h, S, d] · [B, h, S, d]: not attention (and not even valid when
    // Sq ≠ Sk), so build it with a K of the same length as Q.
    const sq = { ...feeds, k: t([2, 5, 6], 5), v: t([2, 5, 6], 6) };
    const g = attentionGraph({ kPerm: [0, 2, 1, 3] });
    const s = await InferenceSession.create(g);
    await expect(s.run(sq)).rejects.toThrow();
  });
});

/** y = LayerNormalization(Add(x, r)) (opset 17, last axis); `shareSum`: the sum is read elsewhere too. */
function addLayerNormGraph(opts: { rShape?: number[]; constR?: boolean; shareSum?: 'output' | 'node'; beta?: boolean; axis?: number; dtype?: number } = {}): Uint8Array {
  const dt = opts.dtype ?? DT.FLOAT, rShape = opts.rShape ?? [2, 3, 8];
  const tensor = (name: string, dims: number[], v: number[]) => (dt === DT.FLOAT ? floatTensor(name, dims, v)
    : { name, dims, dataType: DT.DOUBLE, rawData: new Uint8Array(Float64Array.from(v).buffer) });
  const rSize = rShape.reduce((a, b) => a * b, 1);
  const pShape = opts.axis === 1 ? [3, 8] : [8], pSize = pShape.reduce((a, b) => a * b, 1);
  const nodes = [
    node('Add', ['x', 'r'], ['s']),
    node('LayerNormalization', ['s', 'g', ...(opts.beta === false ? [] : ['b'])], ['y'], { axis: opts.axis ?? -1, epsilon: 1e-5 }),
  ];
  if (opts.shareSum === 'node') nodes.push(node('Neg', ['s'], ['z']));
  return model({
    opset: 17,
    inputs: [valueInfo('x', dt, [2, 3, 8]), ...(opts.constR ? [] : [valueInfo('r', dt, rShape)])],
    outputs: [valueInfo('y', dt, [2, 3, 8]), ...(opts.shareSum === 'output' ? [valueInfo('s', dt)] : []), ...(opts.shareSum === 'node' ? [valueInfo('z', dt)] : [])],
    initializers: [tensor('g', pShape, rand(pSize, 1)), tensor('b', pShape, rand(pSize, 2)), ...(opts.constR ? [tensor('r', rShape, rand(rSize, 4))] : [])],
    nodes,
  });
}

describe('fuse-add-layernorm', () => {
  const xs = Float32Array.from(rand(48, 3, 95, 105)); // offset mean: the two-pass variance must not cancel
  const feedsOf = (rShape = [2, 3, 8], f64 = false) => {
    const n = rShape.reduce((a, b) => a * b, 1);
    return f64
      ? { x: new Tensor('float64', Float64Array.from(xs), [2, 3, 8]), r: new Tensor('float64', Float64Array.from(rand(n, 5)), rShape) }
      : { x: new Tensor('float32', xs, [2, 3, 8]), r: new Tensor('float32', Float32Array.from(rand(n, 5)), rShape) };
  };
  /** Fused and unfused outputs are the same bits and match onnxruntime-web; returns the fused histogram. */
  async function exact(bytes: Uint8Array, feeds: Record<string, Tensor>, ort = true): Promise<Record<string, number>> {
    const fused = await InferenceSession.create(bytes);
    const plain = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
    const a = await fused.run(feeds), b = await plain.run(feeds);
    const o = ort ? await ortRun(await ortSession(bytes), feeds) : undefined;
    for (const k of Object.keys(b)) {
      expect(Array.from(a[k]!.data as Float32Array)).toEqual(Array.from(b[k]!.data as Float32Array));
      if (o) expect(relError(a[k]!.data as Float32Array, o[k]!.data as Float32Array), k).toBeLessThan(1e-5);
    }
    return opHistogram(fused, feeds);
  }
  it('folds the residual Add into the LayerNormalization: same bits as Add then LayerNormalization', async () => {
    expect(await exact(addLayerNormGraph(), feedsOf())).toEqual({ LayerNormalization: 1 });
    expect(await exact(addLayerNormGraph({ beta: false }), feedsOf())).toEqual({ LayerNormalization: 1 });
  });
  it('gives the unfused bits when the Add broadcasts or the values are float64 (the op adds into scratch)', async () => {
    expect(await exact(addLayerNormGraph({ rShape: [1, 3, 8] }), feedsOf([1, 3, 8]))).toEqual({ LayerNormalization: 1 });
    expect(await exact(addLayerNormGraph({ rShape: [8] }), feedsOf([8]))).toEqual({ LayerNormalization: 1 });
    expect(await exact(addLayerNormGraph({ dtype: DT.DOUBLE }), feedsOf([2, 3, 8], true), false)).toEqual({ LayerNormalization: 1 });
  });
  it('leaves the Add when its sum is read elsewhere, an addend is constant, or the axis is not the last', async () => {
    expect((await exact(addLayerNormGraph({ shareSum: 'output' }), feedsOf())).Add).toBe(1);
    expect((await exact(addLayerNormGraph({ shareSum: 'node' }), feedsOf())).Add).toBe(1);
    expect((await exact(addLayerNormGraph({ constR: true }), { x: feedsOf().x })).Add).toBe(1);
    expect((await exact(addLayerNormGraph({ axis: 1 }), feedsOf())).Add).toBe(1);
  });
});
