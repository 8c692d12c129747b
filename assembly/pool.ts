// 2-D pooling over NCHW planes (NC = N·C planes of H×W). Windows are clipped to the input, so
// padding and ceil_mode overhang never need a padded copy of the input. Output columns whose whole
// window row lies inside the input ("interior" columns) are computed 4 at a time with v128 when
// the horizontal stride is 1 or 2 (stride 2 de-interleaves two loads with a shuffle, reading at
// most 4 bytes past the last tap — within the kernel contract); border columns and other strides
// take the scalar path. Only columns are vectorised: rows are clipped once per output row.
import { firstTap, endTap } from './window';

// First output column whose window starts inside the input, and one past the last whose window
// ends inside it: [lo, hi) ⊆ [0, OW).
// @ts-ignore: decorator
@inline function interiorLo(padLeft: i32, sw: i32, OW: i32): i32 {
  return min((padLeft + sw - 1) / sw, OW);
}

// @ts-ignore: decorator
@inline function interiorHi(W: i32, kw: i32, dw: i32, sw: i32, padLeft: i32, OW: i32): i32 {
  const last = W - 1 - (kw - 1) * dw + padLeft; // largest ow·sw whose window fits
  return last < 0 ? 0 : min(last / sw + 1, OW);
}

// 4 consecutive output columns' taps j at input column w (lane l reads w + l·sw), sw ∈ {1, 2}.
// @ts-ignore: decorator
@inline function taps4(s: usize, sw: i32): v128 {
  return sw == 1 ? v128.load(s) : i32x4.shuffle(v128.load(s), v128.load(s, 16), 0, 2, 4, 6);
}

// @ts-ignore: decorator
@inline function maxAt(xp: usize, W: i32, h0: i32, iLo: i32, iHi: i32, dh: i32, w0: i32, kw: i32, dw: i32): f32 {
  let jLo = firstTap(w0, dw);
  let jHi = endTap(w0, kw, dw, W);
  let m: f32 = -Infinity;
  for (let i = iLo; i < iHi; i++) {
    let s = xp + ((<usize>(h0 + i * dh) * <usize>W + <usize>(w0 + jLo * dw)) << 2);
    for (let j = jLo; j < jHi; j++) { m = max(m, load<f32>(s)); s += <usize>dw << 2; }
  }
  return m;
}

export function maxpool2d_f32(x: usize, y: usize, NC: i32, H: i32, W: i32, OH: i32, OW: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32): void {
  const planeB = (<usize>H * <usize>W) << 2;
  const simd = sw == 1 || sw == 2;
  const lo = interiorLo(padLeft, sw, OW);
  const hi = max(lo, interiorHi(W, kw, dw, sw, padLeft, OW));
  const rowB = <usize>W << 2;
  const dwB = <usize>dw << 2;
  let yp = y;
  for (let p = 0; p < NC; p++) {
    const xp = x + <usize>p * planeB;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - padTop;
      // First/last kernel row inside the input (dilated taps: step dh).
      let iLo = firstTap(h0, dh);
      let iHi = endTap(h0, kh, dh, H);
      let ow = 0;
      if (simd && iHi > iLo) {
        for (; ow < lo; ow++) { store<f32>(yp, maxAt(xp, W, h0, iLo, iHi, dh, ow * sw - padLeft, kw, dw)); yp += 4; }
        const r0 = xp + <usize>(h0 + iLo * dh) * rowB;
        const rStep = <usize>dh * rowB;
        for (; ow + 4 <= hi; ow += 4) {
          let m = f32x4.splat(-Infinity);
          let r = r0 + (<usize>(ow * sw - padLeft) << 2);
          for (let i = iLo; i < iHi; i++) {
            let s = r;
            for (let j = 0; j < kw; j++) { m = f32x4.max(m, taps4(s, sw)); s += dwB; }
            r += rStep;
          }
          v128.store(yp, m);
          yp += 16;
        }
      }
      for (; ow < OW; ow++) { store<f32>(yp, maxAt(xp, W, h0, iLo, iHi, dh, ow * sw - padLeft, kw, dw)); yp += 4; }
    }
  }
}

export function avgpool2d_f32(x: usize, y: usize, NC: i32, H: i32, W: i32, OH: i32, OW: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, padBottom: i32, padRight: i32,
  countIncludePad: i32): void {
  const planeB = (<usize>H * <usize>W) << 2;
  const simd = sw == 1 || sw == 2;
  const lo = interiorLo(padLeft, sw, OW);
  const hi = max(lo, interiorHi(W, kw, 1, sw, padLeft, OW));
  const rowB = <usize>W << 2;
  let yp = y;
  for (let p = 0; p < NC; p++) {
    const xp = x + <usize>p * planeB;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - padTop;
      const hs = max(h0, 0);
      const he = min(h0 + kh, H);
      // ONNX count_include_pad counts taps inside the padded extent only, not ceil_mode overhang.
      const hcount = countIncludePad ? min(h0 + kh, H + padBottom) - h0 : he - hs;
      for (let ow = 0; ow < OW; ow++) {
        if (simd && ow == lo && he > hs) {
          // Interior columns: every window row holds kw taps, whichever divisor rule applies.
          const cnt = f32x4.splat(<f32>(hcount * kw));
          const r0 = xp + <usize>hs * rowB;
          for (; ow + 4 <= hi; ow += 4) {
            let acc = f32x4.splat(0);
            let r = r0 + (<usize>(ow * sw - padLeft) << 2);
            for (let ih = hs; ih < he; ih++) {
              let s = r;
              for (let j = 0; j < kw; j++) { acc = f32x4.add(acc, taps4(s, sw)); s += 4; }
              r += rowB;
            }
            v128.store(yp, f32x4.div(acc, cnt));
            yp += 16;
          }
          if (ow >= OW) break;
        }
        const w0 = ow * sw - padLeft;
        const ws = max(w0, 0);
        const we = min(w0 + kw, W);
        const wcount = countIncludePad ? min(w0 + kw, W + padRight) - w0 : we - ws;
        let sum: f32 = 0;
        for (let ih = hs; ih < he; ih++) {
          let s = xp + ((<usize>ih * <usize>W + <usize>ws) << 2);
          for (let iw = ws; iw < we; iw++) { sum += load<f32>(s); s += 4; }
        }
        const cnt = hcount * wcount;
        store<f32>(yp, cnt > 0 ? sum / <f32>cnt : 0);
        yp += 4;
      }
    }
  }
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// @ts-ignore: decorator
@inline function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
    max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

export function global_avgpool_f32(x: usize, y: usize, NC: i32, HW: i32): void {
  const inv: f32 = HW > 0 ? <f32>1 / <f32>HW : 0;
  let s = x;
  for (let p = 0; p < NC; p++) {
    // Two independent accumulators: halves the add latency chain.
    let a0 = f32x4.splat(0); let a1 = f32x4.splat(0);
    let i = 0;
    for (; i + 8 <= HW; i += 8) { a0 = f32x4.add(a0, v128.load(s)); a1 = f32x4.add(a1, v128.load(s, 16)); s += 32; }
    for (; i + 4 <= HW; i += 4) { a0 = f32x4.add(a0, v128.load(s)); s += 16; }
    let sum = hsum(f32x4.add(a0, a1));
    for (; i < HW; i++) { sum += load<f32>(s); s += 4; }
    store<f32>(y + (<usize>p << 2), sum * inv);
  }
}

export function global_maxpool_f32(x: usize, y: usize, NC: i32, HW: i32): void {
  let s = x;
  for (let p = 0; p < NC; p++) {
    let a0 = f32x4.splat(-Infinity);
    let i = 0;
    for (; i + 4 <= HW; i += 4) { a0 = f32x4.max(a0, v128.load(s)); s += 16; }
    let m = hmax(a0);
    for (; i < HW; i++) { m = max(m, load<f32>(s)); s += 4; }
    store<f32>(y + (<usize>p << 2), m);
  }
}
