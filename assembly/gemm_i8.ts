// The int8 GEMM: (u8|i8 − a_zp) × (u8|i8 − b_zp) → i32, for MatMulInteger, ConvInteger, the QLinear
// ops and the fused dynamic-quantization step. Both operands are widened to i16 once, with their
// zero points subtracted, so that `i32x4.dot_i16x8_s` multiplies pairs of K and adds them: one
// instruction per 2 K × 4 columns, exact (differences of 8-bit values fit i16, −255…255, and a
// pair of products fits i32 easily), and no row or column sums to correct afterwards. The
// relaxed-SIMD i8 dot is not used: its results on our operands (u8 activations, ±127 weights)
// would depend on the engine.
//
// Packed B (pack_b_i8, once per weight): Kp = K rounded up to 8; panel j holds columns 8j…8j+7 as
// Kp/2 groups of 32 bytes: [b(2p,c0) b(2p+1,c0) b(2p,c1) b(2p+1,c1) … c3] [… c4 … c7], as i16,
// zero-padded past K and N. Panel j starts at byte j·Kp·16.
//
// Packed A (pack_a_i8 from bytes, quantize_pack_a_f32 from floats, once per call): rows rounded
// up to 4 and K to 8; row block r (rows 4r…4r+3) starts at byte r·Kp·8 and holds, per K pair p,
// 16 bytes: [a(4r,2p) a(4r,2p+1) a(4r+1,2p) … a(4r+3,2p+1)] as i16, zero past M and K. One K pair
// of one row is then one 32-bit word at a constant offset from one pointer, and
// `v128.load32_splat` broadcasts it to the four lanes that meet four columns' (b(2p), b(2p+1)):
// no widening or shuffles in the loop, which advances two pointers. Per K pair a 4×8 tile costs
// 4 splat loads + 2 B loads + 8 dots + 8 adds, with 8 accumulators + 2 B + 1 A + 1 product = 12
// v128 values live: below x64's 15 allocatable xmm registers (V8 keeps xmm15 as scratch), so V8
// spills nothing. (Measured slower: A widened in the loop and shuffled — V8 hoisted the loads and
// spilled —, four separate row pointers, 3×8, 2×16, 5×8.) The loop takes two K pairs a step
// (tile_i16_4x8 says how), which V8 unrolls once more: four K pairs per stack check, 2.75 scalar
// instructions a K pair instead of 4.7, about 1% faster. On Zen 4 (Node 20) it reaches 44–46
// GMAC/s on one core (bench/peak-i8.mjs), L1-resident or on BERT's shapes alike, against ~59 for
// dot+add alone with no loads (2 dots a cycle); most of that gap comes with the 6 loads per 8
// dots (with A held in registers the same loop runs ~9% faster), none of it from the caches.
// V8 keeps the three splat addresses (a + 4, + 8, + 12) in registers across the loop, so a
// splat costs no address arithmetic here (a standalone copy of the loop did pay a leaq each).
// Measured and not kept: A pre-broadcast in memory (each row's K pair repeated over 4 lanes, 64
// bytes a K pair, read with plain v128.loads at constant offsets): the same 44.5 GMAC/s
// L1-resident, and slower on BERT's K = 768 shapes (42 against 45.5 at 128×768×768, 40.5
// against 44 at 128×30522×768), as the 4× larger A streams from L2 once per B panel.
//
// The epilogue writes the tile straight from registers: i32 C, or (dequantizing) f32
// y = f32(C)·f32(aScale·wScale[j]) (+ bias[j]), the roundings of Cast → Mul → Add.

import { ACT_NONE, act_f32x4 } from './activation';
import { act_in_strip, act_strip } from './gemm_epilogue';

// @ts-ignore: decorator
@inline function byteAt(p: usize, signed: i32): i32 {
  return signed != 0 ? <i32>load<i8>(p) : <i32>load<u8>(p);
}

// src: B as K×N (ldb elements per row), or N×K when transB. zp: 0 (none), or a pointer to
// b_zp bytes, one (per tensor) or N (zpPerCol != 0).
export function pack_b_i8(src: usize, dst: usize, K: i32, N: i32, ldb: i32, transB: i32, signed: i32,
  zp: usize, zpPerCol: i32): void {
  const Kp = (K + 7) & ~7;
  for (let j0 = 0; j0 < N; j0 += 8) {
    const panel = dst + <usize>j0 * <usize>Kp * 2;
    for (let c = 0; c < 8; c++) {
      const col = j0 + c;
      const z = col < N && zp != 0 ? byteAt(zp + (zpPerCol != 0 ? <usize>col : 0), signed) : 0;
      // Column c sits in the low (c < 4) or high 16-byte half, at i16 pair slot (c & 3).
      const colOff: usize = (<usize>(c >> 2) << 4) + (<usize>(c & 3) << 2);
      for (let k = 0; k < Kp; k++) {
        let v = 0;
        if (col < N && k < K) {
          const at = transB != 0 ? <usize>col * <usize>ldb + <usize>k : <usize>k * <usize>ldb + <usize>col;
          v = byteAt(src + at, signed) - z;
        }
        store<i16>(panel + (<usize>(k >> 1) << 5) + colOff + (<usize>(k & 1) << 1), <i16>v);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function mac(acc: v128, a: v128, b: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(a, b));
}

// @ts-ignore: decorator
@inline function lane(v: v128, j: i32): i32 {
  switch (j & 3) {
    case 0: return i32x4.extract_lane(v, 0);
    case 1: return i32x4.extract_lane(v, 1);
    case 2: return i32x4.extract_lane(v, 2);
    default: return i32x4.extract_lane(v, 3);
  }
}

// One row of the tile (lo = columns 0…3, hi = 4…7), nr ≤ 8 of them stored. T = i32 stores C;
// T = f32 dequantizes with the tile's column scales (slo, shi) and bias (blo, bhi; zero if none),
// then applies activation `act` (activation.ts codes, parameters aa, ab).
// @ts-ignore: decorator
@inline export function storeRow<T>(o: usize, lo: v128, hi: v128, nr: i32, slo: v128, shi: v128, blo: v128, bhi: v128, hasBias: bool,
  act: i32, aa: f32, ab: f32): void {
  if (isFloat<T>()) {
    lo = f32x4.mul(f32x4.convert_i32x4_s(lo), slo);
    hi = f32x4.mul(f32x4.convert_i32x4_s(hi), shi);
    if (hasBias) { lo = f32x4.add(lo, blo); hi = f32x4.add(hi, bhi); }
    if (act != ACT_NONE) { lo = act_f32x4(lo, act, aa, ab); hi = act_f32x4(hi, act, aa, ab); }
  }
  if (nr == 8) { v128.store(o, lo); v128.store(o, hi, 16); return; }
  for (let j = 0; j < nr; j++) store<i32>(o + (<usize>j << 2), lane(j < 4 ? lo : hi, j));
}

// The dequantizing scales of tile row i: the panel's aScale·wScale (v) when A has one scale
// (rs = 0), else f32(rs[i])·wScale with v = wScale alone (A scaled per row: each batch item of a
// batched decoder quantized with its own range, quant-fused.ts). Either is one f32 product per
// lane, aScale·wScale[j], so a row gets the same bits from both when its scale is the same. Read
// after the K loop: nothing more is live in it than the row pointer.
// @ts-ignore: decorator
@inline export function rowScale(v: v128, rs: usize, i: i32): v128 {
  return rs == 0 ? v : f32x4.mul(f32x4.splat(load<f32>(rs + (<usize>i << 2))), v);
}

// 4 rows × 8 columns over Kp/2 K pairs: a = the row block in packed A (16 bytes a pair), b = the
// panel (32 bytes a pair). All 4 rows are computed (packed A is zero past M); mr are stored.
// rs: the block's first row's A scale when A has one per row (see rowScale), else 0.
// @ts-ignore: decorator
@inline function tile_i16_4x8<T, W>(a: usize, b: usize, Kp: i32, o: usize, ldo: usize, mr: i32, nr: i32,
  slo: v128, shi: v128, rs: usize, blo: v128, bhi: v128, hasBias: bool, act: i32, aa: f32, ab: f32): void {
  let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
  let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
  // Two K pairs a step; the second reads A through its own pointer (a + 16) so that its splats
  // reuse the first's constant offsets. The exit between them is never taken (Kp/2 is a multiple
  // of 4) but keeps Binaryen from merging the halves into one expression per accumulator, whose
  // loads V8 would then hoist and spill.
  // W = i8: pack_b_q8's one-byte panels (16 bytes a K pair), each half widened to the same i16
  // vector by the load itself (v128.load8x8_s: one pmovsxbw from memory, as cheap as a load).
  const wide = sizeof<W>() == 2, step: usize = wide ? 32 : 16;
  const end = b + (<usize>Kp << (wide ? 4 : 3)), last = end - step;
  let a2 = a + 16;
  if (b < end) while (true) {
    let x0 = wide ? v128.load(b) : v128.load8x8_s(b), x1 = wide ? v128.load(b, 16) : v128.load8x8_s(b, 8);
    let s = v128.load32_splat(a); c00 = mac(c00, s, x0); c01 = mac(c01, s, x1);
    s = v128.load32_splat(a, 4); c10 = mac(c10, s, x0); c11 = mac(c11, s, x1);
    s = v128.load32_splat(a, 8); c20 = mac(c20, s, x0); c21 = mac(c21, s, x1);
    s = v128.load32_splat(a, 12); c30 = mac(c30, s, x0); c31 = mac(c31, s, x1);
    if (b >= last) break;
    x0 = wide ? v128.load(b, 32) : v128.load8x8_s(b, 16); x1 = wide ? v128.load(b, 48) : v128.load8x8_s(b, 24);
    s = v128.load32_splat(a2); c00 = mac(c00, s, x0); c01 = mac(c01, s, x1);
    s = v128.load32_splat(a2, 4); c10 = mac(c10, s, x0); c11 = mac(c11, s, x1);
    s = v128.load32_splat(a2, 8); c20 = mac(c20, s, x0); c21 = mac(c21, s, x1);
    s = v128.load32_splat(a2, 12); c30 = mac(c30, s, x0); c31 = mac(c31, s, x1);
    a += 32; a2 += 32; b += step << 1;
    if (b >= end) break;
  }
  storeRow<T>(o, c00, c01, nr, rowScale(slo, rs, 0), rowScale(shi, rs, 0), blo, bhi, hasBias, act, aa, ab);
  if (mr > 1) storeRow<T>(o + ldo, c10, c11, nr, rowScale(slo, rs, 1), rowScale(shi, rs, 1), blo, bhi, hasBias, act, aa, ab);
  if (mr > 2) storeRow<T>(o + 2 * ldo, c20, c21, nr, rowScale(slo, rs, 2), rowScale(shi, rs, 2), blo, bhi, hasBias, act, aa, ab);
  if (mr > 3) storeRow<T>(o + 3 * ldo, c30, c31, nr, rowScale(slo, rs, 3), rowScale(shi, rs, 3), blo, bhi, hasBias, act, aa, ab);
}

// Eight floats from p, or the first n of them (rest 0) without reading past n.
// @ts-ignore: decorator
@inline export function load8(p: usize, n: i32, hi: bool): v128 {
  const base = hi ? 4 : 0;
  if (n >= base + 4) return v128.load(p + (<usize>base << 2));
  let v = f32x4.splat(0);
  if (n > base) v = f32x4.replace_lane(v, 0, load<f32>(p + (<usize>base << 2)));
  if (n > base + 1) v = f32x4.replace_lane(v, 1, load<f32>(p + (<usize>(base + 1) << 2)));
  if (n > base + 2) v = f32x4.replace_lane(v, 2, load<f32>(p + (<usize>(base + 2) << 2)));
  return v;
}

// ---- Packing A: rows of 8 K values as i16x8 (zero point subtracted), four rows at a time,
// transposed as 4×4 words so that each K pair holds the four rows' words side by side.

// Writes the K pairs k0/2 … k0/2+3 of one row block from rows r0…r3 (i16x8 each, K = k0 … k0+7).
// @ts-ignore: decorator
@inline function storeBlock8(dst: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7), t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i64x2.shuffle(t0, t1, 0, 2));
  v128.store(dst, i64x2.shuffle(t0, t1, 1, 3), 16);
  v128.store(dst, i64x2.shuffle(t2, t3, 0, 2), 32);
  v128.store(dst, i64x2.shuffle(t2, t3, 1, 3), 48);
}

// @ts-ignore: decorator
@inline function packedAt(block: usize, i: i32, k: i32): usize {
  return block + (<usize>(k >> 1) << 4) + (<usize>i << 2) + (<usize>(k & 1) << 1);
}

// One float → its quantized value minus the zero point, as quantize8 computes it: clamped in
// float to [−zp, 255 − zp] (NaN gives −zp), so that a quotient past 2^31 cannot wrap around.
// @ts-ignore: decorator
@inline function quantizeScalar(x: f32, scale: f32, zp: i32): i16 {
  const q = nearest(x / scale), lo = <f32>(-zp), hi = <f32>(<i32>255 - zp);
  return <i16><i32>(q > hi ? hi : q >= lo ? q : lo);
}

// Eight floats at p → roundeven(x / s), clamped to [lo, hi] = [−zp, 255 − zp] (the same as
// saturating q + zp to 0…255 and subtracting zp), as i16. The clamp is done in float with
// pmax/pmin (one maxps/minps each; NaN gives lo, as trunc_sat's 0 did), then the integer is read
// out of the float's bits: c + 1.5·2^23 is exact for |c| < 2^22 and its bits are 0x4b400000 + c
// (magic holds both). That replaces trunc_sat (five x64 instructions and a constant load in V8)
// and the integer max/min/sub: 6 instructions a vector instead of ~13.
// The division stays: x·f32(1/scale) with a proof-carrying test for lanes near a half-integer
// (recomputed by division) was measured and lost — the test costs more than divps does here
// (128×768: 26.8 µs with it, 23.8 µs dividing, 18.5 µs for a bare multiply that is not exact).
// @ts-ignore: decorator
@inline function quantize8(p: usize, s: v128, lo: v128, hi: v128, magic: v128): v128 {
  const n0 = f32x4.nearest(f32x4.div(v128.load(p), s)), n1 = f32x4.nearest(f32x4.div(v128.load(p, 16), s));
  const a = i32x4.sub(f32x4.add(f32x4.pmin(hi, f32x4.pmax(lo, n0)), magic), magic);
  const b = i32x4.sub(f32x4.add(f32x4.pmin(hi, f32x4.pmax(lo, n1)), magic), magic);
  return i16x8.narrow_i32x4_s(a, b);
}

// v, or zero when !on. V8 (11.3) places a loop-invariant splat or conversion at its use inside the
// loop, recomputing it each iteration (the reciprocal, zero-point conversions, constants); a value
// chosen by a run-time condition is a phi after a branch, computed once before the loop. `on` must
// hold wherever the value is used (M > 0 inside the row loop).
// @ts-ignore: decorator
@inline function pin(v: v128, on: bool): v128 {
  return on ? v : i32x4.splat(0);
}

// Packed A from floats, quantized as DynamicQuantizeLinear does (quantize_f32_u8's float32
// division, ties to even, saturation to 0…255), minus the zero point (0…255): M rows of K floats,
// ldx apart. scale 0 (an all-zero x) quantizes everything to the zero point: all zeros.
export function quantize_pack_a_f32(x: usize, ldx: i32, ap: usize, M: i32, K: i32, scale: f32, zp: i32): void {
  const Kp = (K + 7) & ~7, K8 = K & ~7, Mp = (M + 3) & ~3;
  if (scale == 0) { memory.fill(ap, 0, <usize>Mp * <usize>Kp << 1); return; }
  const on = M > 0, zero = i32x4.splat(0), s = pin(f32x4.splat(scale), on), magic = pin(f32x4.splat(12582912), on);
  const lo = pin(f32x4.splat(<f32>(-zp)), on), hi = pin(f32x4.splat(<f32>(<i32>255 - zp)), on);
  const ldxB = <usize>ldx << 2;
  for (let i0 = 0; i0 < M; i0 += 4) {
    const block = ap + (<usize>(i0 >> 2) * <usize>Kp << 3), x0 = x + <usize>i0 * ldxB;
    const mr = min(4, M - i0);
    for (let k = 0; k < K8; k += 8) {
      const p = x0 + (<usize>k << 2);
      const r0 = quantize8(p, s, lo, hi, magic);
      const r1 = mr > 1 ? quantize8(p + ldxB, s, lo, hi, magic) : zero;
      const r2 = mr > 2 ? quantize8(p + 2 * ldxB, s, lo, hi, magic) : zero;
      const r3 = mr > 3 ? quantize8(p + 3 * ldxB, s, lo, hi, magic) : zero;
      storeBlock8(block + (<usize>k << 3), r0, r1, r2, r3);
    }
    for (let i = 0; i < 4; i++) {
      for (let k = K8; k < Kp; k++) {
        store<i16>(packedAt(block, i, k), i < mr && k < K ? quantizeScalar(load<f32>(x0 + <usize>i * ldxB + (<usize>k << 2)), scale, zp) : 0);
      }
    }
  }
}

// quantize_pack_a_f32 with a scale and zero point per row (scales: M f32, zps: M i32): row i
// gets exactly the words quantize_pack_a_f32 writes for it with (scales[i], zps[i]), so a batch
// whose items were each given their own range packs as each item alone would (the GEMMs' aScales
// form dequantizes them). A row at a time, its K pairs stored as 32-bit lanes into the block:
// rows differ in scale, so they cannot share quantize_pack_a_f32's four-row loop. Small work here
// (decode rows), and only the batched-decoder path calls it.
export function quantize_pack_a_rows_f32(x: usize, ldx: i32, ap: usize, M: i32, K: i32, scales: usize, zps: usize): void {
  const Kp = (K + 7) & ~7, K8 = K & ~7, Mp = (M + 3) & ~3;
  // Rows past M, K past K, and rows of scale 0 (an all-zero item quantizes to its zero point) are zeros.
  memory.fill(ap, 0, <usize>Mp * <usize>Kp << 1);
  const ldxB = <usize>ldx << 2, magic = f32x4.splat(12582912);
  for (let i = 0; i < M; i++) {
    const scale = load<f32>(scales + (<usize>i << 2)), zp = load<i32>(zps + (<usize>i << 2));
    if (scale == 0) continue;
    const s = f32x4.splat(scale), lo = f32x4.splat(<f32>(-zp)), hi = f32x4.splat(<f32>(<i32>255 - zp));
    const block = ap + (<usize>(i >> 2) * <usize>Kp << 3), row = x + <usize>i * ldxB;
    const at = block + (<usize>(i & 3) << 2);
    for (let k = 0; k < K8; k += 8) {
      // K pairs k/2 … k/2 + 3 of this row: lane p of r is pair k/2 + p, at 16 bytes a pair.
      const r = quantize8(row + (<usize>k << 2), s, lo, hi, magic), o = at + (<usize>k << 3);
      v128.store32_lane(o, r, 0); v128.store32_lane(o, r, 1, 16);
      v128.store32_lane(o, r, 2, 32); v128.store32_lane(o, r, 3, 48);
    }
    for (let k = K8; k < K; k++) store<i16>(packedAt(block, i & 3, k), quantizeScalar(load<f32>(row + (<usize>k << 2)), scale, zp));
  }
}

// T is i8 or u8: the signedness of A is a compile-time choice, so the loop has no branch.
// @ts-ignore: decorator
@inline function widen8<T>(p: usize, z: v128): v128 {
  const raw = v128.load64_zero(p);
  return i16x8.sub(isSigned<T>() ? i16x8.extend_low_i8x16_s(raw) : i16x8.extend_low_i8x16_u(raw), z);
}

// @ts-ignore: decorator
@inline function loadByte<T>(p: usize): i32 {
  return <i32>load<T>(p);
}

function packA<T>(a: usize, lda: i32, zp: usize, zpPerRow: i32, ap: usize, M: i32, K: i32): void {
  const Kp = (K + 7) & ~7, K8 = K & ~7, ldaB = <usize>lda, zero = i16x8.splat(0);
  for (let i0 = 0; i0 < M; i0 += 4) {
    const block = ap + (<usize>(i0 >> 2) * <usize>Kp << 3), a0 = a + <usize>i0 * ldaB;
    const mr = min(4, M - i0);
    // Zero points of the block's rows (rows past M: never read).
    const z0 = zp == 0 ? 0 : loadByte<T>(zp + (zpPerRow != 0 ? <usize>i0 : 0));
    const z1 = zp == 0 || mr < 2 ? 0 : loadByte<T>(zp + (zpPerRow != 0 ? <usize>(i0 + 1) : 0));
    const z2 = zp == 0 || mr < 3 ? 0 : loadByte<T>(zp + (zpPerRow != 0 ? <usize>(i0 + 2) : 0));
    const z3 = zp == 0 || mr < 4 ? 0 : loadByte<T>(zp + (zpPerRow != 0 ? <usize>(i0 + 3) : 0));
    const on = M > 0; // always here: pins the splats out of the k loop (see pin)
    const v0 = pin(i16x8.splat(<i16>z0), on), v1 = pin(i16x8.splat(<i16>z1), on);
    const v2 = pin(i16x8.splat(<i16>z2), on), v3 = pin(i16x8.splat(<i16>z3), on);
    for (let k = 0; k < K8; k += 8) {
      const p = a0 + <usize>k;
      const r0 = widen8<T>(p, v0);
      const r1 = mr > 1 ? widen8<T>(p + ldaB, v1) : zero;
      const r2 = mr > 2 ? widen8<T>(p + 2 * ldaB, v2) : zero;
      const r3 = mr > 3 ? widen8<T>(p + 3 * ldaB, v3) : zero;
      storeBlock8(block + (<usize>k << 3), r0, r1, r2, r3);
    }
    for (let i = 0; i < 4; i++) {
      const z = i == 0 ? z0 : i == 1 ? z1 : i == 2 ? z2 : z3;
      for (let k = K8; k < Kp; k++) {
        store<i16>(packedAt(block, i, k), i < mr && k < K ? <i16>(loadByte<T>(a0 + <usize>i * ldaB + <usize>k) - z) : 0);
      }
    }
  }
}

// Packed A from u8/i8 rows (lda bytes apart) minus a_zp: zp 0 (none), or a pointer to one zero
// point (per tensor) or M (zpPerRow != 0), of A's type.
export function pack_a_i8(a: usize, lda: i32, signed: i32, zp: usize, zpPerRow: i32, ap: usize, M: i32, K: i32): void {
  if (signed != 0) packA<i8>(a, lda, zp, zpPerRow, ap, M, K);
  else packA<u8>(a, lda, zp, zpPerRow, ap, M, K);
}

// Wasm has no prefetch, and a layer's packed weights come cold from memory (BERT-base streams
// 218 MB of them per run): the driver reads one byte per cache line of the next panel, a few
// lines before each tile, so that those loads overlap the tile's arithmetic instead of the
// next panel's first tile waiting on them. The bytes go to this global only so that no
// optimiser can drop the loads. (BERT-base's 128×768×768 with a cold B: 43.8 → 44.8 GMAC/s.)
let touchAhead: u32 = 0;

// Panels outer, rows inner: one B panel (Kp·16 bytes: 12 KiB at K = 768) stays in L1 while
// packed A streams from L2, and each panel comes from memory once per call (rows outer would
// stream all of B once per 4 rows).
// R: i32 for one A scale (aScale), f32 for one per row (aScales): a compile-time choice, so the
// one-scale GEMM (every model but a batched decoder) is the same code as before rows had scales —
// with a run-time row-scale pointer beside the tile loop, BERT-base's 128×30522×768 int8 head
// measured 2–3 % slower.
function drive<T, W, R>(ap: usize, bp: usize, out: usize, ldo: i32, M: i32, N: i32, K: i32,
  aScale: f32, wScale: usize, bias: usize, act: i32, aa: f32, ab: f32, aScales: usize): void {
  const perRow = isFloat<R>();
  const Kp = (K + 7) & ~7;
  const ldoB = <usize>ldo << 2, panelB = <usize>Kp << (sizeof<W>() == 2 ? 4 : 3), blockA = <usize>Kp << 3;
  const as = f32x4.splat(aScale), zero = f32x4.splat(0);
  // The costlier activations (act_in_strip: GELU, tanh, …) run over each finished M×8 strip, one
  // loop body sharing their constants, rather than per row in the tile store (a call per vector):
  // BERT-base's GELU 9 ms that way against 15 ms in the store. Same lane operations, same bits.
  const strip = isFloat<T>() && act_in_strip(act), tileAct = strip ? ACT_NONE : act;
  // Touching the next panel (see touchAhead) while this one is in use: only panels that fit L1
  // beside the current one (K ≤ 1024; at K = 3072 it measured slower), spread over the row blocks.
  const touching = panelB <= 16384, blocks = (M + 3) >> 2;
  const linesPerBlock = (<i32>(panelB >> 6) + blocks - 1) / blocks;
  let seen: u32 = 0;
  for (let j0 = 0; j0 < N; j0 += 8) {
    const nr = min(8, N - j0), b = bp + <usize>(j0 >> 3) * panelB, oj = out + (<usize>j0 << 2);
    let slo = zero, shi = zero, blo = zero, bhi = zero;
    if (isFloat<T>()) {
      const ws = wScale + (<usize>j0 << 2);
      slo = load8(ws, nr, false); shi = load8(ws, nr, true);
      if (!perRow) { slo = f32x4.mul(as, slo); shi = f32x4.mul(as, shi); }
      if (bias != 0) { const bj = bias + (<usize>j0 << 2); blo = load8(bj, nr, false); bhi = load8(bj, nr, true); }
    }
    // The next panel, a few lines per row block (see touchAhead); none past the last panel.
    let ahead = b + panelB;
    const aheadEnd = touching && j0 + 8 < N ? ahead + panelB : ahead;
    for (let i0 = 0; i0 < M; i0 += 4) {
      for (let l = 0; l < linesPerBlock && ahead < aheadEnd; l++) { seen ^= load<u8>(ahead); ahead += 64; }
      const rs: usize = perRow ? aScales + (<usize>i0 << 2) : 0;
      tile_i16_4x8<T, W>(ap + <usize>(i0 >> 2) * blockA, b, Kp, oj + <usize>i0 * ldoB, ldoB, min(4, M - i0), nr, slo, shi, rs, blo, bhi, bias != 0, tileAct, aa, ab);
    }
    if (strip) act_strip(oj, ldoB, M, nr, act); // while the strip (M × 32 bytes) is in L1
  }
  touchAhead = seen;
}

// C (M×N i32, ldc elements) = A·Bpacked, A packed by pack_a_i8 or quantize_pack_a_f32.
export function gemm_i16_i32(ap: usize, bp: usize, c: usize, ldc: i32, M: i32, N: i32, K: i32): void {
  if (M <= 0 || N <= 0) return;
  drive<i32, i16, i32>(ap, bp, c, ldc, M, N, K, 0, 0, 0, ACT_NONE, 0, 0, 0);
}

// gemm_i16_i32 over pack_b_q8's one-byte panels (assembly/gemv_q8.ts): the same i16 vectors reach
// the same dots, so the same C, from half the bytes of B. One packed copy of an int8 weight then
// serves prefill (this) and decode (gemv_q8_dq_f32).
export function gemm_q8_i32(ap: usize, bq: usize, c: usize, ldc: i32, M: i32, N: i32, K: i32): void {
  if (M <= 0 || N <= 0) return;
  drive<i32, i8, i32>(ap, bq, c, ldc, M, N, K, 0, 0, 0, ACT_NONE, 0, 0, 0);
}

// y (M×N f32, ldy elements) = act(f32(A·Bpacked)·f32(aScale·wScale[j]) (+ bias[j])); wScale: N
// floats, bias: N floats or 0 (none), act: an activation.ts code (0 = none) with parameters aa, ab.
// Bit-identical to MatMulInteger → Cast → Mul(aScale·wScale) → Add → the activation op.
// aScales: 0, or M floats, row i's A scale in place of aScale (rows quantized per row or batch item,
// quantize_pack_a_rows_f32): row i then gets the bits of a call on that row alone with aScales[i].
export function gemm_i16_dq_f32(ap: usize, bp: usize, y: usize, ldy: i32, M: i32, N: i32, K: i32,
  aScale: f32, wScale: usize, bias: usize, act: i32, aa: f32, ab: f32, aScales: usize): void {
  if (M <= 0 || N <= 0) return;
  if (aScales == 0) drive<f32, i16, i32>(ap, bp, y, ldy, M, N, K, aScale, wScale, bias, act, aa, ab, 0);
  else drive<f32, i16, f32>(ap, bp, y, ldy, M, N, K, 0, wScale, bias, act, aa, ab, aScales);
}

// gemm_i16_dq_f32 over pack_b_q8's one-byte panels: the same bits (see gemm_q8_i32).
export function gemm_q8_dq_f32(ap: usize, bq: usize, y: usize, ldy: i32, M: i32, N: i32, K: i32,
  aScale: f32, wScale: usize, bias: usize, act: i32, aa: f32, ab: f32, aScales: usize): void {
  if (M <= 0 || N <= 0) return;
  if (aScales == 0) drive<f32, i8, i32>(ap, bq, y, ldy, M, N, K, aScale, wScale, bias, act, aa, ab, 0);
  else drive<f32, i8, f32>(ap, bq, y, ldy, M, N, K, 0, wScale, bias, act, aa, ab, aScales);
}
