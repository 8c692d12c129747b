// gemv_q8_dq_f32 (the int8 decode GEMV over pack_b_q8's one-byte weights) against the int8 GEMM it
// stands in for: the same bits as gemm_i16_dq_f32 over pack_b_i8's panels of the same weight, for
// M = 1…4, edge K and N around the 8-column panel and 8-K group, zero points per tensor and per
// column, bias and activations (cheap ones in the tile store, GELU per strip); its i32 sums against
// a plain TypeScript reference; canary bytes after every output; and pack_b_q8 refusing weights
// whose b − zp does not fit i8.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, Heap, loadModule, rng, WASM } from './harness';

let heap: Heap;
beforeAll(() => { ensureBuilt(); heap = new Heap(loadModule(WASM.simd)); });

interface Case { M: number; K: number; N: number; signed: boolean; zpPerCol: boolean; bias: boolean; act: number; seed: number }

function run(c: Case): { gemv: Float32Array; gemm: Float32Array; want: Float32Array; ok: number } {
  heap.reset();
  const { M, K, N, signed } = c, r = rng(c.seed), Kp = Math.ceil(K / 8) * 8;
  // Weights whose b − zp fits i8: signed with zp in −8…8, or unsigned around 128.
  const zps = Array.from({ length: c.zpPerCol ? N : 1 }, () => (signed ? 0 : 128) + Math.floor(r() * 17) - 8);
  const wv = Array.from({ length: K * N }, (_, i) => {
    const z = zps[c.zpPerCol ? i % N : 0]!;
    return z + Math.floor(r() * 240) - 120;
  });
  const w = heap.putBytes(wv, signed), zp = heap.putBytes(zps, signed);
  const x = heap.put(Array.from({ length: M * K }, () => r() * 4 - 2));
  const ws = heap.put(Array.from({ length: N }, () => 0.001 + r() * 0.01));
  const bias = c.bias ? heap.put(Array.from({ length: N }, () => r() - 0.5)) : 0;
  const ap = heap.alloc(4 * Kp * 2 / 4);
  const bp = heap.alloc(Math.ceil(N / 8) * 8 * Kp * 2 / 4), bq = heap.alloc(Math.ceil(N / 8) * 8 * Kp / 4);
  const y1 = heap.alloc(M * N), y2 = heap.alloc(M * N);
  const k = heap.k, aScale = 4 / 255, azp = 128;
  k.quantize_pack_a_f32(x, K, ap, M, K, aScale, azp);
  k.pack_b_i8(w, bp, K, N, N, 0, signed ? 1 : 0, zp, c.zpPerCol ? 1 : 0);
  const ok = k.pack_b_q8(w, bq, K, N, N, 0, signed ? 1 : 0, zp, c.zpPerCol ? 1 : 0);
  k.gemm_i16_dq_f32(ap, bp, y1, N, M, N, K, aScale, ws, bias, c.act, 0.1, 0.2, 0);
  k.gemv_q8_dq_f32(ap, bq, y2, N, M, N, K, aScale, ws, bias, c.act, 0.1, 0.2, 0);
  const canary = heap.checkCanaries();
  if (canary) throw new Error(canary);
  // Reference (no bias, no activation): the i32 sums in TypeScript, then Cast → Mul(aScale·ws).
  const xs = heap.get(x, M * K), wsv = heap.get(ws, N), want = new Float32Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let kk = 0; kk < K; kk++) {
      const q = Math.min(255, Math.max(0, Math.round(xs[i * K + kk]! / aScale) + azp)) - azp;
      // (round half even is irrelevant: random x rarely lands on .5; the GEMM comparison is exact)
      s += q * (wv[kk * N + j]! - zps[c.zpPerCol ? j : 0]!);
    }
    want[i * N + j] = Math.fround(s) * Math.fround(aScale * wsv[j]!);
  }
  return { gemv: heap.get(y2, M * N), gemm: heap.get(y1, M * N), want, ok };
}

const same = (a: Float32Array, b: Float32Array) => Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer)) === 0;

describe('gemv_q8_dq_f32', () => {
  it('gives the int8 GEMM\'s bits at edge sizes, zero points, bias and activations', () => {
    let seed = 1, n = 0;
    for (const M of [1, 2, 3, 4]) for (const K of [1, 7, 8, 9, 24, 33]) for (const N of [1, 7, 8, 9, 17]) {
      const c: Case = { M, K, N, signed: seed % 2 === 0, zpPerCol: seed % 3 === 0, bias: seed % 2 === 1, act: [0, 1, 8, 14][seed % 4]!, seed: seed++ };
      const { gemv, gemm, ok } = run(c);
      expect(ok, JSON.stringify(c)).toBe(1);
      expect(same(gemv, gemm), JSON.stringify(c)).toBe(true);
      n++;
    }
    expect(n).toBe(120);
  });

  it('matches the TypeScript reference of the integer product', () => {
    for (const [M, K, N] of [[1, 64, 24], [4, 40, 13], [3, 1024, 9]] as const) {
      const { gemv, want } = run({ M, K, N, signed: true, zpPerCol: true, bias: false, act: 0, seed: M * K + N });
      for (let i = 0; i < want.length; i++) expect(Math.abs(gemv[i]! - want[i]!), `${M}×${K}×${N} [${i}]`).toBeLessThanOrEqual(Math.abs(want[i]!) * 1e-6 + 1e-6);
    }
  });

  it('pack_b_q8 refuses weights whose b − zp does not fit i8', () => {
    heap.reset();
    const w = heap.putBytes([200, 3, 4, 5], false), zp = heap.putBytes([0], false), dst = heap.alloc(64);
    expect(heap.k.pack_b_q8(w, dst, 2, 2, 2, 0, 0, zp, 0)).toBe(0);
    expect(heap.k.pack_b_q8(w, dst, 2, 2, 2, 0, 0, 0, 0)).toBe(0);
    const w2 = heap.putBytes([-128, 127, 0, 1], true);
    expect(heap.k.pack_b_q8(w2, dst, 2, 2, 2, 0, 1, 0, 0)).toBe(1);
  });
});
