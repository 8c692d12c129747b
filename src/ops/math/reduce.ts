/**
 * Reductions (ReduceSum … ReduceLogSumExp) and ArgMax/ArgMin. TypeScript groups the input's axes
 * into runs of kept and reduced dims; the common case, one reduced run, is a line reduction over
 * [outer, R, inner]. float32 lines go to the Wasm kernel `reduce_f32`; everything else, and
 * reductions over several separated runs, is a JavaScript loop. 64-bit integers stay BigInt.
 */
import { shapeSize } from '../../api/tensor.js';
import type { DType } from '../../graph/ir.js';
import type { NumericArray } from '../../runtime/memory.js';
import { floatToHalf, halfToFloat } from './cast.js';
import type { Bound, OpContext, OpDef, Prepared, Step } from '../types.js';
import { constInts, normalizeAxis, requireDtype, stridesOf } from '../util.js';

const INTS = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'];
const NUMBERS = ['float32', 'float64', 'float16', ...INTS];
const BIG = new Set(['int64', 'uint64']);

type Kind = 'sum' | 'mean' | 'max' | 'min' | 'prod' | 'l1' | 'l2' | 'logsum' | 'logsumexp' | 'sumsquare';
type Scalar = number | bigint;

/** Kernel op codes of `reduce_f32` (assembly/reduce.ts): accumulate, then `post` on the result. */
export const ReduceOp = { sum: 0, sumsquare: 1, l1: 2, max: 3, min: 4, prod: 5 } as const;
export const ReducePost = { none: 0, scale: 1, sqrt: 2, log: 3 } as const;
const KERNEL: Partial<Record<Kind, [number, number]>> = {
  sum: [ReduceOp.sum, ReducePost.none], mean: [ReduceOp.sum, ReducePost.scale], max: [ReduceOp.max, ReducePost.none],
  min: [ReduceOp.min, ReducePost.none], prod: [ReduceOp.prod, ReducePost.none], l1: [ReduceOp.l1, ReducePost.none],
  l2: [ReduceOp.sumsquare, ReducePost.sqrt], logsum: [ReduceOp.sum, ReducePost.log], sumsquare: [ReduceOp.sumsquare, ReducePost.none],
};

/** The input seen as runs of kept and reduced dims, with their element strides. */
interface Layout {
  outCount: number;
  /** One reduced run: out[o·inner + i] = reduce over r of x[(o·R + r)·inner + i]. */
  line?: { outer: number; R: number; inner: number };
  /** Otherwise: input offset of every output element and of every reduced element. */
  outOff?: Float64Array;
  redOff?: Float64Array;
}

function layout(dims: readonly number[], reduced: ReadonlySet<number>): Layout {
  const st = stridesOf(dims);
  const runs: { size: number; stride: number; red: boolean }[] = [];
  dims.forEach((d, i) => {
    if (d === 1) return;
    const red = reduced.has(i), last = runs[runs.length - 1];
    if (last && last.red === red) { last.size *= d; last.stride = st[i]!; } else runs.push({ size: d, stride: st[i]!, red });
  });
  const kept = runs.filter((r) => !r.red), red = runs.filter((r) => r.red);
  const outCount = kept.reduce((a, r) => a * r.size, 1);
  const R = red.reduce((a, r) => a * r.size, 1);
  if (red.length <= 1) {
    const at = red.length ? runs.indexOf(red[0]!) : runs.length;
    const outer = runs.slice(0, at).reduce((a, r) => a * r.size, 1);
    const inner = runs.slice(at + 1).reduce((a, r) => a * r.size, 1);
    return { outCount, line: { outer, R, inner } };
  }
  return { outCount, outOff: offsets(kept), redOff: offsets(red) };
}

/** Every offset Σ idx_k·stride_k of a row-major walk over `runs`. */
function offsets(runs: readonly { size: number; stride: number }[]): Float64Array {
  let out = Float64Array.of(0);
  for (const r of runs) {
    const next = new Float64Array(out.length * r.size);
    let p = 0;
    for (const base of out) for (let j = 0; j < r.size; j++) next[p++] = base + j * r.stride;
    out = next;
  }
  return out;
}

// ---------------------------------------------------------------- element-wise definition of each kind

interface Fold { init: Scalar; step(a: Scalar, x: Scalar): Scalar; fin(a: Scalar, R: number): Scalar }

function foldOf(kind: Kind, big: boolean, dtype: DType): Fold {
  const zero = big ? 0n : 0, one = big ? 1n : 1;
  const add = (a: Scalar, x: Scalar) => (a as number) + (x as number);
  const abs = big ? (x: Scalar) => ((x as bigint) < 0n ? -(x as bigint) : x) : (x: Scalar) => Math.abs(x as number);
  const id = (a: Scalar) => a;
  switch (kind) {
    case 'sum': return { init: zero, step: add, fin: id };
    case 'mean': return { init: zero, step: add, fin: (a, R) => (big ? (R ? (a as bigint) / BigInt(R) : 0n) : (a as number) / R) };
    case 'prod': return { init: one, step: (a, x) => (a as number) * (x as number), fin: id };
    case 'l1': return { init: zero, step: (a, x) => (a as number) + (abs(x) as number), fin: id };
    case 'sumsquare': return { init: zero, step: (a, x) => (a as number) + (x as number) * (x as number), fin: id };
    case 'l2': return { init: 0, step: (a, x) => (a as number) + (x as number) * (x as number), fin: (a) => Math.sqrt(a as number) };
    case 'logsum': return { init: 0, step: add, fin: (a) => Math.log(a as number) };
    case 'max': return {
      init: lowest(dtype),
      step: big ? (a, x) => ((x as bigint) > (a as bigint) ? x : a) : (a, x) => ((x as number) > (a as number) || x !== x ? x : a),
      fin: id,
    };
    case 'min': return {
      init: highest(dtype),
      step: big ? (a, x) => ((x as bigint) < (a as bigint) ? x : a) : (a, x) => ((x as number) < (a as number) || x !== x ? x : a),
      fin: id,
    };
    case 'logsumexp': throw new Error('logsumexp has its own loop');
  }
}

/** The identity of max and min over each dtype: what an empty reduction returns. */
function lowest(t: DType): Scalar {
  switch (t) {
    case 'bool': case 'uint8': case 'uint16': case 'uint32': return 0;
    case 'uint64': return 0n;
    case 'int8': return -128;
    case 'int16': return -32768;
    case 'int32': return -2147483648;
    case 'int64': return -(2n ** 63n);
    default: return -Infinity;
  }
}
function highest(t: DType): Scalar {
  switch (t) {
    case 'bool': return 1;
    case 'uint8': return 255;
    case 'uint16': return 65535;
    case 'uint32': return 4294967295;
    case 'uint64': return 2n ** 64n - 1n;
    case 'int8': return 127;
    case 'int16': return 32767;
    case 'int32': return 2147483647;
    case 'int64': return 2n ** 63n - 1n;
    default: return Infinity;
  }
}

// ---------------------------------------------------------------- ReduceX

function prepareReduce(ctx: OpContext, kind: Kind, axesIn: number[] | undefined, noop: boolean): Prepared {
  const x = ctx.input(0);
  const maxMin = kind === 'max' || kind === 'min';
  requireDtype(ctx, 0, maxMin ? [...NUMBERS, 'bool'] : NUMBERS);
  const r = x.dims.length;
  const empty = !axesIn || axesIn.length === 0;
  const axes = empty ? (noop ? [] : [...Array(r).keys()]) : axesIn!.map((a) => normalizeAxis(ctx, a, r, 'reduction axis'));
  const reduced = new Set(axes);
  if (reduced.size !== axes.length) ctx.fail(`axes [${axesIn}] repeat an axis`, 'INVALID_ATTRIBUTE');
  const keep = ctx.attrs.int('keepdims', 1) !== 0;
  const outDims = keep ? x.dims.map((d, i) => (reduced.has(i) ? 1 : d)) : x.dims.filter((_, i) => !reduced.has(i));
  const L = layout(x.dims, reduced);
  const n = shapeSize(x.dims);
  return {
    outputs: [{ dtype: x.dtype, dims: outDims }],
    build: (bd) => {
      const k = KERNEL[kind];
      if (x.dtype === 'float32' && L.line && k && L.outCount > 0) {
        const { outer, R, inner } = L.line;
        const [op, post] = k;
        const scale = 1 / R;
        return () => bd.k.reduce_f32(bd.inputs[0]!, bd.outputs[0]!, outer, R, inner, op, post, scale);
      }
      return jsReduce(bd, kind, x.dtype, n, L);
    },
  };
}

function jsReduce(bd: Bound, kind: Kind, dtype: DType, n: number, L: Layout): Step {
  const vx = bd.view(dtype, bd.inputs[0]!, n), vy = bd.view(dtype, bd.outputs[0]!, L.outCount);
  const big = BIG.has(dtype);
  // Kinds with a logarithm or a root are computed in float64, whatever the dtype.
  const viaFloat = big && (kind === 'l2' || kind === 'logsum' || kind === 'logsumexp');
  const read: (v: Scalar) => Scalar = dtype === 'float16' ? (v) => halfToFloat(v as number) : viaFloat ? Number : (v) => v;
  const write: (v: Scalar) => Scalar = dtype === 'float16' ? (v) => floatToHalf(v as number)
    : viaFloat ? (v) => (Number.isFinite(v) ? BigInt(Math.trunc(v as number)) : 0n) : (v) => v;
  const { outCount } = L;
  const line = L.line, outOff = L.outOff, redOff = L.redOff;
  const R = line ? line.R : redOff!.length;
  // Input offset of the r-th reduced element of output o.
  const base = (o: number) => (line ? Math.floor(o / line.inner) * line.R * line.inner + (o % line.inner) : outOff![o]!);
  const step = line ? line.inner : 0;
  if (kind === 'logsumexp') {
    return () => {
      const X = vx(), Y = vy();
      for (let o = 0; o < outCount; o++) {
        const b = base(o);
        let m = -Infinity;
        for (let r = 0; r < R; r++) { const v = read(X[line ? b + r * step : b + redOff![r]!]!) as number; if (v > m || v !== v) m = v; }
        let s = 0;
        if (m === -Infinity || m !== m || m === Infinity) s = m === -Infinity ? -Infinity : m;
        else {
          for (let r = 0; r < R; r++) s += Math.exp((read(X[line ? b + r * step : b + redOff![r]!]!) as number) - m);
          s = Math.log(s) + m;
        }
        Y[o] = write(s) as never;
      }
    };
  }
  const f = foldOf(kind, big && !viaFloat, dtype);
  return () => {
    const X = vx(), Y = vy();
    for (let o = 0; o < outCount; o++) {
      const b = base(o);
      let acc = f.init;
      if (line) for (let r = 0, p = b; r < R; r++, p += step) acc = f.step(acc, read(X[p]!));
      else for (let r = 0; r < R; r++) acc = f.step(acc, read(X[b + redOff![r]!]!));
      Y[o] = write(f.fin(acc, R)) as never;
    }
  };
}

/**
 * Each reduction twice: axes as an attribute (opset 1) and as an optional input with
 * noop_with_empty_axes (opset 13 for ReduceSum, 18 for the rest).
 */
function reduceDefs(opType: string, kind: Kind, inputSince: number): OpDef[] {
  return [
    {
      opType, since: 1, attributes: ['axes', 'keepdims'],
      prepare: (ctx) => prepareReduce(ctx, kind, ctx.attrs.ints('axes'), false),
    },
    {
      opType, since: inputSince, attributes: ['keepdims', 'noop_with_empty_axes'],
      prepare: (ctx) => prepareReduce(ctx, kind, constInts(ctx, 1, 'axes'), ctx.attrs.int('noop_with_empty_axes', 0) !== 0),
    },
  ];
}

export const reductionOps: OpDef[] = [
  ...reduceDefs('ReduceSum', 'sum', 13),
  ...reduceDefs('ReduceMean', 'mean', 18),
  ...reduceDefs('ReduceMax', 'max', 18),
  ...reduceDefs('ReduceMin', 'min', 18),
  ...reduceDefs('ReduceProd', 'prod', 18),
  ...reduceDefs('ReduceL1', 'l1', 18),
  ...reduceDefs('ReduceL2', 'l2', 18),
  ...reduceDefs('ReduceLogSum', 'logsum', 18),
  ...reduceDefs('ReduceLogSumExp', 'logsumexp', 18),
  ...reduceDefs('ReduceSumSquare', 'sumsquare', 18),
];

// ---------------------------------------------------------------- ArgMax / ArgMin

function argDef(opType: string, max: boolean, since: number, attributes: string[]): OpDef {
  return {
    opType, since, attributes,
    prepare(ctx) {
      const x = ctx.input(0);
      requireDtype(ctx, 0, [...NUMBERS, 'bool']);
      const r = x.dims.length;
      const axis = normalizeAxis(ctx, ctx.attrs.int('axis', 0), r);
      const keep = ctx.attrs.int('keepdims', 1) !== 0;
      const last = ctx.attrs.int('select_last_index', 0) !== 0;
      const outDims = keep ? x.dims.map((d, i) => (i === axis ? 1 : d)) : x.dims.filter((_, i) => i !== axis);
      const R = x.dims[axis] ?? 1, inner = shapeSize(x.dims.slice(axis + 1)), outer = shapeSize(x.dims.slice(0, axis));
      const count = outer * inner;
      if (R === 0 && count > 0) ctx.fail(`cannot take ${opType} over axis ${axis} of size 0`, 'SHAPE_MISMATCH');
      const n = shapeSize(x.dims);
      return {
        outputs: [{ dtype: 'int64', dims: outDims }],
        build: (bd) => {
          const vx = bd.view(x.dtype, bd.inputs[0]!, n), vy = bd.view('int64', bd.outputs[0]!, count);
          const read: (v: Scalar) => Scalar = x.dtype === 'float16' ? (v) => halfToFloat(v as number) : (v) => v;
          // Better: strictly (first index wins) or also on ties (last index wins).
          const better = max
            ? (last ? (v: Scalar, b: Scalar) => v >= b : (v: Scalar, b: Scalar) => v > b)
            : (last ? (v: Scalar, b: Scalar) => v <= b : (v: Scalar, b: Scalar) => v < b);
          return () => {
            const X = vx(), Y = vy() as BigInt64Array;
            for (let o = 0; o < outer; o++) {
              for (let i = 0; i < inner; i++) {
                let p = o * R * inner + i, best = read(X[p]!), at = 0;
                for (let k = 1; k < R; k++) {
                  p += inner;
                  const v = read(X[p]!);
                  if (best !== best) break; // NaN wins, like numpy
                  if (better(v, best) || v !== v) { best = v; at = k; }
                }
                Y[o * inner + i] = BigInt(at);
              }
            }
          };
        },
      };
    },
  };
}

export const argOps: OpDef[] = [
  argDef('ArgMax', true, 1, ['axis', 'keepdims']),
  argDef('ArgMax', true, 12, ['axis', 'keepdims', 'select_last_index']),
  argDef('ArgMin', false, 1, ['axis', 'keepdims']),
  argDef('ArgMin', false, 12, ['axis', 'keepdims', 'select_last_index']),
];

export const reduceOps: OpDef[] = [...reductionOps, ...argOps];
