/**
 * The Wasm kernels' exported ABI (see assembly/README.md). Pointers are byte addresses into the
 * session's memory; strides and sizes are in elements.
 */
type Ptr = number;
type I = number;
type F = number;

export interface Kernels {
  heap_base(): Ptr;
  pack_b_f32(src: Ptr, dst: Ptr, K: I, N: I, ldb: I, transB: I): void;
  pack_b_f32_inplace(p: Ptr, K: I, N: I, visited: Ptr): void;
  pack_b_f32_rows(src: Ptr, dst: Ptr, rows: I, N: I, K: I, k0: I): void;
  pack_b_q8_rows(src: Ptr, dst: Ptr, rows: I, N: I, K: I, k0: I, signed: I, zp: Ptr, zpPerCol: I): I;
  pack_b_i8(src: Ptr, dst: Ptr, K: I, N: I, ldb: I, transB: I, signed: I, zp: Ptr, zpPerCol: I): void;
  pack_a_i8(a: Ptr, lda: I, signed: I, zp: Ptr, zpPerRow: I, ap: Ptr, M: I, K: I): void;
  quantize_pack_a_f32(x: Ptr, ldx: I, ap: Ptr, M: I, K: I, scale: F, zp: I): void;
  /** quantize_pack_a_f32 with a scale and zero point per row (M f32 at `scales`, M i32 at `zps`). */
  quantize_pack_a_rows_f32(x: Ptr, ldx: I, ap: Ptr, M: I, K: I, scales: Ptr, zps: Ptr): void;
  gemm_i16_i32(ap: Ptr, bp: Ptr, c: Ptr, ldc: I, M: I, N: I, K: I): void;
  gemm_i16_dq_f32(ap: Ptr, bp: Ptr, y: Ptr, ldy: I, M: I, N: I, K: I, aScale: F, wScale: Ptr, bias: Ptr, act: I, actA: F, actB: F, aScales: Ptr): void;
  pack_b_q8(src: Ptr, dst: Ptr, K: I, N: I, ldb: I, transB: I, signed: I, zp: Ptr, zpPerCol: I): I;
  gemv_q8_dq_f32(ap: Ptr, bq: Ptr, y: Ptr, ldy: I, M: I, N: I, K: I, aScale: F, wScale: Ptr, bias: Ptr, act: I, actA: F, actB: F, aScales: Ptr): void;
  fits_q8(src: Ptr, K: I, N: I, ldb: I, transB: I, signed: I, zp: Ptr, zpPerCol: I): I;
  /** y = x·Wᵀ over W stored [N, K] (a tied lm_head read from the embedding table): y[m·ldy + n] = x[m]·W[n]. */
  gemv_nt_f32(x: Ptr, M: I, K: I, w: Ptr, N: I, y: Ptr, ldy: I): void;
  gemm_q8_i32(ap: Ptr, bq: Ptr, c: Ptr, ldc: I, M: I, N: I, K: I): void;
  gemm_q8_dq_f32(ap: Ptr, bq: Ptr, y: Ptr, ldy: I, M: I, N: I, K: I, aScale: F, wScale: Ptr, bias: Ptr, act: I, actA: F, actB: F, aScales: Ptr): void;
  minmax_f32(x: Ptr, n: I, out: Ptr): void;
  quantize_f32_u8(x: Ptr, y: Ptr, n: I, scale: F, zp: I): void;
  im2row_u8(x: Ptr, dst: Ptr, C: I, H: I, W: I, kh: I, kw: I, sh: I, sw: I, dh: I, dw: I, padTop: I, padLeft: I, OH: I, OW: I, pad: I): void;
  /** aPacked (omitted = 0): `a` is pack_a_f32's output and lda = K. */
  gemm_f32(a: Ptr, lda: I, bp: Ptr, c: Ptr, ldc: I, M: I, N: I, K: I, bias: Ptr, biasKind: I, accumulate: I, act: I, alpha: F, beta: F, aPacked?: I): void;
  /** gemm_f32 with rows in groups of `group`, each tiled as alone (batch-invariant bits; assembly/gemm.ts). */
  pack_a_f32(src: Ptr, lda: I, dst: Ptr, M: I, K: I): void;
  im2col_packed_f32(x: Ptr, dst: Ptr, C: I, H: I, W: I, kh: I, kw: I, sh: I, sw: I, dh: I, dw: I, padTop: I, padLeft: I, OH: I, OW: I): void;
  conv2d_im2col_gemm_f32(x: Ptr, w: Ptr, bias: Ptr, y: Ptr, scratch: Ptr, C: I, H: I, W: I, M: I, kh: I, kw: I, sh: I, sw: I, dh: I, dw: I, padTop: I, padLeft: I, OH: I, OW: I, ldy: I, act: I, a: F, b: F): void;
  im2col_packed_batch_f32(x: Ptr, dst: Ptr, NB: I, xs: I, C: I, H: I, W: I, kh: I, kw: I, sh: I, sw: I, dh: I, dw: I, padTop: I, padLeft: I, OH: I, OW: I): void;
  conv2d_direct_f32(x: Ptr, w: Ptr, bias: Ptr, y: Ptr, C: I, H: I, W: I, M: I, OH: I, OW: I, kh: I, kw: I, sh: I, sw: I, dh: I, dw: I, padTop: I, padLeft: I, act: I, a: F, b: F): void;
  dwconv2d_f32(x: Ptr, w: Ptr, bias: Ptr, y: Ptr, NC: I, C: I, H: I, W: I, OH: I, OW: I, kh: I, kw: I, sh: I, sw: I, dh: I, dw: I, padTop: I, padLeft: I, act: I, a: F, b: F): void;
  col2im_f32(cols: Ptr, y: Ptr, M: I, H: I, W: I, kh: I, kw: I, sh: I, sw: I, dh: I, dw: I, padTop: I, padLeft: I, OH: I, OW: I, bias: Ptr): void;
  unbatch_rows_f32(src: Ptr, dst: Ptr, NB: I, M: I, P: I, ldd: I): void;
  maxpool2d_f32(x: Ptr, y: Ptr, NC: I, H: I, W: I, OH: I, OW: I, kh: I, kw: I, sh: I, sw: I, dh: I, dw: I, padTop: I, padLeft: I): void;
  avgpool2d_f32(x: Ptr, y: Ptr, NC: I, H: I, W: I, OH: I, OW: I, kh: I, kw: I, sh: I, sw: I, padTop: I, padLeft: I, padBottom: I, padRight: I, countIncludePad: I): void;
  global_avgpool_f32(x: Ptr, y: Ptr, NC: I, HW: I): void;
  global_maxpool_f32(x: Ptr, y: Ptr, NC: I, HW: I): void;
  softmax_f32(x: Ptr, y: Ptr, rows: I, cols: I): void;
  log_softmax_f32(x: Ptr, y: Ptr, rows: I, cols: I): void;
  unary_f32(x: Ptr, y: Ptr, n: I, op: I, a: F, b: F): void;
  binary_f32(a: Ptr, b: Ptr, y: Ptr, op: I, d0: I, d1: I, d2: I, d3: I, as0: I, as1: I, as2: I, as3: I, bs0: I, bs1: I, bs2: I, bs3: I): void;
  channel_affine_f32(x: Ptr, y: Ptr, scale: Ptr, shift: Ptr, N: I, C: I, HW: I, act: I, a: F, b: F): void;
  layernorm_f32(x: Ptr, y: Ptr, gamma: Ptr, beta: Ptr, rows: I, cols: I, eps: F): void;
  add_layernorm_f32(a: Ptr, b: Ptr, y: Ptr, gamma: Ptr, beta: Ptr, rows: I, cols: I, eps: F): void;
  transpose2d_32(x: Ptr, y: Ptr, rows: I, cols: I): void;
  copy_rows(src: Ptr, dst: Ptr, rowBytes: I, n0: I, s0: I, n1: I, s1: I, n2: I, s2: I, dstStride: I): void;
  /** float16 bits → float32, n values (assembly/half.ts). */
  widen_f16_f32(src: Ptr, dst: Ptr, n: I): void;
  /** float32 → float16 bits, round to nearest even, n values. */
  narrow_f32_f16(src: Ptr, dst: Ptr, n: I): void;
  /** int32 → float32, round to nearest even, n values (assembly/convert.ts). */
  convert_i32_f32(src: Ptr, dst: Ptr, n: I): void;
  attention_f32(q: Ptr, k: Ptr, v: Ptr, mask: Ptr, out: Ptr, scratch: Ptr, B: I, H: I, Sq: I, Sk: I, d: I, ldq: I, ldk: I, ldv: I, ldo: I, mb: I, mh: I, mq: I, mk: I, scale: F): void;
  attention_scratch_bytes(Sk: I, d: I): I;
  cached_attention_f32(q: Ptr, k: Ptr, v: Ptr, mask: Ptr, out: Ptr, scores: Ptr, rows: I, Sq: I, past: I, d: I, scale: F): void;
  cached_attention_heads_f32(q: Ptr, kc: Ptr, vc: Ptr, mask: Ptr, out: Ptr, scores: Ptr, B: I, H: I, kvH: I, Sq: I, past: I, maxLen: I, d: I, scale: F, first: I, count: I): void;
  cross_pack_f32(k: Ptr, v: Ptr, kc: Ptr, vc: Ptr, heads: I, L: I, d: I): void;
  cross_attention_f32(q: Ptr, kc: Ptr, vc: Ptr, out: Ptr, scores: Ptr, heads: I, rows: I, L: I, d: I, scale: F): void;
  cross_attention_probs_f32(q: Ptr, kc: Ptr, vc: Ptr, out: Ptr, probs: Ptr, scores: Ptr, heads: I, rows: I, L: I, d: I, scale: F): void;
  cross_keys_bytes(L: I, d: I): I;
  cross_values_bytes(L: I, d: I): I;
  cross_scratch_bytes(L: I, units: I): I;
  gqa_attention_f32(q: Ptr, ldq: I, k: Ptr, v: Ptr, out: Ptr, ldo: I, scratch: Ptr, G: I, S: I, D: I, past: I, window: I, scale: F, softcap: F, smooth: I, bias: Ptr, bh: I, bs: I, sinks: Ptr): void;
  gqa_scratch_bytes(L: I): I;
  rmsnorm_f32(x: Ptr, skip: Ptr, bias: Ptr, sum: Ptr, y: Ptr, gamma: Ptr, invStd: Ptr, rows: I, cols: I, eps: F): void;
  rotary_rows_f32(x: Ptr, ldx: I, hsx: I, y: Ptr, ldy: I, hsy: I, rows: I, H: I, D: I, cos: Ptr, sin: Ptr, pos: Ptr, rdim: I, interleaved: I): void;
  reduce_f32(x: Ptr, y: Ptr, outer: I, R: I, inner: I, op: I, post: I, scale: F): void;
  compare_f32(a: Ptr, b: Ptr, y: Ptr, op: I, d0: I, d1: I, d2: I, d3: I, as0: I, as1: I, as2: I, as3: I, bs0: I, bs1: I, bs2: I, bs3: I): void;
  resize_nearest_32(x: Ptr, y: Ptr, NC: I, H: I, W: I, OH: I, OW: I, rows: Ptr, cols: Ptr): void;
  gemv_q4_prep_x(x: Ptr, ldx: I, M: I, K: I, bs: I, xs: Ptr): void;
  gemv_q4_f32(xs: Ptr, M: I, K: I, N: I, bs: I, w: Ptr, scales: Ptr, zp: Ptr, zpKind: I, bias: Ptr, y: Ptr, ldy: I, act: I, alpha: F, beta: F): void;
  gemv_q4_prep_x_i8(x: Ptr, ldx: I, M: I, K: I, bs: I, xq: Ptr): void;
  gemv_q4_i8(xq: Ptr, M: I, K: I, N: I, bs: I, w: Ptr, scales: Ptr, zp: Ptr, zpKind: I, bias: Ptr, y: Ptr, ldy: I, act: I, alpha: F, beta: F): void;
  q4_group_meta(scales: Ptr, zp: Ptr, zpKind: I, N: I, K: I, bs: I, s4: Ptr, z4: Ptr): void;
  gemv_q4_f32_n4(xs: Ptr, K: I, G: I, bs: I, w: Ptr, s4: Ptr, z4: Ptr, y: Ptr): void;
  gemv_q4_i8_n4(xq: Ptr, K: I, G: I, bs: I, w: Ptr, s4: Ptr, z4: Ptr, y: Ptr): void;
  dequant_q4_panels(w: Ptr, scales: Ptr, zp: Ptr, zpKind: I, K: I, bs: I, n0: I, nc: I, dst: Ptr): void;
  dequant_q4_panels_x8(w: Ptr, scales: Ptr, zp: Ptr, zpKind: I, K: I, bs: I, n0: I, nc: I, dst: Ptr): void;
  q4x_prep_x(x: Ptr, K: I, bs: I, xq: Ptr): void;
  q4x_pack(w: Ptr, N: I, K: I, bs: I, dst: Ptr): void;
  q4x_pack_inplace(w: Ptr, N: I, K: I, bs: I, scratch: Ptr): void;
  q4x_pack_meta(scales: Ptr, zp: Ptr, zpKind: I, N: I, K: I, bs: I, s4: Ptr, z4: Ptr): void;
  gemv_q4x_i8(xq: Ptr, K: I, N: I, bs: I, w: Ptr, s4: Ptr, z4: Ptr, y: Ptr): void;
  gemv_q4x_i8_rows(xq: Ptr, xqStride: I, M: I, K: I, N: I, bs: I, w: Ptr, s4: Ptr, z4: Ptr, y: Ptr, ldy: I): void;
  dequant_q4x_panels(w: Ptr, s4: Ptr, z4: Ptr, K: I, bs: I, n0: I, nc: I, dst: Ptr): void;
  q4x_prep_x16(x: Ptr, K: I, bs: I, xq: Ptr): void;
  gemv_q4x_i16(xq: Ptr, K: I, N: I, bs: I, w: Ptr, s4: Ptr, z4: Ptr, y: Ptr): void;
  gemv_q4x_i16_rows(xq: Ptr, xqStride: I, M: I, K: I, N: I, bs: I, w: Ptr, s4: Ptr, z4: Ptr, y: Ptr, ldy: I): void;
  bias_act_rows(y: Ptr, ldy: I, M: I, N: I, bias: Ptr, act: I, alpha: F, beta: F): void;
  stft_power_f64(x: Ptr, hop: I, nFrames: I, window: Ptr, N: I, factors: Ptr, nFactors: I, tw: Ptr, scratch: Ptr, out: Ptr): void;
  log_mel_norm_f32(x: Ptr, n: I, floor: F, range: F, shift: F, scale: F): void;
  where_32(c: Ptr, x: Ptr, y: Ptr, o: Ptr, d0: I, d1: I, d2: I, d3: I, cs0: I, cs1: I, cs2: I, cs3: I, xs0: I, xs1: I, xs2: I, xs3: I, ys0: I, ys1: I, ys2: I, ys3: I): void;
}

/** Activation codes shared by the GEMM epilogue, channel_affine and unary_f32. */
export const Act = {
  none: 0, relu: 1, clip: 2, leakyRelu: 3, hardSigmoid: 4, hardSwish: 5, sigmoid: 6, tanh: 7,
  geluErf: 8, geluTanh: 9, elu: 10, selu: 11, softplus: 12, mish: 13, silu: 14,
} as const;

/** unary_f32 op codes beyond the activations. */
export const Unary = {
  ...Act, exp: 20, log: 21, sqrt: 22, neg: 23, abs: 24, reciprocal: 25, floor: 26, ceil: 27,
  round: 28, erf: 29, sin: 30, cos: 31, sign: 32, softsign: 33, powScalar: 34, affine: 35,
} as const;

export const Binary = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, pow: 6, prelu: 7, squaredDiff: 8 } as const;

export const BiasKind = { none: 0, perRow: 1, perColumn: 2 } as const;

/** Width of a packed B panel (assembly/README.md). */
export const GEMM_NR = 8;

export function packedBFloats(K: number, N: number): number {
  return Math.ceil(N / GEMM_NR) * GEMM_NR * K;
}

/** Bytes of a packed int8 A (pack_a_i8, quantize_pack_a_f32): rows and K rounded up to 4 and 8, as i16. */
export function packedAI8Bytes(M: number, K: number): number {
  return Math.ceil(M / 4) * 4 * (Math.ceil(K / 8) * 8) * 2;
}

/** Bytes of a packed int8 B (pack_b_i8): K rounded up to 8, 8-column panels of i16. */
export function packedBI8Bytes(K: number, N: number): number {
  return Math.ceil(N / GEMM_NR) * GEMM_NR * (Math.ceil(K / 8) * 8) * 2;
}

/** Floats of gemv_q4_prep_x's output for M rows: per row K padded to whole blocks, then the block sums. */
export function q4PrepFloats(M: number, K: number, bs: number): number {
  const nb = Math.ceil(K / bs);
  return M * (nb * bs + nb);
}

/** Bytes of gemv_q4_prep_x_i8's output for M rows: i16 per k padded to whole blocks, then (scale, Σ xq) per block. */
export function q4PrepI8Bytes(M: number, K: number, bs: number): number {
  const nb = Math.ceil(K / bs);
  return M * (nb * bs * 2 + nb * 8);
}

/** Bytes of one part's scores in cached_attention_heads_f32 (2 · (maxLen + 4) floats, 64-byte blocks). */
export function cachedAttentionScoresBytes(maxLen: number): number {
  // Two rows: a decode step scores two query heads of a group in one pass (cachedAttentionPair).
  return Math.ceil(2 * (maxLen + 4) * 4 / 64) * 64;
}
