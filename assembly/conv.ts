// Convolution lowering: im2col written straight into the packed-B panel format, so a conv is one
// gemm_f32(W[Co×K], panels, …) with per-row bias and a fused activation — no unpacked K×N
// matrix is ever materialised and no second packing pass runs.
import { gemm_f32, pack_b_f32 } from './gemm';

// Destination cursor inside one packed row k: byte offset q from panel 0's row k. A panel row is
// 32 bytes; when q reaches a 32-byte boundary the next column lives in the next panel, `jump`
// (= K·32 − 32) bytes further. Because K·32 is a multiple of 32, q & 31 is always lane·4.
// @ts-ignore: decorator
@inline function adv(q: usize, bytes: usize, jump: usize): usize {
  q += bytes;
  return (q & 31) == 0 ? q + jump : q;
}

// Writes n zero columns starting at cursor q; 4 at a time once q is 16-byte aligned.
// @ts-ignore: decorator
@inline function zeros(row: usize, q: usize, n: i32, jump: usize): usize {
  while (n > 0 && (q & 15) != 0) { store<f32>(row + q, 0); q = adv(q, 4, jump); n--; }
  const z = f32x4.splat(0);
  while (n >= 4) { v128.store(row + q, z); q = adv(q, 16, jump); n -= 4; }
  while (n > 0) { store<f32>(row + q, 0); q = adv(q, 4, jump); n--; }
  return q;
}

// Row k = (c·kh + i)·kw + j, column n = oh·OW + ow; panel p = n/8 holds float
// [p·K·8 + k·8 + n%8]. Out-of-image taps (padding) and columns past N are written as 0.
// Stride 1 and 2 copy 4 columns per v128 (stride 2 de-interleaves two loads with a shuffle and
// may read 4 bytes past the last tap it uses — within the contract's 16-byte over-read).
export function im2col_packed_f32(x: usize, dst: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32, OH: i32, OW: i32): void {
  // 1×1, stride 1, no padding: the im2col matrix is x itself (C × H·W), or for a band of rows
  // (padTop = −first row) a slice of its columns; just pack it (the same floats, zero-padded alike).
  if (kh == 1 && kw == 1 && sh == 1 && sw == 1 && padLeft == 0 && OW == W && padTop <= 0 && OH - padTop <= H) {
    pack_b_f32(x + ((<usize>(-padTop) * <usize>W) << 2), dst, C, OH * OW, H * W, 0);
    return;
  }
  im2col_packed_batch_f32(x, dst, 1, 0, C, H, W, kh, kw, sh, sw, dh, dw, padTop, padLeft, OH, OW);
}

// One image's convolution over OH output rows: im2col into `scratch` (packed panels, K = C·kh·kw)
// then y = act(w·panels + bias) with per-row bias (0 = none); y holds M rows of OH·OW outputs,
// ldy elements apart. A band of rows is the same call with y, OH and padTop shifted (the window
// origin moves down; rows are still clipped against the whole image). One call per band keeps
// its panels in L2 between the two passes, and lets a thread run both passes over its own rows.
export function conv2d_im2col_gemm_f32(x: usize, w: usize, bias: usize, y: usize, scratch: usize,
  C: i32, H: i32, W: i32, M: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32,
  padTop: i32, padLeft: i32, OH: i32, OW: i32, ldy: i32, act: i32, alpha: f32, beta: f32): void {
  const K = C * kh * kw;
  im2col_packed_f32(x, scratch, C, H, W, kh, kw, sh, sw, dh, dw, padTop, padLeft, OH, OW);
  gemm_f32(w, K, scratch, y, ldy, M, OH * OW, K, bias, bias != 0 ? 1 : 0, 0, act, alpha, beta, 0);
}

// im2col of NB images side by side: column n·OH·OW + oh·OW + ow, so one GEMM covers the batch
// (small late layers fill whole 8-wide panels instead of one ragged panel per image). Image b
// starts xs elements after image b−1 (xs = C_total·H·W lets a channel group be picked out).
export function im2col_packed_batch_f32(x: usize, dst: usize, NB: i32, xs: i32, C: i32, H: i32, W: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32, OH: i32, OW: i32): void {
  const K = C * kh * kw;
  const N = OH * OW;
  if (K <= 0 || N <= 0 || NB <= 0) return;
  const jump = (<usize>K << 5) - 32;
  const sB = <usize>sw << 2;
  const imageB = <usize>xs << 2;
  let k = 0;
  for (let c = 0; c < C; c++) {
    const xc0 = x + ((<usize>c * <usize>H * <usize>W) << 2);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = dst + (<usize>k << 5);
        let q: usize = 0;
        const iw0 = j * dw - padLeft;
        // Output columns whose tap lands inside the input row: ow ∈ [owLo, owHi).
        let owLo = 0;
        if (iw0 < 0) owLo = (-iw0 + sw - 1) / sw;
        let owHi = OW;
        if (iw0 + (OW - 1) * sw >= W) owHi = W - 1 - iw0 < 0 ? 0 : (W - 1 - iw0) / sw + 1;
        if (owLo > owHi) owLo = owHi;
        for (let b = 0; b < NB; b++) {
          const xc = xc0 + <usize>b * imageB;
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * sh - padTop + i * dh;
            if (<u32>ih >= <u32>H) { q = zeros(row, q, OW, jump); continue; }
            q = zeros(row, q, owLo, jump);
            let s = xc + ((<usize>ih * <usize>W + <usize>(iw0 + owLo * sw)) << 2);
            let n = owHi - owLo;
            while (n > 0 && (q & 15) != 0) { store<f32>(row + q, load<f32>(s)); s += sB; q = adv(q, 4, jump); n--; }
            if (sw == 1) {
              while (n >= 4) { v128.store(row + q, v128.load(s)); s += 16; q = adv(q, 16, jump); n -= 4; }
            } else if (sw == 2) {
              while (n >= 4) {
                v128.store(row + q, i32x4.shuffle(v128.load(s), v128.load(s, 16), 0, 2, 4, 6));
                s += 32; q = adv(q, 16, jump); n -= 4;
              }
            }
            while (n > 0) { store<f32>(row + q, load<f32>(s)); s += sB; q = adv(q, 4, jump); n--; }
            q = zeros(row, q, OW - owHi, jump);
          }
        }
        // Zero the padding lanes of the last (partial) panel.
        while ((q & 31) != 0) { store<f32>(row + q, 0); q += 4; }
        k++;
      }
    }
  }
}

// The batched conv's GEMM writes [M][NB][P]; NCHW wants [NB][M][P]: copy each P-run into place.
// Image b of the destination starts ldd elements after image b−1 (ldd = M_total·P for groups).
export function unbatch_rows_f32(src: usize, dst: usize, NB: i32, M: i32, P: i32, ldd: i32): void {
  const runB = <usize>P << 2;
  let s = src;
  for (let m = 0; m < M; m++) {
    let d = dst + <usize>m * runB;
    for (let b = 0; b < NB; b++) {
      memory.copy(d, s, runB);
      s += runB;
      d += <usize>ldd << 2;
    }
  }
}
