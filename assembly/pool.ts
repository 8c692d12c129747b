// 2-D pooling over NCHW planes (NC = N·C planes of H×W). Windows are clipped to the input, so
// padding and ceil_mode overhang never need a padded copy of the input.

export function maxpool2d_f32(x: usize, y: usize, NC: i32, H: i32, W: i32, OH: i32, OW: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32): void {
  const planeB = (<usize>H * <usize>W) << 2;
  let yp = y;
  for (let p = 0; p < NC; p++) {
    const xp = x + <usize>p * planeB;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - padTop;
      // First/last kernel row inside the input (dilated taps: step dh).
      let iLo = 0;
      if (h0 < 0) iLo = (-h0 + dh - 1) / dh;
      let iHi = kh;
      if (h0 + (kh - 1) * dh >= H) iHi = H - 1 - h0 < 0 ? 0 : (H - 1 - h0) / dh + 1;
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sw - padLeft;
        let jLo = 0;
        if (w0 < 0) jLo = (-w0 + dw - 1) / dw;
        let jHi = kw;
        if (w0 + (kw - 1) * dw >= W) jHi = W - 1 - w0 < 0 ? 0 : (W - 1 - w0) / dw + 1;
        let m: f32 = -Infinity;
        for (let i = iLo; i < iHi; i++) {
          let s = xp + ((<usize>(h0 + i * dh) * <usize>W + <usize>(w0 + jLo * dw)) << 2);
          for (let j = jLo; j < jHi; j++) {
            m = max(m, load<f32>(s));
            s += <usize>dw << 2;
          }
        }
        store<f32>(yp, m);
        yp += 4;
      }
    }
  }
}

export function avgpool2d_f32(x: usize, y: usize, NC: i32, H: i32, W: i32, OH: i32, OW: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, padBottom: i32, padRight: i32,
  countIncludePad: i32): void {
  const planeB = (<usize>H * <usize>W) << 2;
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
