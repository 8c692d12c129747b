// Partial-vector loads/stores and the per-row GEMM epilogue (C_old, bias, activation), shared by
// every micro-kernel tile so that remainders in N are handled in exactly one place.
import {
  ACT_GELU, ACT_GELU_TANH, ACT_HARD_SWISH, ACT_SIGMOID, ACT_SILU, ACT_TANH, act_f32x4, gelu_f32x4,
  gelu_tanh_f32x4, hard_swish_f32x4, sigmoid_f32x4, silu_f32x4, tanh_f32x4,
} from './activation';

// Loads min(n, 4) floats into the low lanes (others 0); never touches memory past p + 4n. Used
// where an over-read could run past the 16-byte slack of the contract (bias and C rows).
// @ts-ignore: decorator
@inline export function loadN(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  if (n > 0) v = v128.load_lane<i32>(p, v, 0);
  if (n > 1) v = v128.load_lane<i32>(p + 4, v, 1);
  if (n > 2) v = v128.load_lane<i32>(p + 8, v, 2);
  return v;
}

// Stores min(n, 4) low lanes; nothing is written past p + 4n (tests check canaries).
// @ts-ignore: decorator
@inline export function storeN(p: usize, v: v128, n: i32): void {
  if (n >= 4) { v128.store(p, v); return; }
  if (n > 0) v128.store_lane<i32>(p, v, 0);
  if (n > 1) v128.store_lane<i32>(p + 4, v, 1);
  if (n > 2) v128.store_lane<i32>(p + 8, v, 2);
}

// One output row of a tile: v0/v1 are columns 0–3 / 4–7 of the accumulators.
// @ts-ignore: decorator
@inline export function store_row(cp: usize, v0: v128, v1: v128, nr: i32, addC: bool, rb: f32,
  bc0: v128, bc1: v128, act: i32, alpha: f32, beta: f32): void {
  const full = nr == 8;
  if (addC) {
    if (full) { v0 = f32x4.add(v0, v128.load(cp)); v1 = f32x4.add(v1, v128.load(cp, 16)); }
    else { v0 = f32x4.add(v0, loadN(cp, nr)); v1 = f32x4.add(v1, loadN(cp + 16, nr - 4)); }
  }
  const rbv = f32x4.splat(rb);
  v0 = f32x4.add(f32x4.add(v0, rbv), bc0);
  v1 = f32x4.add(f32x4.add(v1, rbv), bc1);
  if (act == 1) {
    v0 = f32x4.max(v0, f32x4.splat(0)); v1 = f32x4.max(v1, f32x4.splat(0));
  } else if (act != 0) {
    v0 = act_f32x4(v0, act, alpha, beta); v1 = act_f32x4(v1, act, alpha, beta);
  }
  if (full) { v128.store(cp, v0); v128.store(cp, v1, 16); }
  else { storeN(cp, v0, nr); storeN(cp + 16, v1, nr - 4); }
}

// Activations whose constants cost more to build than the arithmetic using them: V8 materializes
// every f32x4 constant afresh (3 instructions each) at each use site, ~30 for erf, and a min/max
// clamp is ~7 instructions. The driver leaves these out of the micro-kernels' epilogue and runs
// act_strip over each M×nr strip of C once it is final and still in L1; four vectors per step
// share the constants.
// @ts-ignore: decorator
@inline export function act_in_strip(act: i32): bool {
  return act == ACT_GELU || act == ACT_GELU_TANH || act == ACT_SIGMOID || act == ACT_TANH
    || act == ACT_SILU || act == ACT_HARD_SWISH;
}

// @ts-ignore: decorator
@inline function act1(v: v128, act: i32): v128 {
  if (act == ACT_GELU) return gelu_f32x4(v);
  if (act == ACT_GELU_TANH) return gelu_tanh_f32x4(v);
  if (act == ACT_SIGMOID) return sigmoid_f32x4(v);
  if (act == ACT_TANH) return tanh_f32x4(v);
  if (act == ACT_SILU) return silu_f32x4(v);
  return hard_swish_f32x4(v);
}

// Two full rows (four vectors) of C in place, with the activation chosen once for all four. All
// four are computed before any is stored: a store could alias the constant tables as far as V8
// knows, so storing between them made it reload every constant for each vector (and kept the
// four chains from overlapping). GELU: 1.86 → 1.62 ns per value from this alone.
// @ts-ignore: decorator
@inline function act_rows2(c: usize, ldc: usize, act: i32): void {
  const a = act1(v128.load(c), act), b = act1(v128.load(c, 16), act);
  const d = act1(v128.load(c + ldc), act), e = act1(v128.load(c + ldc, 16), act);
  v128.store(c, a); v128.store(c, b, 16);
  v128.store(c + ldc, d); v128.store(c + ldc, e, 16);
}

// act (an act_in_strip one) over rows × nr floats of C in place; ldc in bytes. Same lane
// operations as the epilogue's act_f32x4, so the same bits.
export function act_strip(c: usize, ldc: usize, rows: i32, nr: i32, act: i32): void {
  let r = 0;
  if (nr == 8) {
    // One loop per activation, so that each loop body holds one function's constants.
    if (act == ACT_GELU) for (; r + 2 <= rows; r += 2) act_rows2(c + <usize>r * ldc, ldc, ACT_GELU);
    else if (act == ACT_GELU_TANH) for (; r + 2 <= rows; r += 2) act_rows2(c + <usize>r * ldc, ldc, ACT_GELU_TANH);
    else if (act == ACT_SIGMOID) for (; r + 2 <= rows; r += 2) act_rows2(c + <usize>r * ldc, ldc, ACT_SIGMOID);
    else if (act == ACT_TANH) for (; r + 2 <= rows; r += 2) act_rows2(c + <usize>r * ldc, ldc, ACT_TANH);
    else if (act == ACT_SILU) for (; r + 2 <= rows; r += 2) act_rows2(c + <usize>r * ldc, ldc, ACT_SILU);
    else for (; r + 2 <= rows; r += 2) act_rows2(c + <usize>r * ldc, ldc, ACT_HARD_SWISH);
  }
  for (; r < rows; r++) {
    const p = c + <usize>r * ldc;
    storeN(p, act_f32x4(loadN(p, nr), act, 0, 0), nr);
    if (nr > 4) storeN(p + 16, act_f32x4(loadN(p + 16, nr - 4), act, 0, 0), nr - 4);
  }
}
