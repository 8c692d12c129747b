// 4-bit block-quantized weights (com.microsoft MatMulNBits, bits = 4): the decode GEMV that streams
// the packed nibbles and dequantizes them in registers, the panel dequantizer that feeds prefill
// to the f32 GEMM, and the x reordering both GEMV forms read. Layout: docs/quantization.md and
// assembly/README.md ("MatMulNBits B").
//
// Weights: column n (of N) holds nb = ceil(K / bs) blocks of bs/2 bytes; byte i of a block holds
// k = 2i in its low nibble and k = 2i + 1 in its high one. Value = (q − zp) · scale, one scale and
// one zero point per (column, block); zpKind 0: none (zp = 8), 1: packed nibbles, ceil(nb/2) bytes
// per column (block 2i low, 2i + 1 high), 2: f32, nb per column.
import { act_f32x4 } from './activation';
import { loadN, storeN } from './gemm_epilogue';
import { madd } from './activation';

// x rows → what gemv_q4_f32 reads: per row, units of 16 k (k = 16u … 16u + 15) 4×4-transposed,
// x[16u + 4L + j] at 16u + 4j + L (the order a unit's nibbles come out in: see nib), zero past K up to
// nb·bs, then the nb block sums Σ x over each block (for the zero-point term). Row r starts at
// float r·(nb·bs + nb) of xs.
export function gemv_q4_prep_x(x: usize, ldx: i32, M: i32, K: i32, bs: i32, xs: usize): void {
  const nb = (K + bs - 1) / bs;
  const kp = nb * bs;
  const rowF = <usize>(kp + nb);
  for (let r = 0; r < M; r++) {
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    const d = xs + ((<usize>r * rowF) << 2);
    for (let k = 0; k < kp; k++) {
      const v: f32 = k < K ? load<f32>(xr + (<usize>k << 2)) : 0;
      const u = k >> 4, l = k & 15;
      store<f32>(d + (<usize>((u << 4) + ((l & 3) << 2) + (l >> 2)) << 2), v);
    }
    const sums = d + (<usize>kp << 2);
    for (let b = 0; b < nb; b++) {
      let s: f32 = 0;
      const e = min(K, (b + 1) * bs);
      for (let k = b * bs; k < e; k++) s += load<f32>(xr + (<usize>k << 2));
      store<f32>(sums + (<usize>b << 2), s);
    }
  }
}

// @ts-ignore: decorator
@inline function zero_point(zp: usize, zpKind: i32, n: i32, nb: i32, b: i32): f32 {
  if (zpKind == 0) return 8;
  if (zpKind == 2) return load<f32>(zp + ((<usize>n * <usize>nb + <usize>b) << 2));
  const byte = load<u8>(zp + <usize>n * <usize>((nb + 1) >> 1) + <usize>(b >> 1));
  return <f32>(b & 1 ? byte >> 4 : byte & 15);
}

// 16 weights (8 bytes) as four f32x4: v128.load16x4_u puts bytes 2L, 2L+1 in lane L, i.e. the
// nibbles of k = 4L … 4L+3; nibble j of every lane (k = j, 4+j, 8+j, 12+j) is shifted out with
// no mask constant (V8 rebuilds a v128 constant at every use). Values 0 … 15: the signed convert
// (one instruction) is exact; the unsigned one is a long sequence on x64.
// @ts-ignore: decorator
@inline function nib(v: v128, j: i32): v128 {
  if (j == 3) return f32x4.convert_i32x4_s(i32x4.shr_u(v, 12));
  return f32x4.convert_i32x4_s(i32x4.shr_u(i32x4.shl(v, 28 - 4 * j), 28));
}

// y[M×N] = act(x·W (+ bias)), M = 1 … 4 (decode), W 4-bit as above, xs = gemv_q4_prep_x's output
// for these x rows. Per column, per block: Σ x·q in f32 lanes (four chains), then the column sum
// gets scale · that, and the zero point enters once per block as scale · zp · Σ x. The nibbles are
// read once, in order, for all M rows: the whole matrix is one sequential stream.
export function gemv_q4_f32(xs: usize, M: i32, K: i32, N: i32, bs: i32, w: usize, scales: usize, zp: usize,
  zpKind: i32, bias: usize, y: usize, ldy: i32, act: i32, alpha: f32, beta: f32): void {
  if (M <= 0 || N <= 0) return;
  const nb = (K + bs - 1) / bs;
  const kp = nb * bs;
  const rowB = <usize>(kp + nb) << 2;
  const units = bs >> 4;
  const blob = <usize>(bs >> 1);
  const ldyB = <usize>ldy << 2;
  // Rows past M repeat row 0 (same work, results dropped): one code path for M = 2 … 4.
  const x1 = M > 1 ? xs + rowB : xs, x2 = M > 2 ? xs + 2 * rowB : xs, x3 = M > 3 ? xs + 3 * rowB : xs;
  let wp = w;
  for (let n = 0; n < N; n++) {
    let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0;
    let z0: f32 = 0, z1: f32 = 0, z2: f32 = 0, z3: f32 = 0;
    for (let b = 0; b < nb; b++) {
      const s = load<f32>(scales + ((<usize>n * <usize>nb + <usize>b) << 2));
      const zs = s * zero_point(zp, zpKind, n, nb, b);
      const xo = <usize>(b * bs) << 2;
      const so = (<usize>kp + <usize>b) << 2;
      if (M == 1) {
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
        let xp = xs + xo;
        for (let u = 0; u < units; u++) {
          const v = v128.load16x4_u(wp);
          a0 = madd(nib(v, 0), v128.load(xp), a0);
          a1 = madd(nib(v, 1), v128.load(xp, 16), a1);
          a2 = madd(nib(v, 2), v128.load(xp, 32), a2);
          a3 = madd(nib(v, 3), v128.load(xp, 48), a3);
          wp += 8; xp += 64;
        }
        c0 = madd(f32x4.splat(s), f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), c0);
        z0 += zs * load<f32>(xs + so);
      } else {
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
        let o = xo;
        for (let u = 0; u < units; u++) {
          const v = v128.load16x4_u(wp);
          const q0 = nib(v, 0), q1 = nib(v, 1), q2 = nib(v, 2), q3 = nib(v, 3);
          a0 = madd(q0, v128.load(xs + o), a0); a0 = madd(q1, v128.load(xs + o, 16), a0);
          a0 = madd(q2, v128.load(xs + o, 32), a0); a0 = madd(q3, v128.load(xs + o, 48), a0);
          a1 = madd(q0, v128.load(x1 + o), a1); a1 = madd(q1, v128.load(x1 + o, 16), a1);
          a1 = madd(q2, v128.load(x1 + o, 32), a1); a1 = madd(q3, v128.load(x1 + o, 48), a1);
          a2 = madd(q0, v128.load(x2 + o), a2); a2 = madd(q1, v128.load(x2 + o, 16), a2);
          a2 = madd(q2, v128.load(x2 + o, 32), a2); a2 = madd(q3, v128.load(x2 + o, 48), a2);
          a3 = madd(q0, v128.load(x3 + o), a3); a3 = madd(q1, v128.load(x3 + o, 16), a3);
          a3 = madd(q2, v128.load(x3 + o, 32), a3); a3 = madd(q3, v128.load(x3 + o, 48), a3);
          wp += 8; o += 64;
        }
        const sv = f32x4.splat(s);
        c0 = madd(sv, a0, c0); c1 = madd(sv, a1, c1); c2 = madd(sv, a2, c2); c3 = madd(sv, a3, c3);
        z0 += zs * load<f32>(xs + so); z1 += zs * load<f32>(x1 + so);
        z2 += zs * load<f32>(x2 + so); z3 += zs * load<f32>(x3 + so);
      }
    }
    wp = w + <usize>(n + 1) * <usize>nb * blob;
    const yp = y + (<usize>n << 2);
    store<f32>(yp, hsum(c0) - z0);
    if (M > 1) store<f32>(yp + ldyB, hsum(c1) - z1);
    if (M > 2) store<f32>(yp + 2 * ldyB, hsum(c2) - z2);
    if (M > 3) store<f32>(yp + 3 * ldyB, hsum(c3) - z3);
  }
  if (bias != 0 || act != 0) bias_act_rows(y, ldy, M, N, bias, act, alpha, beta);
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  const t = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1);
}

// y = act(y + bias[j]) over M rows of N (bias 0 = none): the GEMV epilogue, after the columns.
export function bias_act_rows(y: usize, ldy: i32, M: i32, N: i32, bias: usize, act: i32, alpha: f32, beta: f32): void {
  for (let r = 0; r < M; r++) {
    const yr = y + ((<usize>r * <usize>ldy) << 2);
    for (let j = 0; j < N; j += 4) {
      const n = min(4, N - j);
      const o = <usize>j << 2;
      let v = loadN(yr + o, n);
      if (bias != 0) v = f32x4.add(v, loadN(bias + o, n));
      if (act != 0) v = act_f32x4(v, act, alpha, beta);
      storeN(yr + o, v, n);
    }
  }
}

// Columns n0 … n0 + nc − 1 of the 4-bit W dequantized, (q − zp) · scale, into pack_b_f32's panel
// layout (8 columns × K rows per panel, zero past nc): what the f32 GEMM multiplies for prefill.
export function dequant_q4_panels(w: usize, scales: usize, zp: usize, zpKind: i32, K: i32, bs: i32,
  n0: i32, nc: i32, dst: usize): void {
  const nb = (K + bs - 1) / bs;
  const blob = <usize>(bs >> 1);
  const panels = (nc + 7) >> 3;
  for (let p = 0; p < panels; p++) {
    const pd = dst + ((<usize>p * <usize>K * 8) << 2);
    for (let c = 0; c < 8; c++) {
      const j = (p << 3) + c;
      let d = pd + (<usize>c << 2);
      if (j >= nc) {
        for (let k = 0; k < K; k++) { store<f32>(d, 0); d += 32; }
        continue;
      }
      const n = n0 + j;
      const col = w + <usize>n * <usize>nb * blob;
      for (let b = 0; b < nb; b++) {
        const s = load<f32>(scales + ((<usize>n * <usize>nb + <usize>b) << 2));
        const z = zero_point(zp, zpKind, n, nb, b);
        const k0 = b * bs, e = min(K, k0 + bs);
        const bp = col + <usize>b * blob;
        for (let k = k0; k < e; k++) {
          const byte = load<u8>(bp + <usize>((k - k0) >> 1));
          const q = <f32>(k & 1 ? byte >> 4 : byte & 15);
          store<f32>(d, (q - z) * s);
          d += 32;
        }
      }
    }
  }
}

// x rows → what gemv_q4_i8 reads (onnxruntime's accuracy_level 4: int8 activations, as llama.cpp's
// Q8 blocks): per row and block, xq = roundeven(x / s) with s = max|x| / 127 over the block (0 for
// an all-zero block), as i16 in units of 16 k — the 8 even k, then the 8 odd k — zero past K;
// then per block s as f32 and Σ xq as f32. Row r starts at byte r·(nb·bs·2 + nb·8).
export function gemv_q4_prep_x_i8(x: usize, ldx: i32, M: i32, K: i32, bs: i32, xq: usize): void {
  const nb = (K + bs - 1) / bs;
  const kp = nb * bs;
  const rowB = <usize>kp * 2 + <usize>nb * 8;
  for (let r = 0; r < M; r++) {
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    const d = xq + <usize>r * rowB;
    const meta = d + <usize>kp * 2;
    for (let b = 0; b < nb; b++) {
      const k0 = b * bs, e = min(K, k0 + bs);
      let m: f32 = 0;
      for (let k = k0; k < e; k++) m = max(m, abs(load<f32>(xr + (<usize>k << 2))));
      const s: f32 = m / 127;
      const inv: f32 = m > 0 ? <f32>127 / m : 0;
      let sum: i32 = 0;
      for (let k = k0; k < k0 + bs; k++) {
        const q = k < e ? <i32>nearest(load<f32>(xr + (<usize>k << 2)) * inv) : 0;
        sum += q;
        const u = k >> 4, l = k & 15;
        store<i16>(d + (<usize>((u << 4) + (l & 1 ? 8 + (l >> 1) : l >> 1)) << 1), <i16>q);
      }
      store<f32>(meta + (<usize>b << 3), s);
      store<f32>(meta + (<usize>b << 3) + 4, <f32>sum);
    }
  }
}

// y[M×N] = act(x·W (+ bias)), M = 1 … 4, with x as gemv_q4_prep_x_i8 quantized it: per block the
// integer Σ xq·q by i32x4.dot_i16x8_s (8 multiply-adds an instruction, against ~1 for the f32
// form), then y += scale · s_x · (Σ xq·q − zp · Σ xq) in f32. About 3 instructions per 8 weights.
export function gemv_q4_i8(xq: usize, M: i32, K: i32, N: i32, bs: i32, w: usize, scales: usize, zp: usize,
  zpKind: i32, bias: usize, y: usize, ldy: i32, act: i32, alpha: f32, beta: f32): void {
  if (M <= 0 || N <= 0) return;
  const nb = (K + bs - 1) / bs;
  const kp = nb * bs;
  const rowB = <usize>kp * 2 + <usize>nb * 8;
  const metaO = <usize>kp * 2;
  const units = bs >> 4;
  const blob = <usize>(bs >> 1);
  const ldyB = <usize>ldy << 2;
  const x1 = M > 1 ? xq + rowB : xq, x2 = M > 2 ? xq + 2 * rowB : xq, x3 = M > 3 ? xq + 3 * rowB : xq;
  let wp = w;
  for (let n = 0; n < N; n++) {
    let y0: f32 = 0, y1: f32 = 0, y2: f32 = 0, y3: f32 = 0;
    for (let b = 0; b < nb; b++) {
      const s = load<f32>(scales + ((<usize>n * <usize>nb + <usize>b) << 2));
      const z = zero_point(zp, zpKind, n, nb, b);
      const xo = <usize>(b * bs) << 1;
      const mo = metaO + (<usize>b << 3);
      let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      let o = xo;
      for (let u = 0; u < units; u++) {
        const v = v128.load8x8_u(wp);
        const hi = i16x8.shr_u(v, 4);
        const lo = i16x8.sub(v, i16x8.shl(hi, 4));
        a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(lo, v128.load(xq + o)), i32x4.dot_i16x8_s(hi, v128.load(xq + o, 16))));
        if (M > 1) {
          a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(lo, v128.load(x1 + o)), i32x4.dot_i16x8_s(hi, v128.load(x1 + o, 16))));
          a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(lo, v128.load(x2 + o)), i32x4.dot_i16x8_s(hi, v128.load(x2 + o, 16))));
          a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(lo, v128.load(x3 + o)), i32x4.dot_i16x8_s(hi, v128.load(x3 + o, 16))));
        }
        wp += 8; o += 32;
      }
      y0 += s * load<f32>(xq + mo) * (<f32>hsum_i(a0) - z * load<f32>(xq + mo, 4));
      if (M > 1) {
        y1 += s * load<f32>(x1 + mo) * (<f32>hsum_i(a1) - z * load<f32>(x1 + mo, 4));
        y2 += s * load<f32>(x2 + mo) * (<f32>hsum_i(a2) - z * load<f32>(x2 + mo, 4));
        y3 += s * load<f32>(x3 + mo) * (<f32>hsum_i(a3) - z * load<f32>(x3 + mo, 4));
      }
    }
    wp = w + <usize>(n + 1) * <usize>nb * blob;
    const yp = y + (<usize>n << 2);
    store<f32>(yp, y0);
    if (M > 1) store<f32>(yp + ldyB, y1);
    if (M > 2) store<f32>(yp + 2 * ldyB, y2);
    if (M > 3) store<f32>(yp + 3 * ldyB, y3);
  }
  if (bias != 0 || act != 0) bias_act_rows(y, ldy, M, N, bias, act, alpha, beta);
}

// @ts-ignore: decorator
@inline function hsum_i(v: v128): i32 {
  const t = i32x4.add(v, v128.shuffle<i32>(v, v, 2, 3, 0, 1));
  return i32x4.extract_lane(t, 0) + i32x4.extract_lane(t, 1);
}

// The scales (and zero points) of 4-column groups, block-major, for the 4-column decode kernels:
// group g, block b at float (g·nb + b)·4 holds the 4 columns' scales; z4 (when zpKind ≠ 0) the
// same for scale · zp. Columns past N: 0. Once per session (the weights are constant).
export function q4_group_meta(scales: usize, zp: usize, zpKind: i32, N: i32, K: i32, bs: i32, s4: usize, z4: usize): void {
  const nb = (K + bs - 1) / bs;
  const groups = (N + 3) >> 2;
  for (let g = 0; g < groups; g++) for (let b = 0; b < nb; b++) for (let c = 0; c < 4; c++) {
    const n = (g << 2) + c;
    const o = ((<usize>g * <usize>nb + <usize>b) << 4) + (<usize>c << 2);
    const s: f32 = n < N ? load<f32>(scales + ((<usize>n * <usize>nb + <usize>b) << 2)) : 0;
    store<f32>(s4 + o, s);
    if (zpKind != 0) store<f32>(z4 + o, n < N ? s * zero_point(zp, zpKind, n, nb, b) : 0);
  }
}

// Four accumulators' lane sums as one vector [Σa, Σb, Σc, Σd].
// @ts-ignore: decorator
@inline function sum4_f(a: v128, b: v128, c: v128, d: v128): v128 {
  const t0 = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const t1 = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
}
// @ts-ignore: decorator
@inline function sum4_i(a: v128, b: v128, c: v128, d: v128): v128 {
  const t0 = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const t1 = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 1, 5), v128.shuffle<i32>(c, d, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
}

// One decode row (M = 1) over the first 4·G columns, four at a time: each x load serves four
// columns, and a block's scales and zero points are one vector op for the four (q4_group_meta)
// instead of scalar work per column and block. xs: gemv_q4_prep_x's output. z4 = 0: zp = 8.
// Writes y[0 … 4G) without bias or activation (the caller's bias_act_rows does both).
export function gemv_q4_f32_n4(xs: usize, K: i32, G: i32, bs: i32, w: usize, s4: usize, z4: usize, y: usize): void {
  const nb = (K + bs - 1) / bs;
  const kp = nb * bs;
  const units = bs >> 4;
  const colB = <usize>nb * <usize>(bs >> 1);
  const sums = xs + (<usize>kp << 2);
  for (let g = 0; g < G; g++) {
    let p0 = w + <usize>(g << 2) * colB;
    let p1 = p0 + colB, p2 = p1 + colB, p3 = p2 + colB;
    let yv = f32x4.splat(0), zv = f32x4.splat(0);
    let meta = (<usize>g * <usize>nb) << 4;
    for (let b = 0; b < nb; b++) {
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      let xp = xs + (<usize>(b * bs) << 2);
      for (let u = 0; u < units; u++) {
        const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
        let v = v128.load16x4_u(p0);
        a0 = madd(nib(v, 0), x0, a0); a0 = madd(nib(v, 1), x1, a0); a0 = madd(nib(v, 2), x2, a0); a0 = madd(nib(v, 3), x3, a0);
        v = v128.load16x4_u(p1);
        a1 = madd(nib(v, 0), x0, a1); a1 = madd(nib(v, 1), x1, a1); a1 = madd(nib(v, 2), x2, a1); a1 = madd(nib(v, 3), x3, a1);
        v = v128.load16x4_u(p2);
        a2 = madd(nib(v, 0), x0, a2); a2 = madd(nib(v, 1), x1, a2); a2 = madd(nib(v, 2), x2, a2); a2 = madd(nib(v, 3), x3, a2);
        v = v128.load16x4_u(p3);
        a3 = madd(nib(v, 0), x0, a3); a3 = madd(nib(v, 1), x1, a3); a3 = madd(nib(v, 2), x2, a3); a3 = madd(nib(v, 3), x3, a3);
        p0 += 8; p1 += 8; p2 += 8; p3 += 8; xp += 64;
      }
      const s = v128.load(s4 + meta);
      yv = madd(s, sum4_f(a0, a1, a2, a3), yv);
      const xb = v128.load32_splat(sums + (<usize>b << 2));
      zv = z4 != 0 ? madd(v128.load(z4 + meta), xb, zv) : madd(f32x4.mul(s, f32x4.splat(8)), xb, zv);
      meta += 16;
    }
    v128.store(y + (<usize>g << 4), f32x4.sub(yv, zv));
  }
}

// gemv_q4_f32_n4 with x quantized to int8 (gemv_q4_prep_x_i8's output): accuracy_level 4.
export function gemv_q4_i8_n4(xq: usize, K: i32, G: i32, bs: i32, w: usize, s4: usize, z4: usize, y: usize): void {
  const nb = (K + bs - 1) / bs;
  const kp = nb * bs;
  const units = bs >> 4;
  const colB = <usize>nb * <usize>(bs >> 1);
  const metaX = xq + <usize>kp * 2;
  for (let g = 0; g < G; g++) {
    let p0 = w + <usize>(g << 2) * colB;
    let p1 = p0 + colB, p2 = p1 + colB, p3 = p2 + colB;
    let yv = f32x4.splat(0);
    let meta = (<usize>g * <usize>nb) << 4;
    for (let b = 0; b < nb; b++) {
      let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      let xp = xq + (<usize>(b * bs) << 1);
      for (let u = 0; u < units; u++) {
        const xe = v128.load(xp), xo = v128.load(xp, 16);
        let v = v128.load8x8_u(p0), hi = i16x8.shr_u(v, 4);
        a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(i16x8.sub(v, i16x8.shl(hi, 4)), xe), i32x4.dot_i16x8_s(hi, xo)));
        v = v128.load8x8_u(p1); hi = i16x8.shr_u(v, 4);
        a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(i16x8.sub(v, i16x8.shl(hi, 4)), xe), i32x4.dot_i16x8_s(hi, xo)));
        v = v128.load8x8_u(p2); hi = i16x8.shr_u(v, 4);
        a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(i16x8.sub(v, i16x8.shl(hi, 4)), xe), i32x4.dot_i16x8_s(hi, xo)));
        v = v128.load8x8_u(p3); hi = i16x8.shr_u(v, 4);
        a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(i16x8.sub(v, i16x8.shl(hi, 4)), xe), i32x4.dot_i16x8_s(hi, xo)));
        p0 += 8; p1 += 8; p2 += 8; p3 += 8; xp += 32;
      }
      const s = v128.load(s4 + meta);
      const sx = v128.load32_splat(metaX + (<usize>b << 3)), qs = v128.load32_splat(metaX + (<usize>b << 3) + 4);
      const d = f32x4.convert_i32x4_s(sum4_i(a0, a1, a2, a3));
      const zs = z4 != 0 ? v128.load(z4 + meta) : f32x4.mul(s, f32x4.splat(8));
      yv = madd(sx, f32x4.sub(f32x4.mul(s, d), f32x4.mul(zs, qs)), yv);
      meta += 16;
    }
    v128.store(y + (<usize>g << 4), yv);
  }
}
