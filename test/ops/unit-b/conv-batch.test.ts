/**
 * Conv over a batch: small layers fold several images into one GEMM (im2col_packed_batch_f32 +
 * unbatch_rows_f32), large ones run image by image. Both paths, with groups, pads, strides and a
 * constant vs fed weight, must equal onnxruntime-web.
 */
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/index.js';
import { nodeModel, rand, worstVsOrt } from '../unit-a/run-node.js';

const CASES: [string, { N: number; C: number; H: number; W: number; M: number; k: number; group: number; stride: number; pad: number; dil?: number }][] = [
  ['3×3 p1, batch 9 (folded)', { N: 9, C: 4, H: 7, W: 7, M: 6, k: 3, group: 1, stride: 1, pad: 1 }],
  ['3×3 s2, batch 3, groups 2 (folded per group)', { N: 3, C: 4, H: 9, W: 8, M: 6, k: 3, group: 2, stride: 2, pad: 1 }],
  ['depthwise 3×3, batch 5', { N: 5, C: 8, H: 6, W: 6, M: 8, k: 3, group: 8, stride: 1, pad: 1 }],
  ['1×1, batch 4', { N: 4, C: 16, H: 5, W: 5, M: 8, k: 1, group: 1, stride: 1, pad: 0 }],
  ['5×5, batch 2, large plane (image by image)', { N: 2, C: 8, H: 96, W: 96, M: 8, k: 5, group: 1, stride: 1, pad: 2 }],
  ['3×3 p1, batch 1', { N: 1, C: 3, H: 10, W: 10, M: 5, k: 3, group: 1, stride: 1, pad: 1 }],
  // Panels over 512 KiB: lowered in bands of output rows (the last band short).
  ['3×3 p1, few output channels, banded', { N: 1, C: 16, H: 50, W: 47, M: 8, k: 3, group: 1, stride: 1, pad: 1 }],
  ['3×3 s2 p1, odd plane, banded', { N: 1, C: 16, H: 97, W: 95, M: 12, k: 3, group: 1, stride: 2, pad: 1 }],
  ['3×3 dilation 2, groups 2, batch 2, banded', { N: 2, C: 32, H: 45, W: 52, M: 10, k: 3, group: 2, stride: 1, pad: 2, dil: 2 }],
  ['1×1 pointwise, banded', { N: 1, C: 64, H: 66, W: 63, M: 24, k: 1, group: 1, stride: 1, pad: 0 }],
];

describe('Conv over a batch vs onnxruntime-web', () => {
  it.each(CASES)('%s', async (_name, c) => {
    const x = new Tensor('float32', Float32Array.from(rand(c.N * c.C * c.H * c.W, 1)), [c.N, c.C, c.H, c.W]);
    const w = new Tensor('float32', Float32Array.from(rand(c.M * (c.C / c.group) * c.k * c.k, 2)), [c.M, c.C / c.group, c.k, c.k]);
    const b = new Tensor('float32', Float32Array.from(rand(c.M, 3)), [c.M]);
    const attrs = { group: c.group, strides: [c.stride, c.stride], pads: [c.pad, c.pad, c.pad, c.pad], kernel_shape: [c.k, c.k], dilations: [c.dil ?? 1, c.dil ?? 1] };
    for (const constWeight of [true, false]) {
      const bytes = nodeModel({ op: 'Conv', inputs: [x, constWeight ? { const: w } : w, { const: b }], attrs, outTypes: ['float32'] });
      const feeds: Record<string, Tensor> = constWeight ? { in0: x } : { in0: x, in1: w };
      expect(await worstVsOrt(bytes, feeds), `${constWeight ? 'constant' : 'fed'} weight`).toBeLessThan(1e-4);
    }
  });
});
