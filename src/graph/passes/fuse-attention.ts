/**
 * Multi-head attention as exporters write it → one tessera FusedAttention node:
 *   split(t)  = Transpose(Reshape(t, [B, S, heads, d]), perm)          (HF transpose_for_scores)
 *   scores    = MatMul(split(q, 0213), split(k, 0231))  [÷ c | · c]  [+ mask]
 *   out       = Reshape(Transpose(MatMul(Softmax(scores, -1), split(v, 0213)), 0213), [B, S, heads·d])
 * becomes FusedAttention(q, k, v[, mask]) with num_heads and scale, reading q, k and v in their
 * [B, S, heads·d] layout: no transposes, no score matrix. The reshape targets must be provably
 * [dim0, dim1, heads, d] of the reshaped tensor (Shape → Gather → Unsqueeze → Concat as torch
 * writes it, or 0 = copy) so the fused node means exactly what the pattern meant.
 */
import type { Graph, Node } from '../ir.js';
import { constantOf, intAttr, intsAttr, intsOf, producedBy, producers, scalarOf } from './match.js';
import { readers, removeNodes, soleReader } from './uses.js';

type Ctx = { g: Graph; prod: Map<string, Node>; uses: Map<string, Node[]>; used: Node[] };

function take(c: Ctx, v: string | undefined, op: string): Node | undefined {
  const n = v === undefined ? undefined : producedBy(c.prod, v, op);
  if (!n || n.outputs.length !== 1 || !soleReader(c.g, c.uses, n.outputs[0]!)) return undefined;
  c.used.push(n);
  return n;
}

const samePerm = (p: number[] | undefined, q: number[]) => !!p && p.length === q.length && p.every((x, i) => x === q[i]);

/**
 * Entry i of a reshape target, as 'copy' when it provably equals dim i of `src`, or a number.
 * `chain` collects the Shape → Gather → Unsqueeze → Concat nodes that compute it.
 */
function targetEntries(c: Ctx, shape: string | undefined, src: string, chain: Node[] = []): (number | 'copy')[] | undefined {
  const ints = intsOf(c.g, c.prod, shape);
  if (ints) return ints.map((x) => (x === 0 ? 'copy' : x));
  const cat = producedBy(c.prod, shape, 'Concat');
  if (!cat || intAttr(cat, 'axis', 0) !== 0) return undefined;
  const out: (number | 'copy')[] = [];
  for (const [i, part] of cat.inputs.entries()) {
    const v = intsOf(c.g, c.prod, part);
    if (v) { out.push(...v.map((x) => (x === 0 ? 'copy' : x))); continue; }
    // Unsqueeze(Gather(Shape(src), i), [0])
    const un = producedBy(c.prod, part, 'Unsqueeze');
    const unAxes = un ? intsAttr(un, 'axes') ?? intsOf(c.g, c.prod, un.inputs[1]) : undefined;
    const ga = producedBy(c.prod, un?.inputs[0], 'Gather');
    const sh = producedBy(c.prod, ga?.inputs[0], 'Shape');
    if (!un || !samePerm(unAxes, [0]) || !ga || intAttr(ga, 'axis', 0) !== 0 || !sh || sh.inputs[0] !== src || sh.attributes.size) return undefined;
    const idx = scalarOf(c.g, c.prod, ga.inputs[1]);
    if (idx !== i || out.length !== i) return undefined;
    out.push('copy');
    chain.push(sh, ga, un);
  }
  chain.push(cat);
  return out;
}

/** Transpose(Reshape(t, [B, S, heads, d]), perm): returns t, heads and d. */
function split(c: Ctx, v: string | undefined, perm: number[]): { t: string; heads: number; d: number } | undefined {
  const tr = take(c, v, 'Transpose');
  if (!tr || !samePerm(intsAttr(tr, 'perm'), perm)) return undefined;
  const rs = take(c, tr.inputs[0], 'Reshape');
  if (!rs || intAttr(rs, 'allowzero', 0) !== 0) return undefined;
  const t = rs.inputs[0]!;
  const e = targetEntries(c, rs.inputs[1], t);
  if (!e || e.length !== 4 || e[0] !== 'copy' || e[1] !== 'copy' || typeof e[2] !== 'number' || typeof e[3] !== 'number' || e[2] <= 0 || e[3] <= 0) return undefined;
  return { t, heads: e[2], d: e[3] };
}

type Scores = { q: { t: string; heads: number; d: number }; k: { t: string; heads: number; d: number }; scale: number };

/** MatMul(split(q, 0213), split(k, 0231)) [÷ c | · c]: q, k and the scale. */
function scores(c: Ctx, s: string | undefined): Scores | undefined {
  let scale = 1;
  const div = take(c, s, 'Div') ?? take(c, s, 'Mul');
  if (div) {
    // Div(x, c); Mul(x, c) or Mul(c, x)
    const ci = div.opType === 'Div' ? 1 : constantOf(c.g, c.prod, div.inputs[1]) ? 1 : 0;
    const k = constantOf(c.g, c.prod, div.inputs[ci]);
    if (!k || k.dtype !== 'float32' || k.data.length !== 1) return undefined;
    scale = div.opType === 'Div' ? 1 / Number(k.data[0]) : Number(k.data[0]);
    s = div.inputs[1 - ci];
  }
  const qk = take(c, s, 'MatMul');
  if (!qk || !Number.isFinite(scale)) return undefined;
  const q = split(c, qk.inputs[0], [0, 2, 1, 3]);
  const k = split(c, qk.inputs[1], [0, 2, 3, 1]);
  return q && k ? { q, k, scale } : undefined;
}

function matchAttention(c: Ctx, softmax: Node, opset: number): { fused: Node; anchor: Node } | undefined {
  if (softmax.domain !== '' || softmax.opType !== 'Softmax' || softmax.outputs.length !== 1) return undefined;
  const axis = intAttr(softmax, 'axis', opset >= 13 ? -1 : 1);
  if (axis !== -1 && axis !== 3) return undefined;
  // Softmax → MatMul(·, V) → Transpose 0213 → Reshape [B, S, heads·d]
  const pv = soleReader(c.g, c.uses, softmax.outputs[0]!);
  if (!pv || pv.domain !== '' || pv.opType !== 'MatMul' || pv.inputs[0] !== softmax.outputs[0]) return undefined;
  const outT = soleReader(c.g, c.uses, pv.outputs[0]!);
  if (!outT || outT.domain !== '' || outT.opType !== 'Transpose' || !samePerm(intsAttr(outT, 'perm'), [0, 2, 1, 3])) return undefined;
  // The merged context is read by the Reshape and by the Shape nodes that compute its target.
  const ctxReaders = c.uses.get(outT.outputs[0]!) ?? [];
  const outR = ctxReaders.find((n) => n.opType === 'Reshape');
  if (!outR || outR.domain !== '' || outR.inputs[0] !== outT.outputs[0] || intAttr(outR, 'allowzero', 0) !== 0) return undefined;
  if (c.g.outputs.some((o) => o.name === outT.outputs[0])) return undefined;
  const v = split(c, pv.inputs[1], [0, 2, 1, 3]);
  if (!v) return undefined;
  const chain: Node[] = [];
  const oe = targetEntries(c, outR.inputs[1], outT.outputs[0]!, chain);
  if (!oe || oe.length !== 3 || oe[0] !== 'copy' || oe[1] !== 'copy' || (oe[2] !== v.heads * v.d && oe[2] !== -1)) return undefined;
  // Every other reader of the context is in that chain, and the chain feeds only the Reshape: then
  // it goes too (its Shape nodes would otherwise read a value that no longer exists).
  if (!ctxReaders.every((n) => n === outR || chain.includes(n))) return undefined;
  const inChain = (n: Node) => chain.includes(n) || n === outR;
  if (!chain.every((n) => n.outputs.every((o) => !c.g.outputs.some((g) => g.name === o) && (c.uses.get(o) ?? []).every(inChain)))) return undefined;
  c.used.push(pv, outT, ...chain.filter((n) => n.opType !== 'Constant'));
  // scores [+ mask]: either Add operand may be the scores (the mask itself may be a Mul).
  let sc: Scores | undefined;
  let mask: string | undefined;
  const add = take(c, softmax.inputs[0], 'Add');
  if (add) {
    for (const i of [0, 1]) {
      const mark = c.used.length;
      sc = scores(c, add.inputs[i]);
      if (sc) { mask = add.inputs[1 - i]; break; }
      c.used.length = mark;
    }
  } else {
    sc = scores(c, softmax.inputs[0]);
  }
  if (!sc || sc.q.heads !== v.heads || sc.k.heads !== v.heads || sc.q.d !== v.d || sc.k.d !== v.d) return undefined;
  const { q, k, scale } = sc;
  c.used.push(softmax);
  const fused: Node = {
    name: softmax.name || outR.name, opType: 'FusedAttention', domain: 'tessera',
    inputs: mask ? [q.t, k.t, v.t, mask] : [q.t, k.t, v.t], outputs: [outR.outputs[0]!],
    attributes: new Map([['num_heads', { type: 'int', value: v.heads }], ['scale', { type: 'float', value: scale }]]),
  };
  c.used.push(outR);
  return { fused, anchor: outR };
}

export function fuseAttention(g: Graph, opset: number): boolean {
  const c: Ctx = { g, prod: producers(g), uses: readers(g), used: [] };
  const dead = new Set<Node>();
  const replaced = new Map<Node, Node>();
  for (const n of g.nodes) {
    c.used = [];
    const m = matchAttention(c, n, opset);
    if (!m || c.used.some((u) => dead.has(u))) continue;
    for (const u of c.used) if (u !== m.anchor) dead.add(u);
    // The output Reshape's place becomes the fused node's: q, k, v and the mask all come before it.
    replaced.set(m.anchor, m.fused);
  }
  if (!replaced.size) return false;
  g.nodes = g.nodes.filter((n) => !dead.has(n)).map((n) => replaced.get(n) ?? n);
  return true;
}
