// pack_b_f32_rows (a weight packed from its rows a band at a time, read from the model file):
// bands of any height, in any order, give pack_b_f32's panels byte for byte, N a multiple of 8 or
// not; nothing is written outside the panels (canaries).
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, Heap, loadModule, rng, WASM } from './harness';

let heap: Heap;
beforeAll(() => { ensureBuilt(); heap = new Heap(loadModule(WASM.simd)); });

describe('pack_b_f32_rows', () => {
  it('writes pack_b_f32\'s panels band by band', () => {
    for (const [K, N, band] of [[1, 1, 1], [5, 8, 2], [9, 13, 4], [16, 24, 16], [33, 70, 7], [40, 3, 40]] as const) {
      heap.reset();
      const r = rng(K * 100 + N), Np = Math.ceil(N / 8) * 8;
      const b = heap.put(Array.from({ length: K * N }, () => r() * 2 - 1));
      const want = heap.alloc(K * Np), got = heap.alloc(K * Np), scratch = heap.alloc(band * N);
      heap.k.pack_b_f32(b, want, K, N, N, 0);
      new Float32Array(heap.memory.buffer, got, K * Np).fill(NaN);
      // Bands from the last to the first: the order must not matter.
      const starts = Array.from({ length: Math.ceil(K / band) }, (_, i) => i * band).reverse();
      for (const k0 of starts) {
        const n = Math.min(band, K - k0);
        new Float32Array(heap.memory.buffer, scratch, n * N).set(new Float32Array(heap.memory.buffer, b + k0 * N * 4, n * N));
        heap.k.pack_b_f32_rows(scratch, got, n, N, K, k0);
      }
      const canary = heap.checkCanaries();
      if (canary) throw new Error(canary);
      const a = new Uint8Array(heap.memory.buffer, want, K * Np * 4), c = new Uint8Array(heap.memory.buffer, got, K * Np * 4);
      expect(Buffer.compare(Buffer.from(a), Buffer.from(c)), `${K}×${N} band ${band}`).toBe(0);
    }
  });
});
