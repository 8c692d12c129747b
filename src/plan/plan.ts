/**
 * A plan is everything one input shape needs, worked out once: output shapes of every node,
 * constants that depend on shapes (Shape → Gather → Concat → Reshape chains) folded away, an arena
 * offset for every intermediate, and the step list. Running it allocates nothing.
 */
import { TesseraError, describeNode } from '../api/errors.js';
import { bytesPerElement, shapeSize } from '../api/tensor.js';
import type { DType, Graph, Node } from '../graph/ir.js';
import type { Prepared, Step } from '../ops/types.js';
import type { ConstValue, Engine } from '../runtime/engine.js';
import { type NumericArray, viewOf } from '../runtime/memory.js';
import { type Lifetime, assignOffsets } from './arena.js';
import { inputInfo, makeContext } from './context.js';
import { type BoundNode, type LoadedGraph, foldNode, hasSubgraph } from './load.js';
import { topologicalOrder } from './topo.js';

/** Where a value lives during a run. */
type Ref =
  | { kind: 'const'; c: ConstValue }
  | { kind: 'arena'; slot: number; dtype: DType; dims: number[] }
  /** A sequence, known at plan time as the names of its element values. */
  | { kind: 'seq'; items: string[] };

interface PlannedStep {
  opType: string;
  prepared: Prepared;
  inputs: (Ref | undefined)[];
  outputs: (Ref | undefined)[];
  scratchSlot: number;
  label: string;
}

export interface PlanIO {
  name: string;
  dtype: DType;
  dims: number[];
}

export interface StepInfo {
  /** The node, as errors name it: `Conv node 'conv1'`. */
  node: string;
  opType: string;
  inputs: number[][];
  outputs: number[][];
}

/** A feed at plan time: its shape, and its data for ops whose output shape depends on it. */
export interface PlanFeed extends PlanIO {
  data: NumericArray | string[];
}

export class Plan {
  private built: { base: number; steps: Step[] } | undefined;

  constructor(
    readonly inputs: (PlanIO & { slot: number })[],
    readonly outputs: (PlanIO & { ref: Ref })[],
    private readonly steps: PlannedStep[],
    private readonly offsets: number[],
    readonly arenaBytes: number,
    /** Constants folded for this shape only; freed with the plan. */
    readonly owned: ConstValue[],
    /**
     * Feeds whose values this plan depends on (a graph input used as Reshape's shape, Slice's
     * starts, …): the plan is valid only for these exact values.
     */
    readonly valueDeps: number[],
  ) {}

  /** What each step is, for profiles and `tessera inspect`: op, node, input and output shapes. */
  describeSteps(): StepInfo[] {
    const dims = (r: Ref | undefined) => (!r || r.kind === 'seq' ? [] : r.kind === 'const' ? r.c.dims : r.dims);
    return this.steps.map((s) => ({
      node: s.label,
      opType: s.opType,
      inputs: s.inputs.map(dims),
      outputs: s.outputs.map(dims),
    }));
  }

  /** Absolute address of a ref, given where the arena sits now. */
  address(ref: Ref, base: number): number {
    if (ref.kind === 'seq') throw new TesseraError('INTERNAL', 'a sequence has no address');
    return ref.kind === 'const' ? ref.c.ptr : base + this.offsets[ref.slot]!;
  }

  inputAddress(i: number, base: number): number {
    return base + this.offsets[this.inputs[i]!.slot]!;
  }

  /** Step closures with absolute pointers, rebuilt only when the arena moved. */
  stepsAt(engine: Engine, base: number): Step[] {
    if (this.built?.base === base) return this.built.steps;
    const steps = this.steps.map((s) => {
      const b = engine.bind(
        s.inputs.map((r) => (r ? this.address(r, base) : 0)),
        s.outputs.map((r) => (r ? this.address(r, base) : 0)),
        s.scratchSlot >= 0 ? base + this.offsets[s.scratchSlot]! : 0,
      );
      const step = s.prepared.build!(b);
      // A weight still in the model file is read now unless the build packed it from there.
      engine.settle(b.inputs);
      return step;
    });
    this.built = { base, steps };
    return steps;
  }

  release(engine: Engine): void {
    for (const c of this.owned) engine.freeConst(c);
  }
}

/** Plan-time evaluation is for shape-sized values; anything bigger waits for the run. */
const MAX_PLAN_TIME_ELEMENTS = 1 << 16;

export function createPlan(g: LoadedGraph, engine: Engine, feeds: readonly PlanFeed[]): Plan {
  const valueDeps = new Set<number>();
  const feedIndex = new Map(feeds.map((f, i) => [f.name, i]));
  const refs = new Map<string, Ref>();
  for (const [name, c] of g.consts) refs.set(name, { kind: 'const', c });
  // Constants fixed for the session (initializers, load-time folds, and reinterpretations of
  // them): ops may cache what they derive from these across plans (widened or packed copies, keyed
  // by name). A value folded for this plan's shapes is constant only here: the next plan may give
  // the same name another value, so ops must not cache it.
  const sessionConsts = new Set<ConstValue>(g.consts.values());
  const isSessionConst = (c: ConstValue): boolean => sessionConsts.has(c);
  const lifetimes: Lifetime[] = [];
  const newSlot = (bytes: number, first: number): number => {
    lifetimes.push({ bytes, first, last: first });
    return lifetimes.length - 1;
  };
  const owned: ConstValue[] = [];
  const planInputs = feeds.map((f) => {
    const slot = newSlot(shapeSize(f.dims) * bytesPerElement(f.dtype), -1);
    refs.set(f.name, { kind: 'arena', slot, dtype: f.dtype, dims: f.dims });
    return { ...f, slot };
  });

  const steps: PlannedStep[] = [];
  // Values computed from feeds, evaluated at plan time only when an op asks for one (a Range limit,
  // an Expand shape or an If condition derived from a graph input): the plan is then keyed by the
  // feeds they came from.
  const producedBy = new Map<string, { node: Node; prepared: Prepared; inRefs: (Ref | undefined)[]; output: number }>();
  const known = new Map<string, NumericArray | string[] | undefined>();
  const valueOf = (name: string, r: Ref): NumericArray | string[] | undefined => {
    if (r.kind === 'seq') return undefined;
    if (r.kind === 'const') return engine.readConst(r.c);
    const f = feedIndex.get(name);
    if (f !== undefined) { valueDeps.add(f); return feeds[f]!.data; }
    if (known.has(name)) return known.get(name);
    known.set(name, undefined);
    const p = producedBy.get(name);
    const v = p && shapeSize(r.dims) <= MAX_PLAN_TIME_ELEMENTS ? evaluateAtPlanTime(p.node, p.prepared, p.inRefs)?.[p.output] : undefined;
    known.set(name, v);
    return v;
  };
  const evaluateAtPlanTime = (node: Node, prepared: Prepared, ins: (Ref | undefined)[]): (NumericArray | string[])[] | undefined => {
    // Only computed inputs need their values here; constants go in as they are. A constant may
    // already have been replaced by its reader's packed copy (a MatMul weight, packed by the first
    // plan): a kernel finds that copy by itself, but a JS evaluate() would have to read the original.
    if (ins.some((r) => r && (r.kind === 'seq' || (r.kind === 'const' && (r.c.released && prepared.evaluate || shapeSize(r.c.dims) > MAX_PLAN_TIME_ELEMENTS))))) return undefined;
    const values = ins.map((r, i) => (r?.kind === 'arena' && shapeSize(r.dims) <= MAX_PLAN_TIME_ELEMENTS ? valueOf(node.inputs[i]!, r) : undefined));
    if (ins.some((r, i) => r?.kind === 'arena' && values[i] === undefined)) return undefined;
    const temps = ins.map((r, i) => {
      if (!r || r.kind === 'seq') return undefined;
      const c = r.kind === 'const' ? r.c : engine.allocConst(r.dtype, r.dims, `plan-time value of '${node.inputs[i]}'`);
      if (r.kind === 'arena') {
        if (c.strings) c.strings = values[i] as string[];
        else viewOf(engine.memory, c.dtype, c.ptr, shapeSize(c.dims)).set(values[i] as never);
      }
      return c;
    });
    try {
      const outs = engine.evaluate(prepared, temps, `plan-time output of ${describeNode(node)}`);
      const read = outs.map((c) => engine.readConst(c));
      for (const c of outs) engine.freeConst(c);
      return read;
    } finally {
      ins.forEach((r, i) => { if (r?.kind === 'arena') engine.freeConst(temps[i]!); });
    }
  };
  const shapeConsts = new Map<string, ConstValue>();
  // A worklist: an If known at plan time is replaced by its branch's nodes, right where it stood.
  const work = [...g.nodes];
  for (let w = 0; w < work.length; w++) {
    const b = work[w]!;
    const { node } = b;
    const inRefs = node.inputs.map((n) => {
      if (n === '') return undefined;
      const r = refs.get(n);
      if (!r) throw new TesseraError('INTERNAL', `${describeNode(node)}: input '${n}' has no value`);
      return r;
    });
    if (inRefs.every((r) => !r || r.kind === 'const') && !hasSubgraph(node) && !b.def.planTime) {
      // Depends only on constants for this shape (e.g. Shape of an input): fold it now.
      for (const [i, r] of inRefs.entries()) if (r?.kind === 'const') shapeConsts.set(node.inputs[i]!, r.c);
      const outs = foldNode(b, shapeConsts, engine, isSessionConst);
      owned.push(...outs);
      node.outputs.forEach((name, i) => { if (name !== '' && outs[i]) refs.set(name, { kind: 'const', c: outs[i]! }); });
      continue;
    }
    const ctx = makeContext(node, b.def, b.opset, inRefs.map((r, i) => {
      if (!r) return undefined;
      if (r.kind === 'seq') return { ...inputInfo(node.inputs[i]!, 'float32', []), sequence: r.items };
      if (r.kind === 'const') return inputInfo(node.inputs[i]!, r.c.dtype, r.c.dims, () => engine.readConst(r.c), isSessionConst(r.c));
      const f = feedIndex.get(node.inputs[i]!);
      if (f !== undefined) {
        // Small feeds can steer shapes; the plan then belongs to their values.
        return inputInfo(node.inputs[i]!, r.dtype, r.dims, () => { valueDeps.add(f); return feeds[f]!.data; });
      }
      return inputInfo(node.inputs[i]!, r.dtype, r.dims, () => valueOf(node.inputs[i]!, r));
    }), engine.threads, engine.memoryMode);
    const prepared = b.def.prepare(ctx);
    if (prepared.inline || prepared.sequences) {
      prepared.sequences?.forEach((items, i) => { if (items && node.outputs[i]) refs.set(node.outputs[i]!, { kind: 'seq', items }); });
      if (prepared.inline) work.splice(w + 1, 0, ...inlineBranch(g, engine, node, prepared.inline, refs, owned, sessionConsts));
      continue;
    }
    if (inRefs.some((r) => r?.kind === 'seq') && !(prepared.evaluate && prepared.dataFree)) {
      throw new TesseraError('UNSUPPORTED_OP', `${describeNode(node)}: tessera's ${node.opType} does not take sequences`);
    }
    checkOutputs(prepared, node.outputs.length, describeNode(node));
    if (prepared.evaluate && prepared.dataFree) {
      const outs = engine.evaluate(prepared, inRefs.map(() => undefined), `output of ${describeNode(node)}`);
      owned.push(...outs);
      node.outputs.forEach((name, i) => { if (name !== '' && outs[i]) refs.set(name, { kind: 'const', c: outs[i]! }); });
      continue;
    }
    if (prepared.evaluate && prepared.aliasOf === undefined) {
      // JavaScript-only ops (string ops, mostly) run now when their inputs can be known now.
      const values = evaluateAtPlanTime(node, prepared, inRefs);
      if (!values) throw new TesseraError('UNSUPPORTED_OP', `${describeNode(node)}: this op runs only on inputs known at plan time (constants or graph inputs) in tessera`);
      prepared.outputs.forEach((info, i) => {
        const name = node.outputs[i];
        if (!name) return;
        const c = engine.allocConst(info.dtype, info.dims, `output of ${describeNode(node)}`);
        if (c.strings) c.strings = values[i] as string[];
        else viewOf(engine.memory, info.dtype, c.ptr, shapeSize(info.dims)).set(values[i] as never);
        owned.push(c);
        refs.set(name, { kind: 'const', c });
      });
      continue;
    }
    const index = steps.length;
    for (const r of inRefs) if (r?.kind === 'arena') lifetimes[r.slot]!.last = index;
    const outRefs = node.outputs.map((name, i): Ref | undefined => {
      const info = prepared.outputs[i];
      if (name === '' || !info) return undefined;
      if (prepared.aliasOf !== undefined && i === 0) {
        const src = inRefs[prepared.aliasOf]!;
        if (src.kind === 'seq') throw new TesseraError('UNSUPPORTED_OP', `${describeNode(node)}: tessera's ${node.opType} does not take sequences`);
        // Reinterpreting a constant is itself a constant; an arena value keeps its slot.
        if (src.kind === 'const') {
          const c = { ...src.c, dtype: info.dtype, dims: info.dims };
          if (isSessionConst(src.c)) sessionConsts.add(c);
          return { kind: 'const', c };
        }
        return { kind: 'arena', slot: src.slot, dtype: info.dtype, dims: info.dims };
      }
      return { kind: 'arena', slot: newSlot(shapeSize(info.dims) * bytesPerElement(info.dtype), index), dtype: info.dtype, dims: info.dims };
    });
    node.outputs.forEach((name, i) => {
      if (!outRefs[i]) return;
      refs.set(name, outRefs[i]!);
      if (outRefs[i]!.kind === 'arena') producedBy.set(name, { node, prepared, inRefs, output: i });
    });
    if (prepared.aliasOf !== undefined) continue; // no step runs: the output is the input
    const scratchSlot = prepared.scratchBytes ? newSlot(prepared.scratchBytes, index) : -1;
    steps.push({ opType: node.opType, prepared, inputs: inRefs, outputs: outRefs, scratchSlot, label: describeNode(node) });
  }

  const outputs = g.outputs.map((o) => {
    const ref = refs.get(o.name);
    if (!ref) throw new TesseraError('INTERNAL', `graph output '${o.name}' has no value`);
    if (ref.kind === 'seq') throw new TesseraError('UNSUPPORTED_OP', `graph output '${o.name}' is a sequence; tessera returns tensors only`);
    if (ref.kind === 'arena') lifetimes[ref.slot]!.last = Infinity;
    const c = ref.kind === 'const' ? ref.c : undefined;
    return { name: o.name, dtype: c ? c.dtype : (ref as { dtype: DType }).dtype, dims: c ? c.dims : (ref as { dims: number[] }).dims, ref };
  });
  const { offsets, size } = assignOffsets(lifetimes);
  return new Plan(planInputs.map(({ data: _, ...io }) => io), outputs, steps, offsets, size, owned, [...valueDeps].sort());
}

/**
 * The nodes that stand for `node` once its branch is chosen: the branch's initializers become
 * constants of this plan (fixed for the session, so in `sessionConsts`), its nodes are bound and ordered, and an Identity per output renames the
 * branch's outputs to the node's.
 */
function inlineBranch(g: LoadedGraph, engine: Engine, node: Node, branch: Graph, refs: Map<string, Ref>, owned: ConstValue[], sessionConsts: Set<ConstValue>): BoundNode[] {
  for (const [name, t] of branch.initializers) {
    const c = engine.writeConst(t, `initializer '${name}' of ${describeNode(node)}`);
    owned.push(c);
    // Freed with the plan, but the same bytes in every plan: ops may cache what they derive.
    sessionConsts.add(c);
    refs.set(name, { kind: 'const', c });
  }
  const inner = new Set(branch.nodes.flatMap((n) => n.outputs));
  const available = new Set([...refs.keys(), ...branch.inputs.map((i) => i.name)].filter((n) => !inner.has(n)));
  const ordered = topologicalOrder(branch.nodes, available).map((n) => g.bind(n));
  branch.outputs.forEach((o, i) => {
    const out = node.outputs[i]!;
    if (out === '') return;
    ordered.push(g.bind({ name: `${node.name}/${out}`, opType: 'Identity', domain: '', inputs: [o.name], outputs: [out], attributes: new Map() }));
  });
  return ordered;
}

function checkOutputs(p: Prepared, declared: number, label: string): void {
  if (p.outputs.length < declared && p.outputs.length === 0) {
    throw new TesseraError('INTERNAL', `${label}: produced no outputs`);
  }
  for (const o of p.outputs) {
    if (!Number.isSafeInteger(shapeSize(o.dims))) {
      throw new TesseraError('OUT_OF_MEMORY', `${label}: output shape [${o.dims.join(', ')}] is too large`);
    }
  }
}
