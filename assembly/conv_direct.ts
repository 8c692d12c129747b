// Direct convolution for layers with few output channels (M ≤ 16) over large planes, where
// im2col would write K·OH·OW floats to feed a GEMM with only M rows: here each input tap is loaded
// once per 4 output channels and 8 output columns (8 accumulators), straight from NCHW. Interior
// columns are vectorised when the horizontal stride is 1 or 2; border columns are scalar.
import { act_f32x4, lane0, madd } from './activation';

// @ts-ignore: decorator
@inline function taps4(s: usize, sw: i32): v128 {
  return sw == 1 ? v128.load(s) : i32x4.shuffle(v128.load(s), v128.load(s, 16), 0, 2, 4, 6);
}

// One output (channel filter wm, window origin h0, w0), taps clipped to the input.
function directAt(x: usize, wm: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, h0: i32, iLo: i32, iHi: i32, dh: i32,
  w0: i32, dw: i32, init: f32): f32 {
  let jLo = 0;
  if (w0 < 0) jLo = (-w0 + dw - 1) / dw;
  let jHi = kw;
  if (w0 + (kw - 1) * dw >= W) jHi = W - 1 - w0 < 0 ? 0 : (W - 1 - w0) / dw + 1;
  let acc = init;
  const planeB = (<usize>H * <usize>W) << 2;
  for (let c = 0; c < C; c++) {
    const xc = x + <usize>c * planeB;
    const wc = wm + ((<usize>(c * kh * kw)) << 2);
    for (let i = iLo; i < iHi; i++) {
      const s = xc + ((<usize>(h0 + i * dh) * <usize>W + <usize>w0) << 2);
      const wr = wc + ((<usize>(i * kw)) << 2);
      for (let j = jLo; j < jHi; j++) acc += load<f32>(s + (<usize>(j * dw) << 2)) * load<f32>(wr + (<usize>j << 2));
    }
  }
  return acc;
}

// One image: x C×H×W, w M×C×kh×kw, bias M floats or 0, y M×OH×OW.
export function conv2d_direct_f32(x: usize, w: usize, bias: usize, y: usize, C: i32, H: i32, W: i32, M: i32,
  OH: i32, OW: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32,
  act: i32, a: f32, b: f32): void {
  const simd = sw == 1 || sw == 2;
  const lo = min((padLeft + sw - 1) / sw, OW);
  const last = W - 1 - (kw - 1) * dw + padLeft;
  const hi = max(lo, last < 0 ? 0 : min(last / sw + 1, OW));
  const planeB = (<usize>H * <usize>W) << 2;
  const rowB = <usize>W << 2;
  const outPlaneB = (<usize>OH * <usize>OW) << 2;
  const filterB = (<usize>(C * kh * kw)) << 2;
  const dwB = <usize>dw << 2;
  const sw4 = <usize>(4 * sw) << 2;
  for (let m0 = 0; m0 < M; m0 += 4) {
    const mb = min(4, M - m0);
    // Filters of the (up to) 4 channels; a short block repeats its last channel and drops it.
    const w0p = w + <usize>m0 * filterB;
    const w1p = w + <usize>(m0 + min(1, mb - 1)) * filterB;
    const w2p = w + <usize>(m0 + min(2, mb - 1)) * filterB;
    const w3p = w + <usize>(m0 + min(3, mb - 1)) * filterB;
    const bz = bias != 0;
    const b0 = f32x4.splat(bz ? load<f32>(bias + (<usize>m0 << 2)) : 0);
    const b1 = f32x4.splat(bz ? load<f32>(bias + (<usize>(m0 + min(1, mb - 1)) << 2)) : 0);
    const b2 = f32x4.splat(bz ? load<f32>(bias + (<usize>(m0 + min(2, mb - 1)) << 2)) : 0);
    const b3 = f32x4.splat(bz ? load<f32>(bias + (<usize>(m0 + min(3, mb - 1)) << 2)) : 0);
    const y0 = y + <usize>m0 * outPlaneB;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - padTop;
      let iLo = 0;
      if (h0 < 0) iLo = (-h0 + dh - 1) / dh;
      let iHi = kh;
      if (h0 + (kh - 1) * dh >= H) iHi = H - 1 - h0 < 0 ? 0 : (H - 1 - h0) / dh + 1;
      if (iHi < iLo) iHi = iLo;
      const yrow = y0 + ((<usize>oh * <usize>OW) << 2);
      let ow = lo;
      if (simd) {
        for (; ow + 8 <= hi; ow += 8) {
          let a00 = b0; let a01 = b0; let a10 = b1; let a11 = b1;
          let a20 = b2; let a21 = b2; let a30 = b3; let a31 = b3;
          const xo = (<usize>(h0 + iLo * dh) * rowB) + (<usize>(ow * sw - padLeft) << 2);
          for (let c = 0; c < C; c++) {
            let r = x + <usize>c * planeB + xo;
            let wo = (<usize>(c * kh + iLo) * <usize>kw) << 2;
            for (let i = iLo; i < iHi; i++) {
              let s = r;
              for (let j = 0; j < kw; j++) {
                const x0 = taps4(s, sw); const x1 = taps4(s + sw4, sw);
                let wv = v128.load32_splat(w0p + wo); a00 = madd(x0, wv, a00); a01 = madd(x1, wv, a01);
                wv = v128.load32_splat(w1p + wo); a10 = madd(x0, wv, a10); a11 = madd(x1, wv, a11);
                wv = v128.load32_splat(w2p + wo); a20 = madd(x0, wv, a20); a21 = madd(x1, wv, a21);
                wv = v128.load32_splat(w3p + wo); a30 = madd(x0, wv, a30); a31 = madd(x1, wv, a31);
                s += dwB; wo += 4;
              }
              r += <usize>dh * rowB;
            }
          }
          const d = yrow + (<usize>ow << 2);
          v128.store(d, act_f32x4(a00, act, a, b)); v128.store(d, act_f32x4(a01, act, a, b), 16);
          if (mb > 1) { v128.store(d + outPlaneB, act_f32x4(a10, act, a, b)); v128.store(d + outPlaneB, act_f32x4(a11, act, a, b), 16); }
          if (mb > 2) { v128.store(d + 2 * outPlaneB, act_f32x4(a20, act, a, b)); v128.store(d + 2 * outPlaneB, act_f32x4(a21, act, a, b), 16); }
          if (mb > 3) { v128.store(d + 3 * outPlaneB, act_f32x4(a30, act, a, b)); v128.store(d + 3 * outPlaneB, act_f32x4(a31, act, a, b), 16); }
        }
      }
      // Remaining columns (borders, tails, or every column when the stride is not 1 or 2).
      for (let ow2 = 0; ow2 < OW; ow2++) {
        if (ow2 == lo) ow2 = ow; // [lo, ow) was done above
        if (ow2 >= OW) break;
        const wpos = ow2 * sw - padLeft;
        for (let mi = 0; mi < mb; mi++) {
          const bv: f32 = bz ? load<f32>(bias + (<usize>(m0 + mi) << 2)) : 0;
          const v = directAt(x, w + <usize>(m0 + mi) * filterB, C, H, W, kh, kw, h0, iLo, iHi, dh, wpos, dw, bv);
          store<f32>(yrow + <usize>mi * outPlaneB + (<usize>ow2 << 2), lane0(act_f32x4(f32x4.splat(v), act, a, b)));
        }
      }
    }
  }
}
