/**
 * The parallel kernel table against the plain one, kernel by kernel, on odd sizes large enough to
 * be split: at 1, 2 and 3 threads every output byte (and the canary after it) is the same as the
 * unsplit call's, and the calls really were split (items handed to the pool).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernels } from '../../src/runtime/kernels.js';
import { SplitRig } from './split-rig.js';

const rig = new SplitRig();
const alloc = (floats: number) => rig.alloc(floats * 4);
const random = (p: number, n: number, seed: number, lo?: number, hi?: number) => rig.randomF32(p, n, seed, lo, hi);

/** Runs `call` with the plain table and each parallel one; outputs at `out` must match bit for bit. */
function same(out: number, floats: number, call: (kt: Kernels) => void): void {
  rig.same(out, floats * 4, call, (threads, handed) => {
    // Split (at least in two) wherever there is a thread to split for; at most one item per thread.
    expect(handed, `items handed at ${threads} threads`).toBeLessThanOrEqual(threads - 1);
    expect(handed, `items handed at ${threads} threads`).toBeGreaterThanOrEqual(Math.min(1, threads - 1));
  });
}

describe('the parallel kernel table', () => {
  beforeAll(() => rig.start());
  afterAll(() => rig.leave());

  it('dwconv2d_f32 over planes, within one image and across images', () => {
    for (const [N, C, H, kh, s, pad] of [[1, 13, 67, 3, 1, 1], [1, 9, 71, 5, 2, 2], [3, 5, 53, 3, 1, 1]] as const) {
      const OH = Math.floor((H + 2 * pad - kh) / s) + 1;
      const x = alloc(N * C * H * H), w = alloc(C * kh * kh), b = alloc(C), y = alloc(N * C * OH * OH);
      random(x, N * C * H * H, 1); random(w, C * kh * kh, 2); random(b, C, 3);
      same(y, N * C * OH * OH, (t) => t.dwconv2d_f32(x, w, b, y, N * C, C, H, H, OH, OH, kh, kh, s, s, 1, 1, pad, pad, 5, 0, 0));
    }
  });

  it('conv2d_direct_f32 over blocks of output channels, and over rows for one channel', () => {
    for (const [C, M, H, s] of [[7, 11, 45, 1], [5, 8, 61, 2], [16, 1, 101, 2], [9, 1, 77, 1]] as const) {
      const OH = Math.floor((H + 2 - 3) / s) + 1;
      const x = alloc(C * H * H), w = alloc(M * C * 9), b = alloc(M), y = alloc(M * OH * OH);
      random(x, C * H * H, 4); random(w, M * C * 9, 5, -0.5, 0.5); random(b, M, 6);
      same(y, M * OH * OH, (t) => t.conv2d_direct_f32(x, w, b, y, C, H, H, M, OH, OH, 3, 3, s, s, 1, 1, 1, 1, 2, -1, 1.5));
    }
  });

  it('im2col_packed_f32 over output rows at whole panels (3×3, stride 2, 1×1)', () => {
    for (const [C, H, kh, s, pad] of [[5, 61, 3, 1, 1], [15, 63, 3, 2, 1], [40, 63, 1, 1, 0], [3, 90, 5, 1, 2]] as const) {
      const OH = Math.floor((H + 2 * pad - kh) / s) + 1, K = C * kh * kh;
      const x = alloc(C * H * H), dst = alloc(Math.ceil(OH * OH / 8) * 8 * K);
      random(x, C * H * H, 7);
      same(dst, Math.ceil(OH * OH / 8) * 8 * K, (t) => t.im2col_packed_f32(x, dst, C, H, H, kh, kh, s, s, 1, 1, pad, pad, OH, OH));
    }
  });

  it('im2col_packed_batch_f32 over images at whole panels', () => {
    const NB = 20, C = 3, H = 27, K = C * 9, P = H * H;
    const x = alloc(NB * 2 * C * H * H), dst = alloc(Math.ceil(NB * P / 8) * 8 * K);
    random(x, NB * 2 * C * H * H, 8);
    // xs twice the image: a channel group picked out of a wider tensor.
    same(dst, Math.ceil(NB * P / 8) * 8 * K, (t) => t.im2col_packed_batch_f32(x, dst, NB, 2 * C * H * H, C, H, H, 3, 3, 1, 1, 1, 1, 1, 1, H, H));
  });

  it('binary_f32 over its outermost dimension, with broadcasting strides', () => {
    const a = alloc(3 * 70001), b = alloc(3 * 70001), y = alloc(3 * 70001);
    random(a, 3 * 70001, 9, 0.1, 2); random(b, 3 * 70001, 10, -3, 3);
    // a per-row scalar times a [337, 401] matrix (the squeeze-excite multiply)
    same(y, 337 * 401, (t) => t.binary_f32(a, b, y, 2, 1, 1, 337, 401, 0, 0, 1, 0, 0, 0, 401, 1));
    // flat add, odd length
    same(y, 150001, (t) => t.binary_f32(a, b, y, 0, 1, 1, 1, 150001, 0, 0, 0, 1, 0, 0, 0, 1));
    // pow with a broadcast scalar exponent (the scalar path)
    same(y, 150001, (t) => t.binary_f32(a, b, y, 6, 1, 1, 1, 150001, 0, 0, 0, 1, 0, 0, 0, 0));
    // batch of 3, b broadcast over it
    same(y, 3 * 70001, (t) => t.binary_f32(a, b, y, 1, 3, 1, 1, 70001, 70001, 0, 0, 1, 0, 0, 0, 1));
    // a transposed read (inner stride not 1): the scalar path
    same(y, 1 * 1 * 401 * 337, (t) => t.binary_f32(a, b, y, 3, 1, 1, 401, 337, 0, 0, 1, 401, 0, 0, 337, 1));
  });

  it('unary_f32 in whole-vector chunks', () => {
    const x = alloc(300007), y = alloc(300007);
    random(x, 300007, 11, -6, 6);
    same(y, 300007, (t) => t.unary_f32(x, y, 300007, 8, 0, 0));
  });

  it('gemm_f32 along N-panels and along rows', () => {
    for (const [M, N, K] of [[61, 203, 131], [997, 13, 101]] as const) {
      const a = alloc(M * K), bsrc = alloc(K * N), bp = alloc(Math.ceil(N / 8) * 8 * K), bias = alloc(Math.max(M, N)), c = alloc(M * N);
      random(a, M * K, 12); random(bsrc, K * N, 13); random(bias, Math.max(M, N), 14);
      rig.k.pack_b_f32(bsrc, bp, K, N, N, 0);
      same(c, M * N, (t) => t.gemm_f32(a, K, bp, c, N, M, N, K, bias, 2, 0, 5, 0, 0));
      same(c, M * N, (t) => t.gemm_f32(a, K, bp, c, N, M, N, K, bias, 1, 0, 1, 0, 0));
    }
  });

  it('channel_affine_f32 over channels (one image) and over images', () => {
    const x = alloc(37 * 4099), y = alloc(37 * 4099), sc = alloc(37), sh = alloc(37);
    random(x, 37 * 4099, 15); random(sc, 37, 16); random(sh, 37, 17);
    same(y, 37 * 4099, (t) => t.channel_affine_f32(x, y, sc, sh, 1, 37, 4099, 5, 0, 0));
    same(y, 3 * 11 * 4099, (t) => t.channel_affine_f32(x, y, sc, sh, 3, 11, 4099, 0, 0, 0));
  });

  it('pools over planes', () => {
    const NC = 23, H = 77, OH = 39;
    const x = alloc(NC * H * H), y = alloc(NC * OH * OH);
    random(x, NC * H * H, 18);
    same(y, NC * OH * OH, (t) => t.maxpool2d_f32(x, y, NC, H, H, OH, OH, 3, 3, 2, 2, 1, 1, 1, 1));
    same(y, NC * OH * OH, (t) => t.avgpool2d_f32(x, y, NC, H, H, OH, OH, 3, 3, 2, 2, 1, 1, 1, 1, 0));
    const g = alloc(67 * 2501), gy = alloc(67);
    random(g, 67 * 2501, 19);
    same(gy, 67, (t) => t.global_avgpool_f32(g, gy, 67, 2501));
    same(gy, 67, (t) => t.global_maxpool_f32(g, gy, 67, 2501));
  });

  it('col2im_f32 over output channels, reduce_f32 over outer slices', () => {
    const M = 11, H = 41, kh = 3, OH = 2 * (H - 1) + kh - 2; // stride 2, pads 1
    const cols = alloc(M * kh * kh * H * H), y = alloc(M * OH * OH), bias = alloc(M);
    random(cols, M * kh * kh * H * H, 23); random(bias, M, 24);
    same(y, M * OH * OH, (t) => t.col2im_f32(cols, y, M, H, H, kh, kh, 2, 2, 1, 1, 1, 1, OH, OH, bias));
    same(y, M * OH * OH, (t) => t.col2im_f32(cols, y, M, H, H, kh, kh, 1, 1, 1, 1, 1, 1, H, H, 0));
    const x = alloc(37 * 101 * 53), r = alloc(37 * 53);
    random(x, 37 * 101 * 53, 25);
    same(r, 37, (t) => t.reduce_f32(x, r, 37, 101 * 53, 1, 1, 2, 0)); // rows: sqrt(Σx²)
    same(r, 37 * 53, (t) => t.reduce_f32(x, r, 37, 101, 53, 3, 0, 0)); // columns: max
  });

  it('softmax, log-softmax, layernorm and add + layernorm over rows', () => {
    const x = alloc(301 * 769), y = alloc(301 * 769), gamma = alloc(769), beta = alloc(769), r = alloc(301 * 769);
    random(x, 301 * 769, 20, -8, 8); random(gamma, 769, 21); random(beta, 769, 22); random(r, 301 * 769, 23, -8, 8);
    same(y, 301 * 257, (t) => t.softmax_f32(x, y, 301, 257));
    same(y, 301 * 257, (t) => t.log_softmax_f32(x, y, 301, 257));
    same(y, 301 * 769, (t) => t.layernorm_f32(x, y, gamma, beta, 301, 769, 1e-5));
    same(y, 301 * 769, (t) => t.add_layernorm_f32(x, r, y, gamma, beta, 301, 769, 1e-5));
  });

  it('attention_f32 over heads, batches and blocks of query rows, each part with its own scratch block', () => {
    // [B, H, Sq, Sk, d, mask]: BERT-base's layer (heads at 2 and 3 threads); three batches of two
    // heads (heads at 2, batches at 3); one head (query rows), with seq and d no multiple of 4 or 8.
    const shapes = [[1, 12, 128, 128, 64, 'keys'], [3, 2, 53, 47, 40, 'full'], [1, 1, 93, 77, 75, 'full']] as const;
    for (const [B, H, Sq, Sk, d, kind] of shapes) {
      const HD = H * d;
      const q = alloc(B * Sq * HD), kk = alloc(B * Sk * HD), v = alloc(B * Sk * HD), out = alloc(B * Sq * HD);
      random(q, B * Sq * HD, 30); random(kk, B * Sk * HD, 31); random(v, B * Sk * HD, 32);
      const mn = kind === 'keys' ? B * Sk : B * H * Sq * Sk;
      const mask = alloc(mn);
      random(mask, mn, 33, -4, 2);
      const m = new Float32Array(rig.memory.buffer, mask, mn);
      // Padded keys, and (full masks) one query row of each head masked with −∞ (NaN rows).
      if (kind === 'keys') for (let j = Sk - 5; j < Sk; j++) m[j] = -3.4028234663852886e38;
      else for (let x = 0; x < B * H; x++) m.fill(-Infinity, (x * Sq + 2) * Sk, (x * Sq + 3) * Sk);
      const [mb, mh, mq, mk] = kind === 'keys' ? [Sk, 0, 0, 1] : [H * Sq * Sk, Sq * Sk, Sk, 1];
      // The op plans one scratch block per thread (OpContext.threads); 3 is the most used here.
      const scratch = alloc(3 * rig.k.attention_scratch_bytes(Sk, d) / 4);
      same(out, B * Sq * HD, (t) => t.attention_f32(q, kk, v, mask, out, scratch, B, H, Sq, Sk, d, HD, HD, HD, HD, mb, mh, mq, mk, 1 / Math.sqrt(d)));
    }
  });
});
