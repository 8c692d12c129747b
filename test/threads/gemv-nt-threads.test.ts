/**
 * gemv_nt_f32 (y = x·Wᵀ over W stored [N, K]: a tied lm_head reading the embedding table) against
 * a float64 reference, for K and N no multiple of 4, several rows and an output stride wider than
 * N; and split between 4-row groups of W: at 1, 2 and 3 threads every output byte equals the
 * unsplit call's, canary untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SplitRig } from './split-rig.js';

const rig = new SplitRig();

describe('gemv_nt_f32', () => {
  beforeAll(() => rig.start());
  afterAll(() => rig.leave());

  // [M, K, N, ldy]: a decode row of a Qwen3-sized head slice; odd K and N with a strided output;
  // four rows; a single W row; N large enough to split (N·K ≥ 2^18 weights).
  const shapes = [[1, 1024, 700, 700], [3, 37, 23, 29], [4, 130, 1031, 1031], [2, 5, 1, 3], [1, 256, 2053, 2053]] as const;
  for (const [M, K, N, ldy] of shapes) {
    it(`M ${M}, K ${K}, N ${N}, ldy ${ldy}: equal to the reference, same bytes at 1–3 threads`, () => {
      const x = rig.alloc(M * K * 4), w = rig.alloc(N * K * 4), y = rig.alloc(M * ldy * 4);
      rig.randomF32(x, M * K, K + M);
      rig.randomF32(w, N * K, N, -0.5, 0.5);
      const out = rig.same(y, M * ldy * 4, (t) => t.gemv_nt_f32(x, M, K, w, N, y, ldy), (threads, handed) => {
        expect(handed).toBeLessThanOrEqual(threads - 1);
        if (N * K >= 1 << 18 && N >= 128) expect(handed).toBeGreaterThanOrEqual(Math.min(1, threads - 1));
      });
      const X = new Float32Array(rig.memory.buffer, x, M * K), W = new Float32Array(rig.memory.buffer, w, N * K);
      const Y = new Float32Array(out.buffer, out.byteOffset, M * ldy);
      let worst = 0;
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
        let s = 0, mag = 0;
        for (let k = 0; k < K; k++) { s += X[m * K + k]! * W[n * K + k]!; mag += Math.abs(X[m * K + k]! * W[n * K + k]!); }
        worst = Math.max(worst, Math.abs(Y[m * ldy + n]! - s) / (mag + 1e-6));
      }
      expect(worst).toBeLessThan(1e-5);
    });
  }
});
