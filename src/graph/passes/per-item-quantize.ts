/**
 * Dynamic quantization per batch item, for a decoder that decodes several windows as the rows of
 * one batch (Whisper's chunked transcription: src/speech/whisper-model.ts, decode-rows.ts).
 * onnxruntime's quantize_dynamic (q8 exports) quantizes each activation with one range over the
 * whole tensor, so in a batch every window's rounding would depend on the other windows. This sets
 * `per_item_range` on every fused tessera.DynamicQuantizeMatMul(Group) (ops/quant/quant-fused.ts):
 * each item of x's first axis is then quantized with its own range, the bits the window alone gets.
 *
 * Run after the fusions (InferenceSession.createRewritten's rewriteFused), on a graph whose every
 * node keeps batch rows apart (encoder-decoder-cache.ts's rewrite): each x of these ops is then
 * [batch, rows, K]. A step of one item runs exactly as before.
 *
 * Returns the nodes that still mix the items' quantization (an unfused DynamicQuantizeLinear or
 * MatMulInteger, a DynamicQuantizeMatMul reading its range from another tensor, MatMulNBits — whose
 * one-row and several-row kernels sum differently): with any, windows must be decoded one at a time.
 */
import type { Model, Node } from '../ir.js';

const FUSED = new Set(['DynamicQuantizeMatMul', 'DynamicQuantizeMatMulGroup']);
const NOT_BATCH_INVARIANT = new Set(['DynamicQuantizeLinear', 'MatMulInteger', 'MatMulNBits', ...FUSED]);

export function perItemQuantization(model: Model): Node[] {
  const mixed: Node[] = [];
  for (const n of model.graph.nodes) {
    if (!NOT_BATCH_INVARIANT.has(n.opType)) continue;
    // DynamicQuantizeMatMul's sixth input (x_range: select-rows.ts) takes one range over all rows.
    const ranged = n.opType === 'DynamicQuantizeMatMul' && !!n.inputs[5];
    if (n.domain === 'tessera' && FUSED.has(n.opType) && !ranged) n.attributes.set('per_item_range', { type: 'int', value: 1 });
    else mixed.push(n);
  }
  return mixed;
}
