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

/** im2row_u8: row p = output pixel, columns (c, i, j) of the window, `pad` outside the image. */
export function im2rowU8(x: Uint8Array, C: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number,
  dh: number, dw: number, pt: number, pl: number, OH: number, OW: number, pad: number): Uint8Array {
  const out = new Uint8Array(OH * OW * C * kh * kw);
  let o = 0;
  for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++)
    for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const ih = oh * sh - pt + i * dh, iw = ow * sw - pl + j * dw;
      out[o++] = ih >= 0 && ih < H && iw >= 0 && iw < W ? x[(c * H + ih) * W + iw]! : pad;
    }
  return out;
}
