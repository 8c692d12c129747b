// Naive direct convolution (NCHW, one image, no groups) — the oracle for im2col + GEMM.

export interface ConvShape {
  C: number; H: number; W: number; Co: number; kh: number; kw: number; sh: number; sw: number;
  dh: number; dw: number; padTop: number; padLeft: number; OH: number; OW: number;
}

export function conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, s: ConvShape): Float32Array {
  const y = new Float32Array(s.Co * s.OH * s.OW);
  for (let o = 0; o < s.Co; o++)
    for (let oh = 0; oh < s.OH; oh++)
      for (let ow = 0; ow < s.OW; ow++) {
        let acc = bias ? bias[o] : 0;
        for (let c = 0; c < s.C; c++)
          for (let i = 0; i < s.kh; i++)
            for (let j = 0; j < s.kw; j++) {
              const ih = oh * s.sh - s.padTop + i * s.dh;
              const iw = ow * s.sw - s.padLeft + j * s.dw;
              if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
              acc += x[(c * s.H + ih) * s.W + iw] * w[((o * s.C + c) * s.kh + i) * s.kw + j];
            }
        y[(o * s.OH + oh) * s.OW + ow] = acc;
      }
  return y;
}

/** The im2col matrix (K × N, unpacked), to check the packed writer entry by entry. */
export function im2col(x: Float32Array, s: ConvShape): Float32Array {
  const K = s.C * s.kh * s.kw, N = s.OH * s.OW;
  const m = new Float32Array(K * N);
  for (let c = 0; c < s.C; c++)
    for (let i = 0; i < s.kh; i++)
      for (let j = 0; j < s.kw; j++) {
        const k = (c * s.kh + i) * s.kw + j;
        for (let oh = 0; oh < s.OH; oh++)
          for (let ow = 0; ow < s.OW; ow++) {
            const ih = oh * s.sh - s.padTop + i * s.dh, iw = ow * s.sw - s.padLeft + j * s.dw;
            m[k * N + oh * s.OW + ow] = ih < 0 || ih >= s.H || iw < 0 || iw >= s.W ? 0 : x[(c * s.H + ih) * s.W + iw];
          }
      }
  return m;
}
