/** Who reads each value: what fusions need to know that an output has exactly one reader. */
import type { Graph, Node } from '../ir.js';

export function readers(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) (m.get(i) ?? m.set(i, []).get(i)!).push(n);
  return m;
}

/** The single node reading `value`, when nothing else (no other node, no graph output) does. */
export function soleReader(g: Graph, uses: Map<string, Node[]>, value: string): Node | undefined {
  const r = uses.get(value);
  if (!r || r.length !== 1) return undefined;
  if (g.outputs.some((o) => o.name === value)) return undefined;
  return r[0];
}

export function removeNodes(g: Graph, dead: Set<Node>): void {
  if (dead.size) g.nodes = g.nodes.filter((n) => !dead.has(n));
}
