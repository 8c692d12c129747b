/**
 * Load-time work, paid once per session: check that every node can run, write the initializers
 * into Wasm memory, fold every node that depends only on constants, and drop what nothing reads.
 */
import { TesseraError, describeNode } from '../api/errors.js';
import type { ConstTensor, Graph, Model, Node, ValueInfo } from '../graph/ir.js';
import { captureOuterScope } from '../ops/control/control-flow.js';
import type { OpRegistry } from '../ops/registry.js';
import type { OpDef } from '../ops/types.js';
import type { ConstValue, Engine } from '../runtime/engine.js';
import { alignUp, formatBytes } from '../runtime/heap.js';
import { bytesPerElement, shapeSize } from '../api/tensor.js';
import { inputInfo, makeContext } from './context.js';
import { topologicalOrder } from './topo.js';
import { tablesOnDemand, weightsToDefer } from './tables-on-demand.js';

export interface BoundNode {
  node: Node;
  def: OpDef;
  opset: number;
}

export interface LoadedGraph {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: BoundNode[];
  consts: Map<string, ConstValue>;
  /** Binds a node met only at plan time (a branch inlined by If) to its op definition. */
  bind(node: Node): BoundNode;
}

/** Nodes holding subgraphs (If) are expanded by the planner, never folded as a whole. */
export function hasSubgraph(node: Node): boolean {
  for (const a of node.attributes.values()) if (a.type === 'graph' || a.type === 'graphs') return true;
  return false;
}

/**
 * `onDemand`: large Gather tables whose bytes stay readable in the model file are left there and
 * read a row at a time on first use, and large MatMul weights are read at their packing, from the
 * file straight into panels (plan/tables-on-demand.ts); the caller then keeps the file open.
 */
export function loadGraph(model: Model, registry: OpRegistry, engine: Engine, onDemand = false): LoadedGraph {
  const g: Graph = model.graph;
  const initNames = new Set(g.initializers.keys());
  // Old exporters list initializers among the inputs too; those are not for the user to feed.
  const inputs = g.inputs.filter((v) => !initNames.has(v.name));
  checkNames(g, inputs);
  captureOuterScope(g.nodes);
  const order = topologicalOrder(g.nodes, new Set([...initNames, ...inputs.map((v) => v.name)]));
  registry.check(order, model.opsets);

  // Wasm memory grown once to hold the weights, not ~25 times by a quarter as they are written:
  // each grow is a large external allocation to V8, which answered with a full GC (~0.1–0.25 s
  // over BERT-base's load). Pages not written yet cost no physical memory.
  engine.heap.reserve(checkWeightsFit(g, engine));
  const consts = new Map<string, ConstValue>();
  const tables = onDemand ? tablesOnDemand(g, g.outputs) : new Set<string>();
  // memory: 'low' reads large float32 weights as stored (no panels); int8 ones it still packs.
  const later = onDemand ? weightsToDefer(g, g.outputs, engine.memoryMode === 'low') : new Set<string>();
  for (const [name, t] of g.initializers) {
    consts.set(name, tables.has(name) ? engine.reserveTable(t, t.readRange!, name)
      : later.has(name) ? engine.deferWeight(t, t.readRange!, name)
      : adoptResident(t, engine) ?? engine.writeConst(t, `initializer '${name}'`));
  }

  const bind = (node: Node): BoundNode => {
    const found = registry.find(node, model.opsets);
    if (typeof found === 'string') throw new TesseraError('UNSUPPORTED_OP', `${describeNode(node)}: ${found}`);
    return { node, def: found.def, opset: found.opset };
  };
  const nodes: BoundNode[] = [];
  for (const node of order) {
    const bound = bind(node);
    const present = node.inputs.filter((n) => n !== '');
    if (present.every((n) => consts.has(n)) && !hasSubgraph(node) && !bound.def.planTime) {
      foldNode(bound, consts, engine);
    } else {
      nodes.push(bound);
    }
  }
  dropUnused(nodes, g.outputs, consts, engine);
  markSoleReaders(nodes, g.outputs, consts, engine);
  return { inputs, outputs: g.outputs, nodes, consts, bind };
}

/**
 * Evaluates a node whose inputs are all constants; its outputs become constants. `isSessionConst`
 * says which inputs stay fixed for the session (at load, all; at plan time, not the values folded
 * for that plan's shapes), i.e. which the op may cache across plans.
 */
export function foldNode(b: BoundNode, consts: Map<string, ConstValue>, engine: Engine, isSessionConst: (c: ConstValue) => boolean = () => true): ConstValue[] {
  const { node } = b;
  const inputs = node.inputs.map((n) => (n === '' ? undefined : consts.get(n)!));
  const ctx = makeContext(node, b.def, b.opset, inputs.map((c, i) =>
    c ? inputInfo(node.inputs[i]!, c.dtype, c.dims, () => engine.readConst(c), isSessionConst(c)) : undefined), engine.threads);
  const prepared = b.def.prepare(ctx);
  const outs = engine.evaluate(prepared, inputs, `folded output of ${describeNode(node)}`);
  node.outputs.forEach((name, i) => { if (name !== '' && outs[i]) consts.set(name, outs[i]!); });
  return outs;
}

/**
 * Dead-node removal, and outputs nobody reads omitted from ops that compute them only on request
 * (Dropout's mask: without it Dropout is an alias, not a copy and a fill on every run).
 */
function dropUnused(nodes: BoundNode[], outputs: ValueInfo[], consts: Map<string, ConstValue>, engine: Engine): void {
  // Walk back from the graph outputs.
  const needed = new Set(outputs.map((o) => o.name));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!.node;
    if (!n.outputs.some((o) => needed.has(o))) { nodes.splice(i, 1); continue; }
    n.inputs.forEach((x) => needed.add(x));
    // Readers come later in topological order, so every reader of this node has been seen.
    if (nodes[i]!.def.optionalOutputs && n.outputs.some((o, j) => j > 0 && o !== '' && !needed.has(o))) {
      nodes[i] = { ...nodes[i]!, node: { ...n, outputs: n.outputs.map((o, j) => (j === 0 || needed.has(o) ? o : '')) } };
    }
  }
  for (const [name, c] of consts) {
    if (!needed.has(name)) { engine.freeConst(c); consts.delete(name); }
  }
}

/**
 * A streamed initializer whose bytes already sit in a heap block of this engine becomes the
 * constant in place; one block serves one initializer (another sharing the tensor copies it).
 */
function adoptResident(t: ConstTensor, engine: Engine): ConstValue | undefined {
  const r = t.resident;
  if (!r || r.owner !== engine || r.adopted || t.dtype === 'string') return undefined;
  if (r.bytes !== shapeSize(t.dims) * bytesPerElement(t.dtype)) return undefined;
  r.adopted = true;
  return { dtype: t.dtype, dims: t.dims, ptr: r.ptr };
}

/**
 * Refuses, before a byte is allocated, a model whose weights alone cannot fit in the session's
 * Wasm memory (4 GiB at most, or maxMemoryBytes): a clear error instead of a failed grow halfway.
 * Called right after decoding too (a streamed file's weights are still on disk then) and again
 * here, after the passes. Returns the bytes the weights still need.
 */
export function checkWeightsFit(g: Graph, engine: Engine): number {
  let total = 0, largest = { name: '', bytes: 0 };
  for (const [name, t] of g.initializers) {
    if (t.dtype === 'string') continue;
    // Streamed into this engine's heap already: counted in bytesInUse below.
    if (t.resident?.owner === engine && !t.resident.adopted) continue;
    const bytes = shapeSize(t.dims) * bytesPerElement(t.dtype);
    total += alignUp(bytes + 16);
    if (bytes > largest.bytes) largest = { name, bytes };
  }
  const capacity = engine.heap.capacityBytes - engine.heap.bytesInUse;
  if (total > capacity) {
    throw new TesseraError('OUT_OF_MEMORY',
      `The model's weights need ${formatBytes(total)} but the session's Wasm memory can hold ${formatBytes(capacity)} ` +
      `(wasm32 allows 4 GiB; maxMemoryBytes may lower it), before any activations; the largest is initializer '${largest.name}' (${formatBytes(largest.bytes)})`);
  }
  return total;
}

/**
 * Constants read by exactly one node (and not graph outputs) may be freed once it packs them. A
 * node with subgraphs (If, Loop, Scan) counts as two readers of what it reads: its body is inlined
 * per plan, so one branch's op may pack a weight over its bytes while the other branch, planned
 * later, still reads them (an `If`-merged decoder's two branches share their weights).
 */
function markSoleReaders(nodes: BoundNode[], outputs: ValueInfo[], consts: Map<string, ConstValue>, engine: Engine): void {
  const readers = new Map<string, number>();
  for (const { node } of nodes) {
    const weight = [...node.attributes.values()].some((a) => a.type === 'graph' || a.type === 'graphs') ? 2 : 1;
    for (const x of node.inputs) if (consts.has(x)) readers.set(x, (readers.get(x) ?? 0) + weight);
  }
  for (const o of outputs) readers.set(o.name, 2);
  for (const [name, n] of readers) if (n === 1) engine.markReleasable(consts.get(name)!);
}

function checkNames(g: Graph, inputs: ValueInfo[]): void {
  const defined = new Set<string>();
  const define = (name: string, what: string) => {
    if (defined.has(name)) throw new TesseraError('INVALID_MODEL', `Value '${name}' is defined more than once (again by ${what})`);
    defined.add(name);
  };
  for (const name of g.initializers.keys()) define(name, 'an initializer');
  for (const v of inputs) define(v.name, 'a graph input');
  for (const n of g.nodes) for (const o of n.outputs) if (o !== '') define(o, describeNode(n));
  for (const o of g.outputs) {
    if (!defined.has(o.name)) throw new TesseraError('INVALID_MODEL', `Graph output '${o.name}' is not produced by any node, input or initializer`);
  }
}
