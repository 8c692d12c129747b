// gemm_q8_dq_f32 / gemm_q8_i32: the int8 GEMM reading pack_b_q8's one-byte panels (widened by the
// load) instead of pack_b_i8's i16 panels, so that one packed copy of an int8 weight serves both
// prefill and the decode GEMV. Same bits as the i16-panel GEMM at every M (tile edges, more than
// one row block), K and N edges, zero points, bias and activations; fits_q8 agreeing with
// pack_b_q8 on which weights fit.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, Heap, loadModule, rng, WASM } from './harness';

let heap: Heap;
beforeAll(() => { ensureBuilt(); heap = new Heap(loadModule(WASM.simd)); });

const same = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

function run(M: number, K: number, N: number, signed: boolean, zpPerCol: boolean, bias: boolean, act: number, seed: number) {
  heap.reset();
  const r = rng(seed), Kp = Math.ceil(K / 8) * 8, Mp = Math.ceil(M / 4) * 4;
  const zps = Array.from({ length: zpPerCol ? N : 1 }, () => (signed ? 0 : 128) + Math.floor(r() * 17) - 8);
  const wv = Array.from({ length: K * N }, (_, i) => zps[zpPerCol ? i % N : 0]! + Math.floor(r() * 240) - 120);
  const w = heap.putBytes(wv, signed), zp = heap.putBytes(zps, signed);
  const x = heap.put(Array.from({ length: M * K }, () => r() * 4 - 2));
  const ws = heap.put(Array.from({ length: N }, () => 0.001 + r() * 0.01));
  const b = bias ? heap.put(Array.from({ length: N }, () => r() - 0.5)) : 0;
  const ap = heap.alloc(Mp * Kp * 2 / 4);
  const bp = heap.alloc(Math.ceil(N / 8) * 8 * Kp * 2 / 4), bq = heap.alloc(Math.ceil(N / 8) * 8 * Kp / 4);
  const y1 = heap.alloc(M * N), y2 = heap.alloc(M * N), c1 = heap.alloc(M * N), c2 = heap.alloc(M * N);
  const k = heap.k, s = signed ? 1 : 0, zc = zpPerCol ? 1 : 0;
  k.quantize_pack_a_f32(x, K, ap, M, K, 4 / 255, 128);
  k.pack_b_i8(w, bp, K, N, N, 0, s, zp, zc);
  expect(k.fits_q8(w, K, N, N, 0, s, zp, zc)).toBe(1);
  expect(k.pack_b_q8(w, bq, K, N, N, 0, s, zp, zc)).toBe(1);
  k.gemm_i16_dq_f32(ap, bp, y1, N, M, N, K, 4 / 255, ws, b, act, 0.1, 0.2, 0);
  k.gemm_q8_dq_f32(ap, bq, y2, N, M, N, K, 4 / 255, ws, b, act, 0.1, 0.2, 0);
  k.gemm_i16_i32(ap, bp, c1, N, M, N, K);
  k.gemm_q8_i32(ap, bq, c2, N, M, N, K);
  const canary = heap.checkCanaries();
  if (canary) throw new Error(canary);
  const i32 = (p: number) => new Int32Array(heap.memory.buffer, p, M * N).slice();
  return { f16: heap.get(y1, M * N), f8: heap.get(y2, M * N), i16: i32(c1), i8: i32(c2) };
}

describe('gemm_q8 (one-byte panels)', () => {
  it('gives the i16-panel GEMM\'s bits, float and i32, at edge sizes, zero points, bias and activations', () => {
    let seed = 1, n = 0;
    for (const M of [1, 3, 4, 5, 9, 17]) for (const K of [1, 8, 9, 33]) for (const N of [1, 7, 8, 17]) {
      const what = JSON.stringify({ M, K, N, seed });
      const r = run(M, K, N, seed % 2 === 0, seed % 3 === 0, seed % 2 === 1, [0, 1, 8, 14][seed % 4]!, seed++);
      expect(same(r.f8, r.f16), what).toBe(true);
      expect(same(r.i8, r.i16), what).toBe(true);
      n++;
    }
    expect(n).toBe(96);
  });

  it('at a BERT-like shape (128×768×96)', () => {
    const r = run(128, 768, 96, true, false, true, 8, 99);
    expect(same(r.f8, r.f16)).toBe(true);
    expect(same(r.i8, r.i16)).toBe(true);
  });

  it('fits_q8 says what pack_b_q8 does, transposed or not', () => {
    heap.reset();
    const dst = heap.alloc(64);
    const cases: [number[], boolean, number[] | undefined, boolean][] = [
      [[200, 3, 4, 5], false, [0], false], [[200, 3, 4, 5], false, undefined, false], [[-128, 127, 0, 1], true, undefined, false],
      [[130, 126, 255, 1], false, [128], false], [[255, 0, 128, 128], false, [127, 128], true], [[-128, 5, 6, 7], true, [1], false],
    ];
    for (const [w, signed, zps, perCol] of cases) {
      const p = heap.putBytes(w, signed), z = zps ? heap.putBytes(zps, signed) : 0;
      for (const tB of [0, 1]) {
        const s = signed ? 1 : 0, zc = perCol ? 1 : 0;
        expect(heap.k.fits_q8(p, 2, 2, 2, tB, s, z, zc), JSON.stringify({ w, zps, tB })).toBe(heap.k.pack_b_q8(p, dst, 2, 2, 2, tB, s, z, zc));
      }
    }
  });
});
