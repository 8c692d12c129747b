// GEMM and packing checks: every M/N remainder around the 4×8 tile, K edge values including 0
// and K > KC (K blocking), all bias kinds, accumulate, strided lda/ldc, every activation. Every
// shape also runs over A packed by pack_a_f32 and must give the plain call's bits exactly.
import { ACT, ACT_PARAMS, actGain } from '../../reference/activation';
import { gemm, packB } from '../../reference/gemm';
import { compare, randArray, rng, type Heap } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

interface G {
  M: number; N: number; K: number; biasKind?: number; accumulate?: boolean; act?: number;
  ldaPad?: number; ldcPad?: number; transB?: boolean;
}

export function runGemm(h: Heap, g: G, seed: number): string | null {
  const r = rng(seed);
  const { M, N, K } = g;
  const lda = K + (g.ldaPad ?? 0), ldc = N + (g.ldcPad ?? 0);
  const biasKind = g.biasKind ?? 0, code = g.act ?? 0;
  const [alpha, beta] = ACT_PARAMS[code] ?? [0, 0];
  const a = randArray(M * lda, r);
  const b = randArray(K * N, r); // K×N row-major (ldb = N)
  const c = g.accumulate ? randArray(M * ldc, r) : new Float32Array(M * ldc).fill(NaN);
  const bias = biasKind === 1 ? randArray(M, r) : biasKind === 2 ? randArray(N, r) : undefined;
  const pa = h.put(a);
  // transB: hand the kernel Bᵀ (N×K) and let it transpose while packing.
  const bt = new Float32Array(N * K);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) bt[n * K + k] = b[k * N + n];
  const pb = h.put(g.transB ? bt : b);
  const bp = h.alloc(Math.ceil(N / 8) * 8 * K);
  h.k.pack_b_f32(pb, bp, K, N, g.transB ? K : N, g.transB ? 1 : 0);
  const packErr = compare(h.get(bp, Math.ceil(N / 8) * 8 * K), packB(b, K, N, N, false), { rtol: 0, atol: 0 });
  if (packErr) return `pack: ${packErr}`;
  const pc = h.put(c);
  const pbias = bias ? h.put(bias) : 0;
  h.k.gemm_f32(pa, lda, bp, pc, ldc, M, N, K, pbias, biasKind, g.accumulate ? 1 : 0, code, alpha, beta);
  const [want, mag] = gemm({ a, lda, b, ldb: N, c, ldc, M, N, K, bias, biasKind, accumulate: !!g.accumulate, act: code, alpha, beta });
  const gain = code === 0 ? 1 : actGain(code, alpha, beta);
  const got = h.get(pc, M * ldc);
  const err = compare(got, want, { rtol: 1e-5 * gain, atol: 1e-6 }, mag) ?? h.checkCanaries();
  if (err) return err;
  // The same product over packed A: bit-identical to the plain call (NaN-filled C where unused).
  const ppa = h.alloc(packedAFloats(M, K));
  h.k.pack_a_f32(pa, lda, ppa, M, K);
  const pc2 = h.put(c);
  h.k.gemm_f32(ppa, K, bp, pc2, ldc, M, N, K, pbias, biasKind, g.accumulate ? 1 : 0, code, alpha, beta, 1);
  return compare(h.get(pc2, M * ldc), got, { rtol: 0, atol: 0 }) ?? h.checkCanaries();
}

const packedAFloats = (M: number, K: number) => Math.ceil(M / 4) * 4 * K;

/** pack_a_f32's layout, written plainly: tile t, step k, row r at 4tK + 4k + r; zero past M. */
function packA(src: Float32Array, lda: number, M: number, K: number): Float32Array {
  const out = new Float32Array(packedAFloats(M, K));
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) out[(i >> 2) * 4 * K + 4 * k + (i & 3)] = src[i * lda + k]!;
  return out;
}

export function packACases(e: KernelEntry): Case[] {
  const cases: Case[] = [];
  for (const [M, K, pad] of [[1, 1, 0], [3, 7, 2], [4, 4, 0], [5, 9, 1], [8, 17, 3], [13, 3, 0], [7, 0, 0], [0, 5, 0], [37, 33, 1]])
    cases.push({
      name: `M=${M} K=${K} lda+${pad}`,
      run: (h) => {
        const r = rng(M * 100 + K);
        const lda = K + pad;
        const src = randArray(M * lda, r);
        const ps = h.put(src);
        const size = packedAFloats(M, K);
        const pd = h.alloc(size);
        h.k[e.name as 'pack_a_f32'](ps, lda, pd, M, K);
        return compare(h.get(pd, size), packA(src, lda, M, K), { rtol: 0, atol: 0 }) ?? h.checkCanaries();
      },
    });
  return cases;
}

export function gemmCases(e: KernelEntry): Case[] {
  const { mr, nr } = e.tile!;
  const ms = [...new Set([1, mr - 1, mr, mr + 1, 7, 13, 2 * mr + 1, 3 * mr, 37])];
  const ns = [...new Set([1, nr - 1, nr, nr + 1, 7, 13, 2 * nr + 3, 3 * nr, 37])];
  const ks = [0, 1, 3, 8, 17, 64];
  const cases: Case[] = [];
  for (const K of ks) {
    cases.push({
      name: `shapes K=${K} (M∈{${ms}} × N∈{${ns}}, bias kind and accumulate cycling)`,
      run: (h) => {
        let i = 0;
        for (const M of ms) for (const N of ns) {
          h.reset();
          const g: G = { M, N, K, biasKind: i % 3, accumulate: (i >> 1) % 2 === 1 };
          const err = runGemm(h, g, 1000 * K + i++);
          if (err) return `${JSON.stringify(g)}: ${err}`;
        }
        return null;
      },
    });
  }
  for (const [name, code] of Object.entries(ACT))
    for (const biasKind of [0, 1, 2])
      cases.push({ name: `act ${name} bias=${biasKind}`, run: (h) => runGemm(h, { M: 13, N: 19, K: 17, biasKind, act: code, accumulate: biasKind === 1 }, code * 3 + biasKind) });
  const extra: G[] = [
    { M: 9, N: 11, K: 300, biasKind: 1, act: ACT.relu }, // K > KC: bias/act only after last block
    { M: 7, N: 17, K: 600, biasKind: 2, accumulate: true, act: ACT.gelu },
    { M: 14, N: 21, K: 25, ldaPad: 3, ldcPad: 5, biasKind: 2 },
    { M: 6, N: 8, K: 5, ldaPad: 1, ldcPad: 1, accumulate: true },
    { M: 13, N: 37, K: 17, transB: true, biasKind: 1 },
    { M: 1, N: 1, K: 1, transB: true },
    { M: 0, N: 5, K: 3 },
    { M: 4, N: 0, K: 3 },
    { M: 64, N: 96, K: 64, biasKind: 2, act: ACT.relu },
  ];
  for (const g of extra) cases.push({ name: `shape ${JSON.stringify(g)}`, run: (h) => runGemm(h, g, g.M * 131 + g.K) });
  cases.push({
    name: `random shapes up to 3× the tile (M ≤ ${3 * mr + 2}, N ≤ ${3 * nr + 2}, K ≤ 80, strides, all options)`,
    run: (h) => {
      const r = rng(4242);
      const pick = (n: number) => Math.floor(r() * n);
      for (let it = 0; it < 60; it++) {
        h.reset();
        const g: G = {
          M: 1 + pick(3 * mr + 2), N: 1 + pick(3 * nr + 2), K: pick(81), ldaPad: pick(3), ldcPad: pick(3),
          biasKind: pick(3), accumulate: r() < 0.5, act: pick(15), transB: r() < 0.3,
        };
        const err = runGemm(h, g, it);
        if (err) return `${JSON.stringify(g)}: ${err}`;
      }
      return null;
    },
  });
  return cases;
}

export function packCases(e: KernelEntry): Case[] {
  const cases: Case[] = [];
  for (const transB of [false, true])
    for (const [K, N, pad] of [[1, 1, 0], [3, 7, 2], [5, 8, 0], [17, 9, 3], [4, 37, 1], [0, 5, 0]])
      cases.push({
        name: `K=${K} N=${N} ldb+${pad} transB=${transB}`,
        run: (h) => {
          const r = rng(K * 100 + N);
          const ldb = (transB ? K : N) + pad;
          const src = randArray((transB ? N : K) * ldb, r);
          const ps = h.put(src);
          const size = Math.ceil(N / 8) * 8 * K;
          const pd = h.alloc(size);
          h.k[e.name as 'pack_b_f32'](ps, pd, K, N, ldb, transB ? 1 : 0);
          return compare(h.get(pd, size), packB(src, K, N, ldb, transB), { rtol: 0, atol: 0 }) ?? h.checkCanaries();
        },
      });
  return cases;
}
