// 4-bit block-quantized weights (MatMulNBits, layout in gemv_q4.ts) dequantized into the f32
// GEMM's 8-column panels for prefill, eight columns at a time in SIMD: the same value per weight,
// (f32(q) − zp) · scale, as gemv_q4.ts's scalar dequant_q4_panels, in ~1.6 instructions a weight
// instead of ~10. Per block and 16 k: 8 bytes of each of the 8 columns are byte-transposed with
// shuffles, so that each k-pair's byte of columns 0–3 (and 4–7) widens into one i32x4, whose low
// and high nibbles are the panel rows k and k + 1.

// @ts-ignore: decorator
@inline function zero_point(zp: usize, zpKind: i32, n: i32, nb: i32, b: i32): f32 {
  if (zpKind == 0) return 8;
  if (zpKind == 2) return load<f32>(zp + ((<usize>n * <usize>nb + <usize>b) << 2));
  const byte = load<u8>(zp + <usize>n * <usize>((nb + 1) >> 1) + <usize>(b >> 1));
  return <f32>(b & 1 ? byte >> 4 : byte & 15);
}

// Column n + c's scale (zero point) of block b, or 0 past the band's last column.
// @ts-ignore: decorator
@inline function sc(scales: usize, n: i32, c: i32, cols: i32, nb: i32, b: i32): f32 {
  return c < cols ? load<f32>(scales + ((<usize>(n + c) * <usize>nb + <usize>b) << 2)) : 0;
}
// @ts-ignore: decorator
@inline function zc(zp: usize, zpKind: i32, n: i32, c: i32, cols: i32, nb: i32, b: i32): f32 {
  return c < cols ? zero_point(zp, zpKind, n + c, nb, b) : 0;
}

// Panel rows k, k + 1 (4 columns each) from one i32x4 of bytes: low nibble, high nibble.
// @ts-ignore: decorator
@inline function two_rows(v: v128, z: v128, s: v128, d: usize): void {
  const lo = f32x4.convert_i32x4_s(v128.and(v, i32x4.splat(15)));
  const hi = f32x4.convert_i32x4_s(i32x4.shr_u(v, 4));
  v128.store(d, f32x4.mul(f32x4.sub(lo, z), s));
  v128.store(d + 32, f32x4.mul(f32x4.sub(hi, z), s));
}

// Columns n0 … n0 + nc − 1 → ceil(nc/8) panels at dst (K rows × 8 floats each, zero past nc), as
// dequant_q4_panels writes them.
export function dequant_q4_panels_x8(w: usize, scales: usize, zp: usize, zpKind: i32, K: i32, bs: i32,
  n0: i32, nc: i32, dst: usize): void {
  const nb = (K + bs - 1) / bs;
  const blob = <usize>(bs >> 1);
  const colB = <usize>nb * blob;
  const panels = (nc + 7) >> 3;
  for (let p = 0; p < panels; p++) {
    const pd = dst + ((<usize>p * <usize>K * 8) << 2);
    const j0 = p << 3;
    const cols = min(8, nc - j0);
    for (let b = 0; b < nb; b++) {
      const k0 = b * bs, e = min(K, k0 + bs);
      // Per-column scale and zero point of this block; columns past nc give 0 (scale 0, zp 0).
      const n = n0 + j0;
      const sa = f32x4(sc(scales, n, 0, cols, nb, b), sc(scales, n, 1, cols, nb, b), sc(scales, n, 2, cols, nb, b), sc(scales, n, 3, cols, nb, b));
      const sb = f32x4(sc(scales, n, 4, cols, nb, b), sc(scales, n, 5, cols, nb, b), sc(scales, n, 6, cols, nb, b), sc(scales, n, 7, cols, nb, b));
      const za = f32x4(zc(zp, zpKind, n, 0, cols, nb, b), zc(zp, zpKind, n, 1, cols, nb, b), zc(zp, zpKind, n, 2, cols, nb, b), zc(zp, zpKind, n, 3, cols, nb, b));
      const zb = f32x4(zc(zp, zpKind, n, 4, cols, nb, b), zc(zp, zpKind, n, 5, cols, nb, b), zc(zp, zpKind, n, 6, cols, nb, b), zc(zp, zpKind, n, 7, cols, nb, b));
      // The block's bytes of each column (a missing column reads column j0's: scale 0 zeroes it).
      const base = w + <usize>(n0 + j0) * colB + <usize>b * blob;
      const c1 = cols > 1 ? colB : 0, c2 = cols > 2 ? 2 * colB : 0, c3 = cols > 3 ? 3 * colB : 0;
      const c4 = cols > 4 ? 4 * colB : 0, c5 = cols > 5 ? 5 * colB : 0, c6 = cols > 6 ? 6 * colB : 0, c7 = cols > 7 ? 7 * colB : 0;
      let k = k0;
      for (let o: usize = 0; o < blob && k + 16 <= e; o += 8, k += 16) {
        const v01 = v128.load64_lane(base + c1 + o, v128.load64_zero(base + o), 1);
        const v23 = v128.load64_lane(base + c3 + o, v128.load64_zero(base + c2 + o), 1);
        const v45 = v128.load64_lane(base + c5 + o, v128.load64_zero(base + c4 + o), 1);
        const v67 = v128.load64_lane(base + c7 + o, v128.load64_zero(base + c6 + o), 1);
        // Bytes i = 0…3 (then 4…7) of columns 0, 1, 2, 3 side by side: lane i of an i32x4.
        const t0 = i8x16.shuffle(v01, v23, 0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
        const t1 = i8x16.shuffle(v01, v23, 4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31);
        const u0 = i8x16.shuffle(v45, v67, 0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
        const u1 = i8x16.shuffle(v45, v67, 4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31);
        const d = pd + ((<usize>k * 8) << 2);
        // Byte i holds rows k + 2i (low nibble) and k + 2i + 1 (high): 64 bytes of panel per byte.
        let tl = i16x8.extend_low_i8x16_u(t0), th = i16x8.extend_high_i8x16_u(t0);
        let ul = i16x8.extend_low_i8x16_u(u0), uh = i16x8.extend_high_i8x16_u(u0);
        two_rows(i32x4.extend_low_i16x8_u(tl), za, sa, d);
        two_rows(i32x4.extend_low_i16x8_u(ul), zb, sb, d + 16);
        two_rows(i32x4.extend_high_i16x8_u(tl), za, sa, d + 64);
        two_rows(i32x4.extend_high_i16x8_u(ul), zb, sb, d + 80);
        two_rows(i32x4.extend_low_i16x8_u(th), za, sa, d + 128);
        two_rows(i32x4.extend_low_i16x8_u(uh), zb, sb, d + 144);
        two_rows(i32x4.extend_high_i16x8_u(th), za, sa, d + 192);
        two_rows(i32x4.extend_high_i16x8_u(uh), zb, sb, d + 208);
        tl = i16x8.extend_low_i8x16_u(t1); th = i16x8.extend_high_i8x16_u(t1);
        ul = i16x8.extend_low_i8x16_u(u1); uh = i16x8.extend_high_i8x16_u(u1);
        two_rows(i32x4.extend_low_i16x8_u(tl), za, sa, d + 256);
        two_rows(i32x4.extend_low_i16x8_u(ul), zb, sb, d + 272);
        two_rows(i32x4.extend_high_i16x8_u(tl), za, sa, d + 320);
        two_rows(i32x4.extend_high_i16x8_u(ul), zb, sb, d + 336);
        two_rows(i32x4.extend_low_i16x8_u(th), za, sa, d + 384);
        two_rows(i32x4.extend_low_i16x8_u(uh), zb, sb, d + 400);
        two_rows(i32x4.extend_high_i16x8_u(th), za, sa, d + 448);
        two_rows(i32x4.extend_high_i16x8_u(uh), zb, sb, d + 464);
      }
      // The block's last k past a multiple of 16 (K not a multiple of 16): one weight at a time.
      for (; k < e; k++) {
        const d = pd + ((<usize>k * 8) << 2);
        for (let c = 0; c < 8; c++) {
          let v: f32 = 0;
          if (c < cols) {
            const n = n0 + j0 + c;
            const byte = load<u8>(w + <usize>n * colB + <usize>b * blob + <usize>((k - k0) >> 1));
            const q = <f32>(k & 1 ? byte >> 4 : byte & 15);
            v = (q - zero_point(zp, zpKind, n, nb, b)) * load<f32>(scales + ((<usize>n * <usize>nb + <usize>b) << 2));
          }
          store<f32>(d + (<usize>c << 2), v);
        }
      }
    }
  }
}
