/**
 * Control flow. `If` runs when its condition is known at plan time (a constant, a value folded from
 * shapes, or a graph input, which keys the plan by its value): the planner inlines the chosen
 * branch's nodes in place of the If. Branches read outer-scope values by name; `captureOuterScope`
 * makes those reads explicit inputs of the If node so ordering and liveness see them.
 */
import { shapeSize } from '../api/tensor.js';
import type { Graph, Node } from '../graph/ir.js';
import type { OpDef } from './types.js';

/** Names a subgraph reads but does not define (recursively through nested subgraphs). */
export function outerReferences(g: Graph): string[] {
  const defined = new Set<string>([...g.initializers.keys(), ...g.inputs.map((i) => i.name)]);
  for (const n of g.nodes) for (const o of n.outputs) if (o !== '') defined.add(o);
  const refs = new Set<string>();
  const read = (name: string) => { if (name !== '' && !defined.has(name)) refs.add(name); };
  for (const n of g.nodes) {
    n.inputs.forEach(read);
    for (const a of n.attributes.values()) if (a.type === 'graph') outerReferences(a.value).forEach(read);
  }
  for (const o of g.outputs) read(o.name);
  return [...refs];
}

/** Appends every outer-scope value an If's branches read to its inputs (after the condition). */
export function captureOuterScope(nodes: readonly Node[]): void {
  for (const n of nodes) {
    const graphs = [...n.attributes.values()].flatMap((a) => (a.type === 'graph' ? [a.value] : []));
    for (const g of graphs) captureOuterScope(g.nodes);
    if (n.opType !== 'If' || n.domain !== '') continue;
    const have = new Set(n.inputs);
    for (const g of graphs) for (const r of outerReferences(g)) if (!have.has(r)) { n.inputs.push(r); have.add(r); }
  }
}

const ifOp: OpDef = {
  opType: 'If', since: 1, attributes: ['then_branch', 'else_branch'],
  prepare(ctx) {
    const c = ctx.input(0);
    if (shapeSize(c.dims) !== 1) ctx.fail(`the condition must hold one element, got dims [${c.dims}]`, 'SHAPE_MISMATCH');
    const v = c.value;
    if (v === undefined) {
      ctx.fail(`the condition ('${c.name}') must be known at plan time (a constant, a value computed from shapes, or a graph input): ` +
        'tessera inlines the branch it selects', 'UNSUPPORTED_OP');
    }
    const name = Number((v as ArrayLike<number | bigint>)[0]) ? 'then_branch' : 'else_branch';
    const branch = ctx.attrs.graph(name);
    if (!branch) throw ctx.attrs.error(name, 'is required');
    if (branch.outputs.length !== ctx.node.outputs.length) {
      throw ctx.attrs.error(name, `has ${branch.outputs.length} outputs but the node has ${ctx.node.outputs.length}`);
    }
    return { outputs: [], inline: branch };
  },
};

export const controlFlowOps: OpDef[] = [ifOp];
