// Entry point of kernels.wasm / kernels-relaxed.wasm: re-exports only. One file per op family;
// the exported names and parameter order are the ABI the runtime binds (assembly/README.md).
export { pack_a_f32, pack_b_f32, pack_b_f32_inplace, gemm_f32 } from './gemm';
export { pack_b_i8, pack_a_i8, quantize_pack_a_f32, quantize_pack_a_rows_f32, gemm_i16_i32, gemm_i16_dq_f32, gemm_q8_i32, gemm_q8_dq_f32 } from './gemm_i8';
export { minmax_f32, quantize_f32_u8, im2row_u8 } from './quant';
export { im2col_packed_f32, im2col_packed_batch_f32, unbatch_rows_f32, conv2d_im2col_gemm_f32 } from './conv';
export { col2im_f32 } from './conv_transpose';
export { dwconv2d_f32 } from './dwconv';
export { conv2d_direct_f32 } from './conv_direct';
export { maxpool2d_f32, avgpool2d_f32, global_avgpool_f32, global_maxpool_f32 } from './pool';
export { softmax_f32, log_softmax_f32 } from './softmax';
export { unary_f32, binary_f32 } from './elementwise';
export { add_layernorm_f32, channel_affine_f32, layernorm_f32 } from './norm';
export { copy_rows, transpose2d_32 } from './layout';
export { widen_f16_f32, narrow_f32_f16 } from './half';
export { convert_i32_f32 } from './convert';
export { attention_f32, attention_scratch_bytes } from './attention';
export { cached_attention_f32, cached_attention_heads_f32 } from './cached_attention';
export { cross_pack_f32, cross_attention_f32, cross_attention_probs_f32, cross_keys_bytes, cross_values_bytes, cross_scratch_bytes } from './cross_attention';
export { gqa_attention_f32, gqa_scratch_bytes, rotary_rows_f32 } from './gqa';
export { rmsnorm_f32 } from './rmsnorm';
export { reduce_f32 } from './reduce';
export { stft_power_f64, log_mel_norm_f32 } from './audio';
export { compare_f32, where_32 } from './logic';
export { resize_nearest_32 } from './resize';
export { pack_b_q8, fits_q8, gemv_q8_dq_f32 } from './gemv_q8';
export { pack_b_f32_rows, pack_b_q8_rows } from './pack_rows';
export { dequant_q4_panels_x8 } from './dequant_q4';
export { gemv_nt_f32 } from './gemv_nt';
export { gemv_q4_prep_x, gemv_q4_f32, gemv_q4_prep_x_i8, gemv_q4_i8, dequant_q4_panels, bias_act_rows, q4_group_meta, gemv_q4_f32_n4, gemv_q4_i8_n4 } from './gemv_q4';
export { q4x_prep_x, q4x_pack, q4x_pack_inplace, q4x_pack_meta, gemv_q4x_i8, gemv_q4x_i8_rows, dequant_q4x_panels } from './gemv_q4x';
export { q4x_prep_x16, gemv_q4x_i16, gemv_q4x_i16_rows } from './gemv_q4x16';

// First free byte after the module's static data in the imported memory: the runtime's arena must
// start at or after this address.
export function heap_base(): usize {
  return __heap_base;
}
