/**
 * graph/passes/fuse-qdq.ts: QDQ MatMul/Conv → QLinearMatMul/QLinearConv within one quantization
 * step of the unfused graph, and quantize_dynamic's chain → tessera.DynamicQuantizeMatMul with
 * identical results. Unfused = the same model with graphOptimizationLevel 'disabled'.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { optimize } from '../../src/graph/passes/index.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { quantizeDynamic } from '../../src/quantize/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { mnistModel } from '../helpers/mnist.js';

function rand(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return lo + (hi - lo) * (s / 2 ** 32); });
}
const bytesT = (name: string, dims: number[], type: number, values: number[]) =>
  ({ name, dims, dataType: type, rawData: type === DT.INT8 ? new Uint8Array(Int8Array.from(values).buffer) : type === DT.INT32 ? new Uint8Array(Int32Array.from(values).buffer) : Uint8Array.from(values) });
const scalarU8 = (name: string, v: number) => bytesT(name, [], DT.UINT8, [v]);

function opTypes(bytes: Uint8Array): string[] {
  const m = decodeModel(bytes);
  optimize(m);
  return m.graph.nodes.map((n) => n.opType);
}

async function both(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<[Float32Array, Float32Array]> {
  const fused = await InferenceSession.create(bytes), plain = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const a = (await fused.run(feeds))[fused.outputNames[0]!]!.data as Float32Array;
  const b = (await plain.run(feeds))[plain.outputNames[0]!]!.data as Float32Array;
  await fused.release(); await plain.release();
  return [a, b];
}

function worst(a: Float32Array, b: Float32Array): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!));
  return w;
}

describe('QDQ fusion', () => {
  it('MatMul between DequantizeLinear and QuantizeLinear → QLinearMatMul (per-column int8 weights)', async () => {
    const [M, K, N] = [5, 37, 19], ys = 0.05;
    const bytes = model({
      inputs: [valueInfo('x', DT.FLOAT, [M, K])], outputs: [valueInfo('y', DT.FLOAT, [M, N])],
      initializers: [
        floatTensor('xs', [], [0.01]), scalarU8('xz', 128),
        bytesT('w', [K, N], DT.INT8, rand(K * N, 1, -127, 127).map(Math.round)), floatTensor('ws', [N], rand(N, 2, 0.001, 0.01)), bytesT('wz', [N], DT.INT8, new Array(N).fill(0)),
        floatTensor('ys', [], [ys]), scalarU8('yz', 100),
      ],
      nodes: [
        node('QuantizeLinear', ['x', 'xs', 'xz'], ['xq']), node('DequantizeLinear', ['xq', 'xs', 'xz'], ['xf']),
        node('DequantizeLinear', ['w', 'ws', 'wz'], ['wf'], { axis: 1 }),
        node('MatMul', ['xf', 'wf'], ['mm']),
        node('QuantizeLinear', ['mm', 'ys', 'yz'], ['yq']), node('DequantizeLinear', ['yq', 'ys', 'yz'], ['y']),
      ],
    });
    expect(opTypes(bytes)).toEqual(['QuantizeLinear', 'QLinearMatMul', 'DequantizeLinear']);
    const [a, b] = await both(bytes, { x: new Tensor('float32', Float32Array.from(rand(M * K, 3)), [M, K]) });
    expect(worst(a, b)).toBeLessThanOrEqual(ys * 1.0001);
  });

  it('Conv with an int32 bias between DequantizeLinear and QuantizeLinear → QLinearConv (per-channel)', async () => {
    const [C, O, H] = [3, 4, 7], ys = 0.02, xs = 0.01;
    const ws = rand(O, 5, 0.002, 0.01);
    const bytes = model({
      inputs: [valueInfo('x', DT.FLOAT, [1, C, H, H])], outputs: [valueInfo('y', DT.FLOAT, [1, O, H, H])],
      initializers: [
        floatTensor('xs', [], [xs]), scalarU8('xz', 120),
        bytesT('w', [O, C, 3, 3], DT.INT8, rand(O * C * 9, 6, -127, 127).map(Math.round)), floatTensor('ws', [O], ws), bytesT('wz', [O], DT.INT8, new Array(O).fill(0)),
        bytesT('b', [O], DT.INT32, [100, -2000, 0, 555]), floatTensor('bs', [O], ws.map((s) => Math.fround(xs * s))),
        floatTensor('ys', [], [ys]), scalarU8('yz', 128),
      ],
      nodes: [
        node('QuantizeLinear', ['x', 'xs', 'xz'], ['xq']), node('DequantizeLinear', ['xq', 'xs', 'xz'], ['xf']),
        node('DequantizeLinear', ['w', 'ws', 'wz'], ['wf'], { axis: 0 }), node('DequantizeLinear', ['b', 'bs'], ['bf'], { axis: 0 }),
        node('Conv', ['xf', 'wf', 'bf'], ['c'], { pads: [1, 1, 1, 1] }),
        node('QuantizeLinear', ['c', 'ys', 'yz'], ['yq']), node('DequantizeLinear', ['yq', 'ys', 'yz'], ['y']),
      ],
    });
    expect(opTypes(bytes)).toContain('QLinearConv');
    expect(opTypes(bytes)).not.toContain('Conv');
    const [a, b] = await both(bytes, { x: new Tensor('float32', Float32Array.from(rand(C * H * H, 7)), [1, C, H, H]) });
    expect(worst(a, b)).toBeLessThanOrEqual(ys * 1.0001);
  });

  it('leaves a Conv whose bias scale is not x_scale·w_scale unfused', () => {
    const bytes = model({
      inputs: [valueInfo('x', DT.FLOAT, [1, 1, 4, 4])], outputs: [valueInfo('y', DT.UINT8, [1, 1, 2, 2])],
      initializers: [floatTensor('xs', [], [0.1]), scalarU8('xz', 0), bytesT('w', [1, 1, 3, 3], DT.UINT8, new Array(9).fill(3)),
        floatTensor('ws', [], [0.5]), scalarU8('wz', 1), bytesT('b', [1], DT.INT32, [7]), floatTensor('bs', [1], [0.3]), floatTensor('ys', [], [1]), scalarU8('yz', 0)],
      nodes: [node('QuantizeLinear', ['x', 'xs', 'xz'], ['xq']), node('DequantizeLinear', ['xq', 'xs', 'xz'], ['xf']),
        node('DequantizeLinear', ['w', 'ws', 'wz'], ['wf']), node('DequantizeLinear', ['b', 'bs'], ['bf']),
        node('Conv', ['xf', 'wf', 'bf'], ['c']), node('QuantizeLinear', ['c', 'ys', 'yz'], ['y'])],
    });
    expect(opTypes(bytes)).toContain('Conv');
  });
});

describe('quantize_dynamic pattern', () => {
  it('DynamicQuantizeLinear → MatMulInteger → Cast → Mul → Add becomes one DynamicQuantizeMatMul with identical results', async () => {
    for (const perChannel of [false, true]) {
      const { bytes } = quantizeDynamic(mnistModel(), { perChannel });
      const types = opTypes(bytes);
      expect(types.filter((t) => t === 'DynamicQuantizeMatMul')).toHaveLength(2);
      for (const t of ['DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Add']) expect(types).not.toContain(t);
      const x = Float32Array.from(rand(3 * 784, 9, 0, 1));
      const [a, b] = await both(bytes, { input: new Tensor('float32', x, [3, 1, 28, 28]) });
      expect(worst(a, b)).toBe(0);
    }
  });

  it('an activation after it (GELU as in BERT\'s MLP, ReLU) joins the dequantizing epilogue with identical results', async () => {
    // M = 1 and 4: decode rows, on the weight-streaming GEMV (gemv_q8_dq_f32); 7: the GEMM.
    for (const [M, K, N] of [[7, 45, 29], [1, 45, 29], [4, 45, 29]] as const) for (const act of ['Gelu', 'Relu']) {
      const float = model({
        opset: 20,
        inputs: [valueInfo('x', DT.FLOAT, [M, K])], outputs: [valueInfo('y', DT.FLOAT, [M, N])],
        initializers: [floatTensor('w', [K, N], rand(K * N, 11, -0.2, 0.2)), floatTensor('b', [N], rand(N, 12, -0.5, 0.5))],
        nodes: [node('MatMul', ['x', 'w'], ['mm']), node('Add', ['mm', 'b'], ['h']), node(act, ['h'], ['y'])],
      });
      const { bytes } = quantizeDynamic(float, { perChannel: true });
      const m = decodeModel(bytes);
      optimize(m);
      expect(m.graph.nodes.map((n) => n.opType)).toEqual(['DynamicQuantizeMatMul']);
      const fusedAct = m.graph.nodes[0]!.attributes.get('activation');
      expect(fusedAct?.type === 'string' && fusedAct.value).toBe(act === 'Gelu' ? 'geluErf' : 'relu');
      const [a, b] = await both(bytes, { x: new Tensor('float32', Float32Array.from(rand(M * K, 13, -2, 2)), [M, K]) });
      expect(worst(a, b)).toBe(0);
      expect(a.some((v) => v < 0) || act === 'Relu').toBe(true); // GELU's negative lobe is exercised
    }
  });
});
