// pack_b_f32_inplace: a weight's GEMM panels written over the weight itself (rows spread to N
// rounded up to 8, then the K × N/8 matrix of 8-float items transposed by following cycles) — the
// same bytes pack_b_f32 writes into a separate buffer, at edge sizes and with padding columns.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, Heap, loadModule, WASM } from './harness';

let heap: Heap;
beforeAll(() => { ensureBuilt(); heap = new Heap(loadModule(WASM.simd)); });

describe('pack_b_f32_inplace', () => {
  it('writes pack_b_f32\'s panels over B, padded columns zeroed', () => {
    let n = 0;
    for (const K of [1, 2, 3, 7, 8, 33, 96]) for (const N of [1, 5, 8, 9, 16, 23, 64, 130]) {
      heap.reset();
      const Np = Math.ceil(N / 8) * 8;
      const values = Array.from({ length: K * N }, (_, i) => i * 0.25 - 3);
      const b = heap.put([...values, ...new Array(K * Np - K * N).fill(Number.NaN)]); // the pad holds garbage
      const want = heap.alloc(K * Np), visited = heap.alloc(Math.ceil(K * Np / 64 / 4) + 1);
      heap.k.pack_b_f32(b, want, K, N, N, 0);
      heap.k.pack_b_f32_inplace(b, K, N, visited);
      const canary = heap.checkCanaries();
      if (canary) throw new Error(canary);
      const got = heap.get(b, K * Np), ref = heap.get(want, K * Np);
      expect(Buffer.compare(Buffer.from(got.buffer), Buffer.from(ref.buffer)), `${K}×${N}`).toBe(0);
      n++;
    }
    expect(n).toBe(56);
  });
});
