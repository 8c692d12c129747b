// Scalar reference for 4-bit block-quantized weights (com.microsoft MatMulNBits, bits = 4), the
// way onnxruntime defines them: W[k][n] = (q − zp) · scale, q the nibble of byte n·nb·bs/2 + b·bs/2
// + (k mod bs)/2 (low nibble for even k), zp 8 when absent. Also a random generator of such weights.

/** A 4-bit weight matrix in MatMulNBits' layout. zpKind 0: none, 1: packed u8 nibbles, 2: f32. */
export interface Q4 {
  K: number; N: number; bs: number; nb: number;
  w: Uint8Array; scales: Float32Array; zpKind: 0 | 1 | 2; zpBytes?: Uint8Array; zpFloat?: Float32Array;
}

export function randomQ4(K: number, N: number, bs: number, zpKind: 0 | 1 | 2, r: () => number): Q4 {
  const nb = Math.ceil(K / bs);
  const w = new Uint8Array(N * nb * bs / 2).map(() => Math.floor(r() * 256));
  const scales = new Float32Array(N * nb).map(() => 0.01 + 0.05 * r());
  const q: Q4 = { K, N, bs, nb, w, scales, zpKind };
  if (zpKind === 1) q.zpBytes = new Uint8Array(N * Math.ceil(nb / 2)).map(() => Math.floor(r() * 256));
  if (zpKind === 2) q.zpFloat = new Float32Array(N * nb).map(() => Math.round(r() * 15 * 4) / 4);
  return q;
}

export function zeroPoint(q: Q4, n: number, b: number): number {
  if (q.zpKind === 0) return 8;
  if (q.zpKind === 2) return q.zpFloat![n * q.nb + b]!;
  const byte = q.zpBytes![n * Math.ceil(q.nb / 2) + (b >> 1)]!;
  return b & 1 ? byte >> 4 : byte & 15;
}

/** W as K×N float32 (each element rounded as (q − zp) · scale in float32). */
export function dequantQ4(q: Q4): Float32Array {
  const out = new Float32Array(q.K * q.N);
  for (let n = 0; n < q.N; n++) for (let k = 0; k < q.K; k++) {
    const b = Math.floor(k / q.bs);
    const byte = q.w[n * q.nb * q.bs / 2 + b * q.bs / 2 + ((k % q.bs) >> 1)]!;
    const v = k & 1 ? byte >> 4 : byte & 15;
    out[k * q.N + n] = Math.fround(Math.fround(v - zeroPoint(q, n, b)) * q.scales[n * q.nb + b]!);
  }
  return out;
}
