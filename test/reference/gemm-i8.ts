// Scalar reference of the int8 GEMM: C[i][j] = Σ_k (A[i][k] − za[i]) · (B[k][j] − zb[j]) in i32.
export function gemmI8(a: ArrayLike<number>, lda: number, b: ArrayLike<number>, M: number, N: number, K: number,
  za: (i: number) => number, zb: (j: number) => number): Int32Array {
  const c = new Int32Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (a[i * lda + k]! - za(i)) * (b[k * N + j]! - zb(j));
      c[i * N + j] = s;
    }
  return c;
}

/** pack_b_i8's layout: Kp = K rounded to 8, per 8-column panel Kp/2 groups of [k,k+1] pairs × 8 columns (i16). */
export function packBI8(b: ArrayLike<number>, K: number, N: number, zb: (j: number) => number): Int16Array {
  const Kp = Math.ceil(K / 8) * 8, out = new Int16Array(Math.ceil(N / 8) * 8 * Kp);
  for (let j = 0; j < Math.ceil(N / 8) * 8; j++)
    for (let k = 0; k < Kp; k++) {
      const panel = Math.floor(j / 8), c = j % 8;
      const at = panel * Kp * 8 + (k >> 1) * 16 + (c >> 2) * 8 + (c & 3) * 2 + (k & 1);
      out[at] = j < N && k < K ? b[k * N + j]! - zb(j) : 0;
    }
  return out;
}

/**
 * pack_a_i8 / quantize_pack_a_f32's layout: rows rounded up to 4 and K to 8; row block r (rows
 * 4r…4r+3) at i16 offset r·Kp·4 holds, per K pair p, [a(4r,2p) a(4r,2p+1) a(4r+1,2p) … a(4r+3,2p+1)];
 * zero past M and K. `at(i, k)` is A's value (zero point already subtracted).
 */
export function packAI16(M: number, K: number, at: (i: number, k: number) => number): Int16Array {
  const Kp = Math.ceil(K / 8) * 8, Mp = Math.ceil(M / 4) * 4, out = new Int16Array(Mp * Kp);
  for (let i = 0; i < Mp; i++)
    for (let k = 0; k < Kp; k++) out[(i >> 2) * Kp * 4 + (k >> 1) * 8 + (i & 3) * 2 + (k & 1)] = i < M && k < K ? at(i, k) : 0;
  return out;
}
