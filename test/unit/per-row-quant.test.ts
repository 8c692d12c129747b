// Dynamic quantization per batch item at the kernels: quantize_pack_a_rows_f32 (a scale and zero
// point per row) and the dequantizing GEMMs' aScales (an A scale per row) — gemm_i16_dq_f32 over
// pack_b_i8's panels, gemm_q8_dq_f32 and the decode GEMV gemv_q8_dq_f32 over pack_b_q8's. Items of
// R rows, each with the DynamicQuantizeLinear range of its own values (items of very different
// magnitudes, one all zero), packed and multiplied together must give every item the bits of the
// per-tensor kernels run on that item alone: packed words row for row, outputs bit for bit, with
// bias and activations (in the tile store, and GELU per strip); canary bytes after every buffer.
// With one scale for every row, the per-row packing is byte-identical to quantize_pack_a_f32's.
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamicParams } from '../../src/ops/quant/quant.js';
import { ensureBuilt, Heap, loadModule, rng, WASM } from './harness';

const ACT_NONE = 0, ACT_CLIP = 2, ACT_GELU = 8;
let heaps: [string, Heap][];
beforeAll(() => { ensureBuilt(); heaps = [['simd', new Heap(loadModule(WASM.simd))]]; });

const Kp = (K: number) => Math.ceil(K / 8) * 8;
const packedFloats = (M: number, K: number) => (Math.ceil(M / 4) * 4 * Kp(K) * 2) / 4;
/** Row i's K pair p in packed A (gemm_i8.ts's layout): the 32-bit word at block·Kp·8 + p·16 + (i mod 4)·4. */
const word = (h: Heap, ap: number, K: number, i: number, p: number) =>
  new Int32Array(h.memory.buffer, ap + (i >> 2) * Kp(K) * 8 + p * 16 + (i & 3) * 4, 1)[0]!;
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const same = (a: Float32Array, b: Float32Array) => Buffer.compare(bytes(a), bytes(b)) === 0;

interface Case { items: number; R: number; K: number; N: number; seed: number }

/** x of `items` × R rows; item b's values scaled by its own factor (item 1 all zero when there are 3 or more). */
function batch(c: Case): number[] {
  const r = rng(c.seed), x: number[] = [];
  for (let b = 0; b < c.items; b++) {
    const gain = c.items >= 3 && b === 1 ? 0 : [1, 7, 0.05, 30, 0.4][b % 5]!, shift = b % 2 ? -0.3 : 0.6;
    for (let i = 0; i < c.R * c.K; i++) x.push(gain * (r() * 4 - 2 + shift));
  }
  return x;
}

function params(values: number[]): { scale: number; zeroPoint: number } {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { const f = Math.fround(v); lo = Math.min(lo, f); hi = Math.max(hi, f); }
  return { ...dynamicParams(lo, hi) };
}

/** A fresh heap holding the case's batch, packed by quantize_pack_a_rows_f32 with each item's own range. */
function packPerItem(h: Heap, c: Case) {
  h.reset();
  const { items, R, K } = c, M = items * R, x = batch(c);
  const per = Array.from({ length: items }, (_, b) => params(x.slice(b * R * K, (b + 1) * R * K)));
  const X = h.put(x), ap = h.alloc(packedFloats(M, K));
  const scales = h.put(per.flatMap((p) => new Array<number>(R).fill(p.scale)));
  const zps = h.alloc(M);
  new Int32Array(h.memory.buffer, zps, M).set(per.flatMap((p) => new Array<number>(R).fill(p.zeroPoint)));
  h.k.quantize_pack_a_rows_f32(X, K, ap, M, K, scales, zps);
  return { M, x, per, X, ap, scales, zps };
}

describe('per-item dynamic quantization kernels', () => {
  const cases: Case[] = [];
  let seed = 1;
  for (const [items, R] of [[2, 1], [3, 1], [4, 1], [2, 2], [2, 4], [3, 3], [2, 5], [5, 3]] as const) {
    for (const [K, N] of [[40, 17], [33, 9], [8, 24], [17, 8]] as const) cases.push({ items, R, K, N, seed: seed++ });
  }

  it('quantize_pack_a_rows_f32 packs each item\'s rows as quantize_pack_a_f32 packs the item alone', () => {
    for (const [build, h] of heaps) for (const c of cases) {
      const { items, R, K } = c, { M, x, per, X, ap, scales, zps } = packPerItem(h, c);
      for (let b = 0; b < items; b++) {
        const alone = h.alloc(packedFloats(R, K));
        h.k.quantize_pack_a_f32(X + b * R * K * 4, K, alone, R, K, per[b]!.scale, per[b]!.zeroPoint);
        for (let r = 0; r < R; r++) for (let p = 0; p < Kp(K) / 2; p++) {
          expect(word(h, ap, K, b * R + r, p), `${build} ${JSON.stringify(c)} item ${b} row ${r} pair ${p}`).toBe(word(h, alone, K, r, p));
        }
      }
      for (let i = M; i < Math.ceil(M / 4) * 4; i++) for (let p = 0; p < Kp(K) / 2; p++) expect(word(h, ap, K, i, p)).toBe(0);
      // One scale for every row: quantize_pack_a_f32's bytes exactly.
      const all = params(x), one = h.alloc(packedFloats(M, K)), uniform = h.alloc(packedFloats(M, K));
      new Float32Array(h.memory.buffer, scales, M).fill(all.scale);
      new Int32Array(h.memory.buffer, zps, M).fill(all.zeroPoint);
      h.k.quantize_pack_a_rows_f32(X, K, one, M, K, scales, zps);
      h.k.quantize_pack_a_f32(X, K, uniform, M, K, all.scale, all.zeroPoint);
      expect(same(h.get(one, packedFloats(M, K)), h.get(uniform, packedFloats(M, K))), `${build} ${JSON.stringify(c)} uniform`).toBe(true);
      expect(h.checkCanaries()).toBeNull();
    }
  });

  it('the dequantizing GEMMs and the GEMV with per-row A scales give each item its bits alone', () => {
    let checked = 0, differs = 0;
    for (const [build, h] of heaps) for (const c of cases) {
      const { items, R, K, N } = c, { M, x, per, X, ap, scales } = packPerItem(h, c), r = rng(c.seed + 100);
      const w = h.putBytes(Array.from({ length: K * N }, () => Math.floor(r() * 255) - 127), true);
      const bp = h.alloc(Math.ceil(N / 8) * 8 * Kp(K) * 2 / 4), bq = h.alloc(Math.ceil(N / 8) * 8 * Kp(K) / 4);
      h.k.pack_b_i8(w, bp, K, N, N, 0, 1, 0, 0);
      expect(h.k.pack_b_q8(w, bq, K, N, N, 0, 1, 0, 0)).toBe(1);
      const ws = h.put(Array.from({ length: N }, () => 0.001 + r() * 0.01)), bias = h.put(Array.from({ length: N }, () => r() - 0.5));
      const kernels: ['gemm_i16_dq_f32' | 'gemm_q8_dq_f32' | 'gemv_q8_dq_f32', number][] = [['gemm_i16_dq_f32', bp], ['gemm_q8_dq_f32', bq]];
      if (M <= 4) kernels.push(['gemv_q8_dq_f32', bq]);
      const aloneA = per.map((p, b) => {
        const a = h.alloc(packedFloats(R, K));
        h.k.quantize_pack_a_f32(X + b * R * K * 4, K, a, R, K, p.scale, p.zeroPoint);
        return a;
      });
      for (const [name, b] of kernels) for (const [act, aa, ab] of [[ACT_NONE, 0, 0], [ACT_CLIP, -0.2, 0.3], [ACT_GELU, 0, 0]] as const) {
        const useBias = act !== ACT_CLIP ? bias : 0;
        const y = h.alloc(M * N), yAlone = h.alloc(R * N);
        h.k[name](ap, b, y, N, M, N, K, 0, ws, useBias, act, aa, ab, scales);
        const got = h.get(y, M * N);
        for (let it = 0; it < items; it++) {
          // The item alone, as the op runs one window: per-tensor scale, the GEMV for ≤ 4 rows.
          const alone = name === 'gemm_i16_dq_f32' ? h.k.gemm_i16_dq_f32 : R <= 4 ? h.k.gemv_q8_dq_f32 : h.k.gemm_q8_dq_f32;
          alone(aloneA[it]!, b, yAlone, N, R, N, K, per[it]!.scale, ws, useBias, act, aa, ab, 0);
          const want = h.get(yAlone, R * N);
          expect(same(got.subarray(it * R * N, (it + 1) * R * N), want), `${build} ${name} act ${act} ${JSON.stringify(c)} item ${it}`).toBe(true);
          checked++;
        }
        // The same batch with one scale for all rows (what a per-tensor range would give) differs.
        h.k[name](ap, b, y, N, M, N, K, per[0]!.scale, ws, useBias, act, aa, ab, 0);
        if (!same(h.get(y, M * N), got)) differs++;
      }
      expect(h.checkCanaries(), `${build} ${JSON.stringify(c)}`).toBeNull();
    }
    expect(checked).toBe(684);
    expect(differs).toBeGreaterThan(checked / 10);
  });
});
