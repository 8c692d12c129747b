/**
 * gemm_f32's rows are batch-invariant: every row of an M-row call, whatever tile it lands in
 * (4-row tiles and the 1–3-row remainders, plain or packed A) and however threads split the call
 * (by columns, or by rows when N is narrow), has exactly the bits of that row computed alone
 * (M = 1). Whisper's windows decoded as batch rows rely on it (src/speech/decode-rows.ts): a
 * batch's MatMul is one GEMM over all windows' rows. With a per-row bias, a per-column bias and
 * an activation, K over one and two blocks, N no multiple of 8; canary untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BiasKind, packedBFloats } from '../../src/runtime/kernels.js';
import { GEMM_MIN_MACS } from '../../src/runtime/threads/parallel.js';
import { SplitRig } from './split-rig.js';

const rig = new SplitRig();

describe('gemm_f32 rows equal the row alone', () => {
  beforeAll(() => rig.start());
  afterAll(() => rig.leave());

  // [M, K, N, biasKind, act, packedA]: 2 decode rows against a wide head, 6 (3 windows × 2
  // no-speech rows), 9 (3 × a 3-token prompt), 15 (3 × 5), and tall-narrow ones the pool splits by rows.
  const shapes = [[2, 384, 2056, BiasKind.none, 0, 0], [6, 96, 130, BiasKind.perColumn, 1, 0], [9, 300, 37, BiasKind.perRow, 0, 1],
    [15, 64, 520, BiasKind.perColumn, 0, 1], [200, 600, 24, BiasKind.perRow, 1, 0], [97, 1200, 12, BiasKind.none, 0, 1]] as const;
  for (const [M, K, N, biasKind, act, packedA] of shapes) {
    it(`M ${M}, K ${K}, N ${N}, packed A ${packedA}: every row's bits alone, same bytes at 1–3 threads`, () => {
      const a = rig.alloc(M * K * 4), pa = rig.alloc(Math.ceil(M / 4) * 4 * K * 4), b = rig.alloc(K * N * 4), bp = rig.alloc(packedBFloats(K, N) * 4);
      const bias = rig.alloc(Math.max(M, N) * 4), c = rig.alloc(M * N * 4), alone = rig.alloc(M * N * 4);
      rig.randomF32(a, M * K, M + K);
      rig.randomF32(b, K * N, N, -0.5, 0.5);
      rig.randomF32(bias, Math.max(M, N), 7);
      rig.k.pack_b_f32(b, bp, K, N, N, 0);
      for (let i = 0; i < M; i++) {
        rig.k.gemm_f32(a + i * K * 4, K, bp, alone + i * N * 4, N, 1, N, K, biasKind === BiasKind.perRow ? bias + i * 4 : bias, biasKind, 0, act, 0, 0, 0);
      }
      const want = Buffer.from(new Uint8Array(rig.memory.buffer, alone, M * N * 4).slice());
      if (packedA) rig.k.pack_a_f32(a, K, pa, M, K);
      const got = rig.same(c, M * N * 4, (t) => t.gemm_f32(packedA ? pa : a, K, bp, c, N, M, N, K, bias, biasKind, 0, act, 0, 0, packedA), (threads, handed) => {
        // Big enough to split (GEMM_MIN_MACS): every thread gets a part.
        expect(handed).toBe(M * N * K >= GEMM_MIN_MACS ? threads - 1 : 0);
      });
      expect(got.subarray(0, M * N * 4).equals(want)).toBe(true);
    });
  }
});
