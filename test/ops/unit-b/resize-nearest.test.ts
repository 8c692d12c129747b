/**
 * Nearest Resize of 4-byte tensors over the last two axes runs resize_nearest_32 (×2 lane
 * shuffles, row copies, gathers). Each case must equal onnxruntime-web exactly.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { ortRun, ortSession } from '../../helpers/ort.js';
import { nodeModel, rand } from '../unit-a/run-node.js';

interface Case { dims: number[]; scales?: number[]; sizes?: number[]; attrs?: Record<string, unknown>; type?: 'float32' | 'int32' }
const CASES: [string, Case][] = [
  ['×2 asymmetric floor (FPN)', { dims: [1, 3, 5, 9], scales: [1, 1, 2, 2], attrs: { coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } }],
  ['×2 half_pixel round_prefer_floor', { dims: [2, 2, 6, 7], scales: [1, 1, 2, 2] }],
  ['×3 rows, same width', { dims: [1, 2, 4, 6], scales: [1, 1, 3, 1], attrs: { coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } }],
  ['sizes down 9×10 → 4×7', { dims: [1, 2, 9, 10], sizes: [1, 2, 4, 7] }],
  ['×1.5 align_corners round_prefer_ceil', { dims: [1, 1, 6, 8], scales: [1, 1, 1.5, 1.5], attrs: { coordinate_transformation_mode: 'align_corners', nearest_mode: 'round_prefer_ceil' } }],
  ['rank 3, ×2', { dims: [3, 5, 4], scales: [1, 2, 2], attrs: { coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } }],
  ['int32 ×2', { dims: [1, 2, 3, 5], scales: [1, 1, 2, 2], attrs: { coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, type: 'int32' }],
];

describe('Resize nearest (resize_nearest_32) vs onnxruntime-web', () => {
  it.each(CASES)('%s', async (_name, c) => {
    const n = c.dims.reduce((a, b) => a * b, 1), type = c.type ?? 'float32';
    const data = type === 'int32' ? Int32Array.from(rand(n, 5), (v) => Math.round(v * 1000)) : Float32Array.from(rand(n, 5));
    const x = new Tensor(type, data, c.dims);
    const extra = c.sizes
      ? ['', '', { const: new Tensor('int64', BigInt64Array.from(c.sizes, BigInt), [c.sizes.length]) }]
      : ['', { const: new Tensor('float32', Float32Array.from(c.scales!), [c.scales!.length]) }];
    const bytes = nodeModel({ op: 'Resize', inputs: [x, ...extra], attrs: { mode: 'nearest', ...c.attrs }, outTypes: [type], opset: 13 } as never);
    const s = await InferenceSession.create(bytes);
    const ours = (await s.run({ in0: x })).out0!;
    const ort = await ortSession(bytes);
    const theirs = (await ortRun(ort, { in0: x })).out0!;
    expect(ours.dims).toEqual(theirs.dims);
    expect(Array.from(ours.data as Float32Array)).toEqual(Array.from(theirs.data as Float32Array));
    await s.release();
    await ort.release();
  });
});
