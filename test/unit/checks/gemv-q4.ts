// The 4-bit kernels against the float64 product with the dequantized weights (test/reference/q4.ts):
// gemv_q4_f32 for M = 1 … 4 with block sizes 16 … 256, K not a multiple of the block, every zero-
// point kind, bias and an activation, y written with a row stride (canaries after every buffer);
// dequant_q4_panels against pack_b_f32 of the dequantized matrix, bit for bit.
import { act } from '../../reference/activation';
import { dequantQ4, randomQ4, zeroPoint, type Q4 } from '../../reference/q4';
import { randArray, rng, type Heap } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

function putQ4(h: Heap, q: Q4) {
  const bytes = (a: Uint8Array) => { const p = h.alloc(Math.ceil(a.length / 4) || 1); new Uint8Array(h.memory.buffer, p, a.length).set(a); return p; };
  const w = bytes(q.w), scales = h.put(q.scales);
  const zp = q.zpKind === 1 ? bytes(q.zpBytes!) : q.zpKind === 2 ? h.put(q.zpFloat!) : 0;
  return { w, scales, zp };
}

/** x rows quantized as gemv_q4_prep_x_i8 does: per block s = max|x|/127, xq = roundeven(x·(127/max)). */
function quantizeRows(x: Float32Array, M: number, ldx: number, K: number, bs: number): { xq: Float32Array; s: Float32Array } {
  const nb = Math.ceil(K / bs), xq = new Float32Array(M * ldx), s = new Float32Array(M * nb);
  const even = (v: number) => { const r = Math.round(v); return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r; };
  for (let i = 0; i < M; i++) for (let b = 0; b < nb; b++) {
    let m = 0;
    for (let k = b * bs; k < Math.min(K, (b + 1) * bs); k++) m = Math.max(m, Math.abs(x[i * ldx + k]!));
    s[i * nb + b] = Math.fround(m / 127);
    const inv = m > 0 ? Math.fround(127 / m) : 0;
    for (let k = b * bs; k < Math.min(K, (b + 1) * bs); k++) xq[i * ldx + k] = even(Math.fround(x[i * ldx + k]! * inv));
  }
  return { xq, s };
}

function runGemv(h: Heap, M: number, K: number, N: number, bs: number, zpKind: 0 | 1 | 2, seed: number, withBias: boolean, code: number, i8 = false): string | null {
  const r = rng(seed);
  const q = randomQ4(K, N, bs, zpKind, r);
  const W = dequantQ4(q);
  const ldx = K + 3, ldy = N + 2;
  const x = randArray(M * ldx, r);
  const bias = withBias ? randArray(N, r) : undefined;
  const { w, scales, zp } = putQ4(h, q);
  const px = h.put(x), pb = bias ? h.put(bias) : 0;
  const nb = Math.ceil(K / bs);
  const xs = h.alloc(i8 ? M * (nb * bs / 2 + 2 * nb) : M * (nb * bs + nb));
  const y = h.alloc(M * ldy);
  if (i8) {
    h.k.gemv_q4_prep_x_i8(px, ldx, M, K, bs, xs);
    h.k.gemv_q4_i8(xs, M, K, N, bs, w, scales, zp, zpKind, pb, y, ldy, code, 0, 0);
  } else {
    h.k.gemv_q4_prep_x(px, ldx, M, K, bs, xs);
    h.k.gemv_q4_f32(xs, M, K, N, bs, w, scales, zp, zpKind, pb, y, ldy, code, 0, 0);
  }
  const got = h.get(y, M * ldy);
  // int8 activations: the product of the quantized x (times its block scale) is the reference;
  // the true float product must stay within 1e-2 of Σ|x·w| (the stated tolerance of this path).
  const xr = i8 ? quantizeRows(x, M, ldx, K, bs) : undefined;
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = bias ? bias[j]! : 0, mag = Math.abs(s), exact = s;
    for (let k = 0; k < K; k++) {
      const xv = xr ? xr.xq[i * ldx + k]! * xr.s[i * nb + Math.floor(k / bs)]! : x[i * ldx + k]!;
      const t = xv * W[k * N + j]!; s += t; mag += Math.abs(t); exact += x[i * ldx + k]! * W[k * N + j]!;
    }
    if (xr && !(Math.abs(act(exact, code) - act(s, code)) <= 1e-2 * mag + 1e-6)) return `int8 x drifts: y[${i}][${j}] ${act(s, code)} vs float ${act(exact, code)}`;
    const want = act(s, code);
    // Scale and zero point are applied per block (Σ x·q, then scale·(… − zp·Σ x)), not per term:
    // float32 rounding only, 1e-5 of Σ|terms| (measured worst here: well under).
    const tol = 1e-5 * mag + 1e-6;
    if (!(Math.abs(got[i * ldy + j]! - want) <= tol)) return `M=${M} K=${K} N=${N} bs=${bs} zp=${zpKind}: y[${i}][${j}] = ${got[i * ldy + j]}, want ${want}`;
  }
  return h.checkCanaries();
}

function runPanels(h: Heap, K: number, N: number, bs: number, zpKind: 0 | 1 | 2, n0: number, nc: number, seed: number): string | null {
  const q = randomQ4(K, N, bs, zpKind, rng(seed));
  const W = dequantQ4(q);
  const { w, scales, zp } = putQ4(h, q);
  const panels = Math.ceil(nc / 8) * 8 * K;
  const dst = h.alloc(panels);
  h.k.dequant_q4_panels(w, scales, zp, zpKind, K, bs, n0, nc, dst);
  const got = h.get(dst, panels);
  for (let p = 0; p < panels; p++) {
    const panel = Math.floor(p / (8 * K)), k = Math.floor((p % (8 * K)) / 8), c = p % 8, j = panel * 8 + c;
    const want = j < nc ? W[k * N + n0 + j]! : 0;
    if (!Object.is(got[p], want)) return `K=${K} N=${N} bs=${bs} zp=${zpKind} n0=${n0} nc=${nc}: panel float ${p} = ${got[p]}, want ${want}`;
  }
  return h.checkCanaries();
}

/** The 4-column kernels against the general ones (checked above against the reference) on the first 4·G columns. */
function runN4(h: Heap, K: number, N: number, bs: number, zpKind: 0 | 1 | 2, i8: boolean, seed: number): string | null {
  const r = rng(seed);
  const q = randomQ4(K, N, bs, zpKind, r);
  const x = randArray(K, r);
  const { w, scales, zp } = putQ4(h, q);
  const nb = Math.ceil(K / bs), G = Math.floor(N / 4);
  const px = h.put(x), xs = h.alloc(nb * bs + nb), yRef = h.alloc(N), y = h.alloc(4 * G);
  const s4 = h.alloc(Math.ceil(N / 4) * nb * 4), z4 = zpKind ? h.alloc(Math.ceil(N / 4) * nb * 4) : 0;
  h.k.q4_group_meta(scales, zp, zpKind, N, K, bs, s4, z4);
  if (i8) { h.k.gemv_q4_prep_x_i8(px, K, 1, K, bs, xs); h.k.gemv_q4_i8(xs, 1, K, N, bs, w, scales, zp, zpKind, 0, yRef, N, 0, 0, 0); h.k.gemv_q4_i8_n4(xs, K, G, bs, w, s4, z4, y); }
  else { h.k.gemv_q4_prep_x(px, K, 1, K, bs, xs); h.k.gemv_q4_f32(xs, 1, K, N, bs, w, scales, zp, zpKind, 0, yRef, N, 0, 0, 0); h.k.gemv_q4_f32_n4(xs, K, G, bs, w, s4, z4, y); }
  const want = h.get(yRef, N), got = h.get(y, 4 * G);
  let mag = 1e-6;
  for (let k = 0; k < K; k++) mag += Math.abs(x[k]!) * 15 * 0.06;
  for (let j = 0; j < 4 * G; j++) if (!(Math.abs(got[j]! - want[j]!) <= 1e-5 * mag)) return `K=${K} N=${N} bs=${bs} zp=${zpKind}: y[${j}] = ${got[j]}, want ${want[j]}`;
  return h.checkCanaries();
}

/**
 * The repacked kernels (q4x_pack, q4x_pack_meta, q4x_prep_x, gemv_q4x_i8, dequant_q4x_panels)
 * against the kernels on MatMulNBits' own layout, which the checks above hold to the reference:
 * bit for bit (the integer sums are exact and the float epilogue rounds the same way), with a
 * canary after y's last column (N mod 4 ≠ 0 writes a partial group).
 */
function runQ4x(h: Heap, K: number, N: number, bs: number, zpKind: 0 | 1, panels: boolean, seed: number): string | null {
  const r = rng(seed);
  const q = randomQ4(K, N, bs, zpKind, r);
  const x = randArray(K, r);
  const { w, scales, zp } = putQ4(h, q);
  const nb = Math.ceil(K / bs), G = Math.ceil(N / 4);
  // zpKind 0 runs both ways: z4 made (all 8) and z4 = 0 (what MatMulNBits passes: zero point 8).
  const wx = h.alloc(G * nb * bs / 2), s4 = h.alloc(G * nb * 4), z4 = zpKind || K % 3 === 0 ? h.alloc(G * nb) : 0;
  h.k.q4x_pack(w, N, K, bs, wx);
  h.k.q4x_pack_meta(scales, zp, zpKind, N, K, bs, s4, 0);
  if (z4) h.k.q4x_pack_meta(scales, zp, zpKind, N, K, bs, 0, z4);
  if (panels) {
    const size = Math.ceil(N / 8) * 8 * K, a = h.alloc(size), b = h.alloc(size);
    h.k.dequant_q4_panels(w, scales, zp, zpKind, K, bs, 0, N, a);
    h.k.dequant_q4x_panels(wx, s4, z4, K, bs, 0, N, b);
    const want = h.get(a, size), got = h.get(b, size);
    for (let i = 0; i < size; i++) if (!Object.is(got[i], want[i])) return `K=${K} N=${N} bs=${bs} zp=${zpKind}: panel float ${i} = ${got[i]}, want ${want[i]}`;
    return h.checkCanaries();
  }
  const px = h.put(x), xq = h.alloc(nb * bs / 2 + 2 * nb), xq2 = h.alloc(nb * bs / 2 + 2 * nb), yRef = h.alloc(N), y = h.alloc(N);
  h.k.gemv_q4_prep_x_i8(px, K, 1, K, bs, xq);
  h.k.gemv_q4_i8(xq, 1, K, N, bs, w, scales, zp, zpKind, 0, yRef, N, 0, 0, 0);
  h.k.q4x_prep_x(px, K, bs, xq2);
  h.k.gemv_q4x_i8(xq2, K, N, bs, wx, s4, z4, y);
  const want = h.get(yRef, N), got = h.get(y, N);
  for (let j = 0; j < N; j++) if (!Object.is(got[j], want[j])) return `K=${K} N=${N} bs=${bs} zp=${zpKind}: y[${j}] = ${got[j]}, want ${want[j]}`;
  // gemv_q4x_i8_rows: M = 1 … 4 rows (y with a row stride) against gemv_q4x_i8 on each row.
  const M = 1 + (seed % 4), stride = (nb * bs / 2 + 2 * nb) * 4, ldy = N + 3;
  const xs = randArray(M * K, r), pxs = h.put(xs), xqm = h.alloc(M * stride / 4), ym = h.alloc(M * ldy), y1 = h.alloc(N);
  for (let i = 0; i < M; i++) h.k.q4x_prep_x(pxs + i * K * 4, K, bs, xqm + i * stride);
  h.k.gemv_q4x_i8_rows(xqm, stride, M, K, N, bs, wx, s4, z4, ym, ldy);
  const gotM = h.get(ym, M * ldy);
  for (let i = 0; i < M; i++) {
    h.k.gemv_q4x_i8(xqm + i * stride, K, N, bs, wx, s4, z4, y1);
    const one = h.get(y1, N);
    for (let j = 0; j < N; j++) if (!Object.is(gotM[i * ldy + j], one[j])) return `rows: M=${M} K=${K} N=${N} bs=${bs}: y[${i}][${j}] = ${gotM[i * ldy + j]}, want ${one[j]}`;
  }
  return h.checkCanaries();
}

/** The nibble of column n at k (MatMulNBits' layout). */
function nibbleAt(q: Q4, n: number, k: number): number {
  const byte = q.w[n * q.nb * q.bs / 2 + Math.floor(k / q.bs) * q.bs / 2 + ((k % q.bs) >> 1)]!;
  return k & 1 ? byte >> 4 : byte & 15;
}

/**
 * The 16-bit path (q4x_prep_x16, gemv_q4x_i16, gemv_q4x_i16_rows) on M = 1 … 4 rows:
 * 1. bit for bit against its arithmetic done in JS (xq = roundeven(x·fround(32767/m)),
 *    s = fround(m/32767), exact integer sums, the float32 epilogue in the kernel's order), so every
 *    build, and the one-row and several-row kernels, give the same bits;
 * 2. against the exact product in float64 with the dequantized weights (q − zp)·scale, within the
 *    bound of 16-bit x: each x is off by ≤ m_b/65534 (m_b its block's max |x|), so
 *    |y − exact| ≤ Σ_b (m_b/65534)·Σ_{k∈b} |w_k| plus float32 rounding, (nb + 8)·2^-23·Σ|x·w|.
 * Rows get different magnitudes, one an outlier in one block and one an all-zero block (s = 0).
 */
function runQ4x16(h: Heap, M: number, K: number, N: number, bs: number, zpKind: 0 | 1, seed: number): string | null {
  const r = rng(seed);
  const q = randomQ4(K, N, bs, zpKind, r);
  const nb = Math.ceil(K / bs), G = Math.ceil(N / 4);
  const x = randArray(M * K, r);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) x[i * K + k] = Math.fround(x[i * K + k]! * [1, 1e-3, 40, 0.5][i]!);
  if (M > 1) x[K + Math.floor(r() * K)] = 3; // an outlier in row 1
  if (M > 2 && K > bs) x.fill(0, 2 * K, 2 * K + bs); // row 2's first block all zero
  if (M > 3 && K > 2 * bs) for (let k = 3 * K + bs; k < 3 * K + 2 * bs; k++) x[k] = Math.fround(x[k]! * 1e-36); // row 3's second block below 1e-30: zero
  const { w, scales, zp } = putQ4(h, q);
  const wx = h.alloc(G * nb * bs / 2), s4 = h.alloc(G * nb * 4), z4 = zpKind ? h.alloc(G * nb) : 0;
  h.k.q4x_pack(w, N, K, bs, wx);
  h.k.q4x_pack_meta(scales, zp, zpKind, N, K, bs, s4, 0);
  if (z4) h.k.q4x_pack_meta(scales, zp, zpKind, N, K, bs, 0, z4);
  const stride = (nb * bs / 2 + 2 * nb) * 4, ldy = N + 3;
  const px = h.put(x), xq = h.alloc(M * stride / 4), ym = h.alloc(M * ldy), y1 = h.alloc(N);
  for (let i = 0; i < M; i++) h.k.q4x_prep_x16(px + i * K * 4, K, bs, xq + i * stride);
  h.k.gemv_q4x_i16_rows(xq, stride, M, K, N, bs, wx, s4, z4, ym, ldy);
  const rows = h.get(ym, M * ldy);
  const even = (v: number) => { const t = Math.round(v); return Math.abs(v % 1) === 0.5 && t % 2 !== 0 ? t - 1 : t; };
  for (let i = 0; i < M; i++) {
    h.k.gemv_q4x_i16(xq + i * stride, K, N, bs, wx, s4, z4, y1);
    const one = h.get(y1, N);
    const xi = x.subarray(i * K, (i + 1) * K);
    const xs: number[] = [], sx: number[] = [], sums: number[] = [], mb: number[] = [];
    for (let b = 0; b < nb; b++) {
      let m = 0;
      for (let k = b * bs; k < Math.min(K, (b + 1) * bs); k++) m = Math.max(m, Math.abs(xi[k]!));
      const inv = m > Math.fround(1e-30) ? Math.fround(32767 / m) : 0;
      let sum = 0;
      for (let k = b * bs; k < Math.min(K, (b + 1) * bs); k++) { const v = even(Math.fround(xi[k]! * inv)); xs[k] = v; sum += v; }
      sx.push(Math.fround(m / 32767)); sums.push(sum); mb.push(m);
    }
    for (let j = 0; j < N; j++) {
      let yv = 0, exact = 0, bound = 0, mag = 0;
      for (let b = 0; b < nb; b++) {
        const z = zpKind ? zeroPoint(q, j, b) : 8, sc = q.scales[j * nb + b]!;
        let acc = 0, wabs = 0;
        for (let k = b * bs; k < Math.min(K, (b + 1) * bs); k++) {
          const v = nibbleAt(q, j, k), wk = (v - z) * sc;
          acc += xs[k]! * v; exact += xi[k]! * wk; wabs += Math.abs(wk); mag += Math.abs(xi[k]! * wk);
        }
        const t = Math.fround(sc * sx[b]!);
        yv = Math.fround(yv + Math.fround(t * Math.fround(acc - z * sums[b]!)));
        bound += mb[b]! / 65534 * wabs;
      }
      const where = `M=${M} K=${K} N=${N} bs=${bs} zp=${zpKind}: y[${i}][${j}]`;
      if (!Object.is(one[j], yv)) return `${where} = ${one[j]}, its arithmetic in JS gives ${yv}`;
      if (!Object.is(rows[i * ldy + j], yv)) return `${where} (rows kernel) = ${rows[i * ldy + j]}, want ${yv}`;
      const tol = bound * (1 + 1e-6) + (nb + 8) * 2 ** -23 * mag + 1e-30;
      if (!(Math.abs(yv - exact) <= tol)) return `${where} = ${yv}, exact ${exact}: off by ${Math.abs(yv - exact)} > ${tol}`;
    }
  }
  return h.checkCanaries();
}

export function gemvQ4Cases(e: KernelEntry): Case[] {
  if (e.name === 'q4x_pack_inplace') return [{ name: 'the same bytes as q4x_pack, blocks 32…256, K past the last block, scratch canaries', run: (h) => {
    let i = 0;
    for (const [K, N, bs] of [[32, 4, 32], [100, 20, 32], [130, 8, 64], [300, 12, 128], [600, 4, 256]] as const) {
      h.reset();
      const q = randomQ4(K, N, bs, 0, rng(1700 + i++));
      const { w } = putQ4(h, q);
      const nb = Math.ceil(K / bs), bytes = N * nb * bs / 2;
      const want = h.alloc(bytes / 4), scratch = h.alloc(nb * bs / 2);
      h.k.q4x_pack(w, N, K, bs, want);
      h.k.q4x_pack_inplace(w, N, K, bs, scratch);
      const a = new Uint8Array(h.memory.buffer, want, bytes), b = new Uint8Array(h.memory.buffer, w, bytes);
      for (let j = 0; j < bytes; j++) if (a[j] !== b[j]) return `K=${K} N=${N} bs=${bs}: byte ${j} = ${b[j]}, want ${a[j]}`;
      const err = h.checkCanaries();
      if (err) return err;
    }
    return null;
  } }];
  if (e.name === 'gemv_q4x_i16' || e.name === 'gemv_q4x_i16_rows') return [1, 2, 3, 4].map((M) => ({
    name: `M=${M}: 16-bit x, bit for bit vs its arithmetic in JS, within the 16-bit bound of the float64 product: blocks 32…256, K past the last block, N mod 4 = 0…3, zero points none/u8`,
    run: (h: Heap) => {
      let i = 0;
      for (const [K, N, bs] of [[32, 4, 32], [100, 19, 32], [130, 6, 64], [300, 13, 128], [600, 7, 256], [1024, 33, 32]] as const)
        for (const zpKind of [0, 1] as const) {
          h.reset();
          const err = runQ4x16(h, M, K, N, bs, zpKind, 1300 + 20 * M + i++);
          if (err) return err;
        }
      return null;
    },
  }));
  if (e.name === 'gemv_q4x_i8' || e.name === 'gemv_q4x_i8_rows' || e.name === 'dequant_q4x_panels') return [{ name: 'repacked vs MatMulNBits layout, bit for bit: blocks 32…256, K past the last block, N mod 4 = 0…3, zero points none/u8', run: (h) => {
    let i = 0;
    for (const [K, N, bs] of [[32, 4, 32], [100, 19, 32], [130, 6, 64], [300, 13, 128], [600, 7, 256], [1024, 33, 32]] as const)
      for (const zpKind of [0, 1] as const) {
        h.reset();
        const err = runQ4x(h, K, N, bs, zpKind, e.name === 'dequant_q4x_panels', 900 + i++);
        if (err) return err;
      }
    return null;
  } }];
  if (e.name === 'gemv_q4_f32_n4' || e.name === 'gemv_q4_i8_n4') return [{ name: 'vs the general kernel: blocks 16…128, K past the last block, N not a multiple of 4, all zero-point kinds', run: (h) => {
    let i = 0;
    for (const [K, N, bs] of [[16, 4, 16], [100, 19, 32], [130, 8, 64], [300, 13, 128], [64, 3, 32]] as const)
      for (const zpKind of [0, 1, 2] as const) {
        h.reset();
        const err = runN4(h, K, N, bs, zpKind, e.name === 'gemv_q4_i8_n4', 700 + i++);
        if (err) return err;
      }
    return null;
  } }];
  if (e.name === 'dequant_q4_panels') return [{ name: 'panels of column ranges, K past the last block, all zero-point kinds', run: (h) => {
    let i = 0;
    for (const [K, N, bs, n0, nc] of [[32, 8, 32, 0, 8], [37, 21, 16, 3, 13], [100, 9, 64, 0, 9], [257, 17, 128, 8, 9]] as const)
      for (const zpKind of [0, 1, 2] as const) {
        h.reset();
        const err = runPanels(h, K, N, bs, zpKind, n0, nc, 500 + i++);
        if (err) return err;
      }
    return null;
  } }];
  const cases: Case[] = [];
  const i8 = e.name === 'gemv_q4_i8';
  for (const M of [1, 2, 3, 4]) cases.push({
    name: `M=${M}: block 16…256, K ∈ {1, block, K mod block ≠ 0}, N ∈ {1, 5, 19}, zero points none/u8/f32, bias, SiLU`,
    run: (h) => {
      let i = 0;
      for (const bs of [16, 32, 64, 128, 256]) for (const K of [1, bs, bs * 2 + 7]) for (const N of [1, 5, 19]) {
        const zpKind = (i % 3) as 0 | 1 | 2;
        h.reset();
        const err = runGemv(h, M, K, N, bs, zpKind, 100 * M + i, i % 2 === 0, i % 4 === 1 ? 14 : 0, i8);
        i++;
        if (err) return err;
      }
      return null;
    },
  });
  return cases;
}
