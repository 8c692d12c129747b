// The int8 GEMM on packed, pre-widened A: the two A packers (from u8/i8 bytes, and quantizing
// floats) against the layout reference, and gemm_i16_i32 / gemm_i16_dq_f32 against the scalar
// product (then Cast → Mul → Add in float32) — bit-exact, at every M/N remainder around the 4×8
// tile, K from 0 past several 8-wide steps, per-tensor / per-row / per-column zero points and
// scales, output rows wider than N (the gap must stay untouched), extreme values, canaries; and
// the fused activation equal to the unfused activation kernel run on the reference result.
import { gemmI8, packAI16 } from '../../reference/gemm-i8';
import { dequantizeI32, quantizeU8 } from '../../reference/quant';
import { randArray, rng, type Heap } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

const f = Math.fround;
const packedABytes = (M: number, K: number) => Math.ceil(M / 4) * 4 * Math.ceil(K / 8) * 8 * 2;

function putBytes(h: Heap, data: ArrayLike<number>, signed: boolean): number {
  const p = h.alloc(Math.max(1, Math.ceil(data.length / 4)));
  (signed ? new Int8Array(h.memory.buffer, p, data.length) : new Uint8Array(h.memory.buffer, p, data.length)).set(data);
  return p;
}

function bytes(n: number, r: () => number, signed: boolean, extreme = false): number[] {
  const lo = signed ? -128 : 0, hi = signed ? 127 : 255;
  return Array.from({ length: n }, () => (extreme ? (r() < 0.5 ? lo : hi) : lo + Math.floor(r() * (hi - lo + 1))));
}

function sameI16(h: Heap, p: number, want: Int16Array, what: string): string | null {
  const got = new Int16Array(h.memory.buffer, p, want.length);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return `${what}[${i}] = ${got[i]}, want ${want[i]}`;
  return h.checkCanaries();
}

const SHAPES_M = [1, 2, 3, 4, 5, 8, 9, 13];
const SHAPES_K = [0, 1, 7, 8, 9, 17, 33];

export function packAI8Cases(): Case[] {
  return [{
    name: `u8/i8 rows − zero point (none, per tensor, per row) → packed A, M∈{${SHAPES_M}}, K∈{${SHAPES_K}}, strided rows`,
    run: (h) => {
      let t = 0;
      for (const M of SHAPES_M) for (const K of SHAPES_K) {
        h.reset();
        const r = rng(t), signed = t % 2 === 1, zpKind = t % 3, lda = K + (t % 4);
        t++;
        const a = bytes(M * lda, r, signed), zp = bytes(zpKind === 2 ? M : 1, r, signed);
        const za = (i: number) => (zpKind === 0 ? 0 : zp[zpKind === 2 ? i : 0]!);
        const ap = h.alloc(packedABytes(M, K) / 4);
        h.k.pack_a_i8(putBytes(h, a, signed), lda, signed ? 1 : 0, zpKind === 0 ? 0 : putBytes(h, zp, signed), zpKind === 2 ? 1 : 0, ap, M, K);
        const err = sameI16(h, ap, packAI16(M, K, (i, k) => a[i * lda + k]! - za(i)), `M${M} K${K} signed=${signed} zp=${zpKind}`);
        if (err) return err;
      }
      return null;
    },
  }];
}

export function quantizePackACases(): Case[] {
  return [{
    name: `floats → sat_u8(roundeven(x / scale) + zp) − zp, packed; ties, saturation, scale 0, M∈{${SHAPES_M}}, K∈{${SHAPES_K}}`,
    run: (h) => {
      let t = 0;
      for (const M of SHAPES_M) for (const K of [...SHAPES_K, 40]) {
        h.reset();
        const r = rng(100 + t), ldx = K + (t % 3), zp = (37 * t) % 256, scale = t % 11 === 5 ? 0 : 0.25;
        t++;
        // Multiples of scale/2 make exact ties; the wide range saturates at both ends.
        const x = Float32Array.from(randArray(M * ldx, r, -80, 80), (v, i) => (i % 3 === 0 ? Math.round(v * 8) / 8 : v));
        const q = scale === 0 ? undefined : quantizeU8(x, scale, zp);
        const ap = h.alloc(packedABytes(M, K) / 4);
        h.k.quantize_pack_a_f32(h.put(x), ldx, ap, M, K, scale, zp);
        const err = sameI16(h, ap, packAI16(M, K, (i, k) => (q ? q[i * ldx + k]! - zp : 0)), `M${M} K${K} ldx${ldx} zp${zp} scale${scale}`);
        if (err) return err;
      }
      return null;
    },
  }, {
    name: 'floats near the rounding and clamp boundaries: ties and their ulp neighbours, clamp edges, ±0, ±∞, NaN, subnormals, tiny and huge scales, zero points 0/1/128/254/255',
    run: (h) => {
      const bits = new Float32Array(1), ints = new Int32Array(bits.buffer);
      const step = (v: number, n: number) => { bits[0] = v; ints[0]! += v < 0 ? -n : n; return bits[0]!; }; // n ulps away from 0
      for (const scale of [0.25, 0.1, 1 / 3, 4 / 255, 0.0157, 1e-30, 3e-39, 1e30, 3e38].map(f))
        for (const zp of [0, 1, 128, 254, 255]) {
          h.reset();
          const x: number[] = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 3e38, -3e38];
          // Quotients at and around every half-integer and integer across the clamp range and past it.
          for (let k = -zp - 3; k <= 258 - zp; k += k > -zp + 3 && k < 252 - zp ? 17 : 1)
            for (const v of [k, k + 0.5]) {
              const c = f(v * scale);
              for (let n = -2; n <= 2; n++) x.push(c === 0 ? c : step(c, n));
            }
          const K = x.length, M = 3, q = quantizeU8(Float32Array.from(x), scale, zp);
          // Each row: the values from a different starting lane (so each meets every lane position).
          const rows = Float32Array.from({ length: M * K }, (_, i) => x[(i + Math.floor(i / K)) % K]!);
          const qr = Array.from({ length: M * K }, (_, i) => q[(i + Math.floor(i / K)) % K]!);
          const ap = h.alloc(packedABytes(M, K) / 4);
          h.k.quantize_pack_a_f32(h.put(rows), K, ap, M, K, scale, zp);
          const err = sameI16(h, ap, packAI16(M, K, (i, k) => qr[i * K + k]! - zp), `scale ${scale} zp ${zp}`);
          if (err) return err;
        }
      return null;
    },
  }];
}

interface G { M: number; N: number; K: number; ldPad?: number; extreme?: boolean; bSigned?: boolean; zbCol?: boolean; bias?: boolean; wsCol?: boolean; act?: [number, number, number] }

/** Runs one product through pack_b_i8 + the kernel; `dq` picks gemm_i16_dq_f32 over gemm_i16_i32. */
function runGemmI16(h: Heap, g: G, seed: number, dq: boolean): string | null {
  const r = rng(seed);
  const { M, N, K } = g, bSigned = g.bSigned ?? true, ld = N + (g.ldPad ?? 0);
  // A as the packers leave it: an 8-bit value minus an 8-bit zero point, −255…255.
  const a = Array.from({ length: M * K }, () => (g.extreme ? (r() < 0.5 ? -255 : 255) : Math.floor(r() * 511) - 255));
  const b = bytes(K * N, r, bSigned, g.extreme), zb = bytes(g.zbCol ? N : 1, r, bSigned);
  const zbOf = (j: number) => zb[g.zbCol ? j : 0]!;
  const pb = putBytes(h, b, bSigned), pzb = putBytes(h, zb, bSigned);
  const bp = h.alloc(Math.ceil(N / 8) * 8 * Math.ceil(K / 8) * 8 / 2 || 1);
  h.k.pack_b_i8(pb, bp, K, N, N, 0, bSigned ? 1 : 0, pzb, g.zbCol ? 1 : 0);
  const ap = h.alloc(packedABytes(M, K) / 4 || 1);
  new Int16Array(h.memory.buffer, ap, packedABytes(M, K) / 2).set(packAI16(M, K, (i, k) => a[i * K + k]!));
  const out = h.alloc(M * ld || 1);
  const c = gemmI8(a, K, b, M, N, K, () => 0, zbOf);
  let want: ArrayLike<number>, got: ArrayLike<number>;
  if (dq) {
    const aScale = f(0.5 + r() * 1e-3), ws = randArray(g.wsCol ? N : 1, r, 1e-4, 1e-2), bias = g.bias ? randArray(N, r) : undefined;
    const wsN = Float32Array.from({ length: N }, (_, j) => ws[g.wsCol ? j : 0]!);
    const [act, aa, ab] = g.act ?? [0, 0, 0];
    h.k.gemm_i16_dq_f32(ap, bp, out, ld, M, N, K, aScale, h.put(wsN), bias ? h.put(bias) : 0, act, aa, ab, 0);
    want = dequantizeI32(c, M, N, Float32Array.from(wsN, (s) => f(aScale * s)), bias);
    if (act) {
      // The unfused activation op's kernel on the reference result: fused must equal unfused.
      const pw = h.put(want);
      h.k.unary_f32(pw, pw, M * N, act, aa, ab);
      want = h.get(pw, M * N);
    }
    got = new Float32Array(h.memory.buffer, out, M * ld);
  } else {
    h.k.gemm_i16_i32(ap, bp, out, ld, M, N, K);
    want = c;
    got = new Int32Array(h.memory.buffer, out, M * ld);
  }
  const gap = new Uint32Array(h.memory.buffer, out, M * ld);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) if (!Object.is(got[i * ld + j], want[i * N + j])) return `[${i}][${j}] = ${got[i * ld + j]}, want ${want[i * N + j]}`;
    // Between rows (ld > N) the output keeps the allocator's NaN bits.
    for (let j = N; j < ld; j++) if (gap[i * ld + j] !== 0x7fc00000) return `[${i}][${j}] past N was written`;
  }
  return h.checkCanaries();
}

export function gemmI16Cases(e: KernelEntry): Case[] {
  const dq = e.name === 'gemm_i16_dq_f32';
  const { mr, nr } = e.tile!;
  const ms = [...new Set([1, mr - 1, mr, mr + 1, 2 * mr + 1, 3 * mr, 13])];
  const ns = [...new Set([1, 3, nr - 1, nr, nr + 1, 2 * nr + 3, 3 * nr, 37])];
  const cases: Case[] = [];
  for (const K of [0, 1, 7, 8, 9, 17, 64]) {
    cases.push({
      name: `shapes K=${K} (M∈{${ms}} × N∈{${ns}}, zero points / scales per tensor and per column${dq ? ', with and without bias' : ''}, wide rows)`,
      run: (h) => {
        let i = 0;
        for (const M of ms) for (const N of ns) {
          h.reset();
          const g: G = { M, N, K, bSigned: i % 2 === 0, zbCol: i % 3 === 1, wsCol: i % 3 !== 2, bias: i % 2 === 1, ldPad: i % 4 === 3 ? 5 : 0 };
          const err = runGemmI16(h, g, 1000 * K + i++, dq);
          if (err) return `${JSON.stringify(g)}: ${err}`;
        }
        return null;
      },
    });
  }
  const extra: G[] = [
    { M: 9, N: 11, K: 300, zbCol: true, wsCol: true, bias: true },
    { M: 5, N: 9, K: 1000, extreme: true }, // large |Σ|: 1000 · 255 · 255
    { M: 6, N: 17, K: 255, extreme: true, bSigned: false, ldPad: 3 },
    { M: 0, N: 5, K: 3 },
    { M: 4, N: 0, K: 3 },
    { M: 64, N: 96, K: 784, zbCol: true, wsCol: true, bias: true },
    ...(dq ? ([
      { M: 13, N: 37, K: 40, bias: true, wsCol: true, act: [8, 0, 0] }, // GELU (erf), as in BERT's MLP
      { M: 5, N: 19, K: 17, act: [1, 0, 0] }, // ReLU
      { M: 6, N: 11, K: 9, bias: true, act: [2, -0.5, 0.5], ldPad: 2 }, // Clip(−0.5, 0.5)
    ] as G[]) : []),
  ];
  for (const g of extra) cases.push({ name: `shape ${JSON.stringify(g)}`, run: (h) => runGemmI16(h, g, g.M * 131 + g.K, dq) });
  cases.push({
    name: `random shapes up to 3× the tile (M ≤ ${3 * mr + 2}, N ≤ ${3 * nr + 2}, K ≤ 80)`,
    run: (h) => {
      const r = rng(4242);
      for (let t = 0; t < 40; t++) {
        h.reset();
        const g: G = { M: 1 + Math.floor(r() * (3 * mr + 2)), N: 1 + Math.floor(r() * (3 * nr + 2)), K: Math.floor(r() * 81), bSigned: r() < 0.5, zbCol: r() < 0.5, wsCol: r() < 0.5, bias: r() < 0.5, ldPad: Math.floor(r() * 3) };
        const err = runGemmI16(h, g, t, dq);
        if (err) return `${JSON.stringify(g)}: ${err}`;
      }
      return null;
    },
  });
  return cases;
}
