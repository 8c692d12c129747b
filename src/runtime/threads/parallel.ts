/**
 * Splitting kernel calls across a session's team. Ops do not know about threads: a session with
 * threads gets a kernel table whose big kernels split large calls into parts (the caller runs the
 * first, pool threads the rest) and run small ones on the caller alone.
 *
 * Every split gives bit-identical results for any thread count: each output element is computed by
 * the same code path, over the same reduction order, as in the unsplit call. That holds because
 *  - GEMM splits along N at multiples of COL_ALIGN (whole packed-B panels, NR = 8 or 16) or along
 *    M at multiples of ROW_ALIGN (a multiple of every row tile MR ≤ 8, so rows fall into the same
 *    MR×NR tiles and the same remainder tile as without threads); K is never split;
 *  - element-wise chunks are multiples of ELEM_ALIGN (whole SIMD vectors, so the scalar tail is the
 *    same elements); binary_f32 splits its outermost non-1 dimension (rows are independent);
 *  - kernels over planes or rows (depthwise conv, pools, channel_affine, softmax, layernorm,
 *    col2im's output channels, reduce's outer slices) split between planes/rows, each of which the
 *    kernel computes from its own start;
 *  - conv2d_direct_f32 splits between blocks of 4 output channels (its register tile; a channel's
 *    accumulation does not depend on its neighbours), or between output rows when M = 1 — a row
 *    range is the same call with OH = rows and padTop shifted by the first row's input offset, so
 *    every window sees the same taps;
 *  - im2col_packed_f32 splits between output rows at whole 8-column panels (the same shifted-
 *    padTop call writes exactly those panels), the batched one between images at whole panels;
 *  - attention_f32 splits between heads, batches or (one batch) blocks of 4 query rows: an output
 *    row depends only on its query row, batch and head. It is the one kernel with scratch per part:
 *    the op plans one block per thread (OpContext.threads) and part p takes block p;
 *  - pack_b_f32 splits between whole 8-column panels and resize_nearest_32 between planes (or
 *    output rows of one plane): copies, each element written by the same load and store;
 *  - conv2d_im2col_gemm_f32 (one band of a conv: im2col, then its GEMM) splits between output rows
 *    at whole panels too: each part writes its own panels of the band's scratch and multiplies
 *    them, which is im2col's row split followed by GEMM's split along N at a panel boundary;
 *  - the int8 GEMM and its A packing: parallel-i8.ts;
 *  - the one-row 4-bit decode kernels (MatMulNBits): parallel-q4.ts;
 *  - attention over the resident KV cache (text generation's CachedAttention), between whole
 *    query heads: parallel-attention.ts;
 *  - the x·Wᵀ GEMV over a [N, K] table (a tied lm_head), between 4-row groups: parallel-gemv.ts.
 */
import type { Kernels } from '../kernels.js';
import { parallelCachedAttention } from './parallel-attention.js';
import { parallelInt8 } from './parallel-i8.js';
import { parallelGemvNT } from './parallel-gemv.js';
import { parallelQ4 } from './parallel-q4.js';
import { copy, largestShare, type Fan, type Shift } from './split.js';
import { POOL_KERNELS, type PoolKernel, type Team } from './pool.js';

const COL_ALIGN = 16;
const ROW_ALIGN = 24;
const ELEM_ALIGN = 64;
/** Below this many multiply-adds (~50–100 µs on one core) a GEMM stays on the caller: waking a
 * thread and waiting for it costs ~5–50 µs, more on a busy machine. */
export const GEMM_MIN_MACS = 1 << 20;
/** Direct and depthwise convolutions run at a fraction of GEMM's rate: a lower bar. */
export const CONV_MIN_MACS = 1 << 18;
/** Below this many elements an element-wise (memory-bound) kernel stays on the caller. */
export const ELEMENTWISE_MIN = 1 << 17;

const id = (k: PoolKernel) => POOL_KERNELS.indexOf(k);


export function parallelKernels(k: Kernels, team: Team): Kernels {
  const threads = team.workers + 1;
  const { pool, memoryId } = team;
  // Reused: a split allocates nothing. `full` holds the whole call's arguments, `part` a sub-call's.
  const full: number[] = new Array<number>(24).fill(0);
  const part: number[] = new Array<number>(24).fill(0);

  /**
   * Runs `fn` over `total` units in up to `threads` parts of a multiple of `align` units; `full`
   * holds the whole call's arguments and `shift` derives each part's. Returns false (nothing run)
   * when the call does not split into at least two parts.
   */
  function fan(fn: (...a: number[]) => void, kernel: number, argc: number, total: number, align: number, shift: Shift, what: string): boolean {
    if (pool.broken) return false;
    const chunk = Math.ceil(total / align / threads) * align;
    const parts = Math.ceil(total / chunk);
    if (parts < 2) return false;
    pool.begin(parts - 1);
    for (let p = 1; p < parts; p++) {
      const s = p * chunk;
      shift(part, full, s, Math.min(chunk, total - s), p);
      pool.run(p - 1, memoryId, kernel, part, argc);
    }
    shift(part, full, 0, chunk, 0);
    const t0 = performance.now();
    fn.apply(undefined, part);
    pool.wait(performance.now() - t0, what);
    return true;
  }

  const gemm = k.gemm_f32;
  function parallelGemm(a: number, lda: number, bp: number, c: number, ldc: number, M: number, N: number, K: number,
    bias: number, biasKind: number, accumulate: number, act: number, alpha: number, beta: number, aPacked = 0): void {
    const byCols = N >= 2 * COL_ALIGN;
    const byRows = !byCols && M >= 2 * ROW_ALIGN;
    if (M * N * K >= GEMM_MIN_MACS && (byCols || byRows)) {
      full[0] = a; full[1] = lda; full[2] = bp; full[3] = c; full[4] = ldc; full[5] = M; full[6] = N; full[7] = K;
      full[8] = bias; full[9] = biasKind; full[10] = accumulate; full[11] = act; full[12] = alpha; full[13] = beta; full[14] = aPacked;
      if (byCols ? fan(gemm, GEMM, 15, N, COL_ALIGN, gemmCols, 'gemm_f32') : fan(gemm, GEMM, 15, M, ROW_ALIGN, gemmRows, 'gemm_f32')) return;
    }
    gemm(a, lda, bp, c, ldc, M, N, K, bias, biasKind, accumulate, act, alpha, beta, aPacked);
  }

  const unary = k.unary_f32;
  function parallelUnary(x: number, y: number, n: number, op: number, pa: number, pb: number): void {
    if (n >= ELEMENTWISE_MIN) {
      full[0] = x; full[1] = y; full[2] = n; full[3] = op; full[4] = pa; full[5] = pb;
      if (fan(unary, UNARY, 6, n, ELEM_ALIGN, unaryShift, 'unary_f32')) return;
    }
    unary(x, y, n, op, pa, pb);
  }

  const binary = k.binary_f32;
  function parallelBinary(a: number, b: number, y: number, op: number, d0: number, d1: number, d2: number, d3: number,
    as0: number, as1: number, as2: number, as3: number, bs0: number, bs1: number, bs2: number, bs3: number): void {
    if (d0 * d1 * d2 * d3 >= ELEMENTWISE_MIN) {
      full[0] = a; full[1] = b; full[2] = y; full[3] = op; full[4] = d0; full[5] = d1; full[6] = d2; full[7] = d3;
      full[8] = as0; full[9] = as1; full[10] = as2; full[11] = as3; full[12] = bs0; full[13] = bs1; full[14] = bs2; full[15] = bs3;
      // Only the outermost dimension longer than 1 can be cut: y is written contiguously.
      const dim = d0 > 1 ? 0 : d1 > 1 ? 1 : d2 > 1 ? 2 : 3;
      binaryDim = dim;
      if (fan(binary, BINARY, 16, full[4 + dim]!, dim === 3 ? ELEM_ALIGN : 1, binaryShift, 'binary_f32')) return;
    }
    binary(a, b, y, op, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3);
  }

  const dwconv = k.dwconv2d_f32;
  function parallelDwconv(x: number, w: number, bias: number, y: number, NC: number, C: number, H: number, W: number,
    OH: number, OW: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number,
    act: number, a: number, b: number): void {
    if (NC * OH * OW * kh * kw >= CONV_MIN_MACS) {
      full[0] = x; full[1] = w; full[2] = bias; full[3] = y; full[4] = NC; full[5] = C; full[6] = H; full[7] = W;
      full[8] = OH; full[9] = OW; full[10] = kh; full[11] = kw; full[12] = sh; full[13] = sw; full[14] = dh; full[15] = dw;
      full[16] = padTop; full[17] = padLeft; full[18] = act; full[19] = a; full[20] = b;
      // Planes of one image take filters from an offset; across images, parts are whole images.
      const ok = NC === C ? fan(dwconv, DWCONV, 21, NC, 1, dwPlanes, 'dwconv2d_f32')
        : NC >= 2 * C && NC % C === 0 && fan(dwconv, DWCONV, 21, NC, C, dwPlanes, 'dwconv2d_f32');
      if (ok) return;
    }
    dwconv(x, w, bias, y, NC, C, H, W, OH, OW, kh, kw, sh, sw, dh, dw, padTop, padLeft, act, a, b);
  }

  const direct = k.conv2d_direct_f32;
  function parallelDirect(x: number, w: number, bias: number, y: number, C: number, H: number, W: number, M: number,
    OH: number, OW: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number,
    act: number, a: number, b: number): void {
    if (M * C * kh * kw * OH * OW >= CONV_MIN_MACS) {
      full[0] = x; full[1] = w; full[2] = bias; full[3] = y; full[4] = C; full[5] = H; full[6] = W; full[7] = M;
      full[8] = OH; full[9] = OW; full[10] = kh; full[11] = kw; full[12] = sh; full[13] = sw; full[14] = dh; full[15] = dw;
      full[16] = padTop; full[17] = padLeft; full[18] = act; full[19] = a; full[20] = b;
      // The kernel computes 4 channels at once whatever M is, so fewer than 4 per part gains
      // nothing; one channel alone can be cut by rows instead.
      const ok = M === 1 ? fan(direct, DIRECT, 21, OH, 1, directRows, 'conv2d_direct_f32')
        : fan(direct, DIRECT, 21, M, 4, directChannels, 'conv2d_direct_f32');
      if (ok) return;
    }
    direct(x, w, bias, y, C, H, W, M, OH, OW, kh, kw, sh, sw, dh, dw, padTop, padLeft, act, a, b);
  }

  const im2col = k.im2col_packed_f32;
  function parallelIm2col(x: number, dst: number, C: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number,
    dh: number, dw: number, padTop: number, padLeft: number, OH: number, OW: number): void {
    if (C * kh * kw * OH * OW >= ELEMENTWISE_MIN) {
      full[0] = x; full[1] = dst; full[2] = C; full[3] = H; full[4] = W; full[5] = kh; full[6] = kw; full[7] = sh; full[8] = sw;
      full[9] = dh; full[10] = dw; full[11] = padTop; full[12] = padLeft; full[13] = OH; full[14] = OW;
      // Cuts at rows whose first column starts a panel: r·OW a multiple of 8.
      if (fan(im2col, IM2COL, 15, OH, 8 / gcd8(OW), im2colRows, 'im2col_packed_f32')) return;
    }
    im2col(x, dst, C, H, W, kh, kw, sh, sw, dh, dw, padTop, padLeft, OH, OW);
  }

  const im2colBatch = k.im2col_packed_batch_f32;
  function parallelIm2colBatch(x: number, dst: number, NB: number, xs: number, C: number, H: number, W: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number, OH: number, OW: number): void {
    if (NB * C * kh * kw * OH * OW >= ELEMENTWISE_MIN) {
      full[0] = x; full[1] = dst; full[2] = NB; full[3] = xs; full[4] = C; full[5] = H; full[6] = W; full[7] = kh; full[8] = kw;
      full[9] = sh; full[10] = sw; full[11] = dh; full[12] = dw; full[13] = padTop; full[14] = padLeft; full[15] = OH; full[16] = OW;
      if (fan(im2colBatch, IM2COL_BATCH, 17, NB, 8 / gcd8(OH * OW), im2colImages, 'im2col_packed_batch_f32')) return;
    }
    im2colBatch(x, dst, NB, xs, C, H, W, kh, kw, sh, sw, dh, dw, padTop, padLeft, OH, OW);
  }

  const affine = k.channel_affine_f32;
  function parallelAffine(x: number, y: number, scale: number, shift: number, N: number, C: number, HW: number, act: number, a: number, b: number): void {
    if (N * C * HW >= ELEMENTWISE_MIN) {
      full[0] = x; full[1] = y; full[2] = scale; full[3] = shift; full[4] = N; full[5] = C; full[6] = HW;
      full[7] = act; full[8] = a; full[9] = b;
      const ok = N === 1 ? fan(affine, AFFINE, 10, C, 1, affineChannels, 'channel_affine_f32')
        : fan(affine, AFFINE, 10, N, 1, affineImages, 'channel_affine_f32');
      if (ok) return;
    }
    affine(x, y, scale, shift, N, C, HW, act, a, b);
  }

  const maxpool = k.maxpool2d_f32;
  function parallelMaxpool(x: number, y: number, NC: number, H: number, W: number, OH: number, OW: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number): void {
    if (NC * OH * OW * kh * kw >= CONV_MIN_MACS) {
      full[0] = x; full[1] = y; full[2] = NC; full[3] = H; full[4] = W; full[5] = OH; full[6] = OW; full[7] = kh; full[8] = kw;
      full[9] = sh; full[10] = sw; full[11] = dh; full[12] = dw; full[13] = padTop; full[14] = padLeft;
      if (fan(maxpool, MAXPOOL, 15, NC, 1, poolPlanes, 'maxpool2d_f32')) return;
    }
    maxpool(x, y, NC, H, W, OH, OW, kh, kw, sh, sw, dh, dw, padTop, padLeft);
  }

  const avgpool = k.avgpool2d_f32;
  function parallelAvgpool(x: number, y: number, NC: number, H: number, W: number, OH: number, OW: number, kh: number, kw: number,
    sh: number, sw: number, padTop: number, padLeft: number, padBottom: number, padRight: number, countIncludePad: number): void {
    if (NC * OH * OW * kh * kw >= CONV_MIN_MACS) {
      full[0] = x; full[1] = y; full[2] = NC; full[3] = H; full[4] = W; full[5] = OH; full[6] = OW; full[7] = kh; full[8] = kw;
      full[9] = sh; full[10] = sw; full[11] = padTop; full[12] = padLeft; full[13] = padBottom; full[14] = padRight; full[15] = countIncludePad;
      if (fan(avgpool, AVGPOOL, 16, NC, 1, poolPlanes, 'avgpool2d_f32')) return;
    }
    avgpool(x, y, NC, H, W, OH, OW, kh, kw, sh, sw, padTop, padLeft, padBottom, padRight, countIncludePad);
  }

  const gavg = k.global_avgpool_f32, gmax = k.global_maxpool_f32;
  function parallelGlobalAvg(x: number, y: number, NC: number, HW: number): void {
    if (NC * HW >= ELEMENTWISE_MIN) {
      full[0] = x; full[1] = y; full[2] = NC; full[3] = HW;
      if (fan(gavg, GAVG, 4, NC, 1, globalPlanes, 'global_avgpool_f32')) return;
    }
    gavg(x, y, NC, HW);
  }
  function parallelGlobalMax(x: number, y: number, NC: number, HW: number): void {
    if (NC * HW >= ELEMENTWISE_MIN) {
      full[0] = x; full[1] = y; full[2] = NC; full[3] = HW;
      if (fan(gmax, GMAX, 4, NC, 1, globalPlanes, 'global_maxpool_f32')) return;
    }
    gmax(x, y, NC, HW);
  }

  const softmax = k.softmax_f32, logSoftmax = k.log_softmax_f32;
  function parallelSoftmax(x: number, y: number, rows: number, cols: number): void {
    if (rows * cols >= ELEMENTWISE_MIN / 4) { // exp per element: 4× the work of a copy
      full[0] = x; full[1] = y; full[2] = rows; full[3] = cols;
      if (fan(softmax, SOFTMAX, 4, rows, 1, rowsShift, 'softmax_f32')) return;
    }
    softmax(x, y, rows, cols);
  }
  function parallelLogSoftmax(x: number, y: number, rows: number, cols: number): void {
    if (rows * cols >= ELEMENTWISE_MIN / 4) {
      full[0] = x; full[1] = y; full[2] = rows; full[3] = cols;
      if (fan(logSoftmax, LOG_SOFTMAX, 4, rows, 1, rowsShift, 'log_softmax_f32')) return;
    }
    logSoftmax(x, y, rows, cols);
  }

  const layernorm = k.layernorm_f32;
  function parallelLayernorm(x: number, y: number, gamma: number, beta: number, rows: number, cols: number, eps: number): void {
    if (rows * cols >= ELEMENTWISE_MIN / 2) {
      full[0] = x; full[1] = y; full[2] = gamma; full[3] = beta; full[4] = rows; full[5] = cols; full[6] = eps;
      if (fan(layernorm, LAYERNORM, 7, rows, 1, layernormRows, 'layernorm_f32')) return;
    }
    layernorm(x, y, gamma, beta, rows, cols, eps);
  }
  const addLayernorm = k.add_layernorm_f32;
  function parallelAddLayernorm(a: number, b: number, y: number, gamma: number, beta: number, rows: number, cols: number, eps: number): void {
    if (rows * cols >= ELEMENTWISE_MIN / 2) {
      full[0] = a; full[1] = b; full[2] = y; full[3] = gamma; full[4] = beta; full[5] = rows; full[6] = cols; full[7] = eps;
      if (fan(addLayernorm, ADD_LAYERNORM, 8, rows, 1, addLayernormRows, 'add_layernorm_f32')) return;
    }
    addLayernorm(a, b, y, gamma, beta, rows, cols, eps);
  }

  const col2im = k.col2im_f32;
  function parallelCol2im(cols: number, y: number, M: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number,
    dh: number, dw: number, padTop: number, padLeft: number, OH: number, OW: number, bias: number): void {
    if (M * kh * kw * H * W >= ELEMENTWISE_MIN) {
      full[0] = cols; full[1] = y; full[2] = M; full[3] = H; full[4] = W; full[5] = kh; full[6] = kw; full[7] = sh; full[8] = sw;
      full[9] = dh; full[10] = dw; full[11] = padTop; full[12] = padLeft; full[13] = OH; full[14] = OW; full[15] = bias;
      // One output channel (a detector's 1-channel map): output rows instead, each part the same
      // scatter over a window of rows (y and the top pad shifted, fewer rows), in the same tap order.
      const ok = M === 1 ? fan(col2im, COL2IM, 16, OH, 1, col2imRows, 'col2im_f32')
        : fan(col2im, COL2IM, 16, M, 1, col2imChannels, 'col2im_f32');
      if (ok) return;
    }
    col2im(cols, y, M, H, W, kh, kw, sh, sw, dh, dw, padTop, padLeft, OH, OW, bias);
  }

  const reduce = k.reduce_f32;
  function parallelReduce(x: number, y: number, outer: number, R: number, inner: number, op: number, post: number, scale: number): void {
    if (outer * R * inner >= ELEMENTWISE_MIN) {
      full[0] = x; full[1] = y; full[2] = outer; full[3] = R; full[4] = inner; full[5] = op; full[6] = post; full[7] = scale;
      if (fan(reduce, REDUCE, 8, outer, 1, reduceOuter, 'reduce_f32')) return;
    }
    reduce(x, y, outer, R, inner, op, post, scale);
  }

  // attention_f32: between heads, batches or (one batch) blocks of 4 query rows; each part gets its
  // own block of the scratch, which the op sized for `threads` blocks (OpContext.threads).
  const attention = k.attention_f32;
  function parallelAttention(q: number, kk: number, v: number, mask: number, out: number, scratch: number, B: number, H: number,
    Sq: number, Sk: number, d: number, ldq: number, ldk: number, ldv: number, ldo: number, mb: number, mh: number, mq: number,
    mk: number, scale: number): void {
    if (2 * B * H * Sq * Sk * d >= GEMM_MIN_MACS) {
      full[0] = q; full[1] = kk; full[2] = v; full[3] = mask; full[4] = out; full[5] = scratch; full[6] = B; full[7] = H;
      full[8] = Sq; full[9] = Sk; full[10] = d; full[11] = ldq; full[12] = ldk; full[13] = ldv; full[14] = ldo;
      full[15] = mb; full[16] = mh; full[17] = mq; full[18] = mk; full[19] = scale;
      attentionBlock = k.attention_scratch_bytes(Sk, d);
      // The cut whose largest part is the smallest share of the call (12 heads at 5 threads: rows);
      // heads first on a tie, rows last (each part repacks its head's K and V).
      const sh = largestShare(H, threads), sb = largestShare(B, threads);
      const sr = B === 1 ? largestShare(Math.ceil(Sq / ATTENTION_ROWS), threads) : Infinity;
      const by = sh <= sb && sh <= sr ? 'heads' : sb <= sr ? 'batches' : 'rows';
      const ok = by === 'heads' ? fan(attention, ATTENTION, 20, H, 1, attentionHeads, 'attention_f32')
        : by === 'batches' ? fan(attention, ATTENTION, 20, B, 1, attentionBatches, 'attention_f32')
          : fan(attention, ATTENTION, 20, Sq, ATTENTION_ROWS, attentionRows, 'attention_f32');
      if (ok) return;
    }
    attention(q, kk, v, mask, out, scratch, B, H, Sq, Sk, d, ldq, ldk, ldv, ldo, mb, mh, mq, mk, scale);
  }

  const convGemm = k.conv2d_im2col_gemm_f32;
  function parallelConvGemm(x: number, w: number, bias: number, y: number, scratch: number, C: number, H: number, W: number,
    M: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number,
    OH: number, OW: number, ldy: number, act: number, a: number, b: number): void {
    const K = C * kh * kw;
    // Bands are sized for L2 (~1 Mi multiply-adds for a shallow stem or 1×1 conv), below GEMM's
    // bar; splitting both passes of a band costs one hand-off, not two.
    if (M * K * OH * OW >= CONV_MIN_MACS) {
      full[0] = x; full[1] = w; full[2] = bias; full[3] = y; full[4] = scratch; full[5] = C; full[6] = H; full[7] = W;
      full[8] = M; full[9] = kh; full[10] = kw; full[11] = sh; full[12] = sw; full[13] = dh; full[14] = dw; full[15] = padTop;
      full[16] = padLeft; full[17] = OH; full[18] = OW; full[19] = ldy; full[20] = act; full[21] = a; full[22] = b;
      if (fan(convGemm, CONV_GEMM, 23, OH, 8 / gcd8(OW), convGemmRows, 'conv2d_im2col_gemm_f32')) return;
      // Too few rows to cut at whole panels (a small late layer): each pass splits on its own
      // (the GEMM along N or M), exactly as the two calls this one stands for.
      parallelIm2col(x, scratch, C, H, W, kh, kw, sh, sw, dh, dw, padTop, padLeft, OH, OW);
      parallelGemm(w, K, scratch, y, ldy, M, OH * OW, K, bias, bias ? 1 : 0, 0, act, a, b);
      return;
    }
    convGemm(x, w, bias, y, scratch, C, H, W, M, kh, kw, sh, sw, dh, dw, padTop, padLeft, OH, OW, ldy, act, a, b);
  }

  const packB = k.pack_b_f32;
  function parallelPackB(src: number, dst: number, K: number, N: number, ldb: number, transB: number): void {
    if (K * N >= ELEMENTWISE_MIN) {
      full[0] = src; full[1] = dst; full[2] = K; full[3] = N; full[4] = ldb; full[5] = transB;
      if (fan(packB, PACK_B, 6, N, 8, packBPanels, 'pack_b_f32')) return;
    }
    packB(src, dst, K, N, ldb, transB);
  }

  const resize = k.resize_nearest_32;
  function parallelResize(x: number, y: number, NC: number, H: number, W: number, OH: number, OW: number, rows: number, cols: number): void {
    if (NC * OH * OW >= ELEMENTWISE_MIN) {
      full[0] = x; full[1] = y; full[2] = NC; full[3] = H; full[4] = W; full[5] = OH; full[6] = OW; full[7] = rows; full[8] = cols;
      const ok = NC === 1 ? fan(resize, RESIZE, 9, OH, 1, resizeRows, 'resize_nearest_32')
        : fan(resize, RESIZE, 9, NC, 1, resizePlanes, 'resize_nearest_32');
      if (ok) return;
    }
    resize(x, y, NC, H, W, OH, OW, rows, cols);
  }

  return {
    ...k, col2im_f32: parallelCol2im, reduce_f32: parallelReduce, gemm_f32: parallelGemm, unary_f32: parallelUnary, binary_f32: parallelBinary, dwconv2d_f32: parallelDwconv,
    conv2d_direct_f32: parallelDirect, im2col_packed_f32: parallelIm2col, im2col_packed_batch_f32: parallelIm2colBatch,
    channel_affine_f32: parallelAffine, maxpool2d_f32: parallelMaxpool, avgpool2d_f32: parallelAvgpool,
    global_avgpool_f32: parallelGlobalAvg, global_maxpool_f32: parallelGlobalMax, softmax_f32: parallelSoftmax,
    log_softmax_f32: parallelLogSoftmax, layernorm_f32: parallelLayernorm, add_layernorm_f32: parallelAddLayernorm,
    attention_f32: parallelAttention,
    conv2d_im2col_gemm_f32: parallelConvGemm, pack_b_f32: parallelPackB, resize_nearest_32: parallelResize,
    ...parallelInt8(k, fan, full, threads),
    ...parallelQ4(k, fan, full),
    ...parallelCachedAttention(k, fan, full),
    ...parallelGemvNT(k, fan, full),
  };
}

const GEMM = id('gemm_f32'), UNARY = id('unary_f32'), BINARY = id('binary_f32'), DWCONV = id('dwconv2d_f32');
const DIRECT = id('conv2d_direct_f32'), IM2COL = id('im2col_packed_f32'), IM2COL_BATCH = id('im2col_packed_batch_f32');
const AFFINE = id('channel_affine_f32'), MAXPOOL = id('maxpool2d_f32'), AVGPOOL = id('avgpool2d_f32');
const GAVG = id('global_avgpool_f32'), GMAX = id('global_maxpool_f32'), SOFTMAX = id('softmax_f32');
const LOG_SOFTMAX = id('log_softmax_f32'), LAYERNORM = id('layernorm_f32'), ADD_LAYERNORM = id('add_layernorm_f32'), COL2IM = id('col2im_f32'), REDUCE = id('reduce_f32');
const ATTENTION = id('attention_f32');

const CONV_GEMM = id('conv2d_im2col_gemm_f32'), PACK_B = id('pack_b_f32'), RESIZE = id('resize_nearest_32');

// pack_b_f32(src, dst, K, N, ldb, transB): columns [s, s + n), s a multiple of 8, start panel s/8
// at float s·K; they are src's columns (transB = 0) or rows (transB = 1) from s.
const packBPanels: Shift = (d, f, s, n) => {
  copy(d, f);
  d[0] = f[0]! + (f[5] ? s * f[4]! : s) * 4; d[1] = f[1]! + s * f[2]! * 4; d[3] = n;
};
// resize_nearest_32(x, y, NC, H, W, OH, OW, rows, cols): planes, or one plane's output rows (the
// row table from row s; a part's first row is gathered where the whole call might copy the row
// above, which holds the same values).
const resizePlanes: Shift = (d, f, s, n) => {
  copy(d, f);
  d[0] = f[0]! + s * f[3]! * f[4]! * 4; d[1] = f[1]! + s * f[5]! * f[6]! * 4; d[2] = n;
};
const resizeRows: Shift = (d, f, s, n) => {
  copy(d, f);
  d[1] = f[1]! + s * f[6]! * 4; d[5] = n; d[7] = f[7]! + s * 4;
};

// conv2d_im2col_gemm_f32(x, w, bias, y, scratch, C, H, W, M, kh, kw, sh, sw, dh, dw, padTop, padLeft,
// OH, OW, ldy, …): output rows [s, s + n); column s·OW starts a panel, at float s·OW·K of scratch.
const convGemmRows: Shift = (d, f, s, n) => {
  copy(d, f);
  const K = f[5]! * f[9]! * f[10]!;
  d[3] = f[3]! + s * f[18]! * 4; d[4] = f[4]! + s * f[18]! * K * 4; d[15] = f[15]! - s * f[11]!; d[17] = n;
};

/** 8 / gcd(n, 8): the smallest count of n-column runs that fills whole 8-column panels. */
function gcd8(n: number): number {
  return n % 8 === 0 ? 8 : n % 4 === 0 ? 4 : n % 2 === 0 ? 2 : 1;
}

// gemm_f32(a, lda, bp, c, ldc, M, N, K, bias, biasKind, …): N-panels of B (K floats per column),
// or rows of A and C; a bias follows its dimension.
const gemmCols: Shift = (d, f, s, n) => {
  copy(d, f);
  d[2] = f[2]! + s * f[7]! * 4; d[3] = f[3]! + s * 4; d[6] = n;
  if (f[8] && f[9] === 2) d[8] = f[8]! + s * 4;
};
const gemmRows: Shift = (d, f, s, n) => {
  copy(d, f);
  d[0] = f[0]! + s * f[1]! * 4; d[3] = f[3]! + s * f[4]! * 4; d[5] = n;
  if (f[8] && f[9] === 1) d[8] = f[8]! + s * 4;
};
// unary_f32(x, y, n, …)
const unaryShift: Shift = (d, f, s, n) => { copy(d, f); d[0] = f[0]! + s * 4; d[1] = f[1]! + s * 4; d[2] = n; };

// binary_f32(a, b, y, op, d0..d3, as0..as3, bs0..bs3), cut along dimension `binaryDim`; the
// dimensions before it are 1, so y advances by the product of those after it.
let binaryDim = 0;
const binaryShift: Shift = (d, f, s, n) => {
  copy(d, f);
  const dim = binaryDim;
  let inner = 1;
  for (let i = dim + 1; i < 4; i++) inner *= f[4 + i]!;
  d[0] = f[0]! + s * f[8 + dim]! * 4; d[1] = f[1]! + s * f[12 + dim]! * 4; d[2] = f[2]! + s * inner * 4;
  d[4 + dim] = n;
};

// dwconv2d_f32(x, w, bias, y, NC, C, H, W, OH, OW, kh, kw, …): planes [s, s + n). Within one image
// the filters start at plane s (C becomes the part's plane count, so p % C = p); across images s
// is a multiple of C and the filters are unchanged.
const dwPlanes: Shift = (d, f, s, n) => {
  copy(d, f);
  const C = f[5]!, H = f[6]!, W = f[7]!, OH = f[8]!, OW = f[9]!, kk = f[10]! * f[11]!;
  d[0] = f[0]! + s * H * W * 4; d[3] = f[3]! + s * OH * OW * 4; d[4] = n;
  const c0 = s % C;
  if (f[4] === C) { d[1] = f[1]! + c0 * kk * 4; if (f[2]) d[2] = f[2]! + c0 * 4; d[5] = n; }
};

// conv2d_direct_f32(x, w, bias, y, C, H, W, M, OH, OW, kh, kw, sh, sw, dh, dw, padTop, …)
const directChannels: Shift = (d, f, s, n) => {
  copy(d, f);
  const filter = f[4]! * f[10]! * f[11]!;
  d[1] = f[1]! + s * filter * 4; if (f[2]) d[2] = f[2]! + s * 4; d[3] = f[3]! + s * f[8]! * f[9]! * 4; d[7] = n;
};
const directRows: Shift = (d, f, s, n) => {
  copy(d, f);
  d[3] = f[3]! + s * f[9]! * 4; d[8] = n; d[16] = f[16]! - s * f[12]!;
};

// im2col_packed_f32(x, dst, C, H, W, kh, kw, sh, sw, dh, dw, padTop, padLeft, OH, OW): output rows;
// column s·OW starts a panel, at float s·OW·K.
const im2colRows: Shift = (d, f, s, n) => {
  copy(d, f);
  const K = f[2]! * f[5]! * f[6]!;
  d[1] = f[1]! + s * f[14]! * K * 4; d[11] = f[11]! - s * f[7]!; d[13] = n;
};
// im2col_packed_batch_f32(x, dst, NB, xs, C, H, W, kh, kw, …, OH, OW): images.
const im2colImages: Shift = (d, f, s, n) => {
  copy(d, f);
  const K = f[4]! * f[7]! * f[8]!, P = f[15]! * f[16]!;
  d[0] = f[0]! + s * f[3]! * 4; d[1] = f[1]! + s * P * K * 4; d[2] = n;
};

// channel_affine_f32(x, y, scale, shift, N, C, HW, …)
const affineChannels: Shift = (d, f, s, n) => {
  copy(d, f);
  const HW = f[6]!;
  d[0] = f[0]! + s * HW * 4; d[1] = f[1]! + s * HW * 4; d[2] = f[2]! + s * 4; d[3] = f[3]! + s * 4; d[5] = n;
};
const affineImages: Shift = (d, f, s, n) => {
  copy(d, f);
  const plane = f[5]! * f[6]!;
  d[0] = f[0]! + s * plane * 4; d[1] = f[1]! + s * plane * 4; d[4] = n;
};

// maxpool2d_f32 / avgpool2d_f32(x, y, NC, H, W, OH, OW, …): planes.
const poolPlanes: Shift = (d, f, s, n) => {
  copy(d, f);
  d[0] = f[0]! + s * f[3]! * f[4]! * 4; d[1] = f[1]! + s * f[5]! * f[6]! * 4; d[2] = n;
};
// global pools (x, y, NC, HW): planes, one output each.
const globalPlanes: Shift = (d, f, s, n) => {
  copy(d, f);
  d[0] = f[0]! + s * f[3]! * 4; d[1] = f[1]! + s * 4; d[2] = n;
};
// softmax / log_softmax (x, y, rows, cols)
const rowsShift: Shift = (d, f, s, n) => {
  copy(d, f);
  d[0] = f[0]! + s * f[3]! * 4; d[1] = f[1]! + s * f[3]! * 4; d[2] = n;
};
// col2im_f32(cols, y, M, H, W, kh, kw, …, OH, OW, bias): output channels, kh·kw rows of cols each.
const col2imChannels: Shift = (d, f, s, n) => {
  copy(d, f);
  d[0] = f[0]! + s * f[5]! * f[6]! * f[3]! * f[4]! * 4; d[1] = f[1]! + s * f[13]! * f[14]! * 4; d[2] = n;
  if (f[15]) d[15] = f[15]! + s * 4;
};
const col2imRows: Shift = (d, f, s, n) => {
  copy(d, f);
  d[1] = f[1]! + s * f[14]! * 4; d[11] = f[11]! + s; d[13] = n;
};
// reduce_f32(x, y, outer, R, inner, …): outer slices.
const reduceOuter: Shift = (d, f, s, n) => {
  copy(d, f);
  d[0] = f[0]! + s * f[3]! * f[4]! * 4; d[1] = f[1]! + s * f[4]! * 4; d[2] = n;
};
// layernorm_f32(x, y, gamma, beta, rows, cols, eps)
const layernormRows: Shift = (d, f, s, n) => {
  copy(d, f);
  d[0] = f[0]! + s * f[5]! * 4; d[1] = f[1]! + s * f[5]! * 4; d[4] = n;
};
// add_layernorm_f32(a, b, y, gamma, beta, rows, cols, eps)
const addLayernormRows: Shift = (d, f, s, n) => {
  copy(d, f);
  const o = s * f[6]! * 4;
  d[0] = f[0]! + o; d[1] = f[1]! + o; d[2] = f[2]! + o; d[5] = n;
};

// attention_f32(q, k, v, mask, out, scratch, B, H, Sq, Sk, d, ldq, ldk, ldv, ldo, mb, mh, mq, mk, scale):
// every output row depends only on its own query row, batch and head, and the kernel computes it
// the same way wherever the call starts, so each part is the same call over a sub-range. Part p
// uses scratch block p (attentionBlock bytes, attention_scratch_bytes of the call).
/** The kernel's query-row block: row splits fall between blocks, so no part has an extra partial one. */
const ATTENTION_ROWS = 4;
let attentionBlock = 0;
const attentionScratch = (d: number[], f: number[], p: number) => { d[5] = f[5]! + p * attentionBlock; };
const attentionHeads: Shift = (d, f, s, n, p) => {
  copy(d, f);
  const col = s * f[10]! * 4; // head s starts s·d columns in
  d[0] = f[0]! + col; d[1] = f[1]! + col; d[2] = f[2]! + col; d[4] = f[4]! + col;
  if (f[3]) d[3] = f[3]! + s * f[16]! * 4;
  d[7] = n;
  attentionScratch(d, f, p);
};
const attentionBatches: Shift = (d, f, s, n, p) => {
  copy(d, f);
  const Sq = f[8]!, Sk = f[9]!;
  d[0] = f[0]! + s * Sq * f[11]! * 4; d[1] = f[1]! + s * Sk * f[12]! * 4; d[2] = f[2]! + s * Sk * f[13]! * 4;
  d[4] = f[4]! + s * Sq * f[14]! * 4;
  if (f[3]) d[3] = f[3]! + s * f[15]! * 4;
  d[6] = n;
  attentionScratch(d, f, p);
};
// One batch only: with B > 1 the kernel steps from batch to batch by Sq rows.
const attentionRows: Shift = (d, f, s, n, p) => {
  copy(d, f);
  d[0] = f[0]! + s * f[11]! * 4; d[4] = f[4]! + s * f[14]! * 4;
  if (f[3]) d[3] = f[3]! + s * f[17]! * 4;
  d[8] = n;
  attentionScratch(d, f, p);
};
