// pack_b_f32_rows (a weight packed from its rows a band at a time, read from the model file):
// bands of any height, in any order, give pack_b_f32's panels byte for byte, N a multiple of 8 or
// not; nothing is written outside the panels (canaries). pack_b_q8_rows likewise gives pack_b_q8's
// one-byte panels from bands of a multiple of 8 rows (the last one ending at K), every zero-point
// form, and refuses a band holding a value outside i8.
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

describe('pack_b_q8_rows', () => {
  const q8Bytes = (K: number, N: number) => Math.ceil(N / 8) * 8 * Math.ceil(K / 8) * 8;

  it('writes pack_b_q8\'s panels band by band, int8 and uint8, every zero-point form', () => {
    let n = 0;
    for (const [K, N, band] of [[1, 1, 8], [7, 9, 8], [8, 16, 8], [17, 13, 8], [33, 70, 16], [64, 24, 24], [40, 3, 40]] as const) {
      for (const [signed, zp] of [[true, 'none'], [true, 'tensor'], [false, 'tensor'], [false, 'col']] as const) {
        heap.reset();
        const r = rng(K * 1000 + N * 10 + n), size = q8Bytes(K, N);
        const zps = zp === 'none' ? undefined : Array.from({ length: zp === 'col' ? N : 1 }, () => (signed ? 0 : 128) + Math.floor(r() * 9) - 4);
        const w = Array.from({ length: K * N }, (_, i) => (zps ? zps[zp === 'col' ? i % N : 0]! : 0) + Math.floor(r() * 240) - 120);
        const b = heap.putBytes(w, signed), z = zps ? heap.putBytes(zps, signed) : 0;
        const want = heap.alloc(size / 4), got = heap.alloc(size / 4), scratch = heap.alloc(Math.ceil(band * N / 4));
        const s = signed ? 1 : 0, zc = zp === 'col' ? 1 : 0;
        expect(heap.k.pack_b_q8(b, want, K, N, N, 0, s, z, zc)).toBe(1);
        new Int8Array(heap.memory.buffer, got, size).fill(0x5a);
        // Bands from the last to the first: the order must not matter.
        const starts = Array.from({ length: Math.ceil(K / band) }, (_, i) => i * band).reverse();
        for (const k0 of starts) {
          const rows = Math.min(band, K - k0);
          new Uint8Array(heap.memory.buffer, scratch, rows * N).set(new Uint8Array(heap.memory.buffer, b + k0 * N, rows * N));
          expect(heap.k.pack_b_q8_rows(scratch, got, rows, N, K, k0, s, z, zc)).toBe(1);
        }
        const canary = heap.checkCanaries();
        if (canary) throw new Error(canary);
        const a = new Uint8Array(heap.memory.buffer, want, size), c = new Uint8Array(heap.memory.buffer, got, size);
        expect(Buffer.compare(Buffer.from(a), Buffer.from(c)), `${K}×${N} band ${band} ${signed} ${zp}`).toBe(0);
        n++;
      }
    }
    expect(n).toBe(28);
  });

  it('refuses a band with a value outside i8, in the SIMD columns or the tail', () => {
    const K = 16, N = 11;
    for (const at of [3, 8 * N + 9]) {
      heap.reset();
      const w = Array.from({ length: K * N }, (_, i) => 128 + (i % 7));
      const b = heap.putBytes(w, false), z = heap.putBytes([127], false), dst = heap.alloc(q8Bytes(K, N) / 4);
      const k0 = at < 8 * N ? 0 : 8;
      // Every other b − 127 is 1 … 7; 255 − 127 = 128 does not fit i8.
      new Uint8Array(heap.memory.buffer, b + at, 1)[0] = 255;
      expect(heap.k.pack_b_q8_rows(b + k0 * N, dst, 8, N, K, k0, 0, z, 0), `at ${at}`).toBe(0);
      expect(heap.k.pack_b_q8_rows(b + (8 - k0) * N, dst, 8, N, K, 8 - k0, 0, z, 0), `other band, at ${at}`).toBe(1);
    }
  });
});
