/** Every operator tessera runs, gathered from the families' exported lists. */
import { attentionOps } from './attention.js';
import { castOps } from './cast.js';
import { causalConvOps } from './causal-conv.js';
import { controlFlowOps } from './control-flow.js';
import { convOps } from './conv.js';
import { convTransposeOps } from './conv-transpose.js';
import { elementwiseOps } from './elementwise.js';
import { deformConvOps } from './deform-conv.js';
import { detectionOps } from './detection.js';
import { einsumOps } from './einsum.js';
import { gemmOps } from './gemm.js';
import { flexAttentionOps } from './flex-attention.js';
import { gridSampleOps } from './grid-sample.js';
import { imageDecoderOps } from './image-decoder.js';
import { imageScatterOps } from './image-scatter.js';
import { indexingOps } from './indexing.js';
import { logicOps } from './logic.js';
import { linearAttentionOps } from './linear-attention.js';
import { lossOps } from './loss.js';
import { lrnOps } from './lrn.js';
import { mlOps } from './ml.js';
import { normOps } from './norm.js';
import { padOps } from './pad.js';
import { quantOps } from './quant.js';
import { quantConvOps } from './quant-conv.js';
import { quantFusedOps } from './quant-fused.js';
import { quantGemmOps } from './quant-gemm.js';
import { poolOps } from './pool.js';
import { rearrangeOps } from './rearrange.js';
import { reduceOps } from './reduce.js';
import { resizeOps } from './resize.js';
import { OpRegistry } from './registry.js';
import { rnnOps } from './rnn.js';
import { rotaryOps } from './rotary.js';
import { scatterGatherOps } from './scatter-gather.js';
import { sequenceOps } from './sequence.js';
import { shapeOps } from './shape.js';
import { signalOps } from './signal.js';
import { softmaxOps } from './softmax.js';
import { stringOps } from './strings.js';
import { tensorOps } from './tensor.js';
import { topkOps } from './topk.js';
import { trainingOps } from './training.js';
import { fusedOps } from './fused-attention.js';
import type { OpDef } from './types.js';

export const allOps: readonly OpDef[] = [
  ...logicOps,
  ...quantOps, ...quantGemmOps, ...quantConvOps, ...quantFusedOps,
  ...lrnOps,
  ...lossOps,
  ...attentionOps,
  ...rotaryOps,
  ...gridSampleOps,
  ...rnnOps,
  ...imageScatterOps,
  ...deformConvOps,
  ...causalConvOps,
  ...linearAttentionOps,
  ...flexAttentionOps,
  ...imageDecoderOps,
  ...normOps,
  ...padOps,
  ...resizeOps,
  ...convTransposeOps,
  ...reduceOps,
  ...topkOps,
  ...tensorOps,
  ...scatterGatherOps,
  ...indexingOps,
  ...einsumOps,
  ...stringOps,
  ...controlFlowOps,
  ...rearrangeOps,
  ...detectionOps,
  ...signalOps,
  ...trainingOps,
  ...mlOps,
  ...fusedOps,
  ...sequenceOps,
  ...convOps, ...poolOps, ...gemmOps, ...elementwiseOps, ...softmaxOps, ...shapeOps, ...castOps,
];

export const defaultRegistry = new OpRegistry(allOps);

/** The ONNX (ai.onnx) op types tessera can run, sorted. */
export function supportedOps(): string[] {
  return [...new Set(allOps.filter((d) => !d.domain).map((d) => d.opType))].sort();
}

/** One row per registered op: its domain ('' = ai.onnx) and the oldest opset any implementation follows. */
export function operatorTable(): { opType: string; domain: string; since: number }[] {
  const rows = new Map<string, { opType: string; domain: string; since: number }>();
  for (const d of allOps) {
    const domain = d.domain ?? '';
    const key = `${domain}\u0000${d.opType}`;
    const row = rows.get(key);
    if (!row) rows.set(key, { opType: d.opType, domain, since: d.since });
    else row.since = Math.min(row.since, d.since);
  }
  return [...rows.values()].sort((a, b) => a.domain.localeCompare(b.domain) || a.opType.localeCompare(b.opType));
}
