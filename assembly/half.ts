// float16 ↔ float32 for whole arrays: what fp16 models pay around every op that computes in float32
// (src/ops/widen.ts) and in Cast. Eight values per iteration, no branches: both conversions are
// integer and float arithmetic on the bit patterns, with the special cases chosen by masks, so the
// results are the bits of onnx/float-formats.ts's scalar halfToFloat / floatToHalf (round to nearest
// even; NaN → quiet NaN of the same sign, its payload kept where it fits; overflow → ±∞; float16
// subnormals exact both ways).

// 8 half bit patterns (u16, as i32 lanes) → 8 floats' bits. Exponent and mantissa shifted into
// float position and multiplied by 2^112 re-biases the exponent (15 → 127) and normalises
// subnormals exactly (a float32 subnormal times a power of two is exact); exponent 31 (∞, NaN)
// gets the float's all-ones exponent instead.
// @ts-ignore: decorator
@inline function half4(h: v128): v128 {
  const em = v128.and(h, i32x4.splat(0x7fff));
  const scaled = f32x4.mul(i32x4.shl(em, 13), f32x4.splat(5.192296858534828e33)); // 2^112
  const special = i32x4.ge_s(em, i32x4.splat(0x7c00));
  // ∞ keeps a zero mantissa; a NaN keeps its payload and is made quiet, as a float conversion does.
  const quiet = v128.and(i32x4.gt_s(em, i32x4.splat(0x7c00)), i32x4.splat(0x400000));
  const inf = v128.or(v128.or(i32x4.shl(em, 13), i32x4.splat(0x7f800000)), quiet);
  const sign = i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16);
  return v128.or(v128.bitselect(inf, scaled, special), sign);
}

export function widen_f16_f32(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h = v128.load(src + (<usize>i << 1));
    v128.store(dst + (<usize>i << 2), half4(i32x4.extend_low_i16x8_u(h)));
    v128.store(dst + (<usize>i << 2), half4(i32x4.extend_high_i16x8_u(h)), 16);
  }
  for (; i < n; i++) {
    const h = i32x4.splat(<i32>load<u16>(src + (<usize>i << 1)));
    store<i32>(dst + (<usize>i << 2), i32x4.extract_lane(half4(h), 0));
  }
}

// 4 floats' bits → 4 half bit patterns (in i32 lanes). F. Giesen's round-to-nearest-even
// conversion: |x| ≥ 65536 → ∞ (NaN: quiet NaN); |x| < 2^-14 (half subnormal or zero) → add a
// magic float so the FPU's own rounding places the 10 mantissa bits at the bottom; else re-bias the
// exponent and round with + 0xfff + (the kept mantissa's last bit).
// @ts-ignore: decorator
@inline function float4(x: v128): v128 {
  const sign = v128.and(x, i32x4.splat(0x80000000));
  const a = v128.xor(x, sign);
  const magic = i32x4.splat(126 << 23); // ((127 − 15) + (23 − 10) + 1) << 23: the float 0.5
  const sub = i32x4.sub(f32x4.add(a, magic), magic);
  const odd = v128.and(i32x4.shr_u(a, 13), i32x4.splat(1));
  const norm = i32x4.shr_u(i32x4.add(i32x4.add(a, i32x4.splat(-0x37fff001)), odd), 13); // ((15 − 127) << 23) + 0xfff
  const nan = v128.bitselect(i32x4.splat(0x7e00), i32x4.splat(0x7c00), i32x4.gt_s(a, i32x4.splat(0x7f800000)));
  let o = v128.bitselect(sub, norm, i32x4.lt_s(a, i32x4.splat(0x38800000)));
  o = v128.bitselect(nan, o, i32x4.ge_s(a, i32x4.splat(0x47800000)));
  return v128.or(o, i32x4.shr_u(sign, 16));
}

export function narrow_f32_f16(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const lo = float4(v128.load(src + (<usize>i << 2)));
    const hi = float4(v128.load(src + (<usize>i << 2), 16));
    v128.store(dst + (<usize>i << 1), i16x8.narrow_i32x4_u(lo, hi));
  }
  for (; i < n; i++) {
    store<u16>(dst + (<usize>i << 1), <u16>i32x4.extract_lane(float4(f32x4.splat(load<f32>(src + (<usize>i << 2)))), 0));
  }
}
