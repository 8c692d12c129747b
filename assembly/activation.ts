// Shared SIMD math and the fused activation epilogue.
//
// Every kernel that can end in an activation (GEMM, channel_affine, unary) calls `act_f32x4`, so
// the activation codes below are the single source of truth (mirrored in assembly/README.md and
// the runtime). The approximations are cephes/Juffa-style polynomials evaluated in f32x4; they are
// accurate to a few ulp (~1e-6 relative or better) over the whole f32 range, including the
// tails where naive formulas cancel (expm1 near 0, tanh near 0, softplus for large |x|).

// Activation codes. Append-only: the runtime and the tests index by these numbers.
export const ACT_NONE: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_CLIP: i32 = 2;
export const ACT_LEAKY_RELU: i32 = 3;
export const ACT_HARD_SIGMOID: i32 = 4;
export const ACT_HARD_SWISH: i32 = 5;
export const ACT_SIGMOID: i32 = 6;
export const ACT_TANH: i32 = 7;
export const ACT_GELU: i32 = 8;
export const ACT_GELU_TANH: i32 = 9;
export const ACT_ELU: i32 = 10;
export const ACT_SELU: i32 = 11;
export const ACT_SOFTPLUS: i32 = 12;
export const ACT_MISH: i32 = 13;
export const ACT_SILU: i32 = 14;

// Multiply-add c + a*b. The relaxed build lets the engine fuse it (one rounding, faster); the
// baseline build must stay deterministic, so it is an explicit mul then add.
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline function fsplat(x: f32): v128 {
  return f32x4.splat(x);
}

// exp(x). Range reduction x = n·ln2 + r with |r| ≤ ln2/2, degree-6 polynomial for e^r, and
// 2^n applied by adding n to the exponent field of the polynomial result rather than building
// 2^n as a float: that keeps n = 128 (x close to ln FLT_MAX) representable, because e^r < 1
// there. Inputs below ln(FLT_MIN) flush to 0 (denormals are not worth the lanes), above ln
// FLT_MAX give +inf, NaN propagates.
// @ts-ignore: decorator
@inline export function exp_f32x4(x: v128): v128 {
  const lo = fsplat(-87.33654475);
  const hi = fsplat(88.72283905);
  // pmax/pmin (one instruction each; min/max are ~7 in V8 for their NaN and ±0 rules): with x
  // first, a NaN x passes through both, and the bounds are not zero, so the result is the same.
  let xc = f32x4.pmin(f32x4.pmax(x, lo), hi);
  const n = f32x4.nearest(f32x4.mul(xc, fsplat(1.44269504088896341)));
  // Cody-Waite: ln2 split in a part exact in f32 (few mantissa bits) plus a correction.
  let r = madd(n, fsplat(-0.693359375), xc);
  r = madd(n, fsplat(2.12194440e-4), r);
  let p = fsplat(1.9875691500e-4);
  p = madd(p, r, fsplat(1.3981999507e-3));
  p = madd(p, r, fsplat(8.3334519073e-3));
  p = madd(p, r, fsplat(4.1665795894e-2));
  p = madd(p, r, fsplat(1.6666665459e-1));
  p = madd(p, r, fsplat(5.0000001201e-1));
  p = madd(p, f32x4.mul(r, r), f32x4.add(r, fsplat(1.0)));
  const e = i32x4.shl(i32x4.trunc_sat_f32x4_s(n), 23);
  let y = i32x4.add(p, e);
  y = v128.andnot(y, f32x4.lt(x, lo)); // underflow → 0
  y = v128.bitselect(fsplat(Infinity), y, f32x4.gt(x, hi));
  return y;
}

// e^x − 1 without cancellation near 0: Taylor series on |x| ≤ 0.5 (truncation < 3e-10), exp − 1
// outside, where the subtraction loses at most one bit.
// @ts-ignore: decorator
@inline export function expm1_f32x4(x: v128): v128 {
  let p = fsplat(2.7557319e-6); // 1/9!
  p = madd(p, x, fsplat(2.4801587e-5));
  p = madd(p, x, fsplat(1.9841270e-4));
  p = madd(p, x, fsplat(1.3888889e-3));
  p = madd(p, x, fsplat(8.3333333e-3));
  p = madd(p, x, fsplat(4.1666667e-2));
  p = madd(p, x, fsplat(1.6666667e-1));
  p = madd(p, x, fsplat(0.5));
  p = madd(p, f32x4.mul(x, x), x);
  const big = f32x4.sub(exp_f32x4(x), fsplat(1.0));
  const small = f32x4.le(f32x4.abs(x), fsplat(0.5));
  return v128.bitselect(p, big, small);
}

// Natural log (cephes logf): split mantissa m ∈ [√½, √2) and exponent, polynomial in m − 1.
// x < 0 → NaN, 0 → −inf, +inf → +inf. Denormal inputs are treated as FLT_MIN.
// @ts-ignore: decorator
@inline export function log_f32x4(x: v128): v128 {
  const xc = f32x4.max(x, fsplat(1.17549435e-38));
  let e = i32x4.sub(i32x4.shr_u(xc, 23), i32x4.splat(126));
  let m = v128.or(v128.and(xc, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // [0.5, 1)
  const lt = f32x4.lt(m, fsplat(0.707106781186547524));
  // m < √½: use 2m − 1 and e − 1, so the polynomial argument stays in [√½ − 1, √2 − 1).
  e = i32x4.add(e, lt); // lt lanes are −1
  m = f32x4.sub(f32x4.add(m, v128.and(m, lt)), fsplat(1.0));
  const fe = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  let p = fsplat(7.0376836292e-2);
  p = madd(p, m, fsplat(-1.1514610310e-1));
  p = madd(p, m, fsplat(1.1676998740e-1));
  p = madd(p, m, fsplat(-1.2420140846e-1));
  p = madd(p, m, fsplat(1.4249322787e-1));
  p = madd(p, m, fsplat(-1.6668057665e-1));
  p = madd(p, m, fsplat(2.0000714765e-1));
  p = madd(p, m, fsplat(-2.4999993993e-1));
  p = madd(p, m, fsplat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = madd(fe, fsplat(-2.12194440e-4), y);
  y = madd(z, fsplat(-0.5), y);
  y = f32x4.add(m, y);
  y = madd(fe, fsplat(0.693359375), y);
  y = v128.bitselect(fsplat(-Infinity), y, f32x4.eq(x, fsplat(0)));
  y = v128.bitselect(fsplat(Infinity), y, f32x4.eq(x, fsplat(Infinity)));
  y = v128.or(y, f32x4.lt(x, fsplat(0))); // all-ones lanes are a NaN
  y = v128.or(y, f32x4.ne(x, x));
  return y;
}

// log(1 + u) for u ≥ 0, exact near 0 by Goldberg's trick: w = 1 + u rounds, and log(w)·u/(w − 1)
// cancels that rounding; where w == 1 the answer is u itself.
// @ts-ignore: decorator
@inline export function log1p_pos_f32x4(u: v128): v128 {
  const w = f32x4.add(u, fsplat(1.0));
  const d = f32x4.sub(w, fsplat(1.0));
  const r = f32x4.mul(log_f32x4(w), f32x4.div(u, d));
  return v128.bitselect(u, r, f32x4.eq(d, fsplat(0)));
}

// tanh(x) = expm1(2x) / (expm1(2x) + 2); |x| clamped at 9 where tanh is ±1 in f32, so the
// ratio never sees inf/inf.
// @ts-ignore: decorator
@inline export function tanh_f32x4(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, fsplat(-9.0)), fsplat(9.0)); // as in exp_f32x4
  const e = expm1_f32x4(f32x4.add(xc, xc));
  return f32x4.div(e, f32x4.add(e, fsplat(2.0)));
}

// @ts-ignore: decorator
@inline export function sigmoid_f32x4(x: v128): v128 {
  return f32x4.div(fsplat(1.0), f32x4.add(fsplat(1.0), exp_f32x4(f32x4.neg(x))));
}

// exp(x) for x ≤ 0 or NaN (softmax scores minus their row's max; erf's tail): exp_f32x4 without
// the overflow clamp, whose value it matches, with its constants read from a table. V8 builds a
// v128.const from scratch at every use (3 instructions, 12 constants per step), and the table's
// 16-byte loads fold into one instruction each. n = round(x·log2 e) comes from adding 1.5·2²³ + 127
// (the sum's low bits are n + 127, so its bits shifted by 23 are 2ⁿ as a float) instead of nearest +
// trunc_sat, which V8 expands to 6 instructions; the rounding is the same. x ≤ 0 keeps 2ⁿ normal.
const EXP_LO: i32 = 0, EXP_LOG2E: i32 = 16, EXP_MAGIC: i32 = 32, EXP_LN2HI: i32 = 48, EXP_LN2LO: i32 = 64;
const EXP_P0: i32 = 80, EXP_P1: i32 = 96, EXP_P2: i32 = 112, EXP_P3: i32 = 128, EXP_P4: i32 = 144, EXP_P5: i32 = 160, EXP_ONE: i32 = 176;
const EXP_TABLE = memory.data<f32>([
  -87.33654475, -87.33654475, -87.33654475, -87.33654475,
  1.44269504088896341, 1.44269504088896341, 1.44269504088896341, 1.44269504088896341,
  12583039.0, 12583039.0, 12583039.0, 12583039.0,
  -0.693359375, -0.693359375, -0.693359375, -0.693359375,
  2.12194440e-4, 2.12194440e-4, 2.12194440e-4, 2.12194440e-4,
  1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4,
  1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3,
  8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3,
  4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2,
  1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1,
  5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1,
  1.0, 1.0, 1.0, 1.0,
], 16);

// @ts-ignore: decorator
@inline export function exp_nonpos_f32x4(x: v128): v128 {
  const t = EXP_TABLE;
  const lo = v128.load(t, EXP_LO);
  const xc = f32x4.pmax(x, lo);
  const nm = madd(xc, v128.load(t, EXP_LOG2E), v128.load(t, EXP_MAGIC));
  const n = f32x4.sub(nm, v128.load(t, EXP_MAGIC));
  let r = madd(n, v128.load(t, EXP_LN2HI), xc);
  r = madd(n, v128.load(t, EXP_LN2LO), r);
  let p = madd(v128.load(t, EXP_P0), r, v128.load(t, EXP_P1));
  p = madd(p, r, v128.load(t, EXP_P2));
  p = madd(p, r, v128.load(t, EXP_P3));
  p = madd(p, r, v128.load(t, EXP_P4));
  p = madd(p, r, v128.load(t, EXP_P5));
  p = madd(p, f32x4.mul(r, r), f32x4.add(r, v128.load(t, EXP_ONE)));
  const y = f32x4.mul(p, i32x4.shl(nm, 23)); // × 2ⁿ (a product, so a NaN x stays NaN)
  return v128.andnot(y, f32x4.lt(x, lo)); // underflow → 0
}

// erf (after N. Juffa's erff, < 1 ulp with FMA): odd polynomial for |x| ≤ 0.9277, otherwise
// 1 − exp(poly(|x|)), sign restored. Both branches are computed; lanes pick one. |x| is clamped
// at 4 (erf(4) rounds to 1), which keeps exp's argument in [−18, 0], where exp_nonpos_f32x4
// needs none of exp_f32x4's range checks (same value: the scaling by 2ⁿ is exact). The
// polynomials' constants are loads from ERF_K (see GELU_K): the Erf op calls this once per vector.
const ERF_K = memory.data<f32>([
  -5.96761703e-4, -5.96761703e-4, -5.96761703e-4, -5.96761703e-4, //     0: small |x|, s^5 … s^0
  4.99119423e-3, 4.99119423e-3, 4.99119423e-3, 4.99119423e-3,
  -2.67681349e-2, -2.67681349e-2, -2.67681349e-2, -2.67681349e-2,
  1.12819925e-1, 1.12819925e-1, 1.12819925e-1, 1.12819925e-1,
  -3.76125336e-1, -3.76125336e-1, -3.76125336e-1, -3.76125336e-1,
  1.28379166e-1, 1.28379166e-1, 1.28379166e-1, 1.28379166e-1,
  -1.72853470e-5, -1.72853470e-5, -1.72853470e-5, -1.72853470e-5, //     6: large |x|
  3.83197126e-4, 3.83197126e-4, 3.83197126e-4, 3.83197126e-4,
  -3.88396438e-3, -3.88396438e-3, -3.88396438e-3, -3.88396438e-3,
  2.42546219e-2, 2.42546219e-2, 2.42546219e-2, 2.42546219e-2,
  -1.06777877e-1, -1.06777877e-1, -1.06777877e-1, -1.06777877e-1,
  -6.34846687e-1, -6.34846687e-1, -6.34846687e-1, -6.34846687e-1,
  -1.28717512e-1, -1.28717512e-1, -1.28717512e-1, -1.28717512e-1,
  1.0, 1.0, 1.0, 1.0, //                                                13
  0.927734375, 0.927734375, 0.927734375, 0.927734375, //                14: branch point
  4.0, 4.0, 4.0, 4.0, //                                                15: |x| clamp
], 16);
const ABS_MASK = memory.data<u32>([0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff], 16); // f32x4.abs rebuilds it per use

// @ts-ignore: decorator
@inline function ek(i: i32): v128 {
  return v128.load(ERF_K + (<usize>i << 4));
}

// @ts-ignore: decorator
@inline export function erf_f32x4(x: v128): v128 {
  const t = f32x4.pmin(v128.and(x, v128.load(ABS_MASK)), ek(15)); // a NaN passes through
  const s = f32x4.mul(t, t); // = x·x below the clamp
  let r = ek(0);
  r = madd(r, s, ek(1));
  r = madd(r, s, ek(2));
  r = madd(r, s, ek(3));
  r = madd(r, s, ek(4));
  r = madd(r, s, ek(5));
  const small = madd(r, x, x);
  let q = madd(ek(6), t, ek(7));
  const u = madd(ek(8), t, ek(9));
  q = madd(q, s, u);
  q = madd(q, t, ek(10));
  q = madd(q, t, ek(11));
  q = madd(q, t, ek(12));
  q = madd(q, t, f32x4.neg(t));
  let big = f32x4.sub(ek(13), exp_nonpos_f32x4(q));
  big = v128.or(big, v128.andnot(x, v128.load(ABS_MASK))); // copysign (big ≥ 0)
  return v128.bitselect(small, big, f32x4.le(t, ek(14)));
}

// x·min(max(x/6 + 1/2, 0), 1).
// @ts-ignore: decorator
@inline export function hard_swish_f32x4(v: v128): v128 {
  return f32x4.mul(v, hard_clamp01(madd(v, fsplat(<f32>(1.0 / 6.0)), fsplat(0.5))));
}

// x·sigmoid(x).
// @ts-ignore: decorator
@inline export function silu_f32x4(v: v128): v128 {
  return f32x4.mul(v, sigmoid_f32x4(v));
}

// GELU x·Φ(x) through the lower tail h = Φ(−|x|) = ½·erfc(|x|/√2): Φ(x) = h for x < 0 and 1 − h
// otherwise, so neither side cancels (½(1 + erf(x/√2)) loses the negative tail to rounding near
// erf = −1: relative error up to 5e-2 on [−5, −4] that way, 1.6e-6 this way). h = 2^y · R(a), a = |x|,
// y = −a²·log2(e)/2. R = ½·erfcx(a/√2) is a (3,4) rational in a, relative error 4.8e-8 on
// [0, 5.55], with a monic denominator and positive coefficients, so Horner does not cancel. 2^y:
// y = n + f, |f| ≤ ½, a degree-5 minimax polynomial for 2^f (Horner: with four vectors in flight,
// as act_strip runs it, fewer operations and live values beat Estrin's shorter chains), n added to
// its exponent field (n ≥ −23: no denormal). Past |x| = 5.55, h < 1.5e-8: 1 − h rounds to 1, and h
// is zeroed (whatever a huge or infinite |x| made of it), so gelu(x < −5.55) = −0.
// The result is min_u(x, −0) − |min(x, 5.55)·h|: the integer min_u keeps x ≥ 0 (+NaN too) and turns
// every negative x into −0 in one instruction, so x ≥ 0 gives x − x·h (one rounding fewer than
// x·(1 − h)) and x < 0 gives −0 − |x·h| = x·h; the clamp keeps +inf·0 out (gelu(+inf) = +inf) while
// −inf still gives −inf·0 = NaN, as the formula. About 40 operations, a quarter of the erf form's
// (two polynomials and an exp). Error: ≤ 4.3e-7 relative for x ≥ −2, ≤ 1.6e-6 down to −5.55, ≤ 8e-8
// absolute beyond (checked densely in test/unit/checks/elementwise.ts). Coefficients from
// scripts/fit-gelu.py.
//
// Constants are loads from a table of splatted vectors rather than v128.const: V8 builds each
// v128 constant with three instructions wherever it is not hoisted, a load is one.
const GELU_K = memory.data<f32>([
  5.55, 5.55, 5.55, 5.55, //                                            0: |x| past which h = 0
  -0.7213475204444817, -0.7213475204444817, -0.7213475204444817, -0.7213475204444817, // 1: −log2(e)/2
  12582912, 12582912, 12582912, 12582912, //                            2: 1.5·2^23 (rounding)
  1.0, 1.0, 1.0, 1.0, //                                                3: 2^f: f^0 … f^5
  6.931470036506653e-1, 6.931470036506653e-1, 6.931470036506653e-1, 6.931470036506653e-1,
  2.4022242426872253e-1, 2.4022242426872253e-1, 2.4022242426872253e-1, 2.4022242426872253e-1,
  5.550733581185341e-2, 5.550733581185341e-2, 5.550733581185341e-2, 5.550733581185341e-2,
  9.671512991189957e-3, 9.671512991189957e-3, 9.671512991189957e-3, 9.671512991189957e-3,
  1.326472731307149e-3, 1.326472731307149e-3, 1.326472731307149e-3, 1.326472731307149e-3,
  14.983498573303223, 14.983498573303223, 14.983498573303223, 14.983498573303223, // 9: R numerator a^0 … a^3
  9.939305305480957, 9.939305305480957, 9.939305305480957, 9.939305305480957,
  3.0852582454681396, 3.0852582454681396, 3.0852582454681396, 3.0852582454681396,
  0.398663192987442, 0.398663192987442, 0.398663192987442, 0.398663192987442,
  29.966999053955078, 29.966999053955078, 29.966999053955078, 29.966999053955078, // 13: R denominator a^0 … a^3 (a^4: 1)
  43.78873062133789, 43.78873062133789, 43.78873062133789, 43.78873062133789,
  26.126216888427734, 26.126216888427734, 26.126216888427734, 26.126216888427734,
  7.715463161468506, 7.715463161468506, 7.715463161468506, 7.715463161468506,
], 16);
const SIGN_BITS = memory.data<u32>([0x80000000, 0x80000000, 0x80000000, 0x80000000], 16); // −0

// @ts-ignore: decorator
@inline function gk(i: i32): v128 {
  return v128.load(GELU_K + (<usize>i << 4));
}

// @ts-ignore: decorator
@inline export function gelu_f32x4(v: v128): v128 {
  const a = v128.and(v, v128.load(ABS_MASK)); // a NaN passes through; |x| > 5.55 is masked below
  // R first: its division then runs while the exponential's chain does (e·(p/q) rather than
  // (e·p)/q, whose division waited for both: 1.40 → 1.25 ns per value).
  let p = madd(gk(12), a, gk(11));
  p = madd(p, a, gk(10));
  p = madd(p, a, gk(9));
  let q = f32x4.add(a, gk(16));
  q = madd(q, a, gk(15));
  q = madd(q, a, gk(14));
  q = madd(q, a, gk(13));
  const r = f32x4.div(p, q);
  const y = f32x4.mul(f32x4.mul(a, a), gk(1)); // ≥ −22.3 where it matters
  // n = round(y): adding 1.5·2^23 leaves n in the low mantissa bits (two's complement), so
  // shifting them left by 23 is n's exponent increment; cheaper than nearest + trunc_sat.
  const m = f32x4.add(y, gk(2));
  const f = f32x4.sub(y, f32x4.sub(m, gk(2)));
  let e = madd(gk(8), f, gk(7));
  e = madd(e, f, gk(6));
  e = madd(e, f, gk(5));
  e = madd(e, f, gk(4));
  e = madd(e, f, gk(3));
  e = i32x4.add(e, i32x4.shl(m, 23));
  let h = f32x4.mul(e, r);
  h = v128.andnot(h, f32x4.gt(a, gk(0)));
  const xh = v128.and(f32x4.mul(f32x4.pmin(v, gk(0)), h), v128.load(ABS_MASK));
  return f32x4.sub(i32x4.min_u(v, v128.load(SIGN_BITS)), xh);
}

// x/2·(1 + tanh(√(2/π)·(x + 0.044715x³))).
// @ts-ignore: decorator
@inline export function gelu_tanh_f32x4(v: v128): v128 {
  const v3 = f32x4.mul(f32x4.mul(v, v), v);
  const inner = f32x4.mul(madd(v3, fsplat(0.044715), v), fsplat(0.79788456080286536));
  return f32x4.mul(f32x4.mul(v, fsplat(0.5)), f32x4.add(fsplat(1), tanh_f32x4(inner)));
}

// Scalar entry for tails and rare ops: the same polynomials as the vector lanes, so a tail element
// gets bit-identical results to a body element.
// @ts-ignore: decorator
@inline export function lane0(v: v128): f32 {
  return f32x4.extract_lane(v, 0);
}

// min(max(x, 0), 1) as pmax/pmin (one instruction each; V8's min/max are ~7 for their NaN and ±0
// rules: hard-swish epilogues ~20% faster). A NaN x passes through both (x is the first operand).
// Only x = −0 differs (stays −0, max gives +0), and x = v·a + b is −0 only when b is −0.
// @ts-ignore: decorator
@inline function hard_clamp01(x: v128): v128 {
  return f32x4.pmin(f32x4.pmax(x, f32x4.splat(0)), f32x4.splat(1));
}

// Applies activation `act` with parameters a, b to four lanes. The body is deliberately not
// inlined: callers invoke it once per output vector of an epilogue, and one shared copy keeps
// the module small. (The exported name is an @inline forwarder because AssemblyScript warns,
// AS112, about any *exported* function taking v128, even one never exported from the module.)
// @ts-ignore: decorator
@inline export function act_f32x4(v: v128, act: i32, a: f32, b: f32): v128 {
  return act_f32x4_impl(v, act, a, b);
}

function act_f32x4_impl(v: v128, act: i32, a: f32, b: f32): v128 {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  switch (act) {
    case ACT_NONE: return v;
    case ACT_RELU: return f32x4.max(v, zero);
    case ACT_CLIP: return f32x4.min(f32x4.max(v, f32x4.splat(a)), f32x4.splat(b));
    case ACT_LEAKY_RELU:
      return v128.bitselect(f32x4.mul(v, f32x4.splat(a)), v, f32x4.lt(v, zero));
    case ACT_HARD_SIGMOID:
      return hard_clamp01(madd(v, f32x4.splat(a), f32x4.splat(b)));
    case ACT_HARD_SWISH: return hard_swish_f32x4(v);
    case ACT_SIGMOID: return sigmoid_f32x4(v);
    case ACT_TANH: return tanh_f32x4(v);
    case ACT_GELU: return gelu_f32x4(v);
    case ACT_GELU_TANH: return gelu_tanh_f32x4(v);
    case ACT_ELU: {
      const neg = f32x4.mul(expm1_f32x4(f32x4.min(v, zero)), f32x4.splat(a));
      return v128.bitselect(v, neg, f32x4.gt(v, zero));
    }
    case ACT_SELU: {
      const neg = f32x4.mul(expm1_f32x4(f32x4.min(v, zero)), f32x4.splat(a));
      return f32x4.mul(v128.bitselect(v, neg, f32x4.gt(v, zero)), f32x4.splat(b));
    }
    case ACT_SOFTPLUS: {
      // max(x, 0) + log1p(e^−|x|): never overflows, exact for large |x|.
      const l = log1p_pos_f32x4(exp_f32x4(f32x4.neg(f32x4.abs(v))));
      return f32x4.add(f32x4.max(v, zero), l);
    }
    case ACT_MISH: {
      // tanh(softplus(x)) = n / (n + 2) with n = e^x (e^x + 2); x capped at 20 where the ratio is 1.
      const e = exp_f32x4(f32x4.min(v, f32x4.splat(20)));
      const n = f32x4.mul(e, f32x4.add(e, f32x4.splat(2)));
      return f32x4.mul(v, f32x4.div(n, f32x4.add(n, f32x4.splat(2))));
    }
    case ACT_SILU: return silu_f32x4(v);
  }
  return v;
}
