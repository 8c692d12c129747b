// 4-bit weights repacked once at load for int8-activation decoding (MatMulNBits, accuracy_level 4):
// the layout that lets one vector of integer dot products hold four columns, so a block needs no
// horizontal sums, and that the relaxed-SIMD build multiplies 16 weights per instruction with
// `i16x8.relaxed_dot_i8x16_i7x16_s` — exact, because its second operand (the nibbles, 0 … 15) is
// within 0 … 127 where the instruction is deterministic. The SIMD128 build reads the same bytes
// with `i32x4.dot_i16x8_s`; both get the same integer sums, and the float epilogue uses no fused
// multiply-add, so the two builds give the same bits. Layout: assembly/README.md ("Repacked q4").
//
// Repacked weights: column groups of 4 (g = n / 4, zero columns past N), then blocks, then units of
// 8 k: 16 bytes at ((g·nb + b)·bs/8 + u)·16, byte i = 4c + j (column 4g + c) holding
// q(k0 + j) in its low nibble and q(k0 + 4 + j) in its high one, k0 = b·bs + 8u. Per (group,
// block): 4 scales (f32, s4) and 4 zero points (u8, z4, 0 past N; where the model has none, z4 is
// not made and the kernels take z4 = 0 as zero point 8 everywhere).

import { gemv_q4x_i16_rows } from './gemv_q4x16';

// x quantized per block (what gemv_q4x_i8 reads): kp = nb·bs values, then per block (s f32, Σ xq
// i32). Relaxed build: one i8 per k in k order. SIMD128 build: i16, each unit of 8 k ordered
// [x0 x2 x1 x3 x4 x6 x5 x7] (the pairs one i16 lane of the repacked bytes meets). Both fit in
// kp·2 + nb·8 bytes (q4xPrepBytes).
// @ts-ignore: decorator
@inline function xPos(k: i32): usize {
  if (ASC_FEATURE_RELAXED_SIMD) return <usize>k;
  return pairOrderPos(k);
}

// Byte offset of x[k] stored as i16 in pair order: each unit of 8 k as [x0 x2 x1 x3 x4 x6 x5 x7],
// the k pairs one i16 lane of a repacked unit meets (gemv_q4x16.ts's 16-bit x uses it on both builds).
// @ts-ignore: decorator
@inline export function pairOrderPos(k: i32): usize {
  const l = k & 7;
  return <usize>(((k & ~7) | (l & 4) | ((l & 1) << 1) | ((l >> 1) & 1)) << 1);
}

// One row of x (K floats) → xq: per block s = max|x| / 127, xq = roundeven(x / s) (x · 127/max, as
// gemv_q4_prep_x_i8), zero past K.
export function q4x_prep_x(x: usize, K: i32, bs: i32, xq: usize): void {
  const nb = (K + bs - 1) / bs;
  const kp = nb * bs;
  const meta = xq + (<usize>kp << 1);
  for (let b = 0; b < nb; b++) {
    const k0 = b * bs, e = min(K, k0 + bs);
    let m: f32 = 0;
    for (let k = k0; k < e; k++) m = max(m, abs(load<f32>(x + (<usize>k << 2))));
    const inv: f32 = m > 0 ? <f32>127 / m : 0;
    let sum: i32 = 0;
    for (let k = k0; k < k0 + bs; k++) {
      const q = k < e ? <i32>nearest(load<f32>(x + (<usize>k << 2)) * inv) : 0;
      sum += q;
      if (ASC_FEATURE_RELAXED_SIMD) store<i8>(xq + xPos(k), <i8>q);
      else store<i16>(xq + xPos(k), <i16>q);
    }
    store<f32>(meta + (<usize>b << 3), m / 127);
    store<i32>(meta + (<usize>b << 3) + 4, sum);
  }
}

// @ts-ignore: decorator
@inline function nibble(w: usize, colB: usize, n: i32, k: i32): u8 {
  const byte = load<u8>(w + <usize>n * colB + <usize>(k >> 1));
  return k & 1 ? byte >> 4 : byte & 15;
}

// MatMulNBits' B (column n: nb blocks of bs/2 bytes, low nibble = even k) → the repacked weights.
export function q4x_pack(w: usize, N: i32, K: i32, bs: i32, dst: usize): void {
  const nb = (K + bs - 1) / bs;
  const colB = <usize>nb * <usize>(bs >> 1);
  const groups = (N + 3) >> 2;
  const units = bs >> 3;
  let d = dst;
  for (let g = 0; g < groups; g++) for (let b = 0; b < nb; b++) for (let u = 0; u < units; u++) {
    const k0 = b * bs + (u << 3);
    for (let i = 0; i < 16; i++) {
      const n = (g << 2) + (i >> 2), j = i & 3;
      const v: u8 = n < N ? nibble(w, colB, n, k0 + j) | (nibble(w, colB, n, k0 + 4 + j) << 4) : 0;
      store<u8>(d + <usize>i, v);
    }
    d += 16;
  }
}

// q4x_pack within B's own memory (N a multiple of 4, so the repacked bytes are exactly B's): group
// g's repacked bytes occupy the same nb·bs·2 bytes as its four source columns, so each group is
// copied to `scratch` (nb·bs·2 bytes) and repacked back in place — no second copy of a large weight
// (the lm_head) at load.
export function q4x_pack_inplace(w: usize, N: i32, K: i32, bs: i32, scratch: usize): void {
  const nb = (K + bs - 1) / bs;
  const gB = <usize>nb * <usize>(bs << 1);
  const groups = N >> 2;
  for (let g = 0; g < groups; g++) {
    const p = w + <usize>g * gB;
    memory.copy(scratch, p, gB);
    q4x_pack(scratch, 4, K, bs, p);
  }
}

// Scales [N·nb] and zero points (zpKind 0: none = 8; 1: packed nibbles, ceil(nb/2) bytes a
// column) → s4 (f32) and z4 (u8), 4 columns per (group, block), zero past N. s4 or z4 = 0: that
// half is not written (each is its own block, so each can replace its source separately).
export function q4x_pack_meta(scales: usize, zp: usize, zpKind: i32, N: i32, K: i32, bs: i32, s4: usize, z4: usize): void {
  const nb = (K + bs - 1) / bs;
  const groups = (N + 3) >> 2;
  for (let g = 0; g < groups; g++) for (let b = 0; b < nb; b++) for (let c = 0; c < 4; c++) {
    const n = (g << 2) + c;
    const o = (<usize>g * <usize>nb + <usize>b) * 4 + <usize>c;
    let s: f32 = 0, z: u8 = 0;
    if (n < N) {
      s = load<f32>(scales + ((<usize>n * <usize>nb + <usize>b) << 2));
      if (zpKind == 0) z = 8;
      else {
        const byte = load<u8>(zp + <usize>n * <usize>((nb + 1) >> 1) + <usize>(b >> 1));
        z = b & 1 ? byte >> 4 : byte & 15;
      }
    }
    if (s4 != 0) store<f32>(s4 + (o << 2), s);
    if (z4 != 0) store<u8>(z4 + o, z);
  }
}

// y[0 … N) = x · W for one row, W repacked (q4x_pack / q4x_pack_meta), xq = q4x_prep_x's output:
// per group of 4 columns and block, the 4 integer dot products in the lanes of one vector, then
// y += (s · s_x) · (Σ xq·q − zp · Σ xq). No bias or activation (bias_act_rows does both). bs is a
// multiple of 32; z4 = 0: zero point 8.
export function gemv_q4x_i8(xq: usize, K: i32, N: i32, bs: i32, w: usize, s4: usize, z4: usize, y: usize): void {
  const nb = (K + bs - 1) / bs;
  const kp = nb * bs;
  const meta = xq + (<usize>kp << 1);
  const chunks = bs >> 5;
  const groups = (N + 3) >> 2;
  let wp = w;
  let mi: usize = 0;
  for (let g = 0; g < groups; g++) {
    let yv = f32x4.splat(0);
    let xp = xq;
    for (let b = 0; b < nb; b++) {
      let acc = i32x4.splat(0);
      for (let c = 0; c < chunks; c++) {
        if (ASC_FEATURE_RELAXED_SIMD) {
          // i16 lanes: each dot adds ≤ 2·128·15 = 3840, eight of them stay below 2^15.
          const m = i8x16.splat(15);
          let v = v128.load(wp);
          let a = i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp), v128.and(v, m));
          a = i16x8.add(a, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 4), v128.and(i16x8.shr_u(v, 4), m)));
          v = v128.load(wp, 16);
          a = i16x8.add(a, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 8), v128.and(v, m)));
          a = i16x8.add(a, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 12), v128.and(i16x8.shr_u(v, 4), m)));
          v = v128.load(wp, 32);
          a = i16x8.add(a, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 16), v128.and(v, m)));
          a = i16x8.add(a, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 20), v128.and(i16x8.shr_u(v, 4), m)));
          v = v128.load(wp, 48);
          a = i16x8.add(a, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 24), v128.and(v, m)));
          a = i16x8.add(a, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 28), v128.and(i16x8.shr_u(v, 4), m)));
          acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(a));
          wp += 64; xp += 32;
        } else {
          const m = i16x8.splat(15);
          for (let u = 0; u < 4; u++) {
            const v = v128.load(wp);
            acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.and(v, m), v128.load32_splat(xp)));
            acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 8), m), v128.load32_splat(xp, 4)));
            acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 4), m), v128.load32_splat(xp, 8)));
            acc = i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.shr_u(v, 12), v128.load32_splat(xp, 12)));
            wp += 16; xp += 16;
          }
        }
      }
      yv = rowBlockEnd(yv, acc, s4, z4, mi, meta + (<usize>b << 3));
      mi += 4;
    }
    storeCols(y, g, N, yv);
  }
}

// Columns n0 … n0 + nc − 1 (n0 a multiple of 4) of the repacked W dequantized, (q − zp) · scale as
// dequant_q4_panels computes it (same bits: an exact subtraction, then one rounding), into
// pack_b_f32's panels: prefill's GEMM operand. Whole panels (two 4-column groups) in SIMD, the
// last partial panel of a band one float at a time.
export function dequant_q4x_panels(w: usize, s4: usize, z4: usize, K: i32, bs: i32, n0: i32, nc: i32, dst: usize): void {
  const nb = (K + bs - 1) / bs;
  const panels = (nc + 7) >> 3;
  for (let p = 0; p < panels; p++) {
    const pd = dst + ((<usize>p * <usize>K * 8) << 2);
    if ((p << 3) + 8 <= nc) { panelX8(w, s4, z4, K, bs, nb, (n0 >> 2) + (p << 1), pd); continue; }
    for (let c = 0; c < 8; c++) {
      const j = (p << 3) + c;
      let d = pd + (<usize>c << 2);
      if (j >= nc) {
        for (let k = 0; k < K; k++) { store<f32>(d, 0); d += 32; }
        continue;
      }
      const n = n0 + j, g = n >> 2, cc = n & 3;
      for (let b = 0; b < nb; b++) {
        const mo = (<usize>g * <usize>nb + <usize>b) * 4 + <usize>cc;
        const s = load<f32>(s4 + (mo << 2));
        const z: f32 = z4 != 0 ? <f32>load<u8>(z4 + mo) : 8;
        const bp = w + (<usize>g * <usize>nb + <usize>b) * <usize>(bs << 1);
        const k0 = b * bs, e = min(K, k0 + bs);
        for (let k = k0; k < e; k++) {
          const r = k - k0;
          const byte = load<u8>(bp + (<usize>(r >> 3) << 4) + (<usize>cc << 2) + <usize>(r & 3));
          const q = <f32>(r & 4 ? byte >> 4 : byte & 15);
          store<f32>(d, (q - z) * s);
          d += 32;
        }
      }
    }
  }
}

// One whole 8-column panel of dequant_q4x_panels: groups g and g + 1. A unit's byte 4c + j holds
// column c's q(k0 + j) (low nibble) and q(k0 + 4 + j) (high); one shuffle puts row j's four bytes
// in the low bytes of four i32 lanes (the rest zero), which convert to floats.
function panelX8(w: usize, s4: usize, z4: usize, K: i32, bs: i32, nb: i32, g: i32, pd: usize): void {
  const m = i8x16.splat(15), zero = i32x4.splat(0);
  const units = bs >> 3;
  const gB = <usize>nb * <usize>(bs << 1);
  let d = pd;
  for (let b = 0; b < nb; b++) {
    const mo = (<usize>g * <usize>nb + <usize>b) << 2, mo2 = mo + (<usize>nb << 2);
    const sa = v128.load(s4 + (mo << 2)), sb = v128.load(s4 + (mo2 << 2));
    const za = z4 != 0 ? f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(z4 + mo)))) : f32x4.splat(8);
    const zb = z4 != 0 ? f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(z4 + mo2)))) : f32x4.splat(8);
    let wp = w + <usize>g * gB + <usize>b * <usize>(bs << 1);
    for (let u = 0; u < units; u++) {
      const k0 = b * bs + (u << 3);
      if (k0 >= K) break;
      const va = v128.load(wp), vb = v128.load(wp + gB);
      const la = v128.and(va, m), ha = v128.and(i8x16.shr_u(va, 4), m);
      const lb = v128.and(vb, m), hb = v128.and(i8x16.shr_u(vb, 4), m);
      const rows = min(8, K - k0);
      // Rows k0 … k0 + 3 from the low nibbles, k0 + 4 … k0 + 7 from the high ones.
      if (rows > 0) { storeRow(d, la, lb, zero, za, zb, sa, sb, 0); }
      if (rows > 1) { storeRow(d + 32, la, lb, zero, za, zb, sa, sb, 1); }
      if (rows > 2) { storeRow(d + 64, la, lb, zero, za, zb, sa, sb, 2); }
      if (rows > 3) { storeRow(d + 96, la, lb, zero, za, zb, sa, sb, 3); }
      if (rows > 4) { storeRow(d + 128, ha, hb, zero, za, zb, sa, sb, 0); }
      if (rows > 5) { storeRow(d + 160, ha, hb, zero, za, zb, sa, sb, 1); }
      if (rows > 6) { storeRow(d + 192, ha, hb, zero, za, zb, sa, sb, 2); }
      if (rows > 7) { storeRow(d + 224, ha, hb, zero, za, zb, sa, sb, 3); }
      d += <usize>rows << 5;
      wp += 16;
    }
  }
}

// @ts-ignore: decorator
@inline function storeRow(d: usize, a: v128, b: v128, zero: v128, za: v128, zb: v128, sa: v128, sb: v128, j: i32): void {
  let qa: v128, qb: v128;
  if (j == 0) { qa = i8x16.shuffle(a, zero, 0, 16, 16, 16, 4, 16, 16, 16, 8, 16, 16, 16, 12, 16, 16, 16); qb = i8x16.shuffle(b, zero, 0, 16, 16, 16, 4, 16, 16, 16, 8, 16, 16, 16, 12, 16, 16, 16); }
  else if (j == 1) { qa = i8x16.shuffle(a, zero, 1, 16, 16, 16, 5, 16, 16, 16, 9, 16, 16, 16, 13, 16, 16, 16); qb = i8x16.shuffle(b, zero, 1, 16, 16, 16, 5, 16, 16, 16, 9, 16, 16, 16, 13, 16, 16, 16); }
  else if (j == 2) { qa = i8x16.shuffle(a, zero, 2, 16, 16, 16, 6, 16, 16, 16, 10, 16, 16, 16, 14, 16, 16, 16); qb = i8x16.shuffle(b, zero, 2, 16, 16, 16, 6, 16, 16, 16, 10, 16, 16, 16, 14, 16, 16, 16); }
  else { qa = i8x16.shuffle(a, zero, 3, 16, 16, 16, 7, 16, 16, 16, 11, 16, 16, 16, 15, 16, 16, 16); qb = i8x16.shuffle(b, zero, 3, 16, 16, 16, 7, 16, 16, 16, 11, 16, 16, 16, 15, 16, 16, 16); }
  v128.store(d, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_s(qa), za), sa));
  v128.store(d, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_s(qb), zb), sb), 16);
}

// gemv_q4x_i8 for M = 1 … 4 rows in one pass over the weights (batched decoding, short prompts):
// row r's q4x_prep_x output at xq + r·xqStride bytes, its y at y + r·ldy floats. Each weight unit is
// unpacked once for all rows; rows past M repeat row 0 (results dropped). Per row the same integer
// sums and epilogue as gemv_q4x_i8: the same bits. The SIMD128 build holds x as i16 exactly as
// gemv_q4x_i16_rows reads it, so there it is that kernel.
export function gemv_q4x_i8_rows(xq: usize, xqStride: i32, M: i32, K: i32, N: i32, bs: i32, w: usize, s4: usize, z4: usize, y: usize, ldy: i32): void {
  // SIMD128: x is held as i16 in the layout gemv_q4x_i16_rows reads, and its loop is this one.
  if (!ASC_FEATURE_RELAXED_SIMD) { gemv_q4x_i16_rows(xq, xqStride, M, K, N, bs, w, s4, z4, y, ldy); return; }
  if (M <= 0) return;
  const nb = (K + bs - 1) / bs;
  const kp = nb * bs;
  const metaO = <usize>kp << 1;
  const chunks = bs >> 5;
  const groups = (N + 3) >> 2;
  const st = <usize>xqStride;
  const x1 = M > 1 ? xq + st : xq, x2 = M > 2 ? xq + 2 * st : xq, x3 = M > 3 ? xq + 3 * st : xq;
  const ldyB = <usize>ldy << 2;
  let wp = w;
  let mi: usize = 0;
  for (let g = 0; g < groups; g++) {
    let y0 = f32x4.splat(0), y1 = y0, y2 = y0, y3 = y0;
    let o: usize = 0;
    for (let b = 0; b < nb; b++) {
      let c0 = i32x4.splat(0), c1 = c0, c2 = c0, c3 = c0;
      for (let c = 0; c < chunks; c++) {
        const m = i8x16.splat(15);
        let a0 = i16x8.splat(0), a1 = a0, a2 = a0, a3 = a0;
        for (let u = 0; u < 4; u++) {
          const v = v128.load(wp);
          const lo = v128.and(v, m), hi = v128.and(i16x8.shr_u(v, 4), m);
          a0 = i16x8.add(i16x8.add(a0, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xq + o), lo)), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xq + o, 4), hi));
          a1 = i16x8.add(i16x8.add(a1, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(x1 + o), lo)), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(x1 + o, 4), hi));
          a2 = i16x8.add(i16x8.add(a2, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(x2 + o), lo)), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(x2 + o, 4), hi));
          a3 = i16x8.add(i16x8.add(a3, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(x3 + o), lo)), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(x3 + o, 4), hi));
          wp += 16; o += 8;
        }
        c0 = i32x4.add(c0, i32x4.extadd_pairwise_i16x8_s(a0));
        c1 = i32x4.add(c1, i32x4.extadd_pairwise_i16x8_s(a1));
        c2 = i32x4.add(c2, i32x4.extadd_pairwise_i16x8_s(a2));
        c3 = i32x4.add(c3, i32x4.extadd_pairwise_i16x8_s(a3));
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

// One SIMD128 unit of one row: the nibble vectors against that row's x pairs.
// @ts-ignore: decorator
@inline export function unitRow(acc: v128, n0: v128, n2: v128, n1: v128, n3: v128, xp: usize): v128 {
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(n0, v128.load32_splat(xp)));
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(n2, v128.load32_splat(xp, 4)));
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(n1, v128.load32_splat(xp, 8)));
  return i32x4.add(acc, i32x4.dot_i16x8_s(n3, v128.load32_splat(xp, 12)));
}

// gemv_q4x_i8's block epilogue, the same operations in the same order (gemv_q4x16.ts's too: the
// integer sums differ in how x was quantized, not in how a block ends).
// @ts-ignore: decorator
@inline export function rowBlockEnd(yv: v128, acc: v128, s4: usize, z4: usize, mi: usize, mb: usize): v128 {
  // Zero point 8 (no z4) is a shift: the same integer as the multiply, without i32x4.mul (slow on
  // x64) and the splat constant V8 rebuilds in the loop.
  const d = z4 != 0
    ? i32x4.sub(acc, i32x4.mul(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(z4 + mi))), v128.load32_splat(mb, 4)))
    : i32x4.sub(acc, i32x4.shl(v128.load32_splat(mb, 4), 3));
  const t = f32x4.mul(v128.load(s4 + (mi << 2)), v128.load32_splat(mb));
  return f32x4.add(yv, f32x4.mul(t, f32x4.convert_i32x4_s(d)));
}

// @ts-ignore: decorator
@inline export function storeCols(y: usize, g: i32, N: i32, yv: v128): void {
  const yp = y + (<usize>g << 4);
  const left = N - (g << 2);
  if (left >= 4) v128.store(yp, yv);
  else {
    store<f32>(yp, f32x4.extract_lane(yv, 0));
    if (left > 1) store<f32>(yp, f32x4.extract_lane(yv, 1), 4);
    if (left > 2) store<f32>(yp, f32x4.extract_lane(yv, 2), 8);
  }
}
