// Element-wise helpers of quantization around the int8 GEMM (gemm_i8.ts): the range of x, x → uint8,
// and the unfolding of byte images into GEMM rows. Each does exactly what the ONNX ops do in
// float32 (IEEE division, round half to even, saturation), so fused and unfused graphs give
// identical bits.

// out[0] = min(x), out[1] = max(x) over n floats (n ≥ 1); NaN-free input assumed by the caller.
// Four independent pairs of running min/max, 16 floats a step: one pair was bound by pmin/pmax's
// latency (each step waiting for the last), ≈ 3× slower at BERT-base's 128×768 inputs.
export function minmax_f32(x: usize, n: i32, out: usize): void {
  let lo0 = f32x4.splat(Infinity), hi0 = f32x4.splat(-Infinity);
  let lo1 = lo0, hi1 = hi0, lo2 = lo0, hi2 = hi0, lo3 = lo0, hi3 = hi0;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    lo0 = f32x4.pmin(lo0, a); hi0 = f32x4.pmax(hi0, a);
    lo1 = f32x4.pmin(lo1, b); hi1 = f32x4.pmax(hi1, b);
    lo2 = f32x4.pmin(lo2, c); hi2 = f32x4.pmax(hi2, c);
    lo3 = f32x4.pmin(lo3, d); hi3 = f32x4.pmax(hi3, d);
  }
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    lo0 = f32x4.pmin(lo0, v); hi0 = f32x4.pmax(hi0, v);
  }
  const lo = f32x4.pmin(f32x4.pmin(lo0, lo1), f32x4.pmin(lo2, lo3));
  const hi = f32x4.pmax(f32x4.pmax(hi0, hi1), f32x4.pmax(hi2, hi3));
  let mn = min(min(f32x4.extract_lane(lo, 0), f32x4.extract_lane(lo, 1)), min(f32x4.extract_lane(lo, 2), f32x4.extract_lane(lo, 3)));
  let mx = max(max(f32x4.extract_lane(hi, 0), f32x4.extract_lane(hi, 1)), max(f32x4.extract_lane(hi, 2), f32x4.extract_lane(hi, 3)));
  for (; i < n; i++) { const v = load<f32>(x + (<usize>i << 2)); mn = min(mn, v); mx = max(mx, v); }
  store<f32>(out, mn);
  store<f32>(out, mx, 4);
}

// y[i] = saturate_u8(roundeven(x[i] / scale) + zp); scale > 0.
export function quantize_f32_u8(x: usize, y: usize, n: i32, scale: f32, zp: i32): void {
  const s = f32x4.splat(scale), z = f32x4.splat(<f32>zp);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const a = i32x4.trunc_sat_f32x4_s(f32x4.add(f32x4.nearest(f32x4.div(v128.load(p), s)), z));
    const b = i32x4.trunc_sat_f32x4_s(f32x4.add(f32x4.nearest(f32x4.div(v128.load(p, 16), s)), z));
    const c = i32x4.trunc_sat_f32x4_s(f32x4.add(f32x4.nearest(f32x4.div(v128.load(p, 32), s)), z));
    const d = i32x4.trunc_sat_f32x4_s(f32x4.add(f32x4.nearest(f32x4.div(v128.load(p, 48), s)), z));
    v128.store(y + <usize>i, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d)));
  }
  for (; i < n; i++) {
    const q = <i32>nearest(load<f32>(x + (<usize>i << 2)) / scale) + zp;
    store<u8>(y + <usize>i, <u8>(q < 0 ? 0 : q > 255 ? 255 : q));
  }
}

// Unfolds one image's group of C channel planes (bytes, H×W) into rows for the int8 GEMM: row p (output
// pixel oh·OW + ow) holds the C·kh·kw window values, padding written as `pad` (x's zero point, so
// that it contributes nothing once the zero point is subtracted).
export function im2row_u8(x: usize, dst: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  dh: i32, dw: i32, padTop: i32, padLeft: i32, OH: i32, OW: i32, pad: i32): void {
  let d = dst;
  const fill = <u8>pad;
  for (let oh = 0; oh < OH; oh++) {
    for (let ow = 0; ow < OW; ow++) {
      const w0 = ow * sw - padLeft;
      // Columns of the window inside the image: j in [jlo, jhi).
      let jlo = 0, jhi = kw;
      while (jlo < kw && w0 + jlo * dw < 0) jlo++;
      while (jhi > jlo && w0 + (jhi - 1) * dw >= W) jhi--;
      for (let c = 0; c < C; c++) {
        const plane = x + <usize>c * <usize>H * <usize>W;
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh - padTop + i * dh;
          if (ih < 0 || ih >= H) { memory.fill(d, fill, <usize>kw); d += <usize>kw; continue; }
          const row = plane + <usize>ih * <usize>W;
          let j = 0;
          for (; j < jlo; j++) store<u8>(d + <usize>j, fill);
          // Short windows (Whisper's 1-D stems: 3 taps × 384 channels × 1,500 positions) are copied
          // byte by byte: a memory.copy call per 3 bytes cost more than the bytes.
          if (dw == 1 && jhi - jlo > 16) { memory.copy(d + <usize>jlo, row + <usize>(w0 + jlo), <usize>(jhi - jlo)); j = jhi; }
          else for (; j < jhi; j++) store<u8>(d + <usize>j, load<u8>(row + <usize>(w0 + j * dw)));
          for (j = jhi; j < kw; j++) store<u8>(d + <usize>j, fill);
          d += <usize>kw;
        }
      }
    }
  }
}
