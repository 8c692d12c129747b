/** Small helpers for structural pattern matching: who produces a value, and constant values. */
import type { ConstTensor, Graph, Node } from '../ir.js';

export function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

/** The ai.onnx node producing `value` when it has type `opType`. */
export function producedBy(prod: Map<string, Node>, value: string | undefined, opType: string): Node | undefined {
  const n = value === undefined ? undefined : prod.get(value);
  return n && n.domain === '' && n.opType === opType ? n : undefined;
}

/**
 * The constant behind `value`: an initializer, a Constant node's tensor, or either seen through
 * Identity nodes (torch shares tied or equal parameters that way).
 */
export function constantOf(g: Graph, prod: Map<string, Node>, value: string | undefined): ConstTensor | undefined {
  for (let hops = 0; value !== undefined && hops < 8; hops++) {
    if (g.initializers.has(value) && !g.inputs.some((i) => i.name === value)) return g.initializers.get(value);
    const n = prod.get(value);
    if (!n || n.domain !== '') return undefined;
    if (n.opType === 'Identity') { value = n.inputs[0]; continue; }
    if (n.opType !== 'Constant') return undefined;
    const a = n.attributes.get('value');
    if (a?.type === 'tensor') return a.value;
    const f = n.attributes.get('value_float');
    if (f?.type === 'float') return { dtype: 'float32', dims: [], data: [f.value] };
    const i = n.attributes.get('value_int');
    if (i?.type === 'int') return { dtype: 'int64', dims: [], data: [BigInt(i.value)] };
    return undefined;
  }
  return undefined;
}

/** The initializer name behind `value` (through Identity), for passes that need an initializer. */
export function initializerName(g: Graph, prod: Map<string, Node>, value: string | undefined): string | undefined {
  for (let hops = 0; value !== undefined && hops < 8; hops++) {
    if (g.initializers.has(value)) return g.inputs.some((i) => i.name === value) ? undefined : value;
    const n = prod.get(value);
    if (!n || n.domain !== '' || n.opType !== 'Identity') return undefined;
    value = n.inputs[0];
  }
  return undefined;
}

/** A one-element float or integer constant as a number. */
export function scalarOf(g: Graph, prod: Map<string, Node>, value: string | undefined): number | undefined {
  const t = constantOf(g, prod, value);
  if (!t || t.data.length !== 1 || t.dtype === 'string') return undefined;
  return Number(t.data[0]);
}

/** A constant integer tensor as numbers. */
export function intsOf(g: Graph, prod: Map<string, Node>, value: string | undefined): number[] | undefined {
  const t = constantOf(g, prod, value);
  if (!t || (t.dtype !== 'int64' && t.dtype !== 'int32')) return undefined;
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

export function intsAttr(n: Node, name: string): number[] | undefined {
  const a = n.attributes.get(name);
  return a?.type === 'ints' ? a.value : undefined;
}

export function intAttr(n: Node, name: string, fallback: number): number | undefined {
  const a = n.attributes.get(name);
  if (!a) return fallback;
  return a.type === 'int' ? a.value : undefined;
}

/** x is one input of a two-input node; the other one. */
export function otherInput(n: Node, x: string): string | undefined {
  if (n.inputs.length !== 2) return undefined;
  if (n.inputs[0] === x) return n.inputs[1];
  if (n.inputs[1] === x) return n.inputs[0];
  return undefined;
}

export const near = (a: number | undefined, b: number, tol = 1e-6): boolean => a !== undefined && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

/** An ai.onnx node of type `op` with one output. */
export const isOp = (n: Node | undefined, op: string): n is Node => !!n && n.domain === '' && n.opType === op && n.outputs.length === 1;

/** ReduceMean over the last axis only (axes [-1], as attribute or input), keeping dims. */
export function isLastAxisMean(g: Graph, prod: Map<string, Node>, n: Node | undefined): n is Node {
  if (!isOp(n, 'ReduceMean') || intAttr(n, 'keepdims', 1) !== 1) return false;
  const axes = intsAttr(n, 'axes') ?? (n.inputs[1] ? intsOf(g, prod, n.inputs[1]) : undefined);
  return axes !== undefined && axes.length === 1 && axes[0] === -1;
}
