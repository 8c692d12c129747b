/**
 * The graph passes run at load, in order (skipped when graphOptimizationLevel is 'disabled'). Each
 * is a function over the IR with its own tests. Pattern fusions run before MatMul + Add so that
 * the Gelu they produce can join the GEMM epilogue.
 */
import type { Model } from '../ir.js';
import { fuseActivations } from './fuse-activation.js';
import { fuseAddLayerNorm } from './fuse-add-layernorm.js';
import { fuseAttention } from './fuse-attention.js';
import { fuseGelu } from './fuse-gelu.js';
import { fuseLayerNorm } from './fuse-layernorm.js';
import { fuseRmsNorm } from './fuse-rmsnorm.js';
import { fuseConvBatchNorm } from './fuse-conv-bn.js';
import { fuseContribBias } from './fuse-contrib-bias.js';
import { fuseMatMulAdd } from './fuse-matmul-add.js';
import { fuseQuantized } from './fuse-qdq.js';
import { shareDynamicQuantize } from './share-dynamic-quantize.js';
import { readTiedWeights } from './tied-weights.js';

export function optimize(model: Model): void {
  const g = model.graph;
  const opset = model.opsets.get('') ?? 1;
  let changed = fuseQuantized(g);
  changed = fuseLayerNorm(g) || changed;
  changed = fuseRmsNorm(g) || changed;
  changed = fuseGelu(g) || changed;
  changed = fuseAttention(g, opset) || changed;
  changed = fuseMatMulAdd(g) || changed;
  // onnxruntime-optimised graphs: the bias their BiasGelu / SkipLayerNormalization carry joins the GEMM too.
  changed = fuseContribBias(g) || changed;
  // After MatMul + Add: an Add of a constant bias joins its GEMM, never a LayerNorm.
  changed = fuseAddLayerNorm(g) || changed;
  // Before activations: Conv → BatchNormalization → Relu becomes one FusedConv with both.
  changed = fuseConvBatchNorm(g) || changed;
  changed = fuseActivations(g, opset) || changed;
  // Last: the DynamicQuantizeMatMuls it groups have their activations by now.
  changed = shareDynamicQuantize(g) || changed;
  // A tied head reads the embedding table itself rather than a transposed copy of it.
  changed = readTiedWeights(g) || changed;
  if (changed) model.opsets.set('tessera', 1);
}
