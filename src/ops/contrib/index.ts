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
import { contribSkipLayerNormOps } from './skip-layernorm.js';

export const contribOps: readonly OpDef[] = [
  // Encoder ops of onnxruntime's transformer optimizer (BERT and friends).
  ...contribAttentionOps,
  ...contribMultiHeadAttentionOps,
  ...contribEmbedLayerNormOps,
  ...contribSkipLayerNormOps,
  ...contribGeluOps,
  ...contribFusedMatMulOps,
];
