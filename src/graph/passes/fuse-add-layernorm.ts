/**
 * LayerNormalization(Add(x, r)) over the last axis → LayerNormalization(x, γ, β, r) (domain tessera):
 * BERT's residual Add before each LayerNorm, which otherwise is a pass over memory of its own. The
 * fused op adds row by row and normalises the sum while it is in cache (add_layernorm_f32, same
 * bits). Fires only when the Add's output is read by nothing else — the op does not output the
 * sum — and neither addend is a constant (a constant is a bias, left to the GEMM it may join).
 * Shapes are unknown here; the op handles an Add that broadcasts, just more slowly.
 */
import type { Graph, Node } from '../ir.js';
import { intAttr, producers } from './match.js';
import { readers, removeNodes, soleReader } from './uses.js';

const isLastAxisLayerNorm = (n: Node) =>
  n.opType === 'LayerNormalization' && (n.domain === 'tessera' || n.domain === '') && intAttr(n, 'axis', -1) === -1 &&
  n.inputs.length >= 2 && n.inputs.length <= 3 && n.outputs.slice(1).every((o) => o === '');

export function fuseAddLayerNorm(g: Graph): boolean {
  const uses = readers(g);
  const prod = producers(g);
  const dead = new Set<Node>();
  const constant = (v: string) => g.initializers.has(v) || prod.get(v)?.opType === 'Constant';
  for (const ln of g.nodes) {
    if (!isLastAxisLayerNorm(ln)) continue;
    const add = prod.get(ln.inputs[0]!);
    if (!add || add.opType !== 'Add' || add.domain !== '' || add.attributes.size > 0 || add.inputs.length !== 2 || add.outputs.length !== 1) continue;
    if (soleReader(g, uses, add.outputs[0]!) !== ln || ln.inputs.slice(1).includes(add.outputs[0]!)) continue;
    const [x, r] = add.inputs as [string, string];
    if (!x || !r || constant(x) || constant(r)) continue;
    ln.inputs = [x, ln.inputs[1]!, ln.inputs[2] ?? '', r];
    ln.outputs = [ln.outputs[0]!];
    ln.domain = 'tessera';
    dead.add(add);
  }
  removeNodes(g, dead);
  return dead.size > 0;
}
