/**
 * The int8 kernels of the parallel table (parallel-i8.ts) against the plain ones on odd shapes
 * (M, N, K no multiples of 4 or 8): at 1, 2 and 3 threads every output byte (and a canary after
 * it) is the unsplit call's, and the calls large enough to split really were split. The GEMMs are
 * cut by 8-column panels or (N of one or two panels) by 4-row blocks, with per-column scales, a
 * bias, an output stride wider than N, and GELU (the per-strip activation) or Clip (in the tile);
 * and with an A scale per row (aScales: batch items quantized apart), which a cut by rows carries along.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernels } from '../../src/runtime/kernels.js';
import { packedAI8Bytes } from '../../src/runtime/kernels.js';
import { SplitRig } from './split-rig.js';

const ACT_NONE = 0, ACT_CLIP = 2, ACT_GELU = 8;

const rig = new SplitRig();
const alloc = (bytes: number) => rig.alloc(bytes);
const randomF32 = (p: number, n: number, seed: number, lo?: number, hi?: number) => rig.randomF32(p, n, seed, lo, hi);
const randomBytes = (p: number, n: number, seed: number) => rig.randomBytes(p, n, seed);

/**
 * Runs `call` with the plain table and each parallel one; the `n` bytes at `out` must match bit
 * for bit. `splits`: the call is large enough to be split.
 */
function same(out: number, n: number, splits: boolean, call: (kt: Kernels) => void): void {
  rig.same(out, n, call, (threads, handed) => {
    expect(handed, `items handed at ${threads} threads`).toBeLessThanOrEqual(threads - 1);
    expect(handed, `items handed at ${threads} threads`).toBe(splits ? threads - 1 : 0);
  });
}

describe('the parallel int8 kernels', () => {
  beforeAll(() => rig.start());
  afterAll(() => rig.leave());

  // [M, N, K]: panels (N of many panels, a last partial one), rows (N of one panel, of two: rows
  // at 3 threads, a tie going to panels at 2), and one too small to split.
  const shapes = [[67, 93, 333], [433, 5, 999], [301, 11, 701], [37, 45, 203]] as const;

  it('gemm_i16_dq_f32 with per-column scales and bias, no activation, Clip and GELU', () => {
    for (const [M, N, K] of shapes) {
      const ldy = N + 3;
      const x = alloc(M * K * 4), ap = alloc(packedAI8Bytes(M, K)), w = alloc(K * N), bp = alloc(Math.ceil(N / 8) * 8 * ((K + 7) & ~7) * 2);
      const ws = alloc(N * 4), bias = alloc(N * 4), y = alloc(M * ldy * 4);
      randomF32(x, M * K, M, -1, 3); randomBytes(w, K * N, N); randomF32(ws, N, K, 1e-3, 4e-3); randomF32(bias, N, 5, -1, 1);
      rig.k.pack_b_i8(w, bp, K, N, N, 0, 1, 0, 0);
      rig.k.quantize_pack_a_f32(x, K, ap, M, K, 4 / 255, 64);
      const splits = M * N * K >= 1 << 21;
      for (const [act, a, b] of [[ACT_NONE, 0, 0], [ACT_CLIP, -0.5, 2], [ACT_GELU, 0, 0]] as const) {
        same(y, M * ldy * 4, splits, (t) => t.gemm_i16_dq_f32(ap, bp, y, ldy, M, N, K, 4 / 255, ws, bias, act, a, b, 0));
      }
      same(y, M * ldy * 4, splits, (t) => t.gemm_i16_dq_f32(ap, bp, y, ldy, M, N, K, 4 / 255, ws, 0, ACT_GELU, 0, 0, 0));
      const rowScales = alloc(M * 4);
      randomF32(rowScales, M, M + 7, 1e-3, 3e-2);
      same(y, M * ldy * 4, splits, (t) => t.gemm_i16_dq_f32(ap, bp, y, ldy, M, N, K, 0, ws, bias, ACT_CLIP, -0.5, 2, rowScales));
    }
  });

  it('gemv_q8_dq_f32 (decode rows over one-byte panels) by panels, with bias, Clip and GELU', () => {
    for (const [M, N, K] of [[1, 2093, 1003], [4, 605, 1001], [3, 45, 203]] as const) {
      const ldy = N + 3;
      const x = alloc(M * K * 4), ap = alloc(packedAI8Bytes(M, K)), w = alloc(K * N), bq = alloc(Math.ceil(N / 8) * 8 * ((K + 7) & ~7));
      const ws = alloc(N * 4), bias = alloc(N * 4), y = alloc(M * ldy * 4);
      randomF32(x, M * K, M, -1, 3); randomBytes(w, K * N, N); randomF32(ws, N, K, 1e-3, 4e-3); randomF32(bias, N, 5, -1, 1);
      expect(rig.k.pack_b_q8(w, bq, K, N, N, 0, 1, 0, 0)).toBe(1);
      rig.k.quantize_pack_a_f32(x, K, ap, M, K, 4 / 255, 64);
      const splits = M * N * K >= 1 << 21;
      for (const [act, a, b] of [[ACT_NONE, 0, 0], [ACT_CLIP, -0.5, 2], [ACT_GELU, 0, 0]] as const) {
        same(y, M * ldy * 4, splits, (t) => t.gemv_q8_dq_f32(ap, bq, y, ldy, M, N, K, 4 / 255, ws, bias, act, a, b, 0));
      }
      const rowScales = alloc(M * 4);
      randomF32(rowScales, M, M + 7, 1e-3, 3e-2);
      same(y, M * ldy * 4, splits, (t) => t.gemv_q8_dq_f32(ap, bq, y, ldy, M, N, K, 0, ws, bias, ACT_GELU, 0, 0, rowScales));
    }
  });

  it('gemm_q8_dq_f32 (one-byte panels) by panels and by rows, one A scale and one per row', () => {
    for (const [M, N, K] of shapes) {
      const ldy = N + 3;
      const x = alloc(M * K * 4), ap = alloc(packedAI8Bytes(M, K)), w = alloc(K * N), bq = alloc(Math.ceil(N / 8) * 8 * ((K + 7) & ~7));
      const ws = alloc(N * 4), bias = alloc(N * 4), y = alloc(M * ldy * 4), rowScales = alloc(M * 4);
      randomF32(x, M * K, M, -1, 3); randomBytes(w, K * N, N); randomF32(ws, N, K, 1e-3, 4e-3); randomF32(bias, N, 5, -1, 1);
      randomF32(rowScales, M, M + 7, 1e-3, 3e-2);
      expect(rig.k.pack_b_q8(w, bq, K, N, N, 0, 1, 0, 0)).toBe(1);
      rig.k.quantize_pack_a_f32(x, K, ap, M, K, 4 / 255, 64);
      const splits = M * N * K >= 1 << 21;
      same(y, M * ldy * 4, splits, (t) => t.gemm_q8_dq_f32(ap, bq, y, ldy, M, N, K, 4 / 255, ws, bias, ACT_GELU, 0, 0, 0));
      same(y, M * ldy * 4, splits, (t) => t.gemm_q8_dq_f32(ap, bq, y, ldy, M, N, K, 0, ws, bias, ACT_GELU, 0, 0, rowScales));
    }
  });

  it('gemm_i16_i32 from u8 A with per-row zero points and i8 B with per-column ones', () => {
    for (const [M, N, K] of shapes) {
      const a = alloc(M * K), az = alloc(M), ap = alloc(packedAI8Bytes(M, K)), w = alloc(K * N), wz = alloc(N);
      const bp = alloc(Math.ceil(N / 8) * 8 * ((K + 7) & ~7) * 2), c = alloc(M * N * 4);
      randomBytes(a, M * K, M + 1); randomBytes(az, M, 2); randomBytes(w, K * N, N + 1); randomBytes(wz, N, 3);
      rig.k.pack_b_i8(w, bp, K, N, K, 1, 1, wz, 1); // B stored N×K (transB)
      rig.k.pack_a_i8(a, K, 0, az, 1, ap, M, K);
      same(c, M * N * 4, M * N * K >= 1 << 21, (t) => t.gemm_i16_i32(ap, bp, c, N, M, N, K));
    }
  });

  // [M, K]: M·K at least 2^20 (split) with M % 4 = 1 and 3, K % 8 ≠ 0; and one below.
  const packShapes = [[1033, 1017], [3071, 343], [141, 1001]] as const;

  it('quantize_pack_a_f32 over 4-row blocks, from rows wider than K, and with scale 0', () => {
    for (const [M, K] of packShapes) {
      const ldx = K + 5, x = alloc(M * ldx * 4), n = packedAI8Bytes(M, K), ap = alloc(n);
      randomF32(x, M * ldx, M + K, -3, 5);
      const splits = M * K >= 1 << 20;
      same(ap, n, splits, (t) => t.quantize_pack_a_f32(x, ldx, ap, M, K, 8 / 255, 96));
      same(ap, n, splits, (t) => t.quantize_pack_a_f32(x, ldx, ap, M, K, 0, 0));
    }
  });

  it('pack_a_i8 over 4-row blocks: signed and unsigned, per-row, per-tensor and no zero point', () => {
    for (const [M, K] of packShapes) {
      const lda = K + 7, a = alloc(M * lda), z = alloc(M), n = packedAI8Bytes(M, K), ap = alloc(n);
      randomBytes(a, M * lda, M * 3 + K); randomBytes(z, M, 9);
      const splits = M * K >= 1 << 20;
      for (const signed of [0, 1]) {
        same(ap, n, splits, (t) => t.pack_a_i8(a, lda, signed, z, 1, ap, M, K));
        same(ap, n, splits, (t) => t.pack_a_i8(a, lda, signed, z, 0, ap, M, K));
        same(ap, n, splits, (t) => t.pack_a_i8(a, lda, signed, 0, 0, ap, M, K));
      }
    }
  });
});
