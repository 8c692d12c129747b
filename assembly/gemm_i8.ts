// Integer GEMM for quantized models: (u8|i8 − a_zp) × (u8|i8 − b_zp) → i32. Both operands are
// widened to i16 so that `i32x4.dot_i16x8_s` multiplies pairs of K and adds them: one instruction
// per 2 K × 4 columns. Zero points never reach the inner loop as sums: B's are subtracted once,
// when the weights are packed (per tensor or per column), A's in the same step that widens A.
// Differences of 8-bit values fit i16 (−255…255) and a pair of products fits i32 easily.
//
// Packed B (see assembly/README.md): Kp = K rounded up to 8; panel j holds columns 8j…8j+7 as
// Kp/2 groups of 32 bytes: [b(2p,c0) b(2p+1,c0) b(2p,c1) b(2p+1,c1) … c3] [… c4 … c7], as i16,
// zero-padded past K and N. Panel j starts at byte j·Kp·16.

// @ts-ignore: decorator
@inline function loadByte(p: usize, signed: i32): i32 {
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
      const z = col < N && zp != 0 ? loadByte(zp + (zpPerCol != 0 ? <usize>col : 0), signed) : 0;
      // Column c sits in the low (c < 4) or high 16-byte half, at i16 pair slot (c & 3).
      const colOff: usize = (<usize>(c >> 2) << 4) + (<usize>(c & 3) << 2);
      for (let k = 0; k < Kp; k++) {
        let v = 0;
        if (col < N && k < K) {
          const at = transB != 0 ? <usize>col * <usize>ldb + <usize>k : <usize>k * <usize>ldb + <usize>col;
          v = loadByte(src + at, signed) - z;
        }
        store<i16>(panel + (<usize>(k >> 1) << 5) + colOff + (<usize>(k & 1) << 1), <i16>v);
      }
    }
  }
}

// T is i8 or u8: the signedness of A is a compile-time choice, so the inner loop has no branch.
// @ts-ignore: decorator
@inline function widen8<T>(p: usize, z: v128): v128 {
  const raw = v128.load64_zero(p);
  const w = isSigned<T>() ? i16x8.extend_low_i8x16_s(raw) : i16x8.extend_low_i8x16_u(raw);
  return i16x8.sub(w, z);
}

// @ts-ignore: decorator
@inline function storeRow(c: usize, lo: v128, hi: v128, nr: i32): void {
  if (nr == 8) { v128.store(c, lo); v128.store(c, hi, 16); return; }
  for (let j = 0; j < nr; j++) {
    const v = j < 4 ? lo : hi;
    let x: i32;
    switch (j & 3) {
      case 0: x = i32x4.extract_lane(v, 0); break;
      case 1: x = i32x4.extract_lane(v, 1); break;
      case 2: x = i32x4.extract_lane(v, 2); break;
      default: x = i32x4.extract_lane(v, 3);
    }
    store<i32>(c + (<usize>j << 2), x);
  }
}

// @ts-ignore: decorator
@inline function azp(zp: usize, perRow: i32, i: i32, signed: i32): v128 {
  return i16x8.splat(<i16>(zp == 0 ? 0 : loadByte(zp + (perRow != 0 ? <usize>i : 0), signed)));
}

// One tile of up to 4 rows × 8 columns over all of Kp. Rows past mr repeat row 0's pointer (the
// work is wasted, not the memory safety) and are not stored. Reads A up to 7 bytes past a row's
// K: those products meet B's zero padding.
function tile_i8_4x8<T>(a: usize, lda: usize, mr: i32, bp: usize, c: usize, ldc: usize, nr: i32, Kp: i32,
  z0: v128, z1: v128, z2: v128, z3: v128): void {
  const a0 = a, a1 = mr > 1 ? a + lda : a, a2 = mr > 2 ? a + 2 * lda : a, a3 = mr > 3 ? a + 3 * lda : a;
  let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
  let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
  let b = bp;
  for (let k: usize = 0; k < <usize>Kp; k += 8) {
    const w0 = widen8<T>(a0 + k, z0), w1 = widen8<T>(a1 + k, z1);
    const w2 = widen8<T>(a2 + k, z2), w3 = widen8<T>(a3 + k, z3);
    // Four K pairs per 8 bytes of A: broadcast pair p of each row against B's 8 columns
    // (written out: shuffle lanes must be constants).
    {
      const blo = v128.load(b, 0), bhi = v128.load(b, 16);
      const s0 = i32x4.shuffle(w0, w0, 0, 0, 0, 0), s1 = i32x4.shuffle(w1, w1, 0, 0, 0, 0);
      const s2 = i32x4.shuffle(w2, w2, 0, 0, 0, 0), s3 = i32x4.shuffle(w3, w3, 0, 0, 0, 0);
      c00 = i32x4.add(c00, i32x4.dot_i16x8_s(s0, blo)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(s0, bhi));
      c10 = i32x4.add(c10, i32x4.dot_i16x8_s(s1, blo)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(s1, bhi));
      c20 = i32x4.add(c20, i32x4.dot_i16x8_s(s2, blo)); c21 = i32x4.add(c21, i32x4.dot_i16x8_s(s2, bhi));
      c30 = i32x4.add(c30, i32x4.dot_i16x8_s(s3, blo)); c31 = i32x4.add(c31, i32x4.dot_i16x8_s(s3, bhi));
    }
    {
      const blo = v128.load(b, 32), bhi = v128.load(b, 48);
      const s0 = i32x4.shuffle(w0, w0, 1, 1, 1, 1), s1 = i32x4.shuffle(w1, w1, 1, 1, 1, 1);
      const s2 = i32x4.shuffle(w2, w2, 1, 1, 1, 1), s3 = i32x4.shuffle(w3, w3, 1, 1, 1, 1);
      c00 = i32x4.add(c00, i32x4.dot_i16x8_s(s0, blo)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(s0, bhi));
      c10 = i32x4.add(c10, i32x4.dot_i16x8_s(s1, blo)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(s1, bhi));
      c20 = i32x4.add(c20, i32x4.dot_i16x8_s(s2, blo)); c21 = i32x4.add(c21, i32x4.dot_i16x8_s(s2, bhi));
      c30 = i32x4.add(c30, i32x4.dot_i16x8_s(s3, blo)); c31 = i32x4.add(c31, i32x4.dot_i16x8_s(s3, bhi));
    }
    {
      const blo = v128.load(b, 64), bhi = v128.load(b, 80);
      const s0 = i32x4.shuffle(w0, w0, 2, 2, 2, 2), s1 = i32x4.shuffle(w1, w1, 2, 2, 2, 2);
      const s2 = i32x4.shuffle(w2, w2, 2, 2, 2, 2), s3 = i32x4.shuffle(w3, w3, 2, 2, 2, 2);
      c00 = i32x4.add(c00, i32x4.dot_i16x8_s(s0, blo)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(s0, bhi));
      c10 = i32x4.add(c10, i32x4.dot_i16x8_s(s1, blo)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(s1, bhi));
      c20 = i32x4.add(c20, i32x4.dot_i16x8_s(s2, blo)); c21 = i32x4.add(c21, i32x4.dot_i16x8_s(s2, bhi));
      c30 = i32x4.add(c30, i32x4.dot_i16x8_s(s3, blo)); c31 = i32x4.add(c31, i32x4.dot_i16x8_s(s3, bhi));
    }
    {
      const blo = v128.load(b, 96), bhi = v128.load(b, 112);
      const s0 = i32x4.shuffle(w0, w0, 3, 3, 3, 3), s1 = i32x4.shuffle(w1, w1, 3, 3, 3, 3);
      const s2 = i32x4.shuffle(w2, w2, 3, 3, 3, 3), s3 = i32x4.shuffle(w3, w3, 3, 3, 3, 3);
      c00 = i32x4.add(c00, i32x4.dot_i16x8_s(s0, blo)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(s0, bhi));
      c10 = i32x4.add(c10, i32x4.dot_i16x8_s(s1, blo)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(s1, bhi));
      c20 = i32x4.add(c20, i32x4.dot_i16x8_s(s2, blo)); c21 = i32x4.add(c21, i32x4.dot_i16x8_s(s2, bhi));
      c30 = i32x4.add(c30, i32x4.dot_i16x8_s(s3, blo)); c31 = i32x4.add(c31, i32x4.dot_i16x8_s(s3, bhi));
    }
    b += 128;
  }
  storeRow(c, c00, c01, nr);
  if (mr > 1) storeRow(c + ldc, c10, c11, nr);
  if (mr > 2) storeRow(c + 2 * ldc, c20, c21, nr);
  if (mr > 3) storeRow(c + 3 * ldc, c30, c31, nr);
}

// C (M×N i32, ldc elements) = (A − a_zp)·(B − b_zp), B pre-packed by pack_b_i8 (which folded
// b_zp in). A is M×K bytes with lda elements per row; zp: 0 (none), or a pointer to a_zp bytes,
// one (per tensor) or M (zpPerRow != 0).
export function gemm_i8(a: usize, lda: i32, signed: i32, zp: usize, zpPerRow: i32, bp: usize, c: usize,
  ldc: i32, M: i32, N: i32, K: i32): void {
  if (M <= 0 || N <= 0) return;
  const Kp = (K + 7) & ~7;
  const ldaB = <usize>lda, ldcB = <usize>ldc << 2;
  for (let i0 = 0; i0 < M; i0 += 4) {
    const mr = min(4, M - i0);
    const z0 = azp(zp, zpPerRow, i0, signed);
    const z1 = mr > 1 ? azp(zp, zpPerRow, i0 + 1, signed) : z0;
    const z2 = mr > 2 ? azp(zp, zpPerRow, i0 + 2, signed) : z0;
    const z3 = mr > 3 ? azp(zp, zpPerRow, i0 + 3, signed) : z0;
    const ai = a + <usize>i0 * ldaB, ci = c + <usize>i0 * ldcB;
    for (let j0 = 0; j0 < N; j0 += 8) {
      const b = bp + <usize>j0 * <usize>Kp * 2, cj = ci + (<usize>j0 << 2), nr = min(8, N - j0);
      if (signed != 0) tile_i8_4x8<i8>(ai, ldaB, mr, b, cj, ldcB, nr, Kp, z0, z1, z2, z3);
      else tile_i8_4x8<u8>(ai, ldaB, mr, b, cj, ldcB, nr, Kp, z0, z1, z2, z3);
    }
  }
}
