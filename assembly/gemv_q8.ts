// The int8 decode GEMV (M ≤ 4 rows) of the fused dynamic-quantization step: the weights stream as
// one byte each instead of the GEMM's two (pack_b_i8's i16 panels), and are widened in registers.
// A decode step is memory-bound: it reads every weight once to do one multiply-add with it, so
// bytes per weight is what sets its time (docs/decode-kernels.md).
//
// Packed int8 B (pack_b_q8, once per weight): Kp = K rounded up to 8; panel j (columns 8j…8j+7)
// starts at byte j·Kp·8 and holds, per K pair p, 16 bytes [b(2p,c0) b(2p+1,c0) b(2p,c1) … c7] as
// i8 with the zero point already subtracted, zero past K and N: pack_b_i8's panel with each i16
// narrowed to i8. `i16x8.extend_low/high_i8x16_s` turn a group back into exactly the two i16
// vectors the GEMM loads, so the same `i32x4.dot_i16x8_s` against the same packed A words gives
// the same i32 sums (integer sums are exact in any order), and the same epilogue the same floats.
// The narrowing is exact only when every b − zp fits i8 (signed weights with zero point 0, the
// usual quantize_dynamic output, or u8 weights with zp 128): pack_b_q8 returns 0 when one does
// not, and then the caller keeps the GEMM.
//
// A is the GEMM's packed A (quantize_pack_a_f32): for M ≤ 4 one row block, K pair p of row i the
// 32-bit word at p·16 + i·4, splat to four lanes against one half of a B group.

import { ACT_NONE } from './activation';
import { act_in_strip, act_strip } from './gemm_epilogue';
import { load8, rowScale, storeRow } from './gemm_i8';

// @ts-ignore: decorator
@inline function byteAt(p: usize, signed: i32): i32 {
  return signed != 0 ? <i32>load<i8>(p) : <i32>load<u8>(p);
}

// src: B as K×N (ldb elements per row), or N×K when transB; zp: 0 (none), or a pointer to b_zp
// bytes, one (per tensor) or N (zpPerCol != 0). Returns 1, or 0 when some b − zp is outside i8
// (dst is then incomplete and must not be used).
//
// B as K×N (MatMulInteger's, the usual case) is read row-major: eight rows at a time, 8 columns of
// each (one 64-bit load), widened to i16, the zero points subtracted, narrowed back and interleaved
// by K pair into the panel's 64 bytes for those 8 K — sequential reads of 8 rows and one full cache
// line written per panel. (Walking it column by column, as the transposed case does, reads one
// byte per cache line: BERT-base's 85 M int8 weights took ~0.9 s to pack, now ~0.05 s.) Whether
// every value fits is tracked as a running i16 min/max and checked once at the end.
export function pack_b_q8(src: usize, dst: usize, K: i32, N: i32, ldb: i32, transB: i32, signed: i32,
  zp: usize, zpPerCol: i32): i32 {
  if (transB != 0) {
    const Kp = (K + 7) & ~7;
    for (let j0 = 0; j0 < N; j0 += 8) for (let c = 0; c < 8; c++) {
      if (!packColumnQ8(src, dst, K, N, ldb, 1, signed, zp, zpPerCol, Kp, j0, c, 0, K)) return 0;
    }
    return 1;
  }
  return packRowsQ8(src, dst, K, N, ldb, signed, zp, zpPerCol, 0, K) ? 1 : 0;
}

// The K×N case of pack_b_q8 for rows kBegin … kEnd − 1 only, read from `src` (row kBegin there,
// ldb bytes apart): kBegin a multiple of 8, and kEnd too unless it is K (then the panels' rows
// past K are zeroed). A weight can thus be packed a band of rows at a time as it is read from the
// model file (pack_b_q8_rows); the bytes written are those of the whole-matrix call.
export function packRowsQ8(src: usize, dst: usize, K: i32, N: i32, ldb: i32, signed: i32, zp: usize, zpPerCol: i32,
  kBegin: i32, kEnd: i32): bool {
  const Kp = (K + 7) & ~7, N8 = N & ~7;
  const kStop = kEnd >= K ? Kp : kEnd;
  let lo = i16x8.splat(0), hi = i16x8.splat(0);
  const zt = zp != 0 && zpPerCol == 0 ? i16x8.splat(<i16>byteAt(zp, signed)) : i16x8.splat(0);
  for (let k0 = kBegin; k0 < kStop; k0 += 8) {
    for (let j0 = 0; j0 < N8; j0 += 8) {
      const z = zp != 0 && zpPerCol != 0 ? widen8(zp + <usize>j0, signed) : zt;
      const out = dst + <usize>j0 * <usize>Kp + (<usize>k0 << 3);
      for (let p = 0; p < 4; p++) {
        const k = k0 + 2 * p;
        const a = k < K ? i16x8.sub(widen8(src + <usize>(k - kBegin) * <usize>ldb + <usize>j0, signed), z) : i16x8.splat(0);
        const b = k + 1 < K ? i16x8.sub(widen8(src + <usize>(k + 1 - kBegin) * <usize>ldb + <usize>j0, signed), z) : i16x8.splat(0);
        lo = i16x8.min_s(lo, i16x8.min_s(a, b)); hi = i16x8.max_s(hi, i16x8.max_s(a, b));
        // a's 8 bytes then b's, narrowed (exact when they fit, checked below), interleaved by column.
        const n = i8x16.narrow_i16x8_s(a, b);
        v128.store(out + (<usize>p << 4), i8x16.shuffle(n, n, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
      }
    }
  }
  if (!rangeFits(lo, hi)) return false;
  for (let c = 0; c < 8 && N8 < N; c++) {
    if (!packColumnQ8(src, dst, K, N, ldb, 0, signed, zp, zpPerCol, Kp, N8, c, kBegin, kStop)) return false;
  }
  return true;
}

// 1 when every lane of lo ≥ −128 and of hi ≤ 127.
// @ts-ignore: decorator
@inline function rangeFits(lo: v128, hi: v128): bool {
  return v128.any_true(v128.or(i16x8.lt_s(lo, i16x8.splat(-128)), i16x8.gt_s(hi, i16x8.splat(127)))) == 0;
}

// Eight bytes at p, sign- or zero-extended to i16 lanes.
// @ts-ignore: decorator
@inline function widen8(p: usize, signed: i32): v128 {
  const x = v128.load64_zero(p);
  return signed != 0 ? i16x8.extend_low_i8x16_s(x) : i16x8.extend_low_i8x16_u(x);
}

// Column j0 + c of panel j0 (zero past N and K), one byte at a time, for K rows kBegin … kStop − 1
// (src holds row kBegin first when not transposed): the transposed case (each column contiguous
// in src) and the last N mod 8 columns. 0 when a value does not fit i8.
function packColumnQ8(src: usize, dst: usize, K: i32, N: i32, ldb: i32, transB: i32, signed: i32, zp: usize, zpPerCol: i32,
  Kp: i32, j0: i32, c: i32, kBegin: i32, kStop: i32): bool {
  const panel = dst + <usize>j0 * <usize>Kp, col = j0 + c;
  const z = col < N && zp != 0 ? byteAt(zp + (zpPerCol != 0 ? <usize>col : 0), signed) : 0;
  const end = transB != 0 ? Kp : kStop;
  for (let k = kBegin; k < end; k++) {
    let v = 0;
    if (col < N && k < K) {
      const at = transB != 0 ? <usize>col * <usize>ldb + <usize>k : <usize>(k - kBegin) * <usize>ldb + <usize>col;
      v = byteAt(src + at, signed) - z;
      if (v < -128 || v > 127) return false;
    }
    store<i8>(panel + (<usize>(k >> 1) << 4) + (<usize>c << 1) + <usize>(k & 1), <i8>v);
  }
  return true;
}

// 1 when every b − zp of B (K×N, or N×K when transB) fits i8, so that pack_b_q8 will succeed:
// checked before a block is allocated for its panels (the only packed copy of the weight then).
// Read in memory order, 8 bytes at a time, as pack_b_q8 does.
export function fits_q8(src: usize, K: i32, N: i32, ldb: i32, transB: i32, signed: i32, zp: usize, zpPerCol: i32): i32 {
  if (signed != 0 && zp == 0) return 1;
  // rows × cols in memory order: K × N, or N × K (a row per column, its zero point splat).
  const rows = transB != 0 ? N : K, cols = transB != 0 ? K : N, cols8 = cols & ~7;
  let lo = i16x8.splat(0), hi = i16x8.splat(0);
  for (let r = 0; r < rows; r++) {
    const row = src + <usize>r * <usize>ldb;
    const zr = zp == 0 ? 0 : byteAt(zp + (zpPerCol != 0 && transB != 0 ? <usize>r : 0), signed);
    const zs = i16x8.splat(<i16>zr);
    for (let j = 0; j < cols8; j += 8) {
      const z = zp != 0 && zpPerCol != 0 && transB == 0 ? widen8(zp + <usize>j, signed) : zs;
      const d = i16x8.sub(widen8(row + <usize>j, signed), z);
      lo = i16x8.min_s(lo, d); hi = i16x8.max_s(hi, d);
    }
    for (let j = cols8; j < cols; j++) {
      const z = zp == 0 ? 0 : byteAt(zp + (zpPerCol != 0 ? <usize>(transB != 0 ? r : j) : 0), signed);
      const v = byteAt(row + <usize>j, signed) - z;
      if (v < -128 || v > 127) return 0;
    }
  }
  return rangeFits(lo, hi) ? 1 : 0;
}

// @ts-ignore: decorator
@inline function mac(acc: v128, a: v128, b: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(a, b));
}

// One panel for MR rows (a constant at each call site, so the unused rows fold away): two K pairs
// a step (Kp/2 is a multiple of 4), then the GEMM's tile store (rs: per-row A scales or 0, as
// gemm_i8.ts's rowScale).
// @ts-ignore: decorator
@inline function panel(a: usize, b: usize, Kp: i32, o: usize, ldo: usize, MR: i32, nr: i32,
  slo: v128, shi: v128, rs: usize, blo: v128, bhi: v128, hasBias: bool, act: i32, aa: f32, ab: f32): void {
  let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
  let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
  const end = b + (<usize>Kp << 3);
  while (b < end) {
    let g = v128.load(b);
    let x0 = i16x8.extend_low_i8x16_s(g), x1 = i16x8.extend_high_i8x16_s(g);
    let s = v128.load32_splat(a); c00 = mac(c00, s, x0); c01 = mac(c01, s, x1);
    if (MR > 1) { s = v128.load32_splat(a, 4); c10 = mac(c10, s, x0); c11 = mac(c11, s, x1); }
    if (MR > 2) { s = v128.load32_splat(a, 8); c20 = mac(c20, s, x0); c21 = mac(c21, s, x1); }
    if (MR > 3) { s = v128.load32_splat(a, 12); c30 = mac(c30, s, x0); c31 = mac(c31, s, x1); }
    g = v128.load(b, 16);
    x0 = i16x8.extend_low_i8x16_s(g); x1 = i16x8.extend_high_i8x16_s(g);
    s = v128.load32_splat(a, 16); c00 = mac(c00, s, x0); c01 = mac(c01, s, x1);
    if (MR > 1) { s = v128.load32_splat(a, 20); c10 = mac(c10, s, x0); c11 = mac(c11, s, x1); }
    if (MR > 2) { s = v128.load32_splat(a, 24); c20 = mac(c20, s, x0); c21 = mac(c21, s, x1); }
    if (MR > 3) { s = v128.load32_splat(a, 28); c30 = mac(c30, s, x0); c31 = mac(c31, s, x1); }
    a += 32; b += 32;
  }
  storeRow<f32>(o, c00, c01, nr, rowScale(slo, rs, 0), rowScale(shi, rs, 0), blo, bhi, hasBias, act, aa, ab);
  if (MR > 1) storeRow<f32>(o + ldo, c10, c11, nr, rowScale(slo, rs, 1), rowScale(shi, rs, 1), blo, bhi, hasBias, act, aa, ab);
  if (MR > 2) storeRow<f32>(o + 2 * ldo, c20, c21, nr, rowScale(slo, rs, 2), rowScale(shi, rs, 2), blo, bhi, hasBias, act, aa, ab);
  if (MR > 3) storeRow<f32>(o + 3 * ldo, c30, c31, nr, rowScale(slo, rs, 3), rowScale(shi, rs, 3), blo, bhi, hasBias, act, aa, ab);
}

// Rows of the GEMV as a type, so that each row count is a function of its own with MR a constant:
// u8, u16, u64, u32 → 1, 2, 3, 4 rows. (With the four panel() copies inlined into one function,
// Binaryen's code folding merged those for 2, 3 and 4 rows into one loop testing a run-time MR at
// every K pair: 2 rows cost as much as 4, 2.4 ms on Whisper's 384 × 51,865 q8 head against 0.9 ms
// for one row.)
// @ts-ignore: decorator
@inline function rowsOf<R>(): i32 {
  return sizeof<R>() == 8 ? 3 : <i32>sizeof<R>();
}

// Every panel for rowsOf<R>() rows.
function panels<R>(ap: usize, bq: usize, y: usize, ldy: i32, N: i32, K: i32,
  aScale: f32, wScale: usize, bias: usize, tileAct: i32, aa: f32, ab: f32, aScales: usize): void {
  const MR = rowsOf<R>();
  const Kp = (K + 7) & ~7, ldoB = <usize>ldy << 2, panelB = <usize>Kp << 3;
  const as = f32x4.splat(aScale), zero = f32x4.splat(0), hasBias = bias != 0;
  for (let j0 = 0; j0 < N; j0 += 8) {
    const nr = min(8, N - j0), b = bq + <usize>(j0 >> 3) * panelB, oj = y + (<usize>j0 << 2);
    const ws = wScale + (<usize>j0 << 2);
    let slo = load8(ws, nr, false), shi = load8(ws, nr, true);
    if (aScales == 0) { slo = f32x4.mul(as, slo); shi = f32x4.mul(as, shi); }
    let blo = zero, bhi = zero;
    if (hasBias) { const bj = bias + (<usize>j0 << 2); blo = load8(bj, nr, false); bhi = load8(bj, nr, true); }
    panel(ap, b, Kp, oj, ldoB, MR, nr, slo, shi, aScales, blo, bhi, hasBias, tileAct, aa, ab);
  }
}

// y (M×N f32, ldy elements, 1 ≤ M ≤ 4) = act(f32(A·Bq)·f32(aScale·wScale[j]) (+ bias[j])), A
// packed by quantize_pack_a_f32 / pack_a_i8, Bq by pack_b_q8: the same bits as gemm_i16_dq_f32
// over pack_b_i8's panels of the same weight. aScales: 0, or M per-row A scales replacing aScale
// (as gemm_q8_dq_f32's).
export function gemv_q8_dq_f32(ap: usize, bq: usize, y: usize, ldy: i32, M: i32, N: i32, K: i32,
  aScale: f32, wScale: usize, bias: usize, act: i32, aa: f32, ab: f32, aScales: usize): void {
  if (M <= 0 || N <= 0 || M > 4) return;
  const strip = act_in_strip(act), tileAct = strip ? ACT_NONE : act;
  if (M == 1) panels<u8>(ap, bq, y, ldy, N, K, aScale, wScale, bias, tileAct, aa, ab, aScales);
  else if (M == 2) panels<u16>(ap, bq, y, ldy, N, K, aScale, wScale, bias, tileAct, aa, ab, aScales);
  else if (M == 3) panels<u64>(ap, bq, y, ldy, N, K, aScale, wScale, bias, tileAct, aa, ab, aScales);
  else panels<u32>(ap, bq, y, ldy, N, K, aScale, wScale, bias, tileAct, aa, ab, aScales);
  // The costlier activations over the finished rows, as the GEMM does per strip (same bits).
  if (strip) for (let j0 = 0; j0 < N; j0 += 8) act_strip(y + (<usize>j0 << 2), <usize>ldy << 2, M, min(8, N - j0), act);
}
