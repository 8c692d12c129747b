/**
 * The arithmetic after the model, as transformers.js does it: softmax and sigmoid rounded to
 * float32 (its Float32Array maps), top-k best first with ties to the lower index (onnxruntime's
 * TopK), mean pooling over the attention mask, L2 normalisation, cosine similarity.
 */
import { TesseraError } from '../api/errors.js';
import type { Tensor } from '../api/tensor.js';

/** Softmax of `data[start, start + n)`, each probability rounded to float32 as transformers.js' is. */
export function softmax(data: ArrayLike<number>, start = 0, n = data.length - start): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, data[start + i]!);
  const out = new Float32Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) { out[i] = Math.exp(data[start + i]! - max); sum += out[i]!; }
  for (let i = 0; i < n; i++) out[i] = out[i]! / sum;
  return out;
}

/** 1 / (1 + e^-x) per element, rounded to float32. */
export function sigmoid(data: ArrayLike<number>, start = 0, n = data.length - start): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-data[start + i]!));
  return out;
}

/** Indices of the k largest values, best first; equal values keep the lower index first. */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const n = values.length;
  const kk = Math.min(k, n);
  const top: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (top.length === kk && !(v > values[top[kk - 1]!]!)) continue;
    let j = Math.min(top.length, kk - 1);
    top[j] = i;
    while (j > 0 && values[top[j - 1]!]! < v) { top[j] = top[j - 1]!; top[j - 1] = i; j--; }
  }
  return top;
}

/** [batch, seq, dim] → [batch, dim]: the mean over the positions the mask keeps. */
export function meanPool(hidden: Float32Array, mask: BigInt64Array, batch: number, seq: number, dim: number): Float32Array {
  const out = new Float32Array(batch * dim);
  for (let b = 0; b < batch; b++) {
    let count = 0;
    for (let s = 0; s < seq; s++) count += Number(mask[b * seq + s]);
    const acc = new Float64Array(dim);
    for (let s = 0; s < seq; s++) {
      const m = Number(mask[b * seq + s]);
      if (m === 0) continue;
      const row = (b * seq + s) * dim;
      for (let d = 0; d < dim; d++) acc[d] += hidden[row + d]! * m;
    }
    for (let d = 0; d < dim; d++) out[b * dim + d] = acc[d]! / count;
  }
  return out;
}

/** Divides every row of `width` values by its L2 norm, in place. */
export function normalizeRows(data: Float32Array, width: number): Float32Array {
  for (let start = 0; start < data.length; start += width) {
    let sum = 0;
    for (let i = 0; i < width; i++) sum += data[start + i]! ** 2;
    const norm = Math.sqrt(sum);
    for (let i = 0; i < width; i++) data[start + i] = data[start + i]! / norm;
  }
  return data;
}

/**
 * Cosine similarity of two vectors: arrays, typed arrays, or 1-row tensors ([dim] or [1, dim]).
 * @throws TesseraError INVALID_ARGUMENT when the lengths differ or a vector is empty.
 */
export function cosSim(a: ArrayLike<number> | Tensor, b: ArrayLike<number> | Tensor): number {
  const x = vectorOf(a, 'a');
  const y = vectorOf(b, 'b');
  if (x.length !== y.length || x.length === 0) {
    throw new TesseraError('INVALID_ARGUMENT', `cosSim: the vectors must have the same non-zero length, got ${x.length} and ${y.length}`);
  }
  let dot = 0, nx = 0, ny = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i]! * y[i]!;
    nx += x[i]! * x[i]!;
    ny += y[i]! * y[i]!;
  }
  return dot / (Math.sqrt(nx) * Math.sqrt(ny));
}

function vectorOf(v: ArrayLike<number> | Tensor, name: string): ArrayLike<number> {
  if (v && typeof v === 'object' && 'dims' in v && 'data' in v) {
    const t = v as Tensor;
    if (t.dims.filter((d) => d !== 1).length > 1) {
      throw new TesseraError('INVALID_ARGUMENT', `cosSim: ${name} is a tensor of dims [${t.dims.join(', ')}], not one vector; pass a row`);
    }
    if (t.type !== 'float32' && t.type !== 'float64') throw new TesseraError('INVALID_ARGUMENT', `cosSim: ${name} is a ${t.type} tensor, not float`);
    return t.data as Float32Array;
  }
  return v as ArrayLike<number>;
}
