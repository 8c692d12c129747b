/**
 * Conv followed by an inference BatchNormalization → one FusedConv that carries the BN's four
 * parameters as extra inputs (3: scale, 4: B, 5: mean, 6: var) and its epsilon. The pass only
 * rewires the graph, it reads no values: weights made by ConstantOfShape or other folded nodes
 * are only known after load-time folding, so the Conv op folds the BN into its weights and bias
 * when it prepares (src/ops/conv.ts), once per session, and falls back to a per-channel affine
 * after the GEMM when the parameters are fed at run time.
 */
import type { Graph, Node } from '../ir.js';
import { readers, removeNodes, soleReader } from './uses.js';

function isInferenceBn(n: Node): boolean {
  if (n.domain !== '' || n.opType !== 'BatchNormalization') return false;
  if (n.outputs.filter((o) => o !== '').length !== 1 || n.inputs.length !== 5 || n.inputs.some((i) => i === '')) return false;
  for (const [name, a] of n.attributes) {
    if (name === 'epsilon' || name === 'momentum') continue;
    // spatial = 1 (opset < 9) is the only behaviour; training_mode must be off.
    if ((name === 'spatial' && a.type === 'int' && a.value === 1) || (name === 'training_mode' && a.type === 'int' && a.value === 0)) continue;
    return false;
  }
  return true;
}

export function fuseConvBatchNorm(g: Graph): boolean {
  const uses = readers(g);
  const dead = new Set<Node>();
  for (const n of g.nodes) {
    const conv = (n.domain === '' && n.opType === 'Conv') || (n.domain === 'tessera' && n.opType === 'FusedConv');
    if (!conv || n.attributes.has('activation') || n.attributes.has('bn_epsilon') || n.outputs.length !== 1) continue;
    const bn = soleReader(g, uses, n.outputs[0]!);
    if (!bn || bn.inputs[0] !== n.outputs[0] || !isInferenceBn(bn)) continue;
    const eps = bn.attributes.get('epsilon');
    n.opType = 'FusedConv';
    n.domain = 'tessera';
    n.inputs = [n.inputs[0]!, n.inputs[1]!, n.inputs[2] ?? '', ...bn.inputs.slice(1)];
    n.attributes.set('bn_epsilon', { type: 'float', value: eps && eps.type === 'float' ? eps.value : 1e-5 });
    n.outputs = [bn.outputs[0]!];
    dead.add(bn);
  }
  removeNodes(g, dead);
  return dead.size > 0;
}
