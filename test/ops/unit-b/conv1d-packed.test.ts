/**
 * 1-D Conv with constant weights past the GEMM's L2 size for A (Whisper's second stem: 384 × 1,152
 * floats) packs them once (pack_a_f32) and runs im2col + gemm_f32 on the packed form. It must give
 * the same bits as the same conv with the weight fed (read in place, the other path), and equal
 * onnxruntime-web: stride 1 and 2, pads, with and without bias, a batch of 2, an activation fused
 * by the graph (Relu), and output channels not a multiple of 4.
 */
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/index.js';
import { nodeModel, rand, runNode, worstVsOrt } from '../unit-a/run-node.js';

const CASES: [string, { N: number; C: number; W: number; M: number; k: number; stride: number; pad: number; bias: boolean }][] = [
  ['Whisper-like stem, stride 2', { N: 1, C: 96, W: 120, M: 160, k: 11, stride: 2, pad: 5, bias: true }],
  ['stride 1, batch 2 (panels too big to fold), no bias', { N: 2, C: 64, W: 300, M: 190, k: 15, stride: 1, pad: 7, bias: false }],
  ['batch 3 folded into one GEMM (weights not packed)', { N: 3, C: 64, W: 37, M: 190, k: 15, stride: 1, pad: 7, bias: true }],
  ['M not a multiple of 4', { N: 1, C: 210, W: 50, M: 131, k: 5, stride: 1, pad: 2, bias: true }],
];

describe('1-D Conv with packed constant weights', () => {
  it.each(CASES)('%s', async (_name, c) => {
    expect(c.M * c.C * c.k * 4).toBeGreaterThan(512 << 10); // the packed path's condition
    const x = new Tensor('float32', Float32Array.from(rand(c.N * c.C * c.W, 1)), [c.N, c.C, c.W]);
    const w = new Tensor('float32', Float32Array.from(rand(c.M * c.C * c.k, 2)), [c.M, c.C, c.k]);
    const b = new Tensor('float32', Float32Array.from(rand(c.M, 3)), [c.M]);
    const attrs = { strides: [c.stride], pads: [c.pad, c.pad], kernel_shape: [c.k] };
    const inputs = (constant: boolean) => [x, constant ? { const: w } : w, ...(c.bias ? [{ const: b }] : [])];
    const [packed] = await runNode({ op: 'Conv', inputs: inputs(true), attrs });
    const [inPlace] = await runNode({ op: 'Conv', inputs: inputs(false), attrs });
    expect(packed!.dims).toEqual(inPlace!.dims);
    expect(Array.from(packed!.data as Float32Array)).toEqual(Array.from(inPlace!.data as Float32Array));
    const bytes = nodeModel({ op: 'Conv', inputs: inputs(true), attrs, outTypes: ['float32'] });
    expect(await worstVsOrt(bytes, { in0: x })).toBeLessThan(1e-4);
  });
});
