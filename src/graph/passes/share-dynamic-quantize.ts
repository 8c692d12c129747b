/**
 * tessera.DynamicQuantizeMatMul nodes that read the same x (BERT's Q, K and V projections of one
 * layer's input) → one tessera.DynamicQuantizeMatMulGroup, which finds x's range and quantizes it
 * once, then runs one GEMM per weight. DynamicQuantizeLinear's scale and zero point depend on x
 * alone, so every output is the same arithmetic as before, bit for bit; what goes is the repeated
 * minmax + quantize_pack_a (≈ 53 µs each at 128×768: ≈ 1.3 ms per BERT-base run).
 *
 * Runs after fuse-activation.ts, so each member keeps its own fused activation. Only members whose
 * weights, zero points, scales and bias are initializers join: the group op needs them constant,
 * as DynamicQuantizeMatMul does, and a member that cannot run should fail under its own name. The
 * group takes the place of its first member (the planner orders nodes by their inputs anyway).
 *
 * Group node: inputs x, then (w, w_zero_point, w_scale, bias or '') per output; attributes
 * `activations` (one name per output, '' for none) and `activation_params` (two per output).
 */
import type { AttributeValue, Graph, Node } from '../ir.js';
import { removeNodes } from './uses.js';

/** The (w, w_zero_point, w_scale, bias) a member contributes, or undefined if it cannot join. */
function memberInputs(g: Graph, n: Node): string[] | undefined {
  if (n.domain !== 'tessera' || n.opType !== 'DynamicQuantizeMatMul' || n.outputs.length !== 1 || !n.outputs[0]) return undefined;
  if (n.inputs.length < 4 || n.inputs.length > 5 || !n.inputs[0]) return undefined;
  const consts = n.inputs.slice(1);
  for (let i = 0; i < consts.length; i++) {
    const name = consts[i]!;
    if (name === '' && i === 3) continue; // an omitted bias
    if (!g.initializers.has(name)) return undefined;
  }
  for (const [k, a] of n.attributes) {
    if (k === 'activation' ? a.type !== 'string' : k !== 'activation_params' || a.type !== 'floats' || a.value.length > 2) return undefined;
  }
  return [consts[0]!, consts[1]!, consts[2]!, consts[3] ?? ''];
}

export function shareDynamicQuantize(g: Graph): boolean {
  const byX = new Map<string, { node: Node; inputs: string[] }[]>();
  for (const n of g.nodes) {
    const inputs = memberInputs(g, n);
    if (!inputs) continue;
    const x = n.inputs[0]!;
    (byX.get(x) ?? byX.set(x, []).get(x)!).push({ node: n, inputs });
  }
  const dead = new Set<Node>();
  for (const [x, members] of byX) {
    if (members.length < 2) continue;
    const first = members[0]!.node;
    const acts: string[] = [], params: number[] = [];
    for (const { node } of members) {
      const a = node.attributes.get('activation'), p = node.attributes.get('activation_params');
      acts.push(a?.type === 'string' ? a.value : '');
      const v = p?.type === 'floats' ? p.value : [];
      params.push(v[0] ?? 0, v[1] ?? 0);
    }
    // The group replaces the first member in place (keeping its position in the node order).
    first.opType = 'DynamicQuantizeMatMulGroup';
    first.name = members.map((m) => m.node.name).filter(Boolean).join('+');
    first.inputs = [x, ...members.flatMap((m) => m.inputs)];
    first.outputs = members.map((m) => m.node.outputs[0]!);
    first.attributes = new Map<string, AttributeValue>([
      ['activations', { type: 'strings', value: acts }],
      ['activation_params', { type: 'floats', value: params }],
    ]);
    for (const m of members.slice(1)) dead.add(m.node);
  }
  removeNodes(g, dead);
  return dead.size > 0;
}
