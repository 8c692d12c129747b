/**
 * ConvTranspose with a constant weight runs as GEMM + col2im_f32 (1-D and 2-D). Strides, pads,
 * dilations, output_padding, groups and bias must equal onnxruntime-web.
 */
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/index.js';
import { nodeModel, rand, worstVsOrt } from '../unit-a/run-node.js';

interface Case { x: number[]; M: number; k: number[]; attrs: Record<string, unknown>; group?: number; bias?: boolean }
const CASES: [string, Case][] = [
  ['2×2 s2 (DBNet head)', { x: [1, 8, 9, 11], M: 8, k: [2, 2], attrs: { strides: [2, 2] }, bias: true }],
  ['3×3 s2 p1 output_padding 1', { x: [2, 5, 7, 6], M: 3, k: [3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }, bias: true }],
  ['4×4 s2 p1 (U-Net)', { x: [1, 6, 10, 13], M: 4, k: [4, 4], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } }],
  ['3×3 s1 dilation 2, asym pads', { x: [1, 4, 8, 9], M: 5, k: [3, 3], attrs: { dilations: [2, 2], pads: [0, 2, 1, 0] }, bias: true }],
  ['3×2 s(3,1), groups 2', { x: [1, 6, 5, 7], M: 4, k: [3, 2], attrs: { strides: [3, 1], group: 2 }, group: 2, bias: true }],
  ['1-D k4 s2 p1', { x: [2, 3, 17], M: 5, k: [4], attrs: { strides: [2], pads: [1, 1] }, bias: true }],
];

describe('ConvTranspose (constant weight: GEMM + col2im) vs onnxruntime-web', () => {
  it.each(CASES)('%s', async (_name, c) => {
    const G = c.group ?? 1, C = c.x[1]!;
    const x = new Tensor('float32', Float32Array.from(rand(c.x.reduce((a, b) => a * b, 1), 1)), c.x);
    const wDims = [C, c.M / G, ...c.k];
    const w = new Tensor('float32', Float32Array.from(rand(wDims.reduce((a, b) => a * b, 1), 2)), wDims);
    const inputs: unknown[] = [x, { const: w }];
    if (c.bias) inputs.push({ const: new Tensor('float32', Float32Array.from(rand(c.M, 3)), [c.M]) });
    const bytes = nodeModel({ op: 'ConvTranspose', inputs, attrs: { kernel_shape: c.k, ...c.attrs }, outTypes: ['float32'] } as never);
    expect(await worstVsOrt(bytes, { in0: x })).toBeLessThan(1e-4);
  });
});
