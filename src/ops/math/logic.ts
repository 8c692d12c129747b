/**
 * Comparison, boolean and bitwise ops, Where, IsNaN/IsInf and Mod. All broadcast numpy-style
 * (collapsed by util.collapse, so the inner loop is one flat run) and run in JavaScript over typed
 * views: the work is one compare or select per element, memory-bound either way. float16 is read
 * and written through its bits; 64-bit integers stay BigInt so that they are exact.
 */
import { bytesPerElement, shapeSize } from '../../api/tensor.js';
import type { DType } from '../../graph/ir.js';
import type { NumericArray } from '../../runtime/memory.js';
import { floatToHalf, halfToFloat } from './cast.js';
import { prepareStringEqual } from '../text-image/strings.js';
import type { Bound, OpContext, OpDef, Prepared, Step } from '../types.js';
import { broadcastShapes, broadcastStrides, collapse, requireDtype } from '../util.js';

const SIGNED = ['int8', 'int16', 'int32', 'int64'];
const UNSIGNED = ['uint8', 'uint16', 'uint32', 'uint64'];
const INTS = [...SIGNED, ...UNSIGNED];
const FLOATS = ['float32', 'float64', 'float16'];
const NUMBERS = [...FLOATS, ...INTS];
const BIG = new Set(['int64', 'uint64']);

type Scalar = number | bigint;
type Fn2 = (a: Scalar, b: Scalar) => Scalar | boolean;

/** Collapsed dims and strides left-padded to the four dims of the Wasm kernels' layout. */
function pad4(dims: readonly number[], ...strides: (readonly number[])[]): number[][] {
  const pad = 4 - dims.length;
  return [[...new Array<number>(pad).fill(1), ...dims], ...strides.map((s) => [...new Array<number>(pad).fill(0), ...s])];
}

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
  /** Comparison code for the monomorphic float32 → bool loop (Equal, Less, …). */
  cmp?: Cmp;
}

function binaryDef(spec: BinarySpec): OpDef {
  return {
    opType: spec.opType, since: spec.since, attributes: spec.attributes ?? [],
    prepare(ctx) {
      const a = ctx.input(0), b = ctx.input(1);
      requireDtype(ctx, 0, spec.types);
      if (a.dtype !== b.dtype) ctx.fail(`inputs have different types (${a.dtype} and ${b.dtype})`, 'INVALID_MODEL');
      const outType = spec.out ? spec.out(a.dtype) : a.dtype;
      return prepareBroadcast(ctx, [a.dtype, b.dtype], outType, spec.fn(ctx, a.dtype), spec.cmp);
    },
  };
}

/** A broadcasting two-input op in JavaScript: y = f(a, b), with float16 decoded and encoded. */
export function prepareBroadcast(ctx: OpContext, types: readonly [DType, DType], outType: DType, fn: Fn2, cmpCode?: Cmp): Prepared {
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
      if (cmpCode !== undefined && types[0] === 'float32' && types[1] === 'float32') {
        if (dims.length <= 4) {
          const [d, sa, sb] = pad4(dims, strides[0]!, strides[1]!);
          const [A, B, Y, k] = [bd.inputs[0]!, bd.inputs[1]!, bd.outputs[0]!, bd.k];
          return () => k.compare_f32(A, B, Y, cmpCode, d[0]!, d[1]!, d[2]!, d[3]!, sa[0]!, sa[1]!, sa[2]!, sa[3]!, sb[0]!, sb[1]!, sb[2]!, sb[3]!);
        }
        return () => compareF32(cmpCode, va() as Float32Array, vb() as Float32Array, vy() as Uint8Array, dims, strides[0]!, strides[1]!);
      }
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

const Cmp = { eq: 0, lt: 1, gt: 2, le: 3, ge: 4 } as const;
type Cmp = (typeof Cmp)[keyof typeof Cmp];

const cmp = (opType: string, since: number, types: readonly string[], f: Fn2, code: Cmp): OpDef =>
  binaryDef({ opType, since, types, out: () => 'bool', fn: () => f, cmp: code });

/**
 * float32 comparisons beyond four collapsed dims (the Wasm kernel takes four), in one monomorphic
 * function: the shared generic loop sees every dtype and element function, so V8 cannot
 * specialise it.
 */
function compareF32(op: Cmp, A: Float32Array, B: Float32Array, Y: Uint8Array, dims: readonly number[], sa: readonly number[], sb: readonly number[]): void {
  const rank = dims.length;
  const n = shapeSize(dims);
  if (n === 0) return;
  const last = rank ? dims[rank - 1]! : 1, as = rank ? sa[rank - 1]! : 0, bs = rank ? sb[rank - 1]! : 0;
  const idx = new Int32Array(Math.max(rank - 1, 1));
  let ia = 0, ib = 0;
  for (let o = 0; o < n; o += last) {
    let pa = ia, pb = ib;
    const end = o + last;
    switch (op) {
      case Cmp.eq: for (let i = o; i < end; i++, pa += as, pb += bs) Y[i] = A[pa]! === B[pb]! ? 1 : 0; break;
      case Cmp.lt: for (let i = o; i < end; i++, pa += as, pb += bs) Y[i] = A[pa]! < B[pb]! ? 1 : 0; break;
      case Cmp.gt: for (let i = o; i < end; i++, pa += as, pb += bs) Y[i] = A[pa]! > B[pb]! ? 1 : 0; break;
      case Cmp.le: for (let i = o; i < end; i++, pa += as, pb += bs) Y[i] = A[pa]! <= B[pb]! ? 1 : 0; break;
      default: for (let i = o; i < end; i++, pa += as, pb += bs) Y[i] = A[pa]! >= B[pb]! ? 1 : 0;
    }
    for (let k = rank - 2; k >= 0; k--) {
      ia += sa[k]!; ib += sb[k]!;
      if (++idx[k]! < dims[k]!) break;
      ia -= sa[k]! * dims[k]!; ib -= sb[k]! * dims[k]!;
      idx[k] = 0;
    }
  }
}

/** String operands go to the plan-time string implementation; numbers keep the kernel path. */
const withStrings = (def: OpDef): OpDef => ({
  ...def,
  prepare: (ctx) => (ctx.input(0).dtype === 'string' ? prepareStringEqual(ctx) : def.prepare(ctx)),
});

const BOOL = ['bool'];
const boolOp = (opType: string, f: (a: number, b: number) => number): OpDef =>
  binaryDef({ opType, since: 7, types: BOOL, fn: () => f as Fn2 });

export const comparisonOps: OpDef[] = [
  withStrings(cmp('Equal', 7, [...NUMBERS, 'bool'], (a, b) => a === b, Cmp.eq)),
  cmp('Less', 7, NUMBERS, (a, b) => a < b, Cmp.lt),
  cmp('Greater', 7, NUMBERS, (a, b) => a > b, Cmp.gt),
  cmp('LessOrEqual', 12, NUMBERS, (a, b) => a <= b, Cmp.le),
  cmp('GreaterOrEqual', 12, NUMBERS, (a, b) => a >= b, Cmp.ge),
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
  if (lanes === 1 && laneType === 'uint32' && dims.length <= 4) {
    const [d, c, x, y] = pad4(dims, ...strides);
    const [C, X, Y, O, k] = [bd.inputs[0]!, bd.inputs[1]!, bd.inputs[2]!, bd.outputs[0]!, bd.k];
    return () => k.where_32(C, X, Y, O, d[0]!, d[1]!, d[2]!, d[3]!, c[0]!, c[1]!, c[2]!, c[3]!, x[0]!, x[1]!, x[2]!, x[3]!, y[0]!, y[1]!, y[2]!, y[3]!);
  }
  if (laneType === 'uint32') {
    return () => where32(vc() as Uint8Array, vx() as Uint32Array, vy() as Uint32Array, vo() as Uint32Array, dims, strides, lanes);
  }
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

/**
 * Where over 8-byte elements (int64 ids), or 4-byte ones beyond four collapsed dims: one
 * monomorphic function (4-byte elements within four dims run on the Wasm kernel where_32).
 */
function where32(C: Uint8Array, X: Uint32Array, Y: Uint32Array, O: Uint32Array, dims: readonly number[], st: readonly (readonly number[])[], lanes: number): void {
  const rank = dims.length;
  const n = shapeSize(dims);
  if (n === 0) return;
  const [s0, s1, s2] = st as [number[], number[], number[]];
  const last = rank ? dims[rank - 1]! : 1;
  const sc = rank ? s0[rank - 1]! : 0, sx = rank ? s1[rank - 1]! * lanes : 0, sy = rank ? s2[rank - 1]! * lanes : 0;
  const idx = new Int32Array(Math.max(rank - 1, 1));
  let ic = 0, ix = 0, iy = 0;
  for (let o = 0; o < n; o += last) {
    let pc = ic, px = ix * lanes, py = iy * lanes;
    if (lanes === 1) {
      for (let i = o, end = o + last; i < end; i++, pc += sc, px += sx, py += sy) O[i] = C[pc] ? X[px]! : Y[py]!;
    } else {
      for (let i = o * 2, end = (o + last) * 2; i < end; i += 2, pc += sc, px += sx, py += sy) {
        if (C[pc]) { O[i] = X[px]!; O[i + 1] = X[px + 1]!; } else { O[i] = Y[py]!; O[i + 1] = Y[py + 1]!; }
      }
    }
    for (let k = rank - 2; k >= 0; k--) {
      ic += s0[k]!; ix += s1[k]!; iy += s2[k]!;
      if (++idx[k]! < dims[k]!) break;
      ic -= s0[k]! * dims[k]!; ix -= s1[k]! * dims[k]!; iy -= s2[k]! * dims[k]!;
      idx[k] = 0;
    }
  }
}

export const logicOps: OpDef[] = [...comparisonOps, ...bitOps, ...unaryLogicOps, where];
