// The int8 GEMM from bytes (pack_b_i8, pack_a_i8, then gemm_i16_i32, as MatMulInteger runs it):
// every M/N remainder around the 4×8 tile, K from 0 to past several
// 8-wide steps, u8 and i8 operands in all four pairings, per-tensor / per-row / per-column zero
// points, strided A, B given transposed, and extreme values (±127/−128/255 products).
import { gemmI8, packBI8 } from '../../reference/gemm-i8';
import { rng, type Heap } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

interface G { M: number; N: number; K: number; aSigned: boolean; bSigned: boolean; zaRow?: boolean; zbCol?: boolean; noZp?: boolean; ldaPad?: number; transB?: boolean; extreme?: boolean }

function putBytes(h: Heap, data: ArrayLike<number>, signed: boolean): number {
  const p = h.alloc(Math.max(1, Math.ceil(data.length / 4)));
  (signed ? new Int8Array(h.memory.buffer, p, data.length) : new Uint8Array(h.memory.buffer, p, data.length)).set(data);
  return p;
}

function bytes(n: number, r: () => number, signed: boolean, extreme: boolean): number[] {
  const lo = signed ? -128 : 0, hi = signed ? 127 : 255;
  return Array.from({ length: n }, () => (extreme ? (r() < 0.5 ? lo : hi) : lo + Math.floor(r() * (hi - lo + 1))));
}

function same(got: ArrayLike<number>, want: ArrayLike<number>, what: string): string | null {
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return `${what}[${i}] = ${got[i]}, want ${want[i]}`;
  return null;
}

export function runGemmI8(h: Heap, g: G, seed: number): string | null {
  const r = rng(seed);
  const { M, N, K } = g;
  const lda = K + (g.ldaPad ?? 0);
  const a = bytes(M * lda, r, g.aSigned, !!g.extreme), b = bytes(K * N, r, g.bSigned, !!g.extreme);
  const za = g.noZp ? [] : bytes(g.zaRow ? M : 1, r, g.aSigned, false), zb = g.noZp ? [] : bytes(g.zbCol ? N : 1, r, g.bSigned, false);
  const zaOf = (i: number) => (g.noZp ? 0 : za[g.zaRow ? i : 0]!), zbOf = (j: number) => (g.noZp ? 0 : zb[g.zbCol ? j : 0]!);
  const bt = new Array<number>(N * K);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) bt[n * K + k] = b[k * N + n]!;
  const pa = putBytes(h, a, g.aSigned), pb = putBytes(h, g.transB ? bt : b, g.bSigned);
  const pza = g.noZp ? 0 : putBytes(h, za, g.aSigned), pzb = g.noZp ? 0 : putBytes(h, zb, g.bSigned);
  const Kp = Math.ceil(K / 8) * 8, packed = Math.ceil(N / 8) * 8 * Kp;
  const bp = h.alloc(Math.max(1, packed / 2));
  h.k.pack_b_i8(pb, bp, K, N, g.transB ? K : N, g.transB ? 1 : 0, g.bSigned ? 1 : 0, pzb, g.zbCol ? 1 : 0);
  const packErr = same(new Int16Array(h.memory.buffer, bp, packed), packBI8(b, K, N, zbOf), 'packed');
  if (packErr) return packErr;
  const ap = h.alloc(Math.max(1, Math.ceil(M / 4) * Kp * 2)); // packed A: ⌈M/4⌉·4 rows × Kp i16
  h.k.pack_a_i8(pa, lda, g.aSigned ? 1 : 0, pza, g.zaRow ? 1 : 0, ap, M, K);
  const pc = h.alloc(Math.max(1, M * N));
  h.k.gemm_i16_i32(ap, bp, pc, N, M, N, K);
  return same(new Int32Array(h.memory.buffer, pc, M * N), gemmI8(a, lda, b, M, N, K, zaOf, zbOf), 'C') ?? h.checkCanaries();
}

export function packI8Cases(): Case[] {
  return [{ name: 'pack u8/i8, plain and transposed, zero points folded', run: (h) => {
    for (const [i, g] of ([{ M: 1, N: 13, K: 9, aSigned: false, bSigned: true, zbCol: true }, { M: 1, N: 8, K: 1, aSigned: false, bSigned: false, transB: true }] as G[]).entries()) {
      h.reset();
      const err = runGemmI8(h, g, 77 + i);
      if (err) return `${JSON.stringify(g)}: ${err}`;
    }
    return null;
  } }];
}

export function gemmI8Cases(e: KernelEntry): Case[] {
  const { mr, nr } = e.tile!;
  const ms = [...new Set([1, mr - 1, mr, mr + 1, 2 * mr + 1, 3 * mr, 13])];
  const ns = [...new Set([1, nr - 1, nr, nr + 1, 2 * nr + 3, 3 * nr, 37])];
  const cases: Case[] = [];
  for (const K of [0, 1, 7, 8, 9, 17, 64]) {
    cases.push({
      name: `shapes K=${K} (M∈{${ms}} × N∈{${ns}}, signedness and zero-point kinds cycling)`,
      run: (h) => {
        let i = 0;
        for (const M of ms) for (const N of ns) {
          h.reset();
          const g: G = { M, N, K, aSigned: i % 2 === 1, bSigned: (i >> 1) % 2 === 1, zaRow: i % 3 === 1, zbCol: i % 3 !== 0, noZp: i % 5 === 4, transB: i % 7 === 3 };
          const err = runGemmI8(h, g, 1000 * K + i++);
          if (err) return `${JSON.stringify(g)}: ${err}`;
        }
        return null;
      },
    });
  }
  const extra: G[] = [
    { M: 9, N: 11, K: 300, aSigned: false, bSigned: true, zbCol: true },
    { M: 5, N: 9, K: 1000, aSigned: true, bSigned: true, extreme: true, noZp: true }, // large |Σ|
    { M: 6, N: 17, K: 255, aSigned: false, bSigned: false, extreme: true },
    { M: 14, N: 21, K: 25, ldaPad: 3, aSigned: false, bSigned: true },
    { M: 0, N: 5, K: 3, aSigned: false, bSigned: true },
    { M: 4, N: 0, K: 3, aSigned: false, bSigned: true },
    { M: 64, N: 96, K: 784, aSigned: false, bSigned: true, zbCol: true },
  ];
  for (const g of extra) cases.push({ name: `shape ${JSON.stringify(g)}`, run: (h) => runGemmI8(h, g, g.M * 131 + g.K) });
  cases.push({
    name: `random shapes up to 3× the tile (M ≤ ${3 * mr + 2}, N ≤ ${3 * nr + 2}, K ≤ 80)`,
    run: (h) => {
      const r = rng(9191);
      for (let t = 0; t < 40; t++) {
        h.reset();
        const g: G = { M: 1 + Math.floor(r() * (3 * mr + 2)), N: 1 + Math.floor(r() * (3 * nr + 2)), K: Math.floor(r() * 81), aSigned: r() < 0.5, bSigned: r() < 0.5, zaRow: r() < 0.5, zbCol: r() < 0.5, ldaPad: Math.floor(r() * 3), transB: r() < 0.5 };
        const err = runGemmI8(h, g, t);
        if (err) return `${JSON.stringify(g)}: ${err}`;
      }
      return null;
    },
  });
  return cases;
}
