// Scalar GEMM and B-packing references (float64 accumulation).
import { act } from './activation';

/** Packed-B panel layout of assembly/README.md: panel j = columns 8j..8j+7, K rows of 8, zero-padded. */
export function packB(b: Float32Array, K: number, N: number, ldb: number, transB: boolean): Float32Array {
  const panels = Math.ceil(N / 8);
  const out = new Float32Array(panels * 8 * K);
  for (let j = 0; j < panels; j++)
    for (let k = 0; k < K; k++)
      for (let c = 0; c < 8; c++) {
        const n = j * 8 + c;
        if (n < N) out[j * K * 8 + k * 8 + c] = transB ? b[n * ldb + k] : b[k * ldb + n];
      }
  return out;
}

export interface GemmArgs {
  a: Float32Array; lda: number; b: Float32Array; ldb: number; c: Float32Array; ldc: number;
  M: number; N: number; K: number; bias?: Float32Array; biasKind: number; accumulate: boolean;
  act: number; alpha: number; beta: number;
}

/** Returns [result, magnitude]: magnitude = Σ|a·b| + |C_old| + |bias| per element, for tolerances. */
export function gemm(p: GemmArgs): [Float32Array, Float64Array] {
  const out = Float32Array.from(p.c);
  const mag = new Float64Array(p.c.length);
  for (let i = 0; i < p.M; i++)
    for (let j = 0; j < p.N; j++) {
      let s = 0, m = 0;
      for (let k = 0; k < p.K; k++) { const t = p.a[i * p.lda + k] * p.b[k * p.ldb + j]; s += t; m += Math.abs(t); }
      if (p.accumulate) { s += p.c[i * p.ldc + j]; m += Math.abs(p.c[i * p.ldc + j]); }
      if (p.biasKind === 1) { s += p.bias![i]; m += Math.abs(p.bias![i]); }
      if (p.biasKind === 2) { s += p.bias![j]; m += Math.abs(p.bias![j]); }
      out[i * p.ldc + j] = act(s, p.act, p.alpha, p.beta);
      mag[i * p.ldc + j] = m;
    }
  return [out, mag];
}
