// pack_b_q8 and fits_q8 byte for byte against a plain TypeScript statement of the layout
// (assembly/gemv_q8.ts): the row-major SIMD path for K×N weights (8 K × 8 columns a step) and the
// column path for transposed weights and the last N mod 8 columns, with and without zero points
// (per tensor, per column), int8 and uint8; and a value out of the i8 range anywhere — inside the
// SIMD blocks or in the tail — makes both return 0, as the brute-force check says.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, Heap, loadModule, rng, WASM } from './harness';

let heap: Heap;
beforeAll(() => { ensureBuilt(); heap = new Heap(loadModule(WASM.simd)); });

interface Case { K: number; N: number; transB: boolean; signed: boolean; zp: 'none' | 'tensor' | 'col' }

/** The panels as the layout defines them, or undefined when some b − zp is outside i8. */
function reference(w: number[], zps: number[] | undefined, c: Case): Int8Array | undefined {
  const { K, N } = c, Kp = Math.ceil(K / 8) * 8, out = new Int8Array(Math.ceil(N / 8) * 8 * Kp);
  for (let col = 0; col < N; col++) for (let k = 0; k < K; k++) {
    const v = w[c.transB ? col * K + k : k * N + col]! - (zps ? zps[c.zp === 'col' ? col : 0]! : 0);
    if (v < -128 || v > 127) return undefined;
    out[(col >> 3) * 8 * Kp + (k >> 1) * 16 + (col & 7) * 2 + (k & 1)] = v;
  }
  return out;
}

function weights(c: Case, seed: number): { w: number[]; zps: number[] | undefined } {
  const r = rng(seed);
  const zps = c.zp === 'none' ? undefined : Array.from({ length: c.zp === 'col' ? c.N : 1 }, () => (c.signed ? 0 : 128) + Math.floor(r() * 17) - 8);
  const w = Array.from({ length: c.K * c.N }, (_, i) => {
    const col = c.transB ? Math.floor(i / c.K) : i % c.N;
    // uint8 without a zero point fits only below 128.
    if (!zps && !c.signed) return Math.floor(r() * 128);
    return (zps ? zps[c.zp === 'col' ? col : 0]! : 0) + Math.floor(r() * 240) - 120;
  }).map((v) => (c.signed ? Math.max(-128, Math.min(127, v)) : Math.max(0, Math.min(255, v))));
  return { w, zps };
}

function pack(w: number[], zps: number[] | undefined, c: Case): { ok: number; fits: number; panels: Int8Array } {
  heap.reset();
  const s = c.signed ? 1 : 0, zc = c.zp === 'col' ? 1 : 0, Kp = Math.ceil(c.K / 8) * 8, size = Math.ceil(c.N / 8) * 8 * Kp;
  const p = heap.putBytes(w, c.signed), z = zps ? heap.putBytes(zps, c.signed) : 0, dst = heap.alloc(size / 4);
  new Int8Array(heap.memory.buffer, dst, size).fill(0x5a);
  const ldb = c.transB ? c.K : c.N, tB = c.transB ? 1 : 0;
  const fits = heap.k.fits_q8(p, c.K, c.N, ldb, tB, s, z, zc);
  const ok = heap.k.pack_b_q8(p, dst, c.K, c.N, ldb, tB, s, z, zc);
  const canary = heap.checkCanaries();
  if (canary) throw new Error(canary);
  return { ok, fits, panels: new Int8Array(heap.memory.buffer, dst, size).slice() };
}

describe('pack_b_q8 / fits_q8', () => {
  it('write the layout byte for byte at edge shapes, transposed or not, every zero-point form', () => {
    let seed = 1, n = 0;
    for (const K of [1, 7, 8, 9, 17, 24]) for (const N of [1, 8, 9, 16, 23, 40]) for (const transB of [false, true]) {
      const c: Case = { K, N, transB, signed: seed % 2 === 0, zp: (['none', 'tensor', 'col'] as const)[seed % 3]! };
      const { w, zps } = weights(c, seed++);
      const want = reference(w, zps, c);
      const got = pack(w, zps, c);
      const what = JSON.stringify(c);
      expect(got.fits, what).toBe(want ? 1 : 0);
      expect(got.ok, what).toBe(want ? 1 : 0);
      if (want) expect(Buffer.compare(Buffer.from(got.panels.buffer), Buffer.from(want.buffer)), what).toBe(0);
      n++;
    }
    expect(n).toBe(72);
  });

  it('refuse a value outside i8 wherever it is: in the SIMD blocks or the tail, low or high', () => {
    const K = 19, N = 21;
    let refused = 0;
    for (const transB of [false, true]) for (const signed of [false, true]) for (const at of [0, 5, 8 * N + 3, 10 * N + 7, 3 * N + 17, K * N - 1]) {
      for (const high of [false, true]) {
        const c: Case = { K, N, transB, signed, zp: signed ? 'tensor' : 'col' };
        const { w, zps } = weights(c, at + (high ? 1 : 0));
        const z = zps![c.zp === 'col' ? (transB ? Math.floor(at / K) : at % N) : 0]!;
        // Just outside: z + 128 or z − 129, where the element type can hold it.
        w[at] = high ? z + 128 : z - 129;
        if (signed ? w[at]! < -128 || w[at]! > 127 : w[at]! < 0 || w[at]! > 255) w[at] = high ? (signed ? 127 : 255) : (signed ? -128 : 0);
        const want = reference(w, zps, c);
        const got = pack(w, zps, c);
        const what = JSON.stringify({ ...c, at, high, v: w[at], z });
        expect(got.fits, what).toBe(want ? 1 : 0);
        expect(got.ok, what).toBe(want ? 1 : 0);
        if (!want) refused++;
      }
    }
    expect(refused).toBeGreaterThanOrEqual(20);
  });
});
