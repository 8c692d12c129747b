// gemm_f32 (SIMD128 build) bit for bit against a float32 emulation of its documented arithmetic:
// per K block (equal blocks of at most 256 steps), one chain per output element in step order
// starting from 0; the block's sum then added to C (accumulate, or a block after the first), then
// the row bias and the column bias (0 where there is none, so −0 sums become +0 as in the kernel),
// then ReLU — the same for every tile height, so a row's bits never depend on M (Whisper's batched
// windows rely on it). This pins the micro-kernels' results: a rewrite of their loops (the k loop
// nested in chunking loops so that V8 unrolls it, scripts/gen-gemm.mjs) that reordered a sum would
// fail here, not only against a tolerance. Plain and packed A, every tile height (M remainders
// 1–3), N remainders, one and several K blocks.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, Heap, loadModule, randArray, rng, WASM } from './harness';

const f = Math.fround;
const KC = 256;

function emulate(a: Float32Array, b: Float32Array, c0: Float32Array, bias: Float32Array, M: number, N: number, K: number,
  biasKind: number, accumulate: boolean, relu: boolean): Float32Array {
  const blocks = Math.max(1, Math.ceil(K / KC)), kc = Math.ceil(K / blocks);
  const out = new Float32Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let c = accumulate ? c0[i * N + j]! : 0;
    for (let k0 = 0; k0 < K; k0 += kc) {
      let s = 0;
      for (let k = k0; k < Math.min(K, k0 + kc); k++) s = f(s + f(a[i * K + k]! * b[k * N + j]!));
      const last = k0 + kc >= K;
      let v = accumulate || k0 > 0 ? f(s + c) : s;
      v = f(f(v + (last && biasKind === 1 ? bias[i]! : 0)) + (last && biasKind === 2 ? bias[j]! : 0));
      c = last && relu ? Math.max(v, 0) : v;
    }
    out[i * N + j] = c;
  }
  return out;
}

let heap: Heap;
beforeAll(() => { ensureBuilt(); heap = new Heap(loadModule(WASM.simd), 512); });

describe('gemm_f32 [simd] is bit-identical to its float32 emulation', () => {
  // [M, N, K, biasKind, accumulate, relu]
  const cases: [number, number, number, number, number, number][] = [
    [4, 8, 1, 0, 0, 0], [8, 16, 37, 2, 0, 0], [13, 21, 300, 1, 1, 1], [7, 9, 600, 2, 1, 0], [18, 64, 513, 0, 0, 1], [30, 11, 257, 2, 0, 1], [1, 8, 11, 1, 0, 0],
    // One row (a decode step) over several panels, a short last panel, one and three K blocks.
    [1, 21, 300, 2, 1, 1], [1, 16, 37, 1, 0, 0], [1, 45, 513, 2, 0, 0],
  ];
  for (const [M, N, K, biasKind, acc, relu] of cases) {
    for (const packed of [0, 1]) {
      it(`M ${M} N ${N} K ${K} bias ${biasKind} accumulate ${acc} relu ${relu} packedA ${packed}`, () => {
        heap.reset();
        const r = rng(M * 7 + N * 3 + K);
        const a = randArray(M * K, r), b = randArray(K * N, r), c0 = randArray(M * N, r), bias = randArray(biasKind === 1 ? M : N, r);
        const k = heap.k;
        const pa = heap.put(a), pb = heap.put(b), pbias = heap.put(bias), pc = heap.put(c0);
        const bp = heap.alloc(K * Math.ceil(N / 8) * 8);
        k.pack_b_f32(pb, bp, K, N, N, 0);
        const ap = packed ? heap.alloc(Math.ceil(M / 4) * 4 * K) : pa;
        if (packed) k.pack_a_f32(pa, K, ap, M, K);
        k.gemm_f32(ap, K, bp, pc, N, M, N, K, biasKind ? pbias : 0, biasKind, acc, relu, 0, 0, packed);
        expect(heap.checkCanaries()).toBeNull();
        const got = heap.get(pc, M * N), want = emulate(a, b, c0, bias, M, N, K, biasKind, acc === 1, relu === 1);
        let diff = 0, first = -1;
        for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) { diff++; if (first < 0) first = i; }
        expect(diff, diff ? `${diff} of ${got.length} differ; first at ${first}: ${got[first]} vs ${want[first]}` : '').toBe(0);
      });
    }
  }
});
