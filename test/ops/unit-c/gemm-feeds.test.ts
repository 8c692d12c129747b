/** MatMul/Gemm whose B (or C) is a graph input: every run must use that run's values. */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { DT, model, node, valueInfo } from '../../helpers/onnx-builder.js';

const f32 = (data: number[], dims: number[]) => new Tensor('float32', Float32Array.from(data), dims);

describe('MatMul and Gemm with weights fed at run time', () => {
  it('MatMul re-reads a fed B on every run', async () => {
    const bytes = model({
      nodes: [node('MatMul', ['x', 'w'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT, [1, 2]), valueInfo('w', DT.FLOAT, [2, 2])],
      outputs: [valueInfo('y', DT.FLOAT)],
    });
    const s = await InferenceSession.create(bytes);
    const x = f32([1, 2], [1, 2]);
    const a = await s.run({ x, w: f32([1, 0, 0, 1], [2, 2]) });
    const b = await s.run({ x, w: f32([2, 0, 0, 2], [2, 2]) });
    expect(Array.from(a.y!.data as Float32Array)).toEqual([1, 2]);
    expect(Array.from(b.y!.data as Float32Array)).toEqual([2, 4]);
    await s.release();
  });

  it('Gemm re-reads a fed B and C on every run', async () => {
    const bytes = model({
      nodes: [node('Gemm', ['x', 'w', 'c'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT, [1, 2]), valueInfo('w', DT.FLOAT, [2, 2]), valueInfo('c', DT.FLOAT, [2])],
      outputs: [valueInfo('y', DT.FLOAT)],
    });
    const s = await InferenceSession.create(bytes);
    const x = f32([1, 2], [1, 2]);
    const a = await s.run({ x, w: f32([1, 0, 0, 1], [2, 2]), c: f32([0, 0], [2]) });
    const b = await s.run({ x, w: f32([2, 0, 0, 2], [2, 2]), c: f32([1, 1], [2]) });
    expect(Array.from(a.y!.data as Float32Array)).toEqual([1, 2]);
    expect(Array.from(b.y!.data as Float32Array)).toEqual([3, 5]);
    await s.release();
  });
});
