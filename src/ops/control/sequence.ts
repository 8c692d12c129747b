/**
 * Sequence ops. A sequence exists only at plan time, as the list of its elements' value names:
 * Construct/Insert/Erase/Empty edit that list, SequenceAt and ConcatFromSequence inline the tensor
 * ops they stand for, SplitToSequence inlines a Split. Positions must be known at plan time
 * (constants, or graph inputs, which key the plan). Sequences cannot be graph outputs. Optionals
 * are their value when present. SequenceMap unrolls its body per element.
 */
import { shapeSize } from '../../api/tensor.js';
import type { AttributeValue, Graph, Node } from '../../graph/ir.js';
import type { InputInfo, OpContext, OpDef, Prepared } from '../types.js';
import { Unroller } from './control-flow.js';
import { normalizeAxis, requiredInts } from '../util.js';

function items(ctx: OpContext, i: number): string[] {
  const x = ctx.input(i);
  if (!x.sequence) ctx.fail(`input ${i} ('${x.name}') must be a sequence`, 'INVALID_MODEL');
  return [...x.sequence!];
}

/** A position input (default `fallback`), negative counting from the end, within 0..len (or len − 1). */
function position(ctx: OpContext, i: number, len: number, fallback: number, inclusiveEnd: boolean): number {
  if (!ctx.inputs[i]) return fallback;
  let p = requiredInts(ctx, i, 'the position')[0]!;
  if (p < 0) p += len;
  const max = inclusiveEnd ? len : len - 1;
  if (!(p >= 0 && p <= max)) ctx.fail(`position ${p} is out of range for a sequence of ${len}`, 'INVALID_MODEL');
  return p;
}

const seq = (ctx: OpContext, list: string[]): Prepared => ({ outputs: [], sequences: [list] });

/** A tiny graph for inlining: nodes plus the outputs standing for the node's outputs. */
class Builder {
  readonly nodes: Node[] = [];
  private n = 0;
  constructor(private readonly base: string) {}
  add(opType: string, inputs: string[], attrs: [string, AttributeValue][] = [], outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => `${this.base}/${opType}${this.n++}`);
    this.nodes.push({ name: outs[0]!, opType, domain: '', inputs, outputs: outs, attributes: new Map(attrs) });
    return outs;
  }
  ints(values: number[]): string {
    return this.add('Constant', [], [['value', { type: 'tensor', value: { dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values, BigInt) } }]])[0]!;
  }
  graph(outputs: string[]): Graph {
    return { name: this.base, nodes: this.nodes, inputs: [], outputs: outputs.map((name) => ({ name, dtype: undefined, shape: undefined })), initializers: new Map() };
  }
}

const base = (ctx: OpContext) => ctx.node.outputs[0] || ctx.node.name || ctx.node.opType;

const ops: OpDef[] = [
  { opType: 'SequenceEmpty', since: 11, attributes: ['dtype'], planTime: true, prepare: (ctx) => seq(ctx, []) },
  {
    opType: 'SequenceConstruct', since: 11, attributes: [], planTime: true,
    prepare(ctx) {
      const xs = ctx.inputs.map((_, i) => ctx.input(i));
      for (const x of xs) if (x.dtype !== xs[0]!.dtype) ctx.fail(`elements mix ${xs[0]!.dtype} and ${x.dtype}`);
      return seq(ctx, xs.map((x) => x.name));
    },
  },
  {
    opType: 'SequenceInsert', since: 11, attributes: [], planTime: true,
    prepare(ctx) {
      const list = items(ctx, 0);
      const t = ctx.input(1);
      list.splice(position(ctx, 2, list.length, list.length, true), 0, t.name);
      return seq(ctx, list);
    },
  },
  {
    opType: 'SequenceErase', since: 11, attributes: [], planTime: true,
    prepare(ctx) {
      const list = items(ctx, 0);
      if (list.length === 0) ctx.fail('cannot erase from an empty sequence');
      list.splice(position(ctx, 1, list.length, list.length - 1, false), 1);
      return seq(ctx, list);
    },
  },
  {
    opType: 'SequenceAt', since: 11, attributes: [], planTime: true,
    prepare(ctx) {
      const list = items(ctx, 0);
      if (!ctx.inputs[1]) ctx.fail('the position (input 1) is required');
      const b = new Builder(base(ctx));
      return { outputs: [], inline: b.graph([list[position(ctx, 1, list.length, 0, false)]!]) };
    },
  },
  {
    opType: 'SequenceLength', since: 11, attributes: [], planTime: true,
    prepare(ctx) {
      const n = items(ctx, 0).length;
      return { outputs: [{ dtype: 'int64', dims: [] }], dataFree: true, evaluate: () => [BigInt64Array.of(BigInt(n))] };
    },
  },
  {
    opType: 'ConcatFromSequence', since: 11, attributes: ['axis', 'new_axis'], planTime: true,
    prepare(ctx) {
      const list = items(ctx, 0);
      if (list.length === 0) ctx.fail('cannot concatenate an empty sequence');
      if (!ctx.attrs.has('axis')) throw ctx.attrs.error('axis', 'is required');
      const axis = ctx.attrs.int('axis', 0), stack = ctx.attrs.int('new_axis', 0) === 1;
      const b = new Builder(base(ctx));
      const parts = stack
        ? list.map((x) => (ctx.opset >= 13 ? b.add('Unsqueeze', [x, b.ints([axis])]) : b.add('Unsqueeze', [x], [['axes', { type: 'ints', value: [axis] }]]))[0]!)
        : list;
      return { outputs: [], inline: b.graph([b.add('Concat', parts, [['axis', { type: 'int', value: axis }]])[0]!]) };
    },
  },
  {
    opType: 'SplitToSequence', since: 11, attributes: ['axis', 'keepdims'], planTime: true,
    prepare(ctx) {
      const x: InputInfo = ctx.input(0);
      const axis = normalizeAxis(ctx, ctx.attrs.int('axis', 0), x.dims.length);
      const d = x.dims[axis]!;
      const given = ctx.inputs[1] ? requiredInts(ctx, 1, 'split') : undefined;
      let sizes: number[];
      if (!given) sizes = new Array<number>(d).fill(1);
      else if (shapeSize(ctx.input(1).dims) === 1 && ctx.input(1).dims.length === 0) {
        const c = given[0]!;
        if (c <= 0) ctx.fail(`split ${c} must be positive`);
        sizes = Array.from({ length: Math.ceil(d / c) }, (_, i) => Math.min(c, d - i * c));
      } else sizes = given;
      if (sizes.reduce((a, v) => a + v, 0) !== d) ctx.fail(`split [${sizes}] does not add up to the axis size ${d}`, 'SHAPE_MISMATCH');
      const squeeze = !given && ctx.attrs.int('keepdims', 1) === 0;
      const b = new Builder(base(ctx));
      const splitAttrs: [string, AttributeValue][] = [['axis', { type: 'int', value: axis }]];
      const outs = ctx.opset >= 13
        ? b.add('Split', [x.name, b.ints(sizes)], splitAttrs, sizes.length)
        : b.add('Split', [x.name], [...splitAttrs, ['split', { type: 'ints', value: sizes }]], sizes.length);
      const list = squeeze
        ? outs.map((o) => (ctx.opset >= 13 ? b.add('Squeeze', [o, b.ints([axis])]) : b.add('Squeeze', [o], [['axes', { type: 'ints', value: [axis] }]]))[0]!)
        : outs;
      return { outputs: [], inline: b.graph([]), sequences: [list] };
    },
  },
];

/**
 * Optionals: a present optional is its value, so Optional and OptionalGetElement alias it; an
 * empty one exists only as an omitted input, which OptionalHasElement reports at plan time.
 */
const optionalOps: OpDef[] = [
  {
    opType: 'Optional', since: 15, attributes: ['type'],
    prepare(ctx) {
      const x = ctx.inputs[0];
      if (!x) ctx.fail('an empty optional cannot be materialised in tessera; only present optionals are supported', 'UNSUPPORTED_OP');
      if (x!.sequence) return { outputs: [], sequences: [[...x!.sequence]] };
      return { outputs: [{ dtype: x!.dtype, dims: [...x!.dims] }], aliasOf: 0 };
    },
  },
  {
    opType: 'OptionalGetElement', since: 15, attributes: [],
    prepare(ctx) {
      const x = ctx.inputs[0];
      if (!x) ctx.fail('the optional is empty', 'INVALID_MODEL');
      if (x!.sequence) return { outputs: [], sequences: [[...x!.sequence]] };
      return { outputs: [{ dtype: x!.dtype, dims: [...x!.dims] }], aliasOf: 0 };
    },
  },
  {
    opType: 'OptionalHasElement', since: 15, attributes: [],
    prepare(ctx) {
      const present = ctx.inputs[0] !== undefined;
      return { outputs: [{ dtype: 'bool', dims: [] }], dataFree: true, evaluate: () => [Uint8Array.of(present ? 1 : 0)] };
    },
  },
];

/**
 * SequenceMap (opset 17): the body once per element, unrolled like Scan — element i of every
 * sequence input and each tensor input as is; each body output becomes an output sequence.
 */
const sequenceMap: OpDef = {
  opType: 'SequenceMap', since: 17, attributes: ['body'], planTime: true,
  prepare(ctx) {
    const body = ctx.attrs.graph('body');
    if (!body) throw ctx.attrs.error('body', 'is required');
    // Inputs past the body's count are outer-scope values the body reads (made explicit at load).
    const own = body.inputs.length;
    if (own < 1 || ctx.node.inputs.length < own) throw ctx.attrs.error('body', `takes ${own} inputs but the node has ${ctx.node.inputs.length}`);
    if (body.outputs.length !== ctx.node.outputs.length) throw ctx.attrs.error('body', `has ${body.outputs.length} outputs but the node has ${ctx.node.outputs.length}`);
    const first = items(ctx, 0), n = first.length;
    const extra = Array.from({ length: own - 1 }, (_, j) => {
      const x = ctx.input(j + 1);
      if (x.sequence && x.sequence.length !== n) ctx.fail(`sequence input ${j + 1} ('${x.name}') has ${x.sequence.length} elements, input 0 has ${n}`, 'SHAPE_MISMATCH');
      return x;
    });
    if (n > 4096) ctx.fail(`${n} elements are too many to unroll`, 'UNSUPPORTED_OP');
    const u = new Unroller(ctx, base(ctx));
    const outs: string[][] = body.outputs.map(() => []);
    for (let i = 0; i < n; i++) {
      const res = u.body(body, [first[i]!, ...extra.map((x) => (x.sequence ? x.sequence[i]! : x.name))]);
      res.forEach((r, j) => outs[j]!.push(r));
    }
    return { outputs: [], inline: u.graph([]), sequences: outs };
  },
};

export const sequenceOps: OpDef[] = [...ops, ...optionalOps, sequenceMap];
