/** Sequences live at plan time as lists of value names; positions fed at run time key the plan. */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { DT, model, node, valueInfo } from '../../helpers/onnx-builder.js';

const f32 = (data: number[], dims: number[]) => new Tensor('float32', Float32Array.from(data), dims);
const i64 = (v: number) => new Tensor('int64', BigInt64Array.of(BigInt(v)), []);

describe('sequences', () => {
  it('Construct → Erase → Insert → At with fed positions', async () => {
    const s = await InferenceSession.create(model({
      nodes: [
        node('SequenceConstruct', ['a', 'b', 'c'], ['s1']),
        node('SequenceErase', ['s1', 'pe'], ['s2']),
        node('SequenceInsert', ['s2', 'a', 'pi'], ['s3']),
        node('SequenceAt', ['s3', 'pa'], ['y']),
        node('SequenceLength', ['s3'], ['n']),
      ],
      inputs: [valueInfo('a', DT.FLOAT, [1]), valueInfo('b', DT.FLOAT, [1]), valueInfo('c', DT.FLOAT, [1]),
        valueInfo('pe', DT.INT64, []), valueInfo('pi', DT.INT64, []), valueInfo('pa', DT.INT64, [])],
      outputs: [valueInfo('y', DT.FLOAT), valueInfo('n', DT.INT64)],
      opset: 13,
    }));
    const feeds = { a: f32([1], [1]), b: f32([2], [1]), c: f32([3], [1]) };
    // [a, b, c] − b → [a, c]; insert a at -1 → [a, a, c]; at(-1) = c.
    const r1 = await s.run({ ...feeds, pe: i64(1), pi: i64(-1), pa: i64(-1) });
    expect(Array.from(r1.y!.data as Float32Array)).toEqual([3]);
    expect(Number((r1.n!.data as BigInt64Array)[0])).toBe(3);
    // [a, b, c] − a → [b, c]; insert a at 0 → [a, b, c]; at(1) = b.
    const r2 = await s.run({ ...feeds, pe: i64(0), pi: i64(0), pa: i64(1) });
    expect(Array.from(r2.y!.data as Float32Array)).toEqual([2]);
    await s.release();
  });

  it('SplitToSequence without keepdims, ConcatFromSequence on a new axis', async () => {
    const s = await InferenceSession.create(model({
      nodes: [
        node('SplitToSequence', ['x'], ['s'], { axis: 1, keepdims: 0 }),
        node('ConcatFromSequence', ['s'], ['y'], { axis: 0, new_axis: 1 }),
      ],
      inputs: [valueInfo('x', DT.FLOAT, [2, 3])],
      outputs: [valueInfo('y', DT.FLOAT)],
      opset: 13,
    }));
    const r = await s.run({ x: f32([1, 2, 3, 4, 5, 6], [2, 3]) });
    expect(r.y!.dims).toEqual([3, 2]);
    expect(Array.from(r.y!.data as Float32Array)).toEqual([1, 4, 2, 5, 3, 6]);
    await s.release();
  });

  it('refuses a sequence as a graph output', async () => {
    const s = await InferenceSession.create(model({
      nodes: [node('SequenceConstruct', ['a'], ['s'])],
      inputs: [valueInfo('a', DT.FLOAT, [1])],
      outputs: [valueInfo('s', 0)],
      opset: 13,
    }));
    await expect(s.run({ a: f32([1], [1]) })).rejects.toThrow(/graph output 's' is a sequence/);
    await s.release();
  });
});
