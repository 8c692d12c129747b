/**
 * A tied output projection reads its table as stored. Tied-embedding decoders (Qwen3, Llama 3.2,
 * Gemma, GPT-2) and BERT's MLM head export logits = MatMul(h, Transpose(E)) over the same [vocab,
 * hidden] table E that the token Gather reads. Folded at load, the Transpose would be a second,
 * transposed copy of E (622 MB for Qwen3's fp32 table) beside the original, which the Gather
 * still needs. This pass drops the Transpose and gives the MatMul E itself with transB = 1
 * (tessera.FusedMatMul): a few rows (a decode step, a last-row prefill) then run as dot products
 * over E's rows (gemv_nt_f32), and only a many-row product packs panels from E, when it first runs.
 *
 * Matched: MatMul / tessera.FusedMatMul without an activation, input 1 = Transpose(perm [1, 0] or
 * none) of a 2-D float32 initializer that another node reads too. The Transpose goes when the
 * MatMul was its only reader.
 */
import type { Graph, Node } from '../ir.js';
import { readers, removeNodes } from './uses.js';

/** Rewrites every tied head of `g` in place; returns whether it changed anything. */
export function readTiedWeights(g: Graph): boolean {
  const uses = readers(g);
  const prod = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) prod.set(o, n);
  const dead = new Set<Node>();
  let changed = false;
  for (const n of g.nodes) {
    const plain = n.domain === '' && n.opType === 'MatMul';
    const fused = n.domain === 'tessera' && n.opType === 'FusedMatMul' && !n.attributes.has('activation') && !n.attributes.has('transB');
    if ((!plain && !fused) || n.outputs.length !== 1) continue;
    const t = prod.get(n.inputs[1] ?? '');
    if (!t || t.domain !== '' || t.opType !== 'Transpose' || t.inputs.length !== 1) continue;
    const perm = t.attributes.get('perm');
    if (perm && !(perm.type === 'ints' && perm.value.length === 2 && perm.value[0] === 1 && perm.value[1] === 0)) continue;
    const e = g.initializers.get(t.inputs[0]!);
    if (!e || e.dtype !== 'float32' || e.dims.length !== 2) continue;
    // Tied: something besides this Transpose reads the table (else folding it costs no copy).
    if (!(uses.get(t.inputs[0]!) ?? []).some((r) => r !== t)) continue;
    if (g.outputs.some((o) => o.name === t.outputs[0])) continue;
    n.opType = 'FusedMatMul';
    n.domain = 'tessera';
    n.inputs = [n.inputs[0]!, t.inputs[0]!, ...n.inputs.slice(2)];
    n.attributes.set('transB', { type: 'int', value: 1 });
    changed = true;
    if ((uses.get(t.outputs[0]!) ?? []).every((r) => r === n)) dead.add(t);
  }
  removeNodes(g, dead);
  return changed;
}
