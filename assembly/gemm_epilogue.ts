// Partial-vector loads/stores and the per-row GEMM epilogue (C_old, bias, activation), shared by
// every micro-kernel tile so that remainders in N are handled in exactly one place.
import { act_f32x4 } from './activation';

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
