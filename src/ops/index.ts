/** Every operator tessera runs, gathered from the families' exported lists. */
import { attentionOps } from './nn/attention.js';
import { castOps } from './math/cast.js';
import { causalConvOps } from './nn/causal-conv.js';
import { controlFlowOps } from './control/control-flow.js';
import { convOps } from './nn/conv.js';
import { convTransposeOps } from './nn/conv-transpose.js';
import { elementwiseOps } from './math/elementwise.js';
import { deformConvOps } from './nn/deform-conv.js';
import { detectionOps } from './nn/detection.js';
import { einsumOps } from './math/einsum.js';
import { gemmOps } from './math/gemm.js';
import { flexAttentionOps } from './nn/flex-attention.js';
import { gridSampleOps } from './nn/grid-sample.js';
import { imageDecoderOps } from './text-image/image-decoder.js';
import { imageScatterOps } from './nn/image-scatter.js';
import { indexingOps } from './shape/indexing.js';
import { logicOps } from './math/logic.js';
import { linearAttentionOps } from './nn/linear-attention.js';
import { lossOps } from './nn/loss.js';
import { lrnOps } from './nn/lrn.js';
import { mlOps } from './text-image/ml.js';
import { normOps } from './nn/norm.js';
import { padOps } from './shape/pad.js';
import { quantOps } from './quant/quant.js';
import { quantConvOps } from './quant/quant-conv.js';
import { quantFusedOps } from './quant/quant-fused.js';
import { quantGemmOps } from './quant/quant-gemm.js';
import { poolOps } from './nn/pool.js';
import { rearrangeOps } from './shape/rearrange.js';
import { reduceOps } from './math/reduce.js';
import { resizeOps } from './nn/resize.js';
import { OpRegistry } from './registry.js';
import { rnnOps } from './nn/rnn.js';
import { rotaryOps } from './nn/rotary.js';
import { scatterGatherOps } from './shape/scatter-gather.js';
import { sequenceOps } from './control/sequence.js';
import { shapeOps } from './shape/shape.js';
import { signalOps } from './math/signal.js';
import { softmaxOps } from './math/softmax.js';
import { stringOps } from './text-image/strings.js';
import { tensorOps } from './shape/tensor.js';
import { topkOps } from './math/topk.js';
import { trainingOps } from './nn/training.js';
import { fusedOps } from './nn/fused-attention.js';
import { cachedAttentionOps } from './nn/cached-attention.js';
import { crossAttentionOps } from './nn/cross-attention.js';
import { contribOps } from './contrib/index.js';
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
  ...cachedAttentionOps,
  ...crossAttentionOps,
  ...contribOps,
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
