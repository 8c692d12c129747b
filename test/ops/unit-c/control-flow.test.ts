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

function graphAttr(name: string, g: onnxProto.onnx.IGraphProto): onnxProto.onnx.IAttributeProto {
  return { name, type: T.GRAPH, g };
}

describe('Loop and Scan, unrolled', () => {
  it('Loop: a fed trip count, carried state and a scan output, one plan per count', async () => {
    // body: acc_out = acc_in * 2; scan = acc_out
    const body: onnxProto.onnx.IGraphProto = {
      name: 'body',
      node: [node('Identity', ['c_in'], ['c_out']), node('Mul', ['acc_in', 'two'], ['acc_out']), node('Identity', ['acc_out'], ['s'])],
      initializer: [floatTensor('two', [], [2])],
      input: [valueInfo('i', DT.INT64, []), valueInfo('c_in', DT.BOOL, []), valueInfo('acc_in', DT.FLOAT, [1])],
      output: [valueInfo('c_out', DT.BOOL, []), valueInfo('acc_out', DT.FLOAT, [1]), valueInfo('s', DT.FLOAT, [1])],
    };
    const loop = node('Loop', ['m', '', 'x'], ['acc', 'scan'], {}, 'loop');
    loop.attribute = [graphAttr('body', body)];
    const s = await InferenceSession.create(model({
      nodes: [loop], inputs: [valueInfo('m', DT.INT64, []), valueInfo('x', DT.FLOAT, [1])],
      outputs: [valueInfo('acc', DT.FLOAT), valueInfo('scan', DT.FLOAT)], opset: 13,
    }));
    const m = (v: number) => new Tensor('int64', BigInt64Array.of(BigInt(v)), []);
    const a = await s.run({ m: m(3), x: f32([1], [1]) });
    const b = await s.run({ m: m(1), x: f32([5], [1]) });
    expect(Array.from(a.acc!.data as Float32Array)).toEqual([8]);
    expect(a.scan!.dims).toEqual([3, 1]);
    expect(Array.from(a.scan!.data as Float32Array)).toEqual([2, 4, 8]);
    expect(Array.from(b.scan!.data as Float32Array)).toEqual([10]);
    await s.release();
  });

  it('Scan: reversed input, reversed output, state carried', async () => {
    const body: onnxProto.onnx.IGraphProto = {
      name: 'body',
      node: [node('Add', ['sum_in', 'next'], ['sum_out']), node('Identity', ['sum_out'], ['out'])],
      input: [valueInfo('sum_in', DT.FLOAT, [2]), valueInfo('next', DT.FLOAT, [2])],
      output: [valueInfo('sum_out', DT.FLOAT, [2]), valueInfo('out', DT.FLOAT, [2])],
    };
    const scan = node('Scan', ['init', 'x'], ['y', 'z'], { num_scan_inputs: 1, scan_input_directions: [1], scan_output_directions: [1] }, 'scan');
    scan.attribute!.push(graphAttr('body', body));
    const s = await InferenceSession.create(model({
      nodes: [scan], inputs: [valueInfo('init', DT.FLOAT, [2]), valueInfo('x', DT.FLOAT, [3, 2])],
      outputs: [valueInfo('y', DT.FLOAT), valueInfo('z', DT.FLOAT)], opset: 11,
    }));
    const r = await s.run({ init: f32([0, 0], [2]), x: f32([1, 2, 3, 4, 5, 6], [3, 2]) });
    expect(Array.from(r.y!.data as Float32Array)).toEqual([9, 12]);
    // Iterations see rows 2, 1, 0 (sums [5,6], [8,10], [9,12]); outputs are stacked back to front.
    expect(Array.from(r.z!.data as Float32Array)).toEqual([9, 12, 8, 10, 5, 6]);
    await s.release();
  });

  it('refuses a Loop whose body computes its condition, naming the node', async () => {
    const body: onnxProto.onnx.IGraphProto = {
      name: 'body',
      node: [node('Not', ['c_in'], ['c_out'])],
      input: [valueInfo('i', DT.INT64, []), valueInfo('c_in', DT.BOOL, [])],
      output: [valueInfo('c_out', DT.BOOL, [])],
    };
    const loop = node('Loop', ['m', 'c'], [], {}, 'spin');
    loop.attribute = [graphAttr('body', body)];
    loop.output = ['dummy'];
    body.output!.push(valueInfo('i', DT.INT64, []));
    const s = await InferenceSession.create(model({
      nodes: [loop], inputs: [valueInfo('m', DT.INT64, []), valueInfo('c', DT.BOOL, [])],
      outputs: [valueInfo('dummy', DT.INT64)], opset: 13,
    }));
    await expect(s.run({ m: new Tensor('int64', BigInt64Array.of(2n), []), c: new Tensor('bool', Uint8Array.of(1), []) }))
      .rejects.toThrow(/Loop node 'spin'.*condition/);
    await s.release();
  });
});
