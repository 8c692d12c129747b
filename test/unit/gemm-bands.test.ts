// gemm_f32 on an A too big for L2 (assembly/gemm.ts splits each K block's rows into bands so the
// band's A stays in L2 while the B panels pass): the same bits as the same product computed 4 rows
// at a time (each call small enough for the unbanded path), for plain and packed A, per-row and
// per-column bias, accumulate and a fused activation, and within 1e-5 (relative to Σ|a·b|) of a
// float64 reference; canary bytes after C. Every shape has 2–3 bands (128 KiB of A each), the
// last one partial: one K block (K ≤ 256) or several (M·K·4 > 512 KiB).
import { beforeAll, describe, expect, it } from 'vitest';
import { compare, ensureBuilt, Heap, loadModule, randArray, rng, WASM } from './harness';

let heap: Heap;
beforeAll(() => { ensureBuilt(); heap = new Heap(loadModule(WASM.simd), 2048); });

const same = (a: Float32Array, b: Float32Array) => Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer)) === 0;

describe('gemm_f32 row bands', () => {
  // [M, K, N, biasKind, accumulate, act (1 = ReLU), packed A]
  const cases: [number, number, number, number, number, number, number][] = [
    [301, 200, 20, 0, 0, 0, 0], [301, 200, 20, 1, 0, 1, 0], [520, 520, 13, 2, 1, 0, 0], [260, 1100, 9, 1, 1, 0, 1], [300, 250, 17, 2, 0, 1, 1],
  ];
  for (const [M, K, N, biasKind, acc, act, packed] of cases) {
    it(`M ${M} K ${K} N ${N} bias ${biasKind} accumulate ${acc} act ${act} packedA ${packed}`, () => {
      heap.reset();
      const r = rng(M + K + N);
      const a = randArray(M * K, r), b = randArray(K * N, r), c0 = randArray(M * N, r), bias = randArray(biasKind === 1 ? M : N, r);
      const k = heap.k, Np = Math.ceil(N / 8) * 8, Mp = Math.ceil(M / 4) * 4;
      const pa = heap.put(a), pb = heap.put(b), pbias = heap.put(bias);
      const bp = heap.alloc(K * Np);
      k.pack_b_f32(pb, bp, K, N, N, 0);
      const ap = packed ? heap.alloc(Mp * K) : pa;
      if (packed) k.pack_a_f32(pa, K, ap, M, K);
      const big = heap.put(c0), small = heap.put(c0);
      k.gemm_f32(ap, K, bp, big, N, M, N, K, biasKind ? pbias : 0, biasKind, acc, act, 0, 0, packed);
      for (let i = 0; i < M; i += 4) {
        const rows = Math.min(4, M - i);
        k.gemm_f32(ap + i * K * 4, K, bp, small + i * N * 4, N, rows, N, K, biasKind ? pbias + (biasKind === 1 ? i * 4 : 0) : 0, biasKind, acc, act, 0, 0, packed);
      }
      expect(heap.checkCanaries()).toBeNull();
      const got = heap.get(big, M * N);
      expect(same(got, heap.get(small, M * N))).toBe(true);
      const want = new Float64Array(M * N), mag = new Float64Array(M * N);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
        let s = acc ? c0[i * N + j]! : 0, m = Math.abs(s);
        for (let t = 0; t < K; t++) { const p = a[i * K + t]! * b[t * N + j]!; s += p; m += Math.abs(p); }
        if (biasKind) s += bias[biasKind === 1 ? i : j]!;
        want[i * N + j] = act ? Math.max(0, s) : s;
        mag[i * N + j] = m + 1;
      }
      expect(compare(got, want, { rtol: 1e-5, atol: 0 }, mag)).toBeNull();
    });
  }
});
