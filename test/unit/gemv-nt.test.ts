// gemv_nt_f32 (assembly/gemv_nt.ts: y = x·Wᵀ over W's rows, the tied lm_head's kernel) against an
// emulation of its documented order in float32 (per row: four lane sums over k ≡ 0…3 mod 4, in k
// order, then (l0 + l2) + (l1 + l3), then + the scalar tail) — bit for bit, so the read-ahead
// touches in its loop change nothing — and against a float64 reference within rounding. M = 1…4,
// K and N around the 4-wide steps and 4-row groups, a leading dimension of y wider than N, and
// canary bytes after every buffer (the touches read ahead, never write).
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, Heap, loadModule, randArray, rng, WASM } from './harness';

interface GemvKernels { gemv_nt_f32(x: number, M: number, K: number, w: number, N: number, y: number, ldy: number): void }

let heap: Heap;
beforeAll(() => { ensureBuilt(); heap = new Heap(loadModule(WASM.simd)); });

const f = Math.fround;

function emulate(x: Float32Array, w: Float32Array, m: number, n: number, K: number): number {
  const lanes = [0, 0, 0, 0], K4 = K & ~3;
  for (let k = 0; k < K4; k++) lanes[k & 3] = f(lanes[k & 3]! + f(x[m * K + k]! * w[n * K + k]!));
  const s = f(f(lanes[0]! + lanes[2]!) + f(lanes[1]! + lanes[3]!));
  let t = 0;
  for (let k = K4; k < K; k++) t = f(t + f(x[m * K + k]! * w[n * K + k]!));
  return f(s + t);
}

describe('gemv_nt_f32', () => {
  for (const [M, K, N] of [[1, 384, 37], [1, 5, 9], [2, 64, 8], [3, 7, 13], [4, 130, 21], [1, 1, 3], [1, 512, 400]] as const) {
    it(`M=${M} K=${K} N=${N}: the documented order's bits, a float64 reference within rounding`, () => {
      heap.reset();
      const r = rng(M * 1000 + K * 10 + N), ldy = N + 3;
      const x = randArray(M * K, r, -2, 2), w = randArray(N * K, r);
      const px = heap.put(x), pw = heap.put(w), py = heap.alloc(M * ldy);
      (heap.k as unknown as GemvKernels).gemv_nt_f32(px, M, K, pw, N, py, ldy);
      expect(heap.checkCanaries()).toBeNull();
      const y = heap.get(py, M * ldy);
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let want = 0, mag = 0;
          for (let k = 0; k < K; k++) { want += x[m * K + k]! * w[n * K + k]!; mag += Math.abs(x[m * K + k]! * w[n * K + k]!); }
          const got = y[m * ldy + n]!;
          expect(got).toBe(emulate(x, w, m, n, K));
          expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-6 * mag + 1e-7 * K);
        }
        for (let n = N; n < ldy; n++) expect(Number.isNaN(y[m * ldy + n])).toBe(true); // untouched padding
      }
    });
  }
});
