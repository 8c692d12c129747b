/**
 * Decomposed RMS norm → one SimplifiedLayerNormalization over the last axis (domain tessera):
 *   y = γ · (x · 1/√(ReduceMean(x², [-1]) + ε))
 * as torch exports LlamaRMSNorm and its relatives (Qwen, Mistral, Gemma with γ = 1 + w folded,
 * Qwen3's per-head q/k norms): Pow 2, ReduceMean, Add ε, Sqrt, Div(1, ·) or Reciprocal, Mul x,
 * Mul γ (either operand order). Seven kernels and six intermediates a norm become one pass over
 * the row (rmsnorm_f32): a decoder's step runs 4 norms a layer. Every intermediate must be read
 * only inside the pattern.
 */
import type { Graph, Node } from '../ir.js';
import { constantOf, isLastAxisMean, isOp as is, near, otherInput, producers, scalarOf } from './match.js';
import { readers, removeNodes, soleReader } from './uses.js';

/** Div(1, v): the reciprocal as torch exports rsqrt's 1 / √. */
function isOneOver(g: Graph, prod: Map<string, Node>, n: Node, v: string): boolean {
  return is(n, 'Div') && n.inputs[1] === v && near(scalarOf(g, prod, n.inputs[0]), 1);
}

export function fuseRmsNorm(g: Graph): boolean {
  const uses = readers(g);
  const prod = producers(g);
  const dead = new Set<Node>();
  const sole = (v: string) => soleReader(g, uses, v);
  for (const pow of g.nodes) {
    if (!is(pow, 'Pow') || dead.has(pow) || !near(scalarOf(g, prod, pow.inputs[1]), 2)) continue;
    const x = pow.inputs[0]!;
    const mean = sole(pow.outputs[0]!);
    if (!isLastAxisMean(g, prod, mean) || mean.inputs[0] !== pow.outputs[0]) continue;
    const addEps = sole(mean.outputs[0]!);
    if (!is(addEps, 'Add')) continue;
    const epsT = constantOf(g, prod, otherInput(addEps, mean.outputs[0]!));
    if (!epsT || epsT.dtype !== 'float32' || epsT.data.length !== 1) continue;
    const eps = Number(epsT.data[0]);
    if (!(eps >= 0) || !Number.isFinite(eps)) continue;
    const sqrt = sole(addEps.outputs[0]!);
    if (!is(sqrt, 'Sqrt')) continue;
    const inv = sole(sqrt.outputs[0]!);
    if (!inv || !(is(inv, 'Reciprocal') || isOneOver(g, prod, inv, sqrt.outputs[0]!))) continue;
    const scaled = sole(inv.outputs[0]!);
    if (!is(scaled, 'Mul') || otherInput(scaled, inv.outputs[0]!) !== x) continue;
    const mulG = sole(scaled.outputs[0]!);
    if (!is(mulG, 'Mul')) continue;
    const gamma = otherInput(mulG, scaled.outputs[0]!);
    // γ a 1-D float32 constant: then it spans exactly the normalised last axis (the op checks its length).
    const gt = constantOf(g, prod, gamma);
    if (!gt || gt.dtype !== 'float32' || gt.dims.length !== 1) continue;
    const norm: Node = {
      name: pow.name || mulG.name, opType: 'SimplifiedLayerNormalization', domain: 'tessera',
      inputs: [x, gamma!], outputs: [mulG.outputs[0]!],
      attributes: new Map([['axis', { type: 'int', value: -1 }], ['epsilon', { type: 'float', value: eps }]]),
    };
    for (const n of [pow, mean, addEps, sqrt, inv, scaled]) dead.add(n);
    // The fused node replaces the last Mul in place, keeping the topological order.
    Object.assign(mulG, norm);
  }
  removeNodes(g, dead);
  return dead.size > 0;
}
