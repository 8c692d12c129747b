/**
 * Values an op needs at plan time (Range's limit, ConstantOfShape's shape, Expand's shape) may be
 * computed from a graph input: the planner evaluates them then, and the plan is keyed by the feed.
 */
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { DT, floatTensor, int64Tensor, model, node, valueInfo } from '../../helpers/onnx-builder.js';

const i64 = (v: number[], dims: number[]) => new Tensor('int64', BigInt64Array.from(v, BigInt), dims);

describe('plan-time values computed from feeds', () => {
  it('Range with a limit computed from a fed scalar, re-planned per value', async () => {
    const bytes = model({
      nodes: [node('Add', ['n', 'one'], ['limit']), node('Range', ['zero', 'limit', 'one'], ['y'])],
      inputs: [valueInfo('n', DT.INT64, [])],
      outputs: [valueInfo('y', DT.INT64)],
      initializers: [int64Tensor('zero', [], [0]), int64Tensor('one', [], [1])],
      opset: 13,
    });
    const s = await InferenceSession.create(bytes);
    const a = await s.run({ n: i64([2], []) });
    const b = await s.run({ n: i64([4], []) });
    const c = await s.run({ n: i64([2], []) });
    expect(Array.from(a.y!.data as BigInt64Array, Number)).toEqual([0, 1, 2]);
    expect(Array.from(b.y!.data as BigInt64Array, Number)).toEqual([0, 1, 2, 3, 4]);
    expect(c.y!.dims).toEqual([3]);
    await s.release();
  });

  it('ConstantOfShape of a fed shape, Expand to a shape sliced from a feed', async () => {
    const bytes = model({
      nodes: [
        node('ConstantOfShape', ['shape'], ['z'], { value: { name: 'v', dims: [1], dataType: DT.INT32, int32Data: [7] } }),
        node('Slice', ['shape', 'zero1', 'one1'], ['first']),
        node('Concat', ['first', 'one1'], ['target'], { axis: 0 }),
        node('Expand', ['x', 'target'], ['e']),
      ],
      inputs: [valueInfo('shape', DT.INT64, [2]), valueInfo('x', DT.INT64, [1, 1])],
      outputs: [valueInfo('z', DT.INT32), valueInfo('e', DT.INT64)],
      initializers: [int64Tensor('zero1', [1], [0]), int64Tensor('one1', [1], [1])],
      opset: 13,
    });
    const s = await InferenceSession.create(bytes);
    const r = await s.run({ shape: i64([3, 2], [2]), x: i64([5], [1, 1]) });
    expect(r.z!.dims).toEqual([3, 2]);
    expect(Array.from(r.z!.data as Int32Array)).toEqual([7, 7, 7, 7, 7, 7]);
    expect(r.e!.dims).toEqual([3, 1]);
    expect(Array.from(r.e!.data as BigInt64Array, Number)).toEqual([5, 5, 5]);
    await s.release();
  });

  it('names the node and the input when the value cannot be known at plan time', async () => {
    const bytes = model({
      nodes: [node('Range', ['zero', 'limit', 'one'], ['y'], {}, 'r')],
      inputs: [valueInfo('limit', DT.FLOAT, [])],
      outputs: [valueInfo('y', DT.FLOAT)],
      initializers: [{ name: 'zero', dims: [], dataType: DT.FLOAT, floatData: [0] }, { name: 'one', dims: [2], dataType: DT.FLOAT, floatData: [1, 1] }],
      opset: 13,
    });
    const s = await InferenceSession.create(bytes);
    await expect(s.run({ limit: new Tensor('float32', Float32Array.of(3), []) })).rejects.toThrow(/Range node 'r': delta \(input 2\) must be a scalar/);
    await s.release();
  });

  it('an If condition computed through a MatMul whose weight the first plan packed, at a new batch size', async () => {
    // Found with models/fp16-tools/mixed.onnx: the second plan read the weight the first had
    // replaced by its packed copy ("a constant was read after its only reader replaced it").
    const w = Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.7));
    const branch = (name: string, n: onnxProto.onnx.INodeProto): onnxProto.onnx.IGraphProto => ({ name, node: [n], input: [], output: [valueInfo(n.output![0]!, DT.FLOAT)] });
    const ifNode = node('If', ['positive'], ['y'], {}, 'choose');
    const T = onnxProto.onnx.AttributeProto.AttributeType;
    ifNode.attribute = [
      { name: 'then_branch', type: T.GRAPH, g: branch('then', node('Add', ['m', 'ten'], ['t_out'])) },
      { name: 'else_branch', type: T.GRAPH, g: branch('else', node('Neg', ['m'], ['e_out'])) },
    ];
    const s = await InferenceSession.create(model({
      nodes: [node('MatMul', ['x', 'w'], ['m']), node('ReduceSum', ['m'], ['total'], { keepdims: 0 }), node('Greater', ['total', 'zero'], ['positive']), ifNode],
      inputs: [valueInfo('x', DT.FLOAT, ['n', 8])],
      outputs: [valueInfo('y', DT.FLOAT)],
      initializers: [floatTensor('w', [8, 8], w), floatTensor('zero', [], [0]), floatTensor('ten', [], [10])],
      opset: 13,
    }));
    for (const [n, sign] of [[1, 1], [3, -1], [1, -1], [2, 1]] as const) {
      const x = Array.from({ length: n * 8 }, (_, i) => sign * (0.5 + Math.cos(i)));
      const m = Array.from({ length: n * 8 }, (_, i) => {
        const r = Math.floor(i / 8), c = i % 8;
        let acc = 0;
        for (let k = 0; k < 8; k++) acc += x[r * 8 + k]! * w[k * 8 + c]!;
        return acc;
      });
      const want = m.reduce((a, b) => a + b, 0) > 0 ? m.map((v) => v + 10) : m.map((v) => -v);
      const y = (await s.run({ x: new Tensor('float32', Float32Array.from(x), [n, 8]) })).y!;
      expect(y.dims).toEqual([n, 8]);
      Array.from(y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    }
    await s.release();
  });
});
