/** If: the branch chosen at plan time is inlined; plans are keyed by a fed condition's value. */
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../../helpers/onnx-builder.js';

const T = onnxProto.onnx.AttributeProto.AttributeType;
const f32 = (data: number[], dims: number[]) => new Tensor('float32', Float32Array.from(data), dims);
const bool = (v: boolean) => new Tensor('bool', Uint8Array.of(v ? 1 : 0), []);

/** y = If(cond) then x + k1 (k1 a branch initializer) else x * x (x from the outer scope). */
function ifModel(condFrom: 'feed' | 'computed', n = 3): Uint8Array {
  const thenBranch: onnxProto.onnx.IGraphProto = {
    name: 'then', node: [node('Add', ['x', 'k1'], ['t_out'])], initializer: [floatTensor('k1', [1], [10])],
    input: [], output: [valueInfo('t_out', DT.FLOAT)],
  };
  const elseBranch: onnxProto.onnx.IGraphProto = {
    name: 'else', node: [node('Mul', ['x', 'x'], ['e_out'])], input: [], output: [valueInfo('e_out', DT.FLOAT)],
  };
  const ifNode = node('If', [condFrom === 'feed' ? 'cond' : 'c2'], ['y'], {}, 'choose');
  ifNode.attribute = [{ name: 'then_branch', type: T.GRAPH, g: thenBranch }, { name: 'else_branch', type: T.GRAPH, g: elseBranch }];
  const pre = condFrom === 'computed' ? [node('ReduceMax', ['x'], ['m'], { keepdims: 0 }), node('Greater', ['m', 'zero'], ['c2'])] : [];
  return model({
    nodes: [...pre, ifNode],
    inputs: [valueInfo('x', DT.FLOAT, [n]), ...(condFrom === 'feed' ? [valueInfo('cond', DT.BOOL, [])] : [])],
    outputs: [valueInfo('y', DT.FLOAT)],
    initializers: condFrom === 'computed' ? [floatTensor('zero', [], [0])] : [],
    opset: 13,
  });
}

describe('If', () => {
  it('inlines the branch a fed condition selects, one plan per condition value', async () => {
    const s = await InferenceSession.create(ifModel('feed'));
    const x = f32([1, 2, 3], [3]);
    const t = await s.run({ x, cond: bool(true) });
    const e = await s.run({ x, cond: bool(false) });
    const t2 = await s.run({ x: f32([0, 0, 1], [3]), cond: bool(true) });
    expect(Array.from(t.y!.data as Float32Array)).toEqual([11, 12, 13]);
    expect(Array.from(e.y!.data as Float32Array)).toEqual([1, 4, 9]);
    expect(Array.from(t2.y!.data as Float32Array)).toEqual([10, 10, 11]);
    await s.release();
  });

  it('evaluates a condition computed from small feeds at plan time', async () => {
    const s = await InferenceSession.create(ifModel('computed', 3));
    const pos = await s.run({ x: f32([1, 2, 3], [3]) });
    const neg = await s.run({ x: f32([-1, -2, -3], [3]) });
    expect(Array.from(pos.y!.data as Float32Array)).toEqual([11, 12, 13]);
    expect(Array.from(neg.y!.data as Float32Array)).toEqual([1, 4, 9]);
    await s.release();
  });

  it('refuses a condition that only the run can compute, naming the node', async () => {
    const n = 70_000; // beyond what the planner evaluates ahead of the run
    const s = await InferenceSession.create(ifModel('computed', n));
    await expect(s.run({ x: f32(new Array<number>(n).fill(1), [n]) })).rejects.toThrow(/If node 'choose'.*must be known at plan time/);
    await s.release();
  });
});
