/**
 * `com.microsoft` contrib ops: the ones real exports contain (optimum's optimised encoders,
 * onnxruntime-genai's decoders, onnxruntime's int4 quantizer). Each family file exports its list;
 * this file gathers them for the registry.
 */
import type { OpDef } from '../types.js';
import { matmulNBitsOps } from './matmul-nbits.js';
import { groupQueryAttentionOps } from './group-query-attention.js';
import { contribRotaryOps } from './rotary.js';
import { simplifiedNormOps } from './simplified-norm.js';
import { gatherBlockQuantizedOps } from './gather-block-quantized.js';

export const contribOps: readonly OpDef[] = [
  ...matmulNBitsOps,
  ...groupQueryAttentionOps, ...contribRotaryOps, ...simplifiedNormOps, ...gatherBlockQuantizedOps,
];
