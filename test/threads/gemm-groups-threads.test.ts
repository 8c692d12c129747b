/**
 * gemm_f32_groups (batch-invariant rows: M rows in groups of `group`, each tiled as alone) against
 * its definition — gemm_f32 called on each group by itself — bit for bit, with a per-row bias,
 * a per-column bias and an activation; and split between column parts at 1, 2 and 3 threads, the
 * same bytes, canary untouched. Also the reason it exists: on the same rows, the folded gemm_f32
 * gives other bits for groups of 1 or 2 rows (its 1-, 2- and 4-row tiles sum differently).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BiasKind, packedBFloats } from '../../src/runtime/kernels.js';
import { SplitRig } from './split-rig.js';

const rig = new SplitRig();

describe('gemm_f32_groups', () => {
  beforeAll(() => rig.start());
  afterAll(() => rig.leave());

  // [M, K, N, group, biasKind, act]: decode rows of a batch (group 1), a batch with no-speech's two
  // rows each, 3-token prompts, a short last group, K over two blocks, N no multiple of 8.
  const shapes = [[4, 384, 1000, 1, BiasKind.perColumn, 0], [6, 96, 130, 2, BiasKind.none, 1], [9, 300, 37, 3, BiasKind.perRow, 0],
    [7, 64, 520, 3, BiasKind.perColumn, 0], [2, 600, 2056, 1, BiasKind.none, 0]] as const;
  for (const [M, K, N, group, biasKind, act] of shapes) {
    it(`M ${M}, K ${K}, N ${N}, groups of ${group}: each group's bits alone, same bytes at 1–3 threads`, () => {
      const a = rig.alloc(M * K * 4), b = rig.alloc(K * N * 4), bp = rig.alloc(packedBFloats(K, N) * 4);
      const bias = rig.alloc(Math.max(M, N) * 4), c = rig.alloc(M * N * 4), alone = rig.alloc(M * N * 4);
      rig.randomF32(a, M * K, M + K);
      rig.randomF32(b, K * N, N, -0.5, 0.5);
      rig.randomF32(bias, Math.max(M, N), 7);
      rig.k.pack_b_f32(b, bp, K, N, N, 0);
      for (let g0 = 0; g0 < M; g0 += group) {
        const rows = Math.min(group, M - g0);
        rig.k.gemm_f32(a + g0 * K * 4, K, bp, alone + g0 * N * 4, N, rows, N, K, biasKind === BiasKind.perRow ? bias + g0 * 4 : bias, biasKind, 0, act, 0, 0);
      }
      const want = Buffer.from(new Uint8Array(rig.memory.buffer, alone, M * N * 4).slice());
      const got = rig.same(c, M * N * 4, (t) => t.gemm_f32_groups(a, K, bp, c, N, M, N, K, bias, biasKind, 0, act, 0, 0, group), (threads, handed) => {
        expect(handed).toBeLessThanOrEqual(threads - 1);
      });
      expect(got.subarray(0, M * N * 4).equals(want)).toBe(true);
      if (group <= 2) {
        rig.k.gemm_f32(a, K, bp, c, N, M, N, K, bias, biasKind, 0, act, 0, 0);
        expect(Buffer.from(new Uint8Array(rig.memory.buffer, c, M * N * 4)).equals(want)).toBe(false);
      }
    });
  }
});
