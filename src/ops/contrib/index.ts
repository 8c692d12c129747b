/**
 * `com.microsoft` contrib ops: the ones real exports contain (optimum's optimised encoders,
 * onnxruntime-genai's decoders, onnxruntime's int4 quantizer). Each family file exports its list;
 * this file gathers them for the registry.
 */
import type { OpDef } from '../types.js';
import { contribAttentionOps } from './attention.js';
import { contribEmbedLayerNormOps } from './embed-layernorm.js';
import { contribFusedMatMulOps } from './fused-matmul.js';
import { contribGeluOps } from './gelu.js';
import { contribMultiHeadAttentionOps } from './multi-head-attention.js';
import { contribRotaryOps } from './rotary.js';
import { contribSkipLayerNormOps } from './skip-layernorm.js';
import { gatherBlockQuantizedOps } from './gather-block-quantized.js';
import { matmulNBitsOps } from './matmul-nbits.js';
import { groupQueryAttentionOps } from './group-query-attention.js';
import { simplifiedNormOps } from './simplified-norm.js';

export const contribOps: readonly OpDef[] = [
  // Encoder ops of onnxruntime's transformer optimizer (BERT and friends).
  ...contribAttentionOps,
  ...contribMultiHeadAttentionOps,
  ...contribEmbedLayerNormOps,
  ...contribSkipLayerNormOps,
  ...contribGeluOps,
  ...contribFusedMatMulOps,
  // Decoder ops of onnxruntime-genai's model builder.
  ...groupQueryAttentionOps, ...contribRotaryOps, ...simplifiedNormOps, ...gatherBlockQuantizedOps,
  // onnxruntime's int4 weights (MatMul4BitsQuantizer, model builder's int4).
  ...matmulNBitsOps,
];
