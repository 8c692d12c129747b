/**
 * GELU written out in elementary ops → one Gelu node (domain tessera), which fuse-activation can
 * then fold into the epilogue of the MatMul before it.
 *   erf:  x·0.5·(1 + erf(x / √2))                 (HF "gelu", torch F.gelu exported before opset 20)
 *   tanh: x·0.5·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (HF "gelu_new", F.gelu(approximate='tanh'))
 * Both association orders are matched: (x·0.5)·(1 + f) and x·(0.5·(1 + f)) / (x·(1 + f))·0.5;
 * constant operands may sit on either side. Every intermediate must be read only inside the pattern.
 */
import type { Graph, Node } from '../ir.js';
import { near, otherInput, producers, scalarOf } from './match.js';
import { readers, removeNodes, soleReader } from './uses.js';

type Ctx = { g: Graph; prod: Map<string, Node>; uses: Map<string, Node[]>; used: Node[] };

/** The node producing `v` if it is `op`, read only by the pattern; records it as consumed. */
function take(c: Ctx, v: string | undefined, op: string): Node | undefined {
  const n = v === undefined ? undefined : c.prod.get(v);
  if (!n || n.domain !== '' || n.opType !== op || n.outputs.length !== 1) return undefined;
  if (!soleReader(c.g, c.uses, n.outputs[0]!)) return undefined;
  c.used.push(n);
  return n;
}

/** n = x ⊙ k (in either order) for a constant k ≈ value; returns x. */
function withConst(c: Ctx, n: Node | undefined, value: number): string | undefined {
  if (!n || n.inputs.length !== 2) return undefined;
  for (const i of [0, 1]) if (near(scalarOf(c.g, c.prod, n.inputs[i]), value, 1e-5)) return n.inputs[1 - i];
  return undefined;
}

/** 1 + erf(x/√2) or 1 + tanh(…x…): returns x and which approximation. */
function onePlus(c: Ctx, v: string | undefined): { x: string; approximate: 'none' | 'tanh' } | undefined {
  const add = take(c, v, 'Add');
  const inner = withConst(c, add, 1);
  const f = c.prod.get(inner ?? '');
  if (!f || (f.opType !== 'Erf' && f.opType !== 'Tanh') || !take(c, inner, f.opType)) return undefined;
  const arg = f.inputs[0];
  if (f.opType === 'Erf') {
    const div = take(c, arg, 'Div');
    if (div && near(scalarOf(c.g, c.prod, div.inputs[1]), Math.SQRT2, 1e-5)) return { x: div.inputs[0]!, approximate: 'none' };
    if (div) return undefined;
    const x = withConst(c, take(c, arg, 'Mul'), Math.SQRT1_2);
    return x === undefined ? undefined : { x, approximate: 'none' };
  }
  // tanh(√(2/π)·(x + 0.044715·x³)), x³ as Pow(x, 3)
  const s = withConst(c, take(c, arg, 'Mul'), Math.sqrt(2 / Math.PI));
  const sum = take(c, s, 'Add');
  if (!sum) return undefined;
  for (const i of [0, 1]) {
    const x = sum.inputs[i]!, cube = sum.inputs[1 - i];
    const before = c.used.length;
    const pow = take(c, withConst(c, take(c, cube, 'Mul'), 0.044715), 'Pow');
    if (pow && pow.inputs[0] === x && near(scalarOf(c.g, c.prod, pow.inputs[1]), 3)) return { x, approximate: 'tanh' };
    c.used.length = before;
  }
  return undefined;
}

function matchGelu(c: Ctx, out: Node): { x: string; approximate: 'none' | 'tanh' } | undefined {
  if (out.domain !== '' || out.opType !== 'Mul' || out.inputs.length !== 2) return undefined;
  for (const i of [0, 1]) {
    const a = out.inputs[i]!, b = out.inputs[1 - i]!;
    const before = c.used.length;
    // (x·0.5)·(1 + f(x))
    const half = withConst(c, take(c, a, 'Mul'), 0.5);
    let m = half !== undefined ? onePlus(c, b) : undefined;
    if (m && m.x === half) return m;
    c.used.length = before;
    // x·(0.5·(1 + f(x)))
    const halfOf = withConst(c, take(c, b, 'Mul'), 0.5);
    m = halfOf !== undefined ? onePlus(c, halfOf) : undefined;
    if (m && m.x === a) return m;
    c.used.length = before;
    // (x·(1 + f(x)))·0.5
    if (near(scalarOf(c.g, c.prod, b), 0.5)) {
      const xm = take(c, a, 'Mul');
      for (const j of [0, 1]) {
        const mark = c.used.length;
        m = xm ? onePlus(c, xm.inputs[1 - j]) : undefined;
        if (m && m.x === xm!.inputs[j]) return m;
        c.used.length = mark;
      }
    }
    c.used.length = before;
  }
  return undefined;
}

export function fuseGelu(g: Graph): boolean {
  const c: Ctx = { g, prod: producers(g), uses: readers(g), used: [] };
  const dead = new Set<Node>();
  for (const n of g.nodes) {
    if (dead.has(n)) continue;
    c.used = [];
    const m = matchGelu(c, n);
    if (!m || c.used.some((u) => dead.has(u))) continue;
    for (const u of c.used) dead.add(u);
    n.opType = 'Gelu';
    n.domain = 'tessera';
    n.inputs = [m.x];
    n.attributes = new Map([['approximate', { type: 'string', value: m.approximate }]]);
  }
  removeNodes(g, dead);
  return dead.size > 0;
}
