/**
 * Control flow, by inlining. `If` runs when its condition is known at plan time (a constant, a value
 * folded from shapes, or one computed from graph inputs, which keys the plan by their values): the
 * planner puts the chosen branch's nodes in place of the If. `Scan` (iterations fixed by shapes) and
 * simple `Loop`s (trip count known at plan time, condition passed through) are unrolled the same way.
 * Subgraphs read outer-scope values by name; `captureOuterScope` makes those reads explicit inputs
 * of the node so ordering and liveness see them.
 */
import { shapeSize } from '../../api/tensor.js';
import type { AttributeValue, ConstTensor, Graph, Node } from '../../graph/ir.js';
import type { OpContext, OpDef } from '../types.js';
import { normalizeAxis, requiredInts } from '../util.js';

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
    const flex = n.opType === 'FlexAttention' && n.domain === 'ai.onnx.preview'; // inlines its score/prob graphs
    if (!(['If', 'Loop', 'Scan', 'SequenceMap'].includes(n.opType) && n.domain === '') && !flex) continue;
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

// ---------------------------------------------------------------- unrolling

/** Builds the nodes of an unrolled body: names local to the body get a per-iteration suffix. */
export class Unroller {
  readonly nodes: Node[] = [];
  readonly initializers = new Map<string, ConstTensor>();
  private count = 0;

  constructor(private readonly ctx: OpContext, private readonly base: string) {}

  fresh(what: string): string { return `${this.base}/${what}${this.count++}`; }

  add(opType: string, inputs: string[], attrs: [string, AttributeValue][] = []): string {
    const out = this.fresh(opType);
    this.nodes.push({ name: out, opType, domain: '', inputs, outputs: [out], attributes: new Map(attrs) });
    return out;
  }

  constInt(v: number, dims: number[] = []): string {
    return this.add('Constant', [], [['value', { type: 'tensor', value: { dtype: 'int64', dims, data: BigInt64Array.of(BigInt(v)) } }]]);
  }

  constBool(v: boolean): string {
    return this.add('Constant', [], [['value', { type: 'tensor', value: { dtype: 'bool', dims: [], data: Uint8Array.of(v ? 1 : 0) } }]]);
  }

  /** x with a new axis of size 1 (Unsqueeze's axes are an input from opset 13). */
  unsqueeze(x: string, axis: number): string {
    return this.ctx.opset >= 13
      ? this.add('Unsqueeze', [x, this.constInt(axis, [1])])
      : this.add('Unsqueeze', [x], [['axes', { type: 'ints', value: [axis] }]]);
  }

  /** One copy of `body` with its inputs bound to outer names; returns the names of its outputs. */
  body(body: Graph, bind: readonly string[]): string[] {
    const tag = `@${this.base}#${this.count++}`;
    const bound = new Map(body.inputs.map((v, i) => [v.name, bind[i]!]));
    const local = new Set([...body.initializers.keys(), ...body.nodes.flatMap((n) => n.outputs)]);
    const rename = (n: string) => (n === '' ? '' : bound.get(n) ?? (local.has(n) ? `${n}${tag}` : n));
    for (const [k, t] of body.initializers) this.initializers.set(rename(k), t);
    for (const n of body.nodes) {
      for (const a of n.attributes.values()) {
        if (a.type === 'graph' || a.type === 'graphs') this.ctx.fail(`its body holds a ${n.opType} with a subgraph, which tessera does not unroll`, 'UNSUPPORTED_OP');
      }
      this.nodes.push({ ...n, name: `${n.name || n.opType}${tag}`, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) });
    }
    return body.outputs.map((o) => rename(o.name));
  }

  /** Stacks per-iteration values along a new axis. */
  stack(values: string[], axis: number): string {
    const parts = values.map((v) => this.unsqueeze(v, axis));
    return parts.length === 1 ? parts[0]! : this.add('Concat', parts, [['axis', { type: 'int', value: axis }]]);
  }

  graph(outputs: string[]): Graph {
    return { name: this.base, nodes: this.nodes, inputs: [], initializers: this.initializers, outputs: outputs.map((name) => ({ name, dtype: undefined, shape: undefined })) };
  }
}

/** Loop with a trip count known at plan time and a condition the body passes through unchanged. */
const loopOp: OpDef = {
  opType: 'Loop', since: 1, attributes: ['body'],
  prepare(ctx) {
    const body = ctx.attrs.graph('body');
    if (!body) throw ctx.attrs.error('body', 'is required');
    const node = ctx.node;
    const nCarried = body.inputs.length - 2;
    const nScan = body.outputs.length - 1 - nCarried;
    if (nCarried < 0 || nScan < 0) throw ctx.attrs.error('body', `has ${body.inputs.length} inputs and ${body.outputs.length} outputs, which do not fit a loop`);
    if (node.outputs.length !== nCarried + nScan) {
      ctx.fail(`has ${node.outputs.length} outputs but its body yields ${nCarried} loop-carried and ${nScan} scan outputs (${nCarried + nScan} in all)`, 'INVALID_MODEL');
    }
    if (node.inputs.length < 2 + nCarried) {
      ctx.fail(`has ${node.inputs.length} inputs but its body takes ${nCarried} loop-carried values (at least ${2 + nCarried} expected)`, 'INVALID_MODEL');
    }
    const tripIn = ctx.inputs[0];
    if (!tripIn) ctx.fail('a Loop without a trip count runs until its condition turns false; tessera unrolls only counted loops', 'UNSUPPORTED_OP');
    const tripVals = requiredInts(ctx, 0, 'the trip count');
    if (tripVals.length !== 1) ctx.fail(`the trip count must hold one value, got ${tripVals.length}`, 'INVALID_MODEL');
    const trips = tripVals[0]!;
    const condIn = ctx.inputs[1];
    if (condIn) {
      const c = condIn.value;
      if (c === undefined) ctx.fail(`the condition ('${condIn.name}') must be known at plan time`, 'UNSUPPORTED_OP');
      if (!Number((c as ArrayLike<number>)[0])) return { outputs: [], inline: passThrough(ctx, nCarried, nScan) };
    }
    // The body must hand its condition back unchanged (directly or through Identity).
    const condOut = body.outputs[0]!.name, condName = body.inputs[1]!.name;
    const producer = body.nodes.find((n) => n.outputs.includes(condOut));
    if (!(condOut === condName || (producer?.opType === 'Identity' && producer.inputs[0] === condName))) {
      ctx.fail('its body computes the loop condition; tessera unrolls only loops whose condition passes through unchanged', 'UNSUPPORTED_OP');
    }
    if (trips > 4096) ctx.fail(`a trip count of ${trips} is too many to unroll`, 'UNSUPPORTED_OP');
    if (trips <= 0 && nScan > 0) ctx.fail('a loop that runs zero times has scan outputs of unknown shape', 'UNSUPPORTED_OP');
    const u = new Unroller(ctx, node.outputs[0] || node.name || 'loop');
    const cond = condIn ? node.inputs[1]! : u.constBool(true);
    let carried = node.inputs.slice(2, 2 + nCarried);
    const scans: string[][] = Array.from({ length: nScan }, () => []);
    for (let i = 0; i < trips; i++) {
      const outs = u.body(body, [u.constInt(i), cond, ...carried]);
      carried = outs.slice(1, 1 + nCarried);
      outs.slice(1 + nCarried).forEach((s, j) => scans[j]!.push(s));
    }
    return { outputs: [], inline: u.graph([...carried, ...scans.map((s) => u.stack(s, 0))]) };
  },
};

function passThrough(ctx: OpContext, nCarried: number, nScan: number): Graph {
  if (nScan > 0) ctx.fail('a loop that runs zero times has scan outputs of unknown shape', 'UNSUPPORTED_OP');
  const u = new Unroller(ctx, ctx.node.outputs[0] || 'loop');
  return u.graph(ctx.node.inputs.slice(2, 2 + nCarried));
}

/** Scan (opset 9+): the iteration count is the scan inputs' length, known from shapes. */
const scanOp: OpDef = {
  opType: 'Scan', since: 9,
  attributes: ['body', 'num_scan_inputs', 'scan_input_axes', 'scan_input_directions', 'scan_output_axes', 'scan_output_directions'],
  prepare(ctx) {
    const a = ctx.attrs;
    const body = a.graph('body');
    if (!body) throw a.error('body', 'is required');
    const m = a.intOpt('num_scan_inputs');
    if (m === undefined || m < 1) throw a.error('num_scan_inputs', 'must be a positive count');
    const node = ctx.node;
    const n = body.inputs.length - m!;
    if (n < 0) throw a.error('num_scan_inputs', `is ${m} but the body takes ${body.inputs.length} inputs`);
    const k = body.outputs.length - n;
    if (k < 0) throw a.error('body', `has ${body.outputs.length} outputs for ${n} state variables`);
    if (node.outputs.length !== n + k) ctx.fail(`has ${node.outputs.length} outputs but its body yields ${n} state and ${k} scan outputs (${n + k} in all)`, 'INVALID_MODEL');
    const inAxes = a.ints('scan_input_axes') ?? new Array<number>(m!).fill(0);
    const inDirs = a.ints('scan_input_directions') ?? new Array<number>(m!).fill(0);
    const outAxes = a.ints('scan_output_axes') ?? new Array<number>(k).fill(0);
    const outDirs = a.ints('scan_output_directions') ?? new Array<number>(k).fill(0);
    if (inAxes.length !== m || inDirs.length !== m) throw a.error('scan_input_axes', `must have ${m} entries`);
    if (outAxes.length !== k || outDirs.length !== k) throw a.error('scan_output_axes', `must have ${k} entries`);
    const scanIns = Array.from({ length: m! }, (_, j) => ctx.input(n + j));
    const axes = scanIns.map((x, j) => normalizeAxis(ctx, inAxes[j]!, x.dims.length, 'scan input axis'));
    const T = scanIns[0]!.dims[axes[0]!]!;
    scanIns.forEach((x, j) => { if (x.dims[axes[j]!] !== T) ctx.fail(`scan inputs differ in length along their axes (${T} and ${x.dims[axes[j]!]})`, 'SHAPE_MISMATCH'); });
    if (T > 4096) ctx.fail(`${T} iterations are too many to unroll`, 'UNSUPPORTED_OP');
    if (T === 0 && k > 0) ctx.fail('a scan of length 0 has outputs of unknown shape', 'UNSUPPORTED_OP');
    const u = new Unroller(ctx, node.outputs[0] || node.name || 'scan');
    let state = node.inputs.slice(0, n);
    const outs: string[][] = Array.from({ length: k }, () => []);
    for (let t = 0; t < T; t++) {
      const elems = scanIns.map((_, j) => {
        const idx = u.constInt(inDirs[j] ? T - 1 - t : t);
        return u.add('Gather', [node.inputs[n + j]!, idx], [['axis', { type: 'int', value: axes[j]! }]]);
      });
      const res = u.body(body, [...state, ...elems]);
      state = res.slice(0, n);
      res.slice(n).forEach((s, j) => outs[j]!.push(s));
    }
    // A negative output axis counts from the stacked rank, as Unsqueeze and Concat both read it.
    const stacked = outs.map((list, j) => u.stack(outDirs[j] ? [...list].reverse() : list, outAxes[j]!));
    return { outputs: [], inline: u.graph([...state, ...stacked]) };
  },
};

/**
 * Scan at opset 8: every input has a leading batch axis (scan inputs scan along axis 1) and an
 * optional sequence_lens first. Unrolled per batch entry and time step; lengths must be full.
 */
const scan8: OpDef = {
  opType: 'Scan', since: 8, attributes: ['body', 'num_scan_inputs', 'directions'],
  prepare(ctx) {
    const a = ctx.attrs;
    const body = a.graph('body');
    if (!body) throw a.error('body', 'is required');
    const m = a.intOpt('num_scan_inputs');
    if (m === undefined || m < 1) throw a.error('num_scan_inputs', 'must be a positive count');
    const node = ctx.node;
    const n = body.inputs.length - m!, k = body.outputs.length - n;
    if (n < 0 || k < 0) throw a.error('body', `does not fit ${m} scan inputs`);
    const dirs = a.ints('directions') ?? new Array<number>(m!).fill(0);
    const scanIns = Array.from({ length: m! }, (_, j) => ctx.input(1 + n + j));
    const [B, T] = [scanIns[0]!.dims[0]!, scanIns[0]!.dims[1]!];
    for (const x of scanIns) if (x.dims[0] !== B || x.dims[1] !== T) ctx.fail('scan inputs differ in batch or length', 'SHAPE_MISMATCH');
    if (ctx.inputs[0]) {
      const lens = requiredInts(ctx, 0, 'sequence_lens');
      if (lens.some((l) => l !== T)) ctx.fail(`sequence_lens [${lens}] other than the full length ${T} are not supported`, 'UNSUPPORTED_OP');
    }
    if (B * T > 4096) ctx.fail(`${B * T} iterations are too many to unroll`, 'UNSUPPORTED_OP');
    if (T === 0 && k > 0) ctx.fail('a scan of length 0 has outputs of unknown shape', 'UNSUPPORTED_OP');
    const u = new Unroller(ctx, node.outputs[0] || node.name || 'scan');
    const gather = (x: string, i: number) => u.add('Gather', [x, u.constInt(i)], [['axis', { type: 'int', value: 0 }]]);
    const finals: string[][] = Array.from({ length: n }, () => []), outs: string[][] = Array.from({ length: k }, () => []);
    for (let b = 0; b < B; b++) {
      let state = node.inputs.slice(1, 1 + n).map((x) => gather(x, b));
      const rows = scanIns.map((_, j) => gather(node.inputs[1 + n + j]!, b));
      const steps: string[][] = Array.from({ length: k }, () => []);
      for (let t = 0; t < T; t++) {
        const res = u.body(body, [...state, ...rows.map((r, j) => gather(r, dirs[j] ? T - 1 - t : t))]);
        state = res.slice(0, n);
        res.slice(n).forEach((v, j) => steps[j]!.push(v));
      }
      state.forEach((v, j) => finals[j]!.push(v));
      steps.forEach((list, j) => outs[j]!.push(u.stack(list, 0)));
    }
    return { outputs: [], inline: u.graph([...finals.map((l) => u.stack(l, 0)), ...outs.map((l) => u.stack(l, 0))]) };
  },
};

export const controlFlowOps: OpDef[] = [ifOp, loopOp, scanOp, scan8];
