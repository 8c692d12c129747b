// cross_pack_f32 + cross_attention_f32 (assembly/cross_attention.ts, the resident cross-attention
// of Whisper-style decoders) against a float64 softmax(scale·q·Kᵀ)·V: key counts around the
// 16-key panel (1, 15, 16, 17, 31, 32, 33) and Whisper's 1,500, head sizes around the 4-column
// value panel (1, 3, 4, 5, 7, 8, 12, 64), 1–5 query rows, several heads, and more query rows than
// one scoring group of 16; canary bytes after every buffer, so neither
// the packing nor the attention writes past its block. Tolerance: |Δ| ≤ 2e-6 + 2e-5·Σ_t p_t·|v_t|
// (f32 sums of up to 1,500 terms and a polynomial exp good to ~2 ulp). Also the same answers as
// cached_attention_f32 (the kernel it replaced for this op) to the same tolerance, and a NaN query
// row giving NaN outputs as the unfused graph does. cross_attention_probs_f32: the same output bits
// and the probabilities (float64 softmax within 2e-6 + 2e-5·p), canaries after them too.
import { beforeAll, describe, expect, it } from 'vitest';
import { compare, ensureBuilt, Heap, loadModule, randArray, rng, WASM } from './harness';

interface CrossKernels {
  cross_pack_f32(k: number, v: number, kc: number, vc: number, heads: number, L: number, d: number): void;
  cross_attention_f32(q: number, kc: number, vc: number, out: number, scores: number, heads: number, rows: number, L: number, d: number, scale: number): void;
  cross_attention_probs_f32(q: number, kc: number, vc: number, out: number, probs: number, scores: number, heads: number, rows: number, L: number, d: number, scale: number): void;
  cross_keys_bytes(L: number, d: number): number;
  cross_values_bytes(L: number, d: number): number;
  cross_scratch_bytes(L: number, units: number): number;
  cached_attention_f32(q: number, k: number, v: number, mask: number, out: number, scores: number, rows: number, Sq: number, past: number, d: number, scale: number): void;
}

let heap: Heap;
let k: CrossKernels & Heap['k'];
beforeAll(() => { ensureBuilt(); heap = new Heap(loadModule(WASM.simd), 2048); k = heap.k as CrossKernels & Heap['k']; });

function reference(q: Float32Array, K: Float32Array, V: Float32Array, heads: number, rows: number, L: number, d: number, scale: number) {
  const want = new Float64Array(heads * rows * d), mag = new Float64Array(heads * rows * d), p = new Float64Array(heads * rows * L);
  const s = new Float64Array(L);
  for (let u = 0; u < heads; u++) for (let r = 0; r < rows; r++) {
    const qo = (u * rows + r) * d;
    let m = -Infinity;
    for (let t = 0; t < L; t++) {
      let acc = 0;
      for (let i = 0; i < d; i++) acc += q[qo + i]! * K[(u * L + t) * d + i]!;
      s[t] = acc * scale;
      m = Math.max(m, s[t]!);
    }
    let sum = 0;
    for (let t = 0; t < L; t++) { s[t] = Math.exp(s[t]! - m); sum += s[t]!; }
    for (let t = 0; t < L; t++) p[(u * rows + r) * L + t] = s[t]! / sum;
    for (let i = 0; i < d; i++) {
      let acc = 0, a = 0;
      for (let t = 0; t < L; t++) { const v = V[(u * L + t) * d + i]!; acc += s[t]! * v; a += s[t]! * Math.abs(v); }
      want[qo + i] = acc / sum;
      mag[qo + i] = a / sum;
    }
  }
  return { want, mag, p };
}

function run(heads: number, rows: number, L: number, d: number, seed: number, poison = false) {
  heap.reset();
  const r = rng(seed);
  const q = randArray(heads * rows * d, r, -2, 2), K = randArray(heads * L * d, r, -2, 2), V = randArray(heads * L * d, r);
  if (poison) q[0] = NaN;
  const scale = 1 / Math.sqrt(d);
  const pq = heap.put(q), pk = heap.put(K), pv = heap.put(V);
  const kc = heap.alloc(heads * k.cross_keys_bytes(L, d) / 4), vc = heap.alloc(heads * k.cross_values_bytes(L, d) / 4);
  const out = heap.alloc(heads * rows * d), scores = heap.alloc(k.cross_scratch_bytes(L, heads * rows) / 4);
  k.cross_pack_f32(pk, pv, kc, vc, heads, L, d);
  k.cross_attention_f32(pq, kc, vc, out, scores, heads, rows, L, d, scale);
  // The kernel it replaced: one call per head, every row reading all L keys (past = L − 1).
  const out2 = heap.alloc(heads * rows * d), scores2 = heap.alloc(L + 4);
  for (let u = 0; u < heads; u++) {
    const qo = u * rows * d * 4, co = u * L * d * 4;
    k.cached_attention_f32(pq + qo, pk + co, pv + co, 0, out2 + qo, scores2, rows, 1, L - 1, d, scale);
  }
  // With the probabilities: a second output and scratch, so the first call's results stay to compare.
  const out3 = heap.alloc(heads * rows * d), probs = heap.alloc(heads * rows * L), scores3 = heap.alloc(k.cross_scratch_bytes(L, heads * rows) / 4);
  k.cross_attention_probs_f32(pq, kc, vc, out3, probs, scores3, heads, rows, L, d, scale);
  const canary = heap.checkCanaries();
  return { got: heap.get(out, heads * rows * d), old: heap.get(out2, heads * rows * d), withProbs: heap.get(out3, heads * rows * d),
    probs: heap.get(probs, heads * rows * L), canary, ...reference(q, K, V, heads, rows, L, d, scale) };
}

const TOL = { rtol: 2e-5, atol: 2e-6 };

describe('cross_attention_f32', () => {
  const shapes: [number, number, number, number][] = [
    [1, 1, 1, 1], [1, 1, 31, 5], [2, 1, 32, 8], [3, 2, 33, 12], [1, 4, 65, 64], [2, 3, 100, 7], [6, 1, 1500, 64], [2, 4, 1500, 64],
    // more query rows than one scoring group (16): 18 and 35 rows, the group boundary inside a head
    [9, 2, 40, 12], [7, 5, 17, 3],
    [1, 1, 16, 4], [2, 2, 15, 3],
  ];
  for (const [heads, rows, L, d] of shapes) {
    it(`heads ${heads} rows ${rows} L ${L} d ${d}`, () => {
      const { got, old, withProbs, probs, canary, want, mag, p } = run(heads, rows, L, d, heads * 1000 + L * 7 + d);
      expect(canary).toBeNull();
      expect(compare(got, want, TOL, mag)).toBeNull();
      expect(compare(got, old, TOL, mag)).toBeNull();
      expect(Array.from(new Uint32Array(withProbs.buffer, withProbs.byteOffset, withProbs.length))).toEqual(Array.from(new Uint32Array(got.buffer, got.byteOffset, got.length)));
      expect(compare(probs, p, TOL)).toBeNull();
    });
  }

  it('a NaN in a query row gives that row NaN, other rows finite', () => {
    const { got } = run(1, 2, 40, 8, 5, true);
    expect(Array.from(got.subarray(0, 8)).every(Number.isNaN)).toBe(true);
    expect(Array.from(got.subarray(8)).every(Number.isFinite)).toBe(true);
  });

  it('byte sizes: keys padded to 16, value columns to 4, scores for up to 16 query rows', () => {
    expect(k.cross_keys_bytes(1500, 64)).toBe(1504 * 64 * 4);
    expect(k.cross_values_bytes(1500, 64)).toBe(64 * 1504 * 4);
    expect(k.cross_values_bytes(33, 5)).toBe(8 * 48 * 4);
    expect(k.cross_scratch_bytes(33, 1)).toBe(48 * 4);
    expect(k.cross_scratch_bytes(33, 3)).toBe(3 * 48 * 4);
    expect(k.cross_scratch_bytes(33, 40)).toBe(16 * 48 * 4);
  });
});
