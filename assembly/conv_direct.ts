// Direct convolution for layers with few output channels (the runtime: M ≤ 8) over large planes, where
// im2col would write K·OH·OW floats to feed a GEMM with only M rows: here each input tap is loaded
// once per 4 output channels and 8 output columns (8 accumulators, the GEMM's 4×8 register tile),
// straight from NCHW. Output rows are the outer loop, channel blocks inside, so the C·kh input rows
// an output row needs are read again while recent.
//
// Blocks of 8 columns whose windows lie inside the input run without checks; a 3×3, stride-1,
// undilated window is unrolled so every tap is an immediate offset. Border and tail blocks run
// the same SIMD loop with the out-of-image lanes masked to zero (their loads may touch
// neighbouring rows: masked, and never below address 0 or more than 16 bytes past the end of x —
// else the block falls back to scalar code, as do strides other than 1 and 2).
import { act_f32x4, lane0, madd } from './activation';
import { conv_act_f32x4 } from './conv_act';
import { storeN } from './gemm_epilogue';
import { firstTap, endTap } from './window';

// @ts-ignore: decorator
@inline function taps4(s: usize, sw: i32): v128 {
  return sw == 1 ? v128.load(s) : i32x4.shuffle(v128.load(s), v128.load(s, 16), 0, 2, 4, 6);
}

// Lanes whose input column (in cols) lies in [0, W): all-ones, else zero.
// @ts-ignore: decorator
@inline function inRow(cols: v128, W: v128): v128 {
  return v128.and(i32x4.ge_s(cols, i32x4.splat(0)), i32x4.lt_s(cols, W));
}

// One output (channel filter wm, window origin h0, w0), taps clipped to the input.
function directAt(x: usize, wm: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, h0: i32, iLo: i32, iHi: i32, dh: i32,
  w0: i32, dw: i32, init: f32): f32 {
  let jLo = firstTap(w0, dw);
  let jHi = endTap(w0, kw, dw, W);
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

// @ts-ignore: decorator
@inline function store8(d: usize, v0: v128, v1: v128, n: i32, act: i32, a: f32, b: f32): void {
  if (n == 8) { v128.store(d, conv_act_f32x4(v0, act, a, b)); v128.store(d, conv_act_f32x4(v1, act, a, b), 16); return; }
  storeN(d, conv_act_f32x4(v0, act, a, b), n);
  storeN(d + 16, conv_act_f32x4(v1, act, a, b), n - 4);
}

// One image: x C×H×W, w M×C×kh×kw, bias M floats or 0, y M×OH×OW.
export function conv2d_direct_f32(x: usize, w: usize, bias: usize, y: usize, C: i32, H: i32, W: i32, M: i32,
  OH: i32, OW: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32,
  act: i32, a: f32, b: f32): void {
  const simd = sw == 1 || sw == 2;
  const fast3 = sw == 1 && dw == 1 && kw == 3;
  const lo = min((padLeft + sw - 1) / sw, OW);
  const last = W - 1 - (kw - 1) * dw + padLeft;
  const hi = max(lo, last < 0 ? 0 : min(last / sw + 1, OW));
  const planeB = (<usize>H * <usize>W) << 2;
  const rowB = <usize>W << 2;
  const outPlaneB = (<usize>OH * <usize>OW) << 2;
  const filterB = (<usize>(C * kh * kw)) << 2;
  const dwB = <usize>dw << 2;
  const sw4 = <usize>(4 * sw) << 2;
  const xEnd = <i64>x + <i64>C * <i64>planeB + 16; // highest byte a load may end at
  const laneCols = i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(sw));
  const Wv = i32x4.splat(W);
  const bz = bias != 0;
  for (let oh = 0; oh < OH; oh++) {
    const h0 = oh * sh - padTop;
    let iLo = firstTap(h0, dh);
    let iHi = endTap(h0, kh, dh, H);
    if (iHi < iLo) iHi = iLo;
    const xRow = x + <usize>(h0 + iLo * dh) * rowB; // first window row used, channel 0
    const wRow = (<usize>(iLo * kw)) << 2;          // its filter offset
    const rStep = <usize>dh * rowB;
    for (let m0 = 0; m0 < M; m0 += 4) {
      const mb = min(4, M - m0);
      // Filters of the (up to) 4 channels; a short block repeats its last channel and drops it.
      const w0p = w + <usize>m0 * filterB + wRow;
      const w1p = w + <usize>(m0 + min(1, mb - 1)) * filterB + wRow;
      const w2p = w + <usize>(m0 + min(2, mb - 1)) * filterB + wRow;
      const w3p = w + <usize>(m0 + min(3, mb - 1)) * filterB + wRow;
      const b0 = f32x4.splat(bz ? load<f32>(bias + (<usize>m0 << 2)) : 0);
      const b1 = f32x4.splat(bz ? load<f32>(bias + (<usize>(m0 + min(1, mb - 1)) << 2)) : 0);
      const b2 = f32x4.splat(bz ? load<f32>(bias + (<usize>(m0 + min(2, mb - 1)) << 2)) : 0);
      const b3 = f32x4.splat(bz ? load<f32>(bias + (<usize>(m0 + min(3, mb - 1)) << 2)) : 0);
      const yrow = y + <usize>m0 * outPlaneB + ((<usize>oh * <usize>OW) << 2);
      // A lone channel (M = 1, or the last of M = 5, 9, …) would waste 3/4 of a 4-channel block:
      // it runs 32 interior columns per step instead (the last step ending at hi), and the
      // 8-column loop below skips the blocks those covered.
      const single = mb == 1 && simd && hi - lo >= 32;
      if (single) {
        const sw16 = sw4 << 2;
        for (let ow = lo; ; ow += 32) {
          if (ow + 32 > hi) ow = hi - 32;
          let s0 = xRow + <usize>(ow * sw - padLeft) * 4;
          let wi: usize = 0;
          let a0 = b0; let a1 = b0; let a2 = b0; let a3 = b0; let a4 = b0; let a5 = b0; let a6 = b0; let a7 = b0;
          for (let c = 0; c < C; c++) {
            let r = s0;
            for (let i = iLo; i < iHi; i++) {
              let t = r;
              for (let j = 0; j < kw; j++) {
                const wv = v128.load32_splat(w0p + wi);
                a0 = madd(taps4(t, sw), wv, a0); a1 = madd(taps4(t + sw4, sw), wv, a1);
                a2 = madd(taps4(t + 2 * sw4, sw), wv, a2); a3 = madd(taps4(t + 3 * sw4, sw), wv, a3);
                const u = t + sw16;
                a4 = madd(taps4(u, sw), wv, a4); a5 = madd(taps4(u + sw4, sw), wv, a5);
                a6 = madd(taps4(u + 2 * sw4, sw), wv, a6); a7 = madd(taps4(u + 3 * sw4, sw), wv, a7);
                t += dwB; wi += 4;
              }
              r += rStep;
            }
            s0 += planeB;
            wi += <usize>((kh - (iHi - iLo)) * kw) << 2; // filter rows outside the image
          }
          const d = yrow + (<usize>ow << 2);
          store8(d, a0, a1, 8, act, a, b); store8(d + 32, a2, a3, 8, act, a, b);
          store8(d + 64, a4, a5, 8, act, a, b); store8(d + 96, a6, a7, 8, act, a, b);
          if (ow + 32 >= hi) break;
        }
      }
      for (let ow = 0; ow < OW; ow += 8) {
        const n = min(8, OW - ow);
        if (single && n == 8 && ow >= lo && ow + 8 <= hi) continue;
        const c0 = ow * sw - padLeft; // input column of lane 0, tap 0
        let a00 = b0; let a01 = b0; let a10 = b1; let a11 = b1;
        let a20 = b2; let a21 = b2; let a30 = b3; let a31 = b3;
        const rowBase = xRow + <usize>c0 * 4; // may wrap below x only in masked blocks (checked)
        if (simd && n == 8 && ow >= lo && ow + 8 <= hi) {
          if (fast3) {
            let r = rowBase;
            let wo: usize = 0;
            for (let c = 0; c < C; c++) {
              let s = r;
              let wi = wo;
              for (let i = iLo; i < iHi; i++) {
                let x0 = v128.load(s); let x1 = v128.load(s, 16);
                let wv = v128.load32_splat(w0p + wi); a00 = madd(x0, wv, a00); a01 = madd(x1, wv, a01);
                wv = v128.load32_splat(w1p + wi); a10 = madd(x0, wv, a10); a11 = madd(x1, wv, a11);
                wv = v128.load32_splat(w2p + wi); a20 = madd(x0, wv, a20); a21 = madd(x1, wv, a21);
                wv = v128.load32_splat(w3p + wi); a30 = madd(x0, wv, a30); a31 = madd(x1, wv, a31);
                x0 = v128.load(s, 4); x1 = v128.load(s, 20);
                wv = v128.load32_splat(w0p + wi, 4); a00 = madd(x0, wv, a00); a01 = madd(x1, wv, a01);
                wv = v128.load32_splat(w1p + wi, 4); a10 = madd(x0, wv, a10); a11 = madd(x1, wv, a11);
                wv = v128.load32_splat(w2p + wi, 4); a20 = madd(x0, wv, a20); a21 = madd(x1, wv, a21);
                wv = v128.load32_splat(w3p + wi, 4); a30 = madd(x0, wv, a30); a31 = madd(x1, wv, a31);
                x0 = v128.load(s, 8); x1 = v128.load(s, 24);
                wv = v128.load32_splat(w0p + wi, 8); a00 = madd(x0, wv, a00); a01 = madd(x1, wv, a01);
                wv = v128.load32_splat(w1p + wi, 8); a10 = madd(x0, wv, a10); a11 = madd(x1, wv, a11);
                wv = v128.load32_splat(w2p + wi, 8); a20 = madd(x0, wv, a20); a21 = madd(x1, wv, a21);
                wv = v128.load32_splat(w3p + wi, 8); a30 = madd(x0, wv, a30); a31 = madd(x1, wv, a31);
                s += rStep; wi += 12;
              }
              r += planeB; wo += <usize>(kh * 3) << 2;
            }
          } else {
            let r = rowBase;
            let wo: usize = 0;
            for (let c = 0; c < C; c++) {
              let s0 = r;
              let wi = wo;
              for (let i = iLo; i < iHi; i++) {
                let s = s0;
                for (let j = 0; j < kw; j++) {
                  const x0 = taps4(s, sw); const x1 = taps4(s + sw4, sw);
                  let wv = v128.load32_splat(w0p + wi); a00 = madd(x0, wv, a00); a01 = madd(x1, wv, a01);
                  wv = v128.load32_splat(w1p + wi); a10 = madd(x0, wv, a10); a11 = madd(x1, wv, a11);
                  wv = v128.load32_splat(w2p + wi); a20 = madd(x0, wv, a20); a21 = madd(x1, wv, a21);
                  wv = v128.load32_splat(w3p + wi); a30 = madd(x0, wv, a30); a31 = madd(x1, wv, a31);
                  s += dwB; wi += 4;
                }
                s0 += rStep;
              }
              r += planeB; wo += <usize>(kh * kw) << 2;
            }
          }
        } else {
          // Border or tail block: masked SIMD if every load stays within [x, end of x + 16 bytes).
          const lowB = <i64>xRow + <i64>c0 * 4;
          const highB = <i64>xRow + <i64>(C - 1) * <i64>planeB + <i64>(iHi - 1 - iLo) * <i64>rStep
            + (<i64>(c0 + 7 * sw + (kw - 1) * dw + 2)) * 4;
          if (simd && (iHi == iLo || (lowB >= 0 && highB <= xEnd))) {
            const cols0 = i32x4.add(laneCols, i32x4.splat(c0));
            const cols1 = i32x4.add(cols0, i32x4.splat(4 * sw));
            let r = rowBase;
            let wo: usize = 0;
            for (let c = 0; c < C; c++) {
              let s0 = r;
              let wi = wo;
              for (let i = iLo; i < iHi; i++) {
                let s = s0;
                for (let j = 0; j < kw; j++) {
                  const dj = i32x4.splat(j * dw);
                  const x0 = v128.and(taps4(s, sw), inRow(i32x4.add(cols0, dj), Wv));
                  const x1 = v128.and(taps4(s + sw4, sw), inRow(i32x4.add(cols1, dj), Wv));
                  let wv = v128.load32_splat(w0p + wi); a00 = madd(x0, wv, a00); a01 = madd(x1, wv, a01);
                  wv = v128.load32_splat(w1p + wi); a10 = madd(x0, wv, a10); a11 = madd(x1, wv, a11);
                  wv = v128.load32_splat(w2p + wi); a20 = madd(x0, wv, a20); a21 = madd(x1, wv, a21);
                  wv = v128.load32_splat(w3p + wi); a30 = madd(x0, wv, a30); a31 = madd(x1, wv, a31);
                  s += dwB; wi += 4;
                }
                s0 += rStep;
              }
              r += planeB; wo += <usize>(kh * kw) << 2;
            }
          } else {
            for (let o = ow; o < ow + n; o++) {
              for (let mi = 0; mi < mb; mi++) {
                const bv: f32 = bz ? load<f32>(bias + (<usize>(m0 + mi) << 2)) : 0;
                const v = directAt(x, w + <usize>(m0 + mi) * filterB, C, H, W, kh, kw, h0, iLo, iHi, dh, o * sw - padLeft, dw, bv);
                store<f32>(yrow + <usize>mi * outPlaneB + (<usize>o << 2), lane0(act_f32x4(f32x4.splat(v), act, a, b)));
              }
            }
            continue;
          }
        }
        const d = yrow + (<usize>ow << 2);
        store8(d, a00, a01, n, act, a, b);
        if (mb > 1) store8(d + outPlaneB, a10, a11, n, act, a, b);
        if (mb > 2) store8(d + 2 * outPlaneB, a20, a21, n, act, a, b);
        if (mb > 3) store8(d + 3 * outPlaneB, a30, a31, n, act, a, b);
      }
    }
  }
}
