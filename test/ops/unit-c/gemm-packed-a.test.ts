/**
 * MatMul and Gemm on either side of the packed-A threshold (src/ops/gemm.ts packAPays): with
 * constant weights and enough rows the op packs A once per run and calls the packed kernel. Both
 * paths must give the plain float64 product (the kernel tests check packed = unpacked bit for bit).
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { packAPays } from '../../../src/ops/math/gemm.js';
import { DT, floatTensor, model, node, valueInfo } from '../../helpers/onnx-builder.js';

function rand(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

/** y[i][j] = Σ_k a[i][k]·w[k][j] (+ bias[j]), float64. */
function reference(a: number[], w: number[], M: number, K: number, N: number, bias?: number[]): number[] {
  const y = new Array<number>(M * N).fill(0);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = bias ? bias[j]! : 0;
    for (let k = 0; k < K; k++) s += a[i * K + k]! * w[k * N + j]!;
    y[i * N + j] = s;
  }
  return y;
}

function expectClose(got: Float32Array, want: number[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i]! - want[i]!) > 1e-4 * (1 + Math.abs(want[i]!))) throw new Error(`element ${i}: ${got[i]} vs ${want[i]}`);
  }
}

describe('MatMul / Gemm over packed A', () => {
  // [batch, rows, K, N]: rows·batch = M of the folded GEMM; odd sizes leave row, column and K tails.
  const cases: [number, number, number, number][] = [[2, 9, 37, 70], [1, 16, 16, 64], [1, 23, 300, 67], [1, 15, 40, 70], [3, 5, 20, 9]];
  for (const [batch, rows, K, N] of cases) {
    const M = batch * rows;
    it(`MatMul [${batch}, ${rows}, ${K}] × [${K}, ${N}] (${packAPays(M, N, K) ? 'packed' : 'plain'} A)`, async () => {
      const a = rand(M * K, M + K), w = rand(K * N, N);
      const bytes = model({
        nodes: [node('MatMul', ['x', 'w'], ['y'])],
        inputs: [valueInfo('x', DT.FLOAT, [batch, rows, K])],
        outputs: [valueInfo('y', DT.FLOAT)],
        initializers: [floatTensor('w', [K, N], w)],
      });
      const s = await InferenceSession.create(bytes);
      const out = await s.run({ x: new Tensor('float32', Float32Array.from(a), [batch, rows, K]) });
      expect(out.y!.dims).toEqual([batch, rows, N]);
      expectClose(out.y!.data as Float32Array, reference(a, w, M, K, N));
      await s.release();
    });
  }

  it('covers both sides of the threshold', () => {
    expect(cases.filter(([b, r, K, N]) => packAPays(b * r, N, K)).length).toBeGreaterThanOrEqual(3);
    expect(cases.filter(([b, r, K, N]) => !packAPays(b * r, N, K)).length).toBeGreaterThanOrEqual(2);
  });

  for (const [M, K, N] of [[33, 50, 65], [64, 16, 64], [4, 50, 65]] as const) {
    it(`Gemm transB + bias + Relu fused, ${M}×${K} · (${N}×${K})ᵀ (${packAPays(M, N, K) ? 'packed' : 'plain'} A)`, async () => {
      const a = rand(M * K, 7 * M), wt = rand(N * K, 11 * N), bias = rand(N, 3);
      const bytes = model({
        nodes: [node('Gemm', ['x', 'wt', 'b'], ['g'], { transB: 1 }), node('Relu', ['g'], ['y'])],
        inputs: [valueInfo('x', DT.FLOAT, [M, K])],
        outputs: [valueInfo('y', DT.FLOAT)],
        initializers: [floatTensor('wt', [N, K], wt), floatTensor('b', [N], bias)],
      });
      const w = new Array<number>(K * N);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) w[k * N + n] = wt[n * K + k]!;
      const s = await InferenceSession.create(bytes);
      const out = await s.run({ x: new Tensor('float32', Float32Array.from(a), [M, K]) });
      expectClose(out.y!.data as Float32Array, reference(a, w, M, K, N, bias).map((v) => Math.max(v, 0)));
      await s.release();
    });
  }
});
