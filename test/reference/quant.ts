// Scalar references of assembly/quant.ts: numpy semantics in float32.
const f = Math.fround;

function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

export function quantizeU8(x: Float32Array, scale: number, zp: number): Uint8Array {
  return Uint8Array.from(x, (v) => Math.max(0, Math.min(255, rint(f(v / f(scale))) + zp)));
}

export function dequantizeI32(c: Int32Array, M: number, N: number, scale: Float32Array, bias?: Float32Array): Float32Array {
  const y = new Float32Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    const v = f(f(c[i * N + j]!) * scale[j]!);
    y[i * N + j] = bias ? f(v + bias[j]!) : v;
  }
  return y;
}
