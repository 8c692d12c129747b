/**
 * Comparison, boolean and bitwise ops, Where, IsNaN/IsInf and Mod. All broadcast numpy-style
 * (collapsed by util.collapse, so the inner loop is one flat run) and run in JavaScript over typed
 * views: the work is one compare or select per element, memory-bound either way. float16 is read
 * and written through its bits; 64-bit integers stay BigInt so that they are exact.
 */
import { bytesPerElement, shapeSize } from '../api/tensor.js';
import type { DType } from '../graph/ir.js';
import type { NumericArray } from '../runtime/memory.js';
import { floatToHalf, halfToFloat } from './cast.js';
import type { Bound, OpContext, OpDef, Prepared, Step } from './types.js';
import { broadcastShapes, broadcastStrides, collapse, requireDtype } from './util.js';

const SIGNED = ['int8', 'int16', 'int32', 'int64'];
const UNSIGNED = ['uint8', 'uint16', 'uint32', 'uint64'];
const INTS = [...SIGNED, ...UNSIGNED];
const FLOATS = ['float32', 'float64', 'float16'];
const NUMBERS = [...FLOATS, ...INTS];
const BIG = new Set(['int64', 'uint64']);

type Scalar = number | bigint;
type Fn2 = (a: Scalar, b: Scalar) => Scalar | boolean;

/** Elements an operand view must cover, given its collapsed strides. */
function span(dims: readonly number[], strides: readonly number[]): number {
  if (dims.some((d) => d === 0)) return 0;
  return 1 + dims.reduce((acc, d, i) => acc + (d - 1) * strides[i]!, 0);
}

/**
 * Calls `inner(offsets…, outOffset, count, innerStrides…)` once per contiguous run of the output:
 * an odometer over the collapsed outer dims, the last dim left to the caller's tight loop.
 */
function forRuns(dims: readonly number[], strides: readonly (readonly number[])[],
  inner: (offs: number[], o: number, count: number, st: number[]) => void): () => void {
  const rank = dims.length;
  const n = shapeSize(dims);
  if (n === 0) return () => {};
  if (rank === 0) return () => inner(strides.map(() => 0), 0, 1, strides.map(() => 0));
  const last = dims[rank - 1]!;
  const innerStrides = strides.map((s) => s[rank - 1]!);
  const outer = n / last;
  const idx = new Array<number>(rank - 1).fill(0);
  const offs = strides.map(() => 0);
  return () => {
    idx.fill(0);
    offs.fill(0);
    for (let r = 0, o = 0; r < outer; r++, o += last) {
      inner(offs, o, last, innerStrides);
      for (let k = rank - 2; k >= 0; k--) {
        for (let j = 0; j < offs.length; j++) offs[j]! += strides[j]![k]!;
        if (++idx[k]! < dims[k]!) break;
        for (let j = 0; j < offs.length; j++) offs[j]! -= strides[j]![k]! * dims[k]!;
        idx[k] = 0;
      }
    }
  };
}

interface BinarySpec {
  opType: string;
  since: number;
  attributes?: string[];
  types: readonly string[];
  /** Output dtype from the input dtype (default: the same). */
  out?: (t: DType) => DType;
  /** The element function for these attributes and dtype. */
  fn(ctx: OpContext, dtype: DType): Fn2;
}

function binaryDef(spec: BinarySpec): OpDef {
  return {
    opType: spec.opType, since: spec.since, attributes: spec.attributes ?? [],
    prepare(ctx) {
      const a = ctx.input(0), b = ctx.input(1);
      requireDtype(ctx, 0, spec.types);
      if (a.dtype !== b.dtype) ctx.fail(`inputs have different types (${a.dtype} and ${b.dtype})`, 'INVALID_MODEL');
      const outType = spec.out ? spec.out(a.dtype) : a.dtype;
      return prepareBroadcast(ctx, [a.dtype, b.dtype], outType, spec.fn(ctx, a.dtype));
    },
  };
}

/** A broadcasting two-input op in JavaScript: y = f(a, b), with float16 decoded and encoded. */
export function prepareBroadcast(ctx: OpContext, types: readonly [DType, DType], outType: DType, fn: Fn2): Prepared {
  const [a, b] = [ctx.input(0), ctx.input(1)];
  const out = broadcastShapes(ctx, [a.dims, b.dims]);
  const { dims, strides } = collapse(out, [broadcastStrides(a.dims, out), broadcastStrides(b.dims, out)]);
  let f = fn;
  if (types[0] === 'float16') { const g = f; f = (x, y) => g(halfToFloat(x as number), halfToFloat(y as number)); }
  if (outType === 'float16') { const g = f; f = (x, y) => floatToHalf(g(x, y) as number); }
  if (outType === 'bool') { const g = f; f = (x, y) => (g(x, y) ? 1 : 0); }
  const n = shapeSize(out);
  return {
    outputs: [{ dtype: outType, dims: out }],
    build: (bd) => {
      const va = bd.view(types[0], bd.inputs[0]!, span(dims, strides[0]!));
      const vb = bd.view(types[1], bd.inputs[1]!, span(dims, strides[1]!));
      const vy = bd.view(outType, bd.outputs[0]!, n);
      let A: NumericArray, B: NumericArray, Y: NumericArray;
      const run = forRuns(dims, strides, (offs, o, count, st) => {
        let ia = offs[0]!, ib = offs[1]!;
        const sa = st[0]!, sb = st[1]!;
        for (let i = 0; i < count; i++, ia += sa, ib += sb) Y[o + i] = f(A[ia]!, B[ib]!) as never;
      });
      return () => { A = va(); B = vb(); Y = vy(); run(); };
    },
  };
}

// ---------------------------------------------------------------- comparisons and booleans

const cmp = (opType: string, since: number, types: readonly string[], f: Fn2): OpDef =>
  binaryDef({ opType, since, types, out: () => 'bool', fn: () => f });

const BOOL = ['bool'];
const boolOp = (opType: string, f: (a: number, b: number) => number): OpDef =>
  binaryDef({ opType, since: 7, types: BOOL, fn: () => f as Fn2 });

export const comparisonOps: OpDef[] = [
  cmp('Equal', 7, [...NUMBERS, 'bool'], (a, b) => a === b),
  cmp('Less', 7, NUMBERS, (a, b) => a < b),
  cmp('Greater', 7, NUMBERS, (a, b) => a > b),
  cmp('LessOrEqual', 12, NUMBERS, (a, b) => a <= b),
  cmp('GreaterOrEqual', 12, NUMBERS, (a, b) => a >= b),
  boolOp('And', (a, b) => a & b),
  boolOp('Or', (a, b) => a | b),
  boolOp('Xor', (a, b) => a ^ b),
];

// ---------------------------------------------------------------- bitwise, BitShift, Mod

const bitwise = (opType: string, num: (a: number, b: number) => number, big: (a: bigint, b: bigint) => bigint): OpDef =>
  binaryDef({ opType, since: 18, types: INTS, fn: (_, t) => (BIG.has(t) ? big : num) as Fn2 });

const bitShift = binaryDef({
  opType: 'BitShift', since: 11, attributes: ['direction'], types: UNSIGNED,
  fn(ctx, t) {
    if (!ctx.attrs.has('direction')) throw ctx.attrs.error('direction', "is required ('LEFT' or 'RIGHT')");
    const left = ctx.attrs.oneOf('direction', ['LEFT', 'RIGHT'], 'LEFT') === 'LEFT';
    const bits = bytesPerElement(t) * 8;
    if (BIG.has(t)) {
      return (left ? (a: bigint, b: bigint) => (b >= 64n ? 0n : a << b) : (a: bigint, b: bigint) => (b >= 64n ? 0n : a >> b)) as Fn2;
    }
    // JavaScript masks shift counts to 5 bits; a shift by the width or more empties the value.
    return (left ? (a: number, b: number) => (b >= bits ? 0 : a << b) : (a: number, b: number) => (b >= bits ? 0 : a >>> b)) as Fn2;
  },
});

/** Mod: fmod = 0 takes the divisor's sign (Python %), fmod = 1 the dividend's (C fmod). */
const mod = binaryDef({
  opType: 'Mod', since: 10, attributes: ['fmod'], types: NUMBERS,
  fn(ctx, t) {
    const fmod = ctx.attrs.int('fmod', 0);
    if (fmod !== 0 && fmod !== 1) throw ctx.attrs.error('fmod', `must be 0 or 1, got ${fmod}`);
    if (FLOATS.includes(t) && fmod === 0) ctx.fail(`fmod must be 1 for floating-point inputs (${t})`, 'INVALID_ATTRIBUTE');
    if (BIG.has(t)) {
      return ((a: bigint, b: bigint) => {
        if (b === 0n) return 0n;
        const r = a % b;
        return fmod === 0 && r !== 0n && (r < 0n) !== (b < 0n) ? r + b : r;
      }) as Fn2;
    }
    if (fmod === 1) return ((a: number, b: number) => (INTS.includes(t) && b === 0 ? 0 : a % b)) as Fn2;
    return ((a: number, b: number) => {
      if (b === 0) return 0;
      const r = a % b;
      return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
    }) as Fn2;
  },
});

export const bitOps: OpDef[] = [
  bitwise('BitwiseAnd', (a, b) => a & b, (a, b) => a & b),
  bitwise('BitwiseOr', (a, b) => a | b, (a, b) => a | b),
  bitwise('BitwiseXor', (a, b) => a ^ b, (a, b) => a ^ b),
  bitShift,
  mod,
];

// ---------------------------------------------------------------- unary: Not, BitwiseNot, IsNaN, IsInf

function unaryDef(opType: string, since: number, attributes: string[], types: readonly string[],
  out: (t: DType) => DType, make: (ctx: OpContext, t: DType) => (x: Scalar) => Scalar | boolean): OpDef {
  return {
    opType, since, attributes,
    prepare(ctx) {
      const x = ctx.input(0);
      requireDtype(ctx, 0, types);
      let f = make(ctx, x.dtype);
      if (x.dtype === 'float16') { const g = f; f = (v) => g(halfToFloat(v as number)); }
      const outType = out(x.dtype);
      if (outType === 'bool') { const g = f; f = (v) => (g(v) ? 1 : 0); }
      const n = shapeSize(x.dims);
      return {
        outputs: [{ dtype: outType, dims: x.dims }],
        build: (bd) => {
          const vx = bd.view(x.dtype, bd.inputs[0]!, n), vy = bd.view(outType, bd.outputs[0]!, n);
          return () => {
            const X = vx(), Y = vy();
            for (let i = 0; i < n; i++) Y[i] = f(X[i]!) as never;
          };
        },
      };
    },
  };
}

export const unaryLogicOps: OpDef[] = [
  unaryDef('Not', 1, [], BOOL, (t) => t, () => (x) => (x as number) ^ 1),
  unaryDef('BitwiseNot', 18, [], INTS, (t) => t, (_, t) => (BIG.has(t) ? (x) => ~(x as bigint) : (x) => ~(x as number))),
  unaryDef('IsNaN', 9, [], FLOATS, () => 'bool', () => (x) => Number.isNaN(x)),
  unaryDef('IsInf', 10, ['detect_positive', 'detect_negative'], FLOATS, () => 'bool', (ctx) => {
    const pos = ctx.attrs.int('detect_positive', 1) !== 0, neg = ctx.attrs.int('detect_negative', 1) !== 0;
    return (x) => (pos && x === Infinity) || (neg && x === -Infinity);
  }),
];

// ---------------------------------------------------------------- Where

/** Where copies bits, so it serves every dtype: 8-byte elements move as two 32-bit lanes. */
const where: OpDef = {
  opType: 'Where', since: 9, attributes: [],
  prepare(ctx) {
    const c = ctx.input(0), x = ctx.input(1), y = ctx.input(2);
    requireDtype(ctx, 0, BOOL);
    if (x.dtype !== y.dtype) ctx.fail(`X and Y have different types (${x.dtype} and ${y.dtype})`, 'INVALID_MODEL');
    if (x.dtype === 'string') ctx.fail('string tensors are not supported by Where', 'UNSUPPORTED_OP');
    const out = broadcastShapes(ctx, [c.dims, x.dims, y.dims]);
    const bpe = bytesPerElement(x.dtype);
    const lanes = bpe === 8 ? 2 : 1;
    const st = [c.dims, x.dims, y.dims].map((d) => broadcastStrides(d, out));
    const { dims, strides } = collapse(out, st);
    const n = shapeSize(out);
    const laneType: DType = bpe === 1 ? 'uint8' : bpe === 2 ? 'uint16' : 'uint32';
    return {
      outputs: [{ dtype: x.dtype, dims: out }],
      build: (bd) => whereStep(bd, dims, strides, n, laneType, lanes),
    };
  },
};

function whereStep(bd: Bound, dims: number[], strides: number[][], n: number, laneType: DType, lanes: number): Step {
  const vc = bd.view('uint8', bd.inputs[0]!, span(dims, strides[0]!));
  const vx = bd.view(laneType, bd.inputs[1]!, span(dims, strides[1]!) * lanes);
  const vy = bd.view(laneType, bd.inputs[2]!, span(dims, strides[2]!) * lanes);
  const vo = bd.view(laneType, bd.outputs[0]!, n * lanes);
  let C: NumericArray, X: NumericArray, Y: NumericArray, O: NumericArray;
  const run = lanes === 1
    ? forRuns(dims, strides, (offs, o, count, s) => {
      let ic = offs[0]!, ix = offs[1]!, iy = offs[2]!;
      const sc = s[0]!, sx = s[1]!, sy = s[2]!;
      for (let i = 0; i < count; i++, ic += sc, ix += sx, iy += sy) O[o + i] = C[ic] ? X[ix]! : Y[iy]!;
    })
    : forRuns(dims, strides, (offs, o, count, s) => {
      let ic = offs[0]!, ix = offs[1]! * 2, iy = offs[2]! * 2;
      const sc = s[0]!, sx = s[1]! * 2, sy = s[2]! * 2;
      for (let i = 0, p = o * 2; i < count; i++, ic += sc, ix += sx, iy += sy, p += 2) {
        if (C[ic]) { O[p] = X[ix]!; O[p + 1] = X[ix + 1]!; } else { O[p] = Y[iy]!; O[p + 1] = Y[iy + 1]!; }
      }
    });
  return () => { C = vc(); X = vx(); Y = vy(); O = vo(); run(); };
}

export const logicOps: OpDef[] = [...comparisonOps, ...bitOps, ...unaryLogicOps, where];
