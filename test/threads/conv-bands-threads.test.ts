/**
 * The splits added for conv nets at large inputs, kernel by kernel against the plain table on odd
 * sizes: one band of a conv (im2col + GEMM in one call, split between output rows at whole
 * panels, or each pass on its own when the rows cannot be cut), pack_b_f32 between panels,
 * resize_nearest_32 between planes or rows of one plane, col2im_f32 between rows of one channel.
 * At 1, 2 and 3 threads every output byte (and the canary after it) is the unsplit call's, and the
 * calls were split. The band call must also equal the two calls it stands for, and bands must
 * equal the whole image: that is what makes cutting a band anywhere on a panel boundary exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernels } from '../../src/runtime/kernels.js';
import { SplitRig } from './split-rig.js';

const rig = new SplitRig();
const alloc = (floats: number) => rig.alloc(floats * 4);
const random = (p: number, n: number, seed: number, lo?: number, hi?: number) => rig.randomF32(p, n, seed, lo, hi);
const poison = (p: number, floats: number) => rig.poison(p, floats * 4);
const bytes = (p: number, floats: number) => rig.bytes(p, floats * 4);

/**
 * Runs `call` with the plain table and each parallel one: the bytes at `out` must match bit for
 * bit, and at 2 or more threads at least one item (at most `passes` per extra thread) went to the
 * pool. Returns the plain call's bytes.
 */
function same(out: number, floats: number, call: (kt: Kernels) => void, passes = 1): Buffer {
  return rig.same(out, floats * 4, call, (threads, handed) => {
    expect(handed, `items handed at ${threads} threads`).toBeLessThanOrEqual(passes * (threads - 1));
    expect(handed, `items handed at ${threads} threads`).toBeGreaterThanOrEqual(Math.min(1, threads - 1));
  });
}

const packed = (K: number, N: number) => Math.ceil(N / 8) * 8 * K;

describe('splits for conv nets at large inputs', () => {
  beforeAll(() => rig.start());
  afterAll(() => rig.leave());

  // [C, H, W, M, kh, kw, stride, dilation, padTop, padLeft, padBottom, padRight, band rows]
  const shapes = [
    [3, 97, 131, 8, 3, 3, 2, 1, 1, 1, 1, 1, 20], // a stem: K = 27, OW = 66 (cut every 4 rows)
    [24, 61, 45, 16, 1, 1, 1, 1, 0, 0, 0, 0, 20], // 1×1 bands: packed from a slice of x; OW odd
    [5, 40, 30, 13, 5, 5, 1, 2, 4, 3, 4, 1, 9], // dilated 5×5, asymmetric pads, 13 rows (a 1-row tile)
    [16, 33, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 33], // OW = 8: every row starts a panel
  ] as const;

  it('conv2d_im2col_gemm_f32 splits a band between output rows at whole panels', () => {
    for (const [C, H, W, M, kh, kw, s, d, pt, pl, pb, pr, band] of shapes) {
      const OH = Math.floor((H + pt + pb - (d * (kh - 1) + 1)) / s) + 1, OW = Math.floor((W + pl + pr - (d * (kw - 1) + 1)) / s) + 1;
      const K = C * kh * kw, P = OH * OW;
      const x = alloc(C * H * W), w = alloc(M * K), b = alloc(M), y = alloc(M * P), scratch = alloc(packed(K, OW * band));
      random(x, C * H * W, 1); random(w, M * K, 2, -0.5, 0.5); random(b, M, 3);
      const bandsCall = (t: Kernels) => {
        for (let o0 = 0; o0 < OH; o0 += band) {
          t.conv2d_im2col_gemm_f32(x, w, b, y + o0 * OW * 4, scratch, C, H, W, M, kh, kw, s, s, d, d, pt - o0 * s, pl,
            Math.min(band, OH - o0), OW, P, 5, 0, 0);
        }
      };
      // The last band may be too small to split: every band may hand out items, at least one does.
      const banded = same(y, M * P, bandsCall, Math.ceil(OH / band));
      // The whole image in one call (its own scratch), and as im2col + gemm_f32: the same bits.
      const whole = alloc(packed(K, P));
      poison(y, M * P);
      rig.k.conv2d_im2col_gemm_f32(x, w, b, y, whole, C, H, W, M, kh, kw, s, s, d, d, pt, pl, OH, OW, P, 5, 0, 0);
      expect(bytes(y, M * P).equals(banded), `bands = whole image, ${[C, H, W, M, kh]}`).toBe(true);
      poison(y, M * P);
      rig.k.im2col_packed_f32(x, whole, C, H, W, kh, kw, s, s, d, d, pt, pl, OH, OW);
      rig.k.gemm_f32(w, K, whole, y, P, M, P, K, b, 1, 0, 5, 0, 0);
      expect(bytes(y, M * P).equals(banded), `band call = im2col + gemm, ${[C, H, W, M, kh]}`).toBe(true);
    }
  });

  it('conv2d_im2col_gemm_f32 with too few rows to cut splits its two passes instead', () => {
    // A late layer: 7×7 outputs (OW = 7 cuts only every 8 rows), K = 1152, no bias.
    const C = 128, H = 7, M = 96, K = C * 9, P = H * H;
    const x = alloc(C * H * H), w = alloc(M * K), y = alloc(M * P), scratch = alloc(packed(K, P));
    random(x, C * H * H, 4); random(w, M * K, 5, -0.1, 0.1);
    same(y, M * P, (t) => t.conv2d_im2col_gemm_f32(x, w, 0, y, scratch, C, H, H, M, 3, 3, 1, 1, 1, 1, 1, 1, H, H, P, 1, 0, 0), 2);
  });

  it('pack_b_f32 between whole panels, plain and transposed', () => {
    const src = alloc(61 * 4010), dst = alloc(packed(61, 4001));
    random(src, 61 * 4010, 6);
    same(dst, packed(37, 4001), (t) => t.pack_b_f32(src, dst, 37, 4001, 4004, 0));
    same(dst, packed(61, 3001), (t) => t.pack_b_f32(src, dst, 61, 3001, 63, 1));
  });

  it('resize_nearest_32 between planes, and between output rows of one plane', () => {
    const tables32 = (n: number, len: number, f: (j: number) => number) => {
      const p = alloc(n);
      new Int32Array(rig.memory.buffer, p, n).set(Int32Array.from({ length: n }, (_, j) => Math.min(len - 1, f(j))));
      return p;
    };
    const x = alloc(13 * 61 * 45), y = alloc(13 * 122 * 90);
    random(x, 13 * 61 * 45, 7);
    const half = (j: number) => j >> 1;
    // exact ×2 (lane shuffles, repeated rows copied) and an odd ratio (gathers)
    same(y, 13 * 122 * 90, (t) => t.resize_nearest_32(x, y, 13, 61, 45, 122, 90, tables32(122, 61, half), tables32(90, 45, half)));
    const rows = tables32(110, 61, (j) => Math.floor((j * 61) / 110)), cols = tables32(100, 45, (j) => Math.floor((j * 45) / 100));
    same(y, 13 * 110 * 100, (t) => t.resize_nearest_32(x, y, 13, 61, 45, 110, 100, rows, cols));
    const big = alloc(301 * 303), by = alloc(602 * 606);
    random(big, 301 * 303, 8);
    same(by, 602 * 606, (t) => t.resize_nearest_32(big, by, 1, 301, 303, 602, 606, tables32(602, 301, half), tables32(606, 303, half)));
  });

  it('col2im_f32 with one output channel between output rows', () => {
    for (const [H, kh, s, pad] of [[191, 2, 2, 0], [129, 3, 2, 1], [97, 5, 1, 2]] as const) {
      const OH = (H - 1) * s - 2 * pad + kh, K = kh * kh;
      const cols = alloc(K * H * H), y = alloc(OH * OH), bias = alloc(1);
      random(cols, K * H * H, 9); random(bias, 1, 10);
      same(y, OH * OH, (t) => t.col2im_f32(cols, y, 1, H, H, kh, kh, s, s, 1, 1, pad, pad, OH, OH, bias));
    }
  });
});
