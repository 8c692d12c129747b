/**
 * graph/passes/share-dynamic-quantize.ts: DynamicQuantizeMatMuls on one x become one
 * DynamicQuantizeMatMulGroup that quantizes x once. Its outputs must be bit-identical to the
 * unfused graph (graphOptimizationLevel 'disabled': DynamicQuantizeLinear → MatMulInteger → Cast →
 * Mul → Add → activation as separate ops), which the ungrouped DynamicQuantizeMatMul also is
 * (test/ops/quant-fusion.test.ts), and agree with onnxruntime-web.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import type { ConstTensor, Graph, Node } from '../../src/graph/ir.js';
import { optimize } from '../../src/graph/passes/index.js';
import { shareDynamicQuantize } from '../../src/graph/passes/share-dynamic-quantize.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { quantizeDynamic } from '../../src/quantize/index.js';
import onnxProto from 'onnx-proto';
import { TesseraError } from '../../src/api/errors.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../helpers/ort.js';

function rand(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return lo + (hi - lo) * (s / 2 ** 32); });
}
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * x feeds four weight MatMuls: +bias → Gelu (y1), no bias (y2, a graph output that a Relu also
 * reads), +bias → Relu (y3), +bias with a different N (y5); x2 feeds one of its own (y4).
 */
const [M, K] = [9, 37];
function siblings(perChannel: boolean): Uint8Array {
  const N = [21, 16, 13, 3, 8];
  const w = (i: number) => floatTensor(`w${i}`, [K, N[i - 1]!], rand(K * N[i - 1]!, 10 + i, -0.3, 0.3));
  const b = (i: number) => floatTensor(`b${i}`, [N[i - 1]!], rand(N[i - 1]!, 20 + i, -0.5, 0.5));
  const float = model({
    opset: 20,
    inputs: [valueInfo('x', DT.FLOAT, [M, K]), valueInfo('x2', DT.FLOAT, [M, K])],
    outputs: [1, 2, 3, 4, 5].map((i) => valueInfo(`y${i}`, DT.FLOAT, [M, N[i - 1]!])).concat(valueInfo('y2r', DT.FLOAT, [M, N[1]!])),
    initializers: [w(1), b(1), w(2), w(3), b(3), w(4), w(5), b(5)],
    nodes: [
      node('MatMul', ['x', 'w1'], ['m1']), node('Add', ['m1', 'b1'], ['h1']), node('Gelu', ['h1'], ['y1']),
      node('MatMul', ['x', 'w2'], ['y2']), node('Relu', ['y2'], ['y2r']),
      node('MatMul', ['x', 'w3'], ['m3']), node('Add', ['m3', 'b3'], ['h3']), node('Relu', ['h3'], ['y3']),
      node('MatMul', ['x2', 'w4'], ['y4']),
      node('MatMul', ['x', 'w5'], ['m5']), node('Add', ['b5', 'm5'], ['y5']),
    ],
  });
  return quantizeDynamic(float, { perChannel }).bytes;
}

function optimized(bytes: Uint8Array): Node[] {
  const m = decodeModel(bytes);
  optimize(m);
  return m.graph.nodes;
}

describe('DynamicQuantizeMatMuls sharing x → one DynamicQuantizeMatMulGroup', () => {
  for (const perChannel of [false, true]) {
    it(`groups the four on x, leaves the one on x2, bit-identical to the unfused graph and close to onnxruntime-web (${perChannel ? 'per channel' : 'per tensor'})`, async () => {
      const bytes = siblings(perChannel);
      const nodes = optimized(bytes);
      const group = nodes.filter((n) => n.opType === 'DynamicQuantizeMatMulGroup');
      expect(group).toHaveLength(1);
      expect(group[0]!.inputs[0]).toBe('x');
      expect(group[0]!.outputs).toEqual(['y1', 'y2', 'y3', 'y5']);
      const acts = group[0]!.attributes.get('activations');
      expect(acts?.type === 'strings' && acts.value).toEqual(['geluErf', '', 'relu', '']);
      const single = nodes.filter((n) => n.opType === 'DynamicQuantizeMatMul');
      expect(single.map((n) => n.inputs[0])).toEqual(['x2']);

      const feeds = {
        x: new Tensor('float32', Float32Array.from(rand(M * K, 31, -2, 2)), [M, K]),
        x2: new Tensor('float32', Float32Array.from(rand(M * K, 32, -1, 3)), [M, K]),
      };
      const grouped = await InferenceSession.create(bytes), plain = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
      const ort = await ortSession(bytes);
      const a = await grouped.run(feeds), b = await plain.run(feeds), o = await ortRun(ort, feeds);
      for (const name of ['y1', 'y2', 'y2r', 'y3', 'y4', 'y5']) {
        const got = a[name]!.data as Float32Array;
        expect(bits(got).equals(bits(b[name]!.data as Float32Array)), name).toBe(true);
        const want = o[name]!.data as Float32Array;
        // onnxruntime-web's Gelu/Erf differs in the last bits (as in quant-fusion.test.ts's peers).
        for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want[i]!), `${name}[${i}]`).toBeLessThan(1e-5);
      }
      expect((a.y1!.data as Float32Array).some((v) => v < 0)).toBe(true); // GELU's negative lobe
      await grouped.release(); await plain.release(); await ort.release();
    });
  }
});

describe('where the grouping must not fire', () => {
  const init = (dtype: 'uint8' | 'int8' | 'float32', dims: number[]): ConstTensor =>
    ({ dtype, dims, data: dtype === 'float32' ? new Float32Array(dims.reduce((p, d) => p * d, 1)).fill(0.01) : dtype === 'int8' ? new Int8Array(dims.reduce((p, d) => p * d, 1)) : new Uint8Array(dims.reduce((p, d) => p * d, 1)) });
  const dq = (x: string, w: string, y: string, attrs: Node['attributes'] = new Map()): Node =>
    ({ name: y, opType: 'DynamicQuantizeMatMul', domain: 'tessera', inputs: [x, w, 'wz', 'ws'], outputs: [y], attributes: attrs });
  function graph(nodes: Node[], fedWeight = false): Graph {
    const initializers = new Map<string, ConstTensor>([['wz', init('int8', [])], ['ws', init('float32', [])], ['wa', init('int8', [4, 3])], ['wb', init('int8', [4, 5])]]);
    return {
      name: 'g', nodes, initializers,
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 4] }, { name: 'x2', dtype: 'float32', shape: [2, 4] },
        ...(fedWeight ? [{ name: 'wf', dtype: 'int8' as const, shape: [4, 3] }] : [])],
      outputs: nodes.map((n) => ({ name: n.outputs[0]!, dtype: 'float32' as const, shape: undefined })),
    };
  }

  it('different inputs, a lone node, a weight that is not an initializer, an attribute it does not know', () => {
    const cases: Graph[] = [
      graph([dq('x', 'wa', 'ya'), dq('x2', 'wb', 'yb')]),
      graph([dq('x', 'wa', 'ya')]),
      graph([dq('x', 'wa', 'ya'), dq('x', 'wf', 'yf')], true),
      graph([dq('x', 'wa', 'ya'), dq('x', 'wb', 'yb', new Map([['other', { type: 'int', value: 1 }]]))]),
    ];
    for (const g of cases) {
      const before = g.nodes.map((n) => `${n.opType}(${n.inputs})→${n.outputs}`);
      expect(shareDynamicQuantize(g)).toBe(false);
      expect(g.nodes.map((n) => `${n.opType}(${n.inputs})→${n.outputs}`)).toEqual(before);
    }
  });

  it('groups the members on x and leaves the rest in place', () => {
    const g = graph([dq('x', 'wa', 'ya'), dq('x2', 'wa', 'yc'), dq('x', 'wb', 'yb'), dq('x', 'wf', 'yf')], true);
    expect(shareDynamicQuantize(g)).toBe(true);
    expect(g.nodes.map((n) => `${n.opType}(${n.inputs})→${n.outputs}`)).toEqual([
      'DynamicQuantizeMatMulGroup(x,wa,wz,ws,,wb,wz,ws,)→ya,yb',
      'DynamicQuantizeMatMul(x2,wa,wz,ws)→yc',
      'DynamicQuantizeMatMul(x,wf,wz,ws)→yf',
    ]);
  });
});

describe('a DynamicQuantizeMatMulGroup node written into a model', () => {
  const T = onnxProto.onnx.AttributeProto.AttributeType;
  const text = (v: string) => new TextEncoder().encode(v);
  /** x [2, 4] and two int8 weights of 3 and 5 columns, per-tensor scales, the first with a bias. */
  function grouped(inputs: string[], outputs: string[], acts: string[], params: number[]): Uint8Array {
    const i8 = (name: string, dims: number[], v: number[]) => ({ name, dims, dataType: DT.INT8, rawData: new Uint8Array(Int8Array.from(v).buffer) });
    return model({
      opset: 13, extraOpsets: [{ domain: 'tessera', version: 1 }],
      inputs: [valueInfo('x', DT.FLOAT, [2, 4])], outputs: outputs.map((o) => valueInfo(o, DT.FLOAT)),
      initializers: [i8('wa', [4, 3], [1, -2, 3, 4, 5, -6, 7, 8, 9, -10, 11, 12]), i8('wb', [4, 5], Array.from({ length: 20 }, (_, i) => i - 9)),
        i8('wk', [3, 5], new Array(15).fill(1)), i8('wz', [], [0]), floatTensor('ws', [], [0.01]), floatTensor('ba', [3], [0.5, -0.25, 1])],
      nodes: [{
        opType: 'DynamicQuantizeMatMulGroup', domain: 'tessera', name: 'G', input: inputs, output: outputs,
        attribute: [{ name: 'activations', type: T.STRINGS, strings: acts.map(text) }, { name: 'activation_params', type: T.FLOATS, floats: params }],
      }],
    });
  }
  const good = ['x', 'wa', 'wz', 'ws', 'ba', 'wb', 'wz', 'ws', ''];

  it('runs: each output is its own DynamicQuantizeMatMul (bias and ReLU on the first only)', async () => {
    const x = new Tensor('float32', Float32Array.from([0.5, -1, 2, 0.25, -0.75, 1.5, 0, -2]), [2, 4]);
    const s = await InferenceSession.create(grouped(good, ['ya', 'yb'], ['relu', ''], [0, 0, 0, 0]));
    const out = await s.run({ x });
    await s.release();
    // x's range [−2, 2] → scale 4/255, zero point 128; then (q − 128)·scale·0.01 times the weights.
    const scale = Math.fround(4 / 255), xs = x.data as Float32Array;
    const q = Array.from(xs, (v) => Math.max(0, Math.min(255, Math.round(v / scale) + 128)) - 128);
    const ref = (w: number[], N: number, bias: number[] | undefined, relu: boolean) => Array.from({ length: 2 * N }, (_, t) => {
      const [i, j] = [Math.floor(t / N), t % N];
      let acc = 0;
      for (let k = 0; k < 4; k++) acc += q[i * 4 + k]! * w[k * N + j]!;
      const v = Math.fround(Math.fround(acc) * Math.fround(scale * 0.01)) + (bias ? bias[j]! : 0);
      return relu ? Math.max(0, v) : v;
    });
    const wa = [1, -2, 3, 4, 5, -6, 7, 8, 9, -10, 11, 12], wb = Array.from({ length: 20 }, (_, i) => i - 9);
    Array.from(out.ya!.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(ref(wa, 3, [0.5, -0.25, 1], true)[i]!, 5));
    Array.from(out.yb!.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(ref(wb, 5, undefined, false)[i]!, 5));
  });

  it.each([
    ['inputs not 4 per output', () => grouped(good.slice(0, 8), ['ya', 'yb'], ['', ''], [0, 0, 0, 0]), 'INVALID_MODEL', /node 'G'.*8 inputs for 2 outputs/],
    ['one activation for two outputs', () => grouped(good, ['ya', 'yb'], [''], [0, 0, 0, 0]), 'INVALID_ATTRIBUTE', /node 'G'.*2 activations and 4 activation_params, got 1 and 4/],
    ['an unknown activation', () => grouped(good, ['ya', 'yb'], ['', 'swish9'], [0, 0, 0, 0]), 'INVALID_ATTRIBUTE', /node 'G'.*'swish9'/],
    ['weights of a different K', () => grouped(['x', 'wa', 'wz', 'ws', 'ba', 'wk', 'wz', 'ws', ''], ['ya', 'yb'], ['', ''], [0, 0, 0, 0]), 'SHAPE_MISMATCH', /node 'G'.*inner dimensions differ.*'wk'/],
  ])('refuses %s, naming the node', async (_, make, code, message) => {
    // Ops are prepared when a shape is first planned: at the first run.
    const x = new Tensor('float32', new Float32Array(8), [2, 4]);
    const e = await InferenceSession.create(make()).then((s) => s.run({ x })).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(TesseraError);
    expect((e as TesseraError).code).toBe(code);
    expect((e as TesseraError).message).toMatch(message);
  });
});
