// The one list of exported kernels. Each entry names its checks family; kernels.test.ts and the
// relaxed-SIMD child process both iterate this table, so adding a kernel here gets it tested on
// both builds. Mirrors the table in assembly/README.md.
import type { Kernels } from './harness';

export type Family =
  | 'pack_a' | 'pack_b' | 'gemm' | 'im2col' | 'maxpool' | 'avgpool' | 'global_pool' | 'softmax' | 'unary'
  | 'binary' | 'channel_affine' | 'layernorm' | 'add_layernorm' | 'transpose' | 'reduce' | 'compare' | 'where'
  | 'pack_b_i8' | 'pack_a_i8' | 'quantize_pack_a' | 'gemm_i16' | 'minmax' | 'quantize' | 'im2row' | 'attention'
  | 'im2col_batch' | 'unbatch' | 'col2im' | 'dwconv' | 'direct_conv' | 'resize_nearest'
  | 'im2col_gemm' | 'gemv_q4' | 'audio' | 'half';

export interface KernelEntry {
  name: keyof Kernels;
  family: Family;
  what: string;
  /** Register tile rows × cols for tiled kernels (remainder sizes are tested around these). */
  tile?: { mr: number; nr: number };
}

export const GEMM_TILE = { mr: 4, nr: 8 };

export const KERNELS: KernelEntry[] = [
  { name: 'pack_a_f32', family: 'pack_a', what: 'A → 4-row tiles interleaved per k (gemm_f32 aPacked)', tile: GEMM_TILE },
  { name: 'pack_b_f32', family: 'pack_b', what: 'B → 8-column panels', tile: GEMM_TILE },
  { name: 'gemm_f32', family: 'gemm', what: 'C = act(A·Bpacked + C? + bias)', tile: GEMM_TILE },
  { name: 'pack_b_i8', family: 'pack_b_i8', what: 'u8/i8 B → i16 8-column panels, zero points folded', tile: GEMM_TILE },
  { name: 'pack_a_i8', family: 'pack_a_i8', what: 'u8/i8 A − a_zp → i16, 4 rows interleaved per K pair; with gemm_i16_i32, C = (A − a_zp)·(B − b_zp)', tile: GEMM_TILE },
  { name: 'quantize_pack_a_f32', family: 'quantize_pack_a', what: 'x → saturate_u8(roundeven(x / scale) + zp) − zp, packed A', tile: GEMM_TILE },
  { name: 'gemm_i16_i32', family: 'gemm_i16', what: 'C(i32) = Apacked·Bpacked', tile: GEMM_TILE },
  { name: 'gemm_i16_dq_f32', family: 'gemm_i16', what: 'y = f32(Apacked·Bpacked)·f32(aScale·wScale[j]) (+ bias[j])', tile: GEMM_TILE },
  { name: 'minmax_f32', family: 'minmax', what: 'min and max of x (dynamic quantization range)' },
  { name: 'quantize_f32_u8', family: 'quantize', what: 'x → saturate_u8(roundeven(x / scale) + zp)' },
  { name: 'im2row_u8', family: 'im2row', what: 'byte conv input → pixel rows for the int8 GEMM, padded with the zero point' },
  { name: 'im2col_packed_f32', family: 'im2col', what: 'conv input → packed-B panels', tile: GEMM_TILE },
  { name: 'conv2d_im2col_gemm_f32', family: 'im2col_gemm', what: 'one conv band: im2col into scratch panels, then the GEMM (bias, activation)', tile: GEMM_TILE },
  { name: 'im2col_packed_batch_f32', family: 'im2col_batch', what: 'NB conv inputs → one packed-B panel matrix', tile: GEMM_TILE },
  { name: 'unbatch_rows_f32', family: 'unbatch', what: '[M][NB][P] → [NB][M][P] (batched conv output to NCHW)' },
  { name: 'conv2d_direct_f32', family: 'direct_conv', what: 'direct conv for few output channels, bias + activation' },
  { name: 'dwconv2d_f32', family: 'dwconv', what: 'depthwise conv, NCHW, bias + activation epilogue' },
  { name: 'col2im_f32', family: 'col2im', what: 'ConvTranspose GEMM columns → output (bias, strides, dilation, cropping pads)' },
  { name: 'maxpool2d_f32', family: 'maxpool', what: 'MaxPool 2-D, pads/dilation/ceil overhang' },
  { name: 'avgpool2d_f32', family: 'avgpool', what: 'AveragePool 2-D, count_include_pad' },
  { name: 'global_avgpool_f32', family: 'global_pool', what: 'GlobalAveragePool' },
  { name: 'global_maxpool_f32', family: 'global_pool', what: 'GlobalMaxPool' },
  { name: 'softmax_f32', family: 'softmax', what: 'Softmax over last axis' },
  { name: 'log_softmax_f32', family: 'softmax', what: 'LogSoftmax over last axis' },
  { name: 'unary_f32', family: 'unary', what: 'activations 0–14, math ops 20–35' },
  { name: 'binary_f32', family: 'binary', what: '4-D broadcasting binary ops 0–8' },
  { name: 'channel_affine_f32', family: 'channel_affine', what: 'folded BatchNorm + activation' },
  { name: 'layernorm_f32', family: 'layernorm', what: 'LayerNormalization over rows' },
  { name: 'add_layernorm_f32', family: 'add_layernorm', what: 'LayerNormalization(a + b) over rows, the residual Add folded in' },
  { name: 'transpose2d_32', family: 'transpose', what: '2-D transpose of 4-byte elements' },
  { name: 'reduce_f32', family: 'reduce', what: 'reduction over the middle axis of [outer, R, inner]' },
  { name: 'compare_f32', family: 'compare', what: '4-D broadcasting f32 comparisons into bool bytes' },
  { name: 'resize_nearest_32', family: 'resize_nearest', what: 'nearest resize of the last two axes from source row/column tables, 4-byte elements' },
  { name: 'where_32', family: 'where', what: '4-D broadcasting Where over 4-byte elements' },
  { name: 'attention_f32', family: 'attention', what: 'softmax(scale·Q·Kᵀ + mask)·V per batch and head, plain softmax over each row of scores', tile: { mr: 4, nr: 8 } },
  { name: 'gemv_q4_f32', family: 'gemv_q4', what: 'y = act(x·W4 + bias), M ≤ 4, 4-bit block-quantized W (MatMulNBits) dequantized in registers; with gemv_q4_prep_x' },
  { name: 'gemv_q4_i8', family: 'gemv_q4', what: 'the same with x quantized to int8 per block (accuracy_level 4), i32x4.dot_i16x8_s; with gemv_q4_prep_x_i8' },
  { name: 'gemv_q4_f32_n4', family: 'gemv_q4', what: 'one decode row, 4 columns at a time (scales regrouped by q4_group_meta): same result as gemv_q4_f32 to float rounding' },
  { name: 'gemv_q4_i8_n4', family: 'gemv_q4', what: 'one decode row, 4 columns at a time, int8 x: same result as gemv_q4_i8 to float rounding' },
  { name: 'stft_power_f64', family: 'audio', what: 'windowed frames → power spectrum (float64 mixed-radix FFT, two frames per f64x2) as packed-B panels' },
  { name: 'log_mel_norm_f32', family: 'audio', what: "Whisper's log10(max(x, floor)), clamp at max − range, (x + shift)·scale" },
  { name: 'dequant_q4_panels', family: 'gemv_q4', what: '4-bit W columns → packed-B f32 panels (prefill through gemm_f32)', tile: GEMM_TILE },
  { name: 'gemv_q4x_i8', family: 'gemv_q4', what: 'one decode row, int8 x, W repacked by q4x_pack / q4x_pack_meta (4 columns per dot-product vector): the same bits as gemv_q4_i8 on either build' },
  { name: 'gemv_q4x_i8_rows', family: 'gemv_q4', what: 'gemv_q4x_i8 for 1 … 4 rows in one pass over the weights: each row the same bits as gemv_q4x_i8' },
  { name: 'dequant_q4x_panels', family: 'gemv_q4', what: 'repacked 4-bit W columns → packed-B f32 panels: the same bits as dequant_q4_panels', tile: GEMM_TILE },
  { name: 'widen_f16_f32', family: 'half', what: 'float16 bits → float32 (every half pattern, bit-exact with the scalar conversion)' },
  { name: 'narrow_f32_f16', family: 'half', what: 'float32 → float16 bits, round to nearest even (ties, overflow, subnormals, NaN: bit-exact with the scalar conversion)' },
  { name: 'gemv_q4x_i16', family: 'gemv_q4', what: 'one decode row, x quantized per block to 16 bits (q4x_prep_x16), W repacked: the default (float32-grade) MatMulNBits decode; exact integer sums, the same bits on either build' },
  { name: 'gemv_q4x_i16_rows', family: 'gemv_q4', what: 'gemv_q4x_i16 for 1 … 4 rows in one pass over the weights: each row the same bits as gemv_q4x_i16' },
  { name: 'q4x_pack_inplace', family: 'gemv_q4', what: 'q4x_pack within B\'s own memory (N a multiple of 4), one group\'s columns through scratch: the same bytes as q4x_pack' },
];
