// Scalar references for softmax, broadcasting binary ops, channel affine, layernorm, transpose.
import { act } from './activation';

export function softmax(x: Float32Array, rows: number, cols: number, log: boolean): Float32Array {
  const y = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let i = 0; i < cols; i++) m = Math.max(m, x[r * cols + i]);
    let s = 0;
    for (let i = 0; i < cols; i++) s += Math.exp(x[r * cols + i] - m);
    for (let i = 0; i < cols; i++) {
      const v = x[r * cols + i] - m;
      y[r * cols + i] = log ? v - Math.log(s) : Math.exp(v) / s;
    }
  }
  return y;
}

export const BINARY = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, pow: 6, prelu: 7, sqdiff: 8 } as const;

export function binop(op: number, a: number, b: number): number {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return Math.max(a, b);
    case 5: return Math.min(a, b);
    case 6: return Math.pow(a, b);
    case 7: return a < 0 ? a * b : a;
    case 8: return (a - b) * (a - b);
  }
  throw new Error(`unknown binary op ${op}`);
}

export function binary(a: Float32Array, b: Float32Array, op: number, d: number[], as: number[], bs: number[]): Float32Array {
  const y = new Float32Array(d[0] * d[1] * d[2] * d[3]);
  let o = 0;
  for (let i0 = 0; i0 < d[0]; i0++)
    for (let i1 = 0; i1 < d[1]; i1++)
      for (let i2 = 0; i2 < d[2]; i2++)
        for (let i3 = 0; i3 < d[3]; i3++) {
          const ia = i0 * as[0] + i1 * as[1] + i2 * as[2] + i3 * as[3];
          const ib = i0 * bs[0] + i1 * bs[1] + i2 * bs[2] + i3 * bs[3];
          y[o++] = binop(op, a[ia], b[ib]);
        }
  return y;
}

export function channelAffine(x: Float32Array, scale: Float32Array, shift: Float32Array, N: number, C: number,
  HW: number, code: number, a: number, b: number): Float32Array {
  const y = new Float32Array(N * C * HW);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < HW; i++) {
        const o = (n * C + c) * HW + i;
        y[o] = act(x[o] * scale[c] + shift[c], code, a, b);
      }
  return y;
}

export function layernorm(x: Float32Array, gamma: Float32Array, beta: Float32Array | null, rows: number,
  cols: number, eps: number): Float32Array {
  const y = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < cols; i++) mean += x[r * cols + i];
    mean /= cols;
    let v = 0;
    for (let i = 0; i < cols; i++) v += (x[r * cols + i] - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / cols + eps);
    for (let i = 0; i < cols; i++) y[r * cols + i] = (x[r * cols + i] - mean) * rstd * gamma[i] + (beta ? beta[i] : 0);
  }
  return y;
}

export function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const y = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) y[j * rows + i] = x[i * cols + j];
  return y;
}
