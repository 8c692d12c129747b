// Depthwise convolution (group = C, one filter per channel) read straight from NCHW: no im2col,
// whose per-group GEMM would have M = 1. Like the pools, output columns whose window row lies
// inside the input are computed 4 at a time (horizontal stride 1 or 2; stride 2 de-interleaves
// two loads, reading at most 4 bytes past the last tap), borders and other strides in scalar.
// Bias and the activation are applied before the store.
import { act_f32x4, lane0, madd } from './activation';

// @ts-ignore: decorator
@inline function taps4(s: usize, sw: i32): v128 {
  return sw == 1 ? v128.load(s) : i32x4.shuffle(v128.load(s), v128.load(s, 16), 0, 2, 4, 6);
}

// One output at window origin (h0, w0), taps clipped to the input.
// @ts-ignore: decorator
@inline function dwAt(xp: usize, wp: usize, W: i32, h0: i32, iLo: i32, iHi: i32, dh: i32, w0: i32, kw: i32, dw: i32, init: f32): f32 {
  let jLo = 0;
  if (w0 < 0) jLo = (-w0 + dw - 1) / dw;
  let jHi = kw;
  if (w0 + (kw - 1) * dw >= W) jHi = W - 1 - w0 < 0 ? 0 : (W - 1 - w0) / dw + 1;
  let acc = init;
  for (let i = iLo; i < iHi; i++) {
    const s = xp + ((<usize>(h0 + i * dh) * <usize>W + <usize>w0) << 2);
    const wr = wp + ((<usize>(i * kw)) << 2);
    for (let j = jLo; j < jHi; j++) acc += load<f32>(s + (<usize>(j * dw) << 2)) * load<f32>(wr + (<usize>j << 2));
  }
  return acc;
}

// x: NC planes of H×W (plane p is channel p % C), w: C × kh × kw, bias: C floats or 0,
// y: NC planes of OH×OW.
export function dwconv2d_f32(x: usize, w: usize, bias: usize, y: usize, NC: i32, C: i32, H: i32, W: i32,
  OH: i32, OW: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32,
  act: i32, a: f32, b: f32): void {
  const simd = sw == 1 || sw == 2;
  const lo = min((padLeft + sw - 1) / sw, OW);
  const last = W - 1 - (kw - 1) * dw + padLeft; // largest ow·sw whose window fits
  const hi = max(lo, last < 0 ? 0 : min(last / sw + 1, OW));
  const planeB = (<usize>H * <usize>W) << 2;
  const rowB = <usize>W << 2;
  const dwB = <usize>dw << 2;
  const kk = kh * kw;
  let yp = y;
  for (let p = 0; p < NC; p++) {
    const c = p % C;
    const xp = x + <usize>p * planeB;
    const wp = w + ((<usize>c * <usize>kk) << 2);
    const b0: f32 = bias != 0 ? load<f32>(bias + (<usize>c << 2)) : 0;
    const bv = f32x4.splat(b0);
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - padTop;
      let iLo = 0;
      if (h0 < 0) iLo = (-h0 + dh - 1) / dh;
      let iHi = kh;
      if (h0 + (kh - 1) * dh >= H) iHi = H - 1 - h0 < 0 ? 0 : (H - 1 - h0) / dh + 1;
      if (iHi < iLo) iHi = iLo;
      let ow = 0;
      if (simd) {
        for (; ow < lo; ow++) {
          store<f32>(yp, lane0(act_f32x4(f32x4.splat(dwAt(xp, wp, W, h0, iLo, iHi, dh, ow * sw - padLeft, kw, dw, b0)), act, a, b)));
          yp += 4;
        }
        const r0 = xp + <usize>(h0 + iLo * dh) * rowB;
        const rStep = <usize>dh * rowB;
        // 8 outputs per step: two independent accumulators hide the add latency.
        const sw4 = <usize>(4 * sw) << 2;
        for (; ow + 8 <= hi; ow += 8) {
          let acc0 = bv; let acc1 = bv;
          let r = r0 + (<usize>(ow * sw - padLeft) << 2);
          for (let i = iLo; i < iHi; i++) {
            let s = r;
            let wr = wp + (<usize>(i * kw) << 2);
            for (let j = 0; j < kw; j++) {
              const wv = v128.load32_splat(wr);
              acc0 = madd(taps4(s, sw), wv, acc0);
              acc1 = madd(taps4(s + sw4, sw), wv, acc1);
              s += dwB; wr += 4;
            }
            r += rStep;
          }
          v128.store(yp, act_f32x4(acc0, act, a, b));
          v128.store(yp, act_f32x4(acc1, act, a, b), 16);
          yp += 32;
        }
        for (; ow + 4 <= hi; ow += 4) {
          let acc = bv;
          let r = r0 + (<usize>(ow * sw - padLeft) << 2);
          for (let i = iLo; i < iHi; i++) {
            let s = r;
            let wr = wp + (<usize>(i * kw) << 2);
            for (let j = 0; j < kw; j++) { acc = madd(taps4(s, sw), v128.load32_splat(wr), acc); s += dwB; wr += 4; }
            r += rStep;
          }
          v128.store(yp, act_f32x4(acc, act, a, b));
          yp += 16;
        }
      }
      for (; ow < OW; ow++) {
        store<f32>(yp, lane0(act_f32x4(f32x4.splat(dwAt(xp, wp, W, h0, iLo, iHi, dh, ow * sw - padLeft, kw, dw, b0)), act, a, b)));
        yp += 4;
      }
    }
  }
}
