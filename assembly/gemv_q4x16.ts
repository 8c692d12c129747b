// 4-bit decode at float32-grade accuracy over the repacked weights (assembly/gemv_q4x.ts's layout):
// what MatMulNBits runs by default (accuracy_level 0 … 3) for one to four decode rows. x is
// quantized per block to 16 bits (s = max|x| / 32767: each x is off by at most 2^-16 of its block's
// largest, finer than float16 or bfloat16 would hold it) and multiplied with the exact
// `i32x4.dot_i16x8_s` on both builds, so the integer sums are exact and the two builds give the
// same bits. The int8 path (gemv_q4x_i8) stays the opt-in for accuracy_level 4.
//
// Bounds (i32): a product is ≤ 15 · 32767 < 2^19; a block's sum and zp · Σ xq are
// ≤ bs · 15 · 32767 < 2^29 for blocks up to 1024. Callers use blocks 32 … 256 (multiples of 32).
import { pairOrderPos, rowBlockEnd, storeCols, unitRow } from './gemv_q4x';

// x (what gemv_q4x_i16 reads): kp = nb·bs i16, each unit of 8 k ordered [x0 x2 x1 x3 x4 x6 x5 x7]
// (the k pairs one i16 lane of a repacked unit meets), then per block (s f32, Σ xq i32):
// kp·2 + nb·8 bytes, as q4PrepI8Bytes.

// One row of x (K floats) → xq: per block s = max|x| / 32767, xq = roundeven(x · (32767 / max)),
// zero past K (and for a block whose max|x| ≤ 1e-30).
export function q4x_prep_x16(x: usize, K: i32, bs: i32, xq: usize): void {
  const nb = (K + bs - 1) / bs;
  const kp = nb * bs;
  const meta = xq + (<usize>kp << 1);
  for (let b = 0; b < nb; b++) {
    const k0 = b * bs, e = min(K, k0 + bs);
    let mv = f32x4.splat(0);
    let k = k0;
    for (; k + 4 <= e; k += 4) mv = f32x4.max(mv, f32x4.abs(v128.load(x + (<usize>k << 2))));
    let m: f32 = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (; k < e; k++) m = max(m, abs(load<f32>(x + (<usize>k << 2))));
    // Below 1e-30 (32767 / m would overflow near 1e-34) a block counts as zero: its terms are
    // < 1e-30 · Σ|w|.
    const inv: f32 = m > <f32>1e-30 ? <f32>32767 / m : 0;
    // 8 k at a time into pair order; trunc_sat: a NaN x (then m is NaN, inv 0) gives 0, and s = NaN
    // makes the block's outputs NaN, as float arithmetic would.
    const iv = f32x4.splat(inv);
    let sv = i32x4.splat(0);
    for (k = k0; k + 8 <= e; k += 8) {
      const lo = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x + (<usize>k << 2)), iv)));
      const hi = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x + (<usize>k << 2), 16), iv)));
      sv = i32x4.add(sv, i32x4.add(lo, hi));
      const n = i16x8.narrow_i32x4_s(lo, hi);
      v128.store(xq + (<usize>k << 1), i8x16.shuffle(n, n, 0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15));
    }
    let sum: i32 = i32x4.extract_lane(sv, 0) + i32x4.extract_lane(sv, 1) + i32x4.extract_lane(sv, 2) + i32x4.extract_lane(sv, 3);
    for (; k < k0 + bs; k++) {
      const q = k < e ? i32x4.extract_lane(i32x4.trunc_sat_f32x4_s(f32x4.splat(nearest(load<f32>(x + (<usize>k << 2)) * inv))), 0) : 0;
      sum += q;
      store<i16>(xq + pairOrderPos(k), <i16>q);
    }
    store<f32>(meta + (<usize>b << 3), m / 32767);
    store<i32>(meta + (<usize>b << 3) + 4, sum);
  }
}

// The nibble masks as data: a v128.const used inside a loop is rebuilt there by V8 (three
// instructions a use, measured 2026-12-07), a value loaded once before the loop stays in a register.
const NIBBLE_MASKS = memory.data<u16>([
  0x000f, 0x000f, 0x000f, 0x000f, 0x000f, 0x000f, 0x000f, 0x000f,
  0x00f0, 0x00f0, 0x00f0, 0x00f0, 0x00f0, 0x00f0, 0x00f0, 0x00f0,
  0x0f00, 0x0f00, 0x0f00, 0x0f00, 0x0f00, 0x0f00, 0x0f00, 0x0f00,
], 16);

// Σ xq·q over 32 k (four units) of one column group, exact. An i16 lane of a unit holds one
// column's nibbles for the k pairs (0, 2), (1, 3), (4, 6), (5, 7) at bits 0–3, 8–11, 4–7, 12–15.
// They are masked in place (one AND each; the top one is one shift) and multiplied as they stand,
// so the bits 4–7 and 8–11 products are 16× and 256× the true ones: they go to their own
// accumulators, divided back exactly (arithmetic shifts of exact multiples) once the four units
// are summed. Bounds: a256 ≤ 4 units · 2 · 3840 · 32767 < 2^30, so four units is as far as it can
// go before the shift; a and a16 are far below. Two ANDs and two shifts fewer a unit than shifting
// every nibble down.
// @ts-ignore: decorator
@inline function quadSum(wp: usize, xp: usize, m0: v128, m1: v128, m2: v128): v128 {
  let a = i32x4.splat(0), a16 = a, a256 = a;
  for (let j = 0; j < 4; j++) {
    const v = v128.load(wp);
    a = i32x4.add(a, i32x4.add(i32x4.dot_i16x8_s(v128.and(v, m0), v128.load32_splat(xp)), i32x4.dot_i16x8_s(i16x8.shr_u(v, 12), v128.load32_splat(xp, 12))));
    a256 = i32x4.add(a256, i32x4.dot_i16x8_s(v128.and(v, m2), v128.load32_splat(xp, 4)));
    a16 = i32x4.add(a16, i32x4.dot_i16x8_s(v128.and(v, m1), v128.load32_splat(xp, 8)));
    wp += 16; xp += 16;
  }
  return i32x4.add(a, i32x4.add(i32x4.shr_s(a16, 4), i32x4.shr_s(a256, 8)));
}

// y[0 … N) = x · W for one row, W repacked (q4x_pack / q4x_pack_meta), xq = q4x_prep_x16's
// output: per block the exact Σ xq·q (quadSum), then y += (s · s_x) · (Σ xq·q − zp · Σ xq), as
// gemv_q4x_i8. No bias or activation (bias_act_rows does both). bs a multiple of 32, ≤ 1024;
// z4 = 0: zero point 8. Blocks of 32 (the common export) take quadSum, +11–13 % over the shifted
// nibbles (2026-12-07, same bits); V8 unrolls the small loops itself — unrolling by hand made it
// hoist every load to the top and spill (measured slower, as were two groups a pass sharing the x
// splats).
export function gemv_q4x_i16(xq: usize, K: i32, N: i32, bs: i32, w: usize, s4: usize, z4: usize, y: usize): void {
  const nb = (K + bs - 1) / bs;
  const kp = nb * bs;
  const meta = xq + (<usize>kp << 1);
  const units = bs >> 3;
  const groups = (N + 3) >> 2;
  const m0 = v128.load(NIBBLE_MASKS), m1 = v128.load(NIBBLE_MASKS, 16), m2 = v128.load(NIBBLE_MASKS, 32);
  let wp = w;
  let mi: usize = 0;
  for (let g = 0; g < groups; g++) {
    let yv = f32x4.splat(0);
    let xp = xq;
    if (units == 4) {
      for (let b = 0; b < nb; b++) {
        yv = rowBlockEnd(yv, quadSum(wp, xp, m0, m1, m2), s4, z4, mi, meta + (<usize>b << 3));
        wp += 64; xp += 64; mi += 4;
      }
    } else {
      // Longer blocks amortise their epilogue, and the in-place masks' accumulators would need
      // folding every 32 k: measured faster as one accumulator fed by nibbles shifted down.
      for (let b = 0; b < nb; b++) {
        let acc = i32x4.splat(0);
        for (let u = 0; u < units; u++) {
          const v = v128.load(wp);
          const d0 = i32x4.dot_i16x8_s(v128.and(v, m0), v128.load32_splat(xp));
          const d1 = i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 8), m0), v128.load32_splat(xp, 4));
          const d2 = i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 4), m0), v128.load32_splat(xp, 8));
          const d3 = i32x4.dot_i16x8_s(i16x8.shr_u(v, 12), v128.load32_splat(xp, 12));
          acc = i32x4.add(acc, i32x4.add(i32x4.add(d0, d1), i32x4.add(d2, d3)));
          wp += 16; xp += 16;
        }
        yv = rowBlockEnd(yv, acc, s4, z4, mi, meta + (<usize>b << 3));
        mi += 4;
      }
    }
    storeCols(y, g, N, yv);
  }
}

// gemv_q4x_i16 for M = 1 … 4 rows in one pass over the weights (batched decoding, short prompts):
// row r's q4x_prep_x16 output at xq + r·xqStride bytes, its y at y + r·ldy floats. Each unit's
// nibbles are unpacked once for all rows (shifted down: four rows of three accumulators would not
// fit the registers); rows past M repeat row 0 (results dropped). The integer sums are exact, so
// each row gets the bits gemv_q4x_i16 gives it alone.
export function gemv_q4x_i16_rows(xq: usize, xqStride: i32, M: i32, K: i32, N: i32, bs: i32, w: usize, s4: usize, z4: usize, y: usize, ldy: i32): void {
  if (M <= 0) return;
  const nb = (K + bs - 1) / bs;
  const kp = nb * bs;
  const metaO = <usize>kp << 1;
  const units = bs >> 3;
  const groups = (N + 3) >> 2;
  const st = <usize>xqStride;
  const x1 = M > 1 ? xq + st : xq, x2 = M > 2 ? xq + 2 * st : xq, x3 = M > 3 ? xq + 3 * st : xq;
  const ldyB = <usize>ldy << 2;
  const m = i16x8.splat(15);
  let wp = w;
  let mi: usize = 0;
  for (let g = 0; g < groups; g++) {
    let y0 = f32x4.splat(0), y1 = y0, y2 = y0, y3 = y0;
    let o: usize = 0;
    for (let b = 0; b < nb; b++) {
      let c0 = i32x4.splat(0), c1 = c0, c2 = c0, c3 = c0;
      for (let u = 0; u < units; u++) {
        const v = v128.load(wp);
        const n0 = v128.and(v, m), n2 = v128.and(i16x8.shr_u(v, 8), m), n1 = v128.and(i16x8.shr_u(v, 4), m), n3 = i16x8.shr_u(v, 12);
        c0 = unitRow(c0, n0, n2, n1, n3, xq + o);
        c1 = unitRow(c1, n0, n2, n1, n3, x1 + o);
        c2 = unitRow(c2, n0, n2, n1, n3, x2 + o);
        c3 = unitRow(c3, n0, n2, n1, n3, x3 + o);
        wp += 16; o += 16;
      }
      const mb = metaO + (<usize>b << 3);
      y0 = rowBlockEnd(y0, c0, s4, z4, mi, xq + mb);
      if (M > 1) y1 = rowBlockEnd(y1, c1, s4, z4, mi, x1 + mb);
      if (M > 2) y2 = rowBlockEnd(y2, c2, s4, z4, mi, x2 + mb);
      if (M > 3) y3 = rowBlockEnd(y3, c3, s4, z4, mi, x3 + mb);
      mi += 4;
    }
    storeCols(y, g, N, y0);
    if (M > 1) storeCols(y + ldyB, g, N, y1);
    if (M > 2) storeCols(y + 2 * ldyB, g, N, y2);
    if (M > 3) storeCols(y + 3 * ldyB, g, N, y3);
  }
}

