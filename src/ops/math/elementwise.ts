/**
 * Element-wise ops: float32 runs on the Wasm kernels (unary_f32 / binary_f32 with broadcasting
 * collapsed to at most four loops); other numeric types run a plain JavaScript loop.
 */
import { shapeSize } from '../../api/tensor.js';
import type { DType } from '../../graph/ir.js';
import { Act, Binary, Unary } from '../../runtime/kernels.js';
import { floatToHalf, halfToFloat } from './cast.js';
import type { Bound, OpContext, OpDef, Prepared, Step } from '../types.js';
import { broadcastShapes, broadcastStrides, collapse, normalizeAxis, requireDtype } from '../util.js';
import { refuseAttrsFrom } from '../values.js';

const FLOATS = ['float32', 'float64', 'float16'];
const NUMBERS = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'];

// ---------------------------------------------------------------- unary

interface UnarySpec {
  opType: string;
  since: number;
  attributes?: string[];
  /** Kernel op code and its two parameters, from the node's attributes (omitted: JavaScript only). */
  code?(ctx: OpContext): { op: number; a: number; b: number };
  /** Parameters for `js` when there is no kernel code. */
  params?(ctx: OpContext): { a: number; b: number };
  /** JavaScript for the dtypes the kernel does not cover (and float32 when there is no code). */
  js: (x: number, a: number, b: number) => number;
  types?: string[];
}

function unaryDef(spec: UnarySpec): OpDef {
  return {
    opType: spec.opType,
    since: spec.since,
    attributes: spec.attributes ?? [],
    prepare(ctx) {
      const x = ctx.input(0);
      requireDtype(ctx, 0, spec.types ?? FLOATS);
      const { op, a, b } = spec.code ? spec.code(ctx) : { op: -1, ...spec.params?.(ctx) ?? { a: 0, b: 0 } };
      const n = shapeSize(x.dims);
      return {
        outputs: [{ dtype: x.dtype, dims: x.dims }],
        build: (bd) => {
          if (x.dtype === 'float32' && op >= 0) return () => bd.k.unary_f32(bd.inputs[0]!, bd.outputs[0]!, n, op, a, b);
          return jsUnary(bd, x.dtype, n, (v) => spec.js(v, a, b));
        },
      };
    },
  };
}

function jsUnary(bd: Bound, dtype: DType, n: number, f: (x: number) => number): Step {
  const src = bd.view(dtype, bd.inputs[0]!, n);
  const dst = bd.view(dtype, bd.outputs[0]!, n);
  const big = dtype === 'int64' || dtype === 'uint64';
  const half = dtype === 'float16';
  return () => {
    const s = src(), d = dst();
    if (big) for (let i = 0; i < n; i++) d[i] = BigInt.asIntN(64, BigInt(Math.trunc(f(Number(s[i]))))) as never;
    else if (half) for (let i = 0; i < n; i++) d[i] = floatToHalf(f(halfToFloat(s[i] as number)));
    else for (let i = 0; i < n; i++) d[i] = f(s[i] as number);
  };
}

const fixed = (op: number, a = 0, b = 0) => () => ({ op, a, b });

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
/** Round half to even, as ONNX (and numpy) round. */
const roundEven = (x: number) => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};
const SIGNED = ['float32', 'float64', 'float16', 'int8', 'int16', 'int32', 'int64'];
const F = ['float32', 'float64', 'float16'];

export const unaryOps: OpDef[] = [
  unaryDef({ opType: 'Relu', since: 6, code: fixed(Act.relu), js: (x) => (x > 0 ? x : 0), types: SIGNED }),
  unaryDef({ opType: 'Sigmoid', since: 6, code: fixed(Act.sigmoid), js: sigmoid }),
  unaryDef({ opType: 'Tanh', since: 6, code: fixed(Act.tanh), js: Math.tanh }),
  unaryDef({ opType: 'LeakyRelu', since: 6, attributes: ['alpha'], code: (c) => ({ op: Act.leakyRelu, a: c.attrs.float('alpha', 0.01), b: 0 }), js: (x, a) => (x < 0 ? a * x : x) }),
  unaryDef({
    opType: 'HardSigmoid', since: 6, attributes: ['alpha', 'beta'],
    code: (c) => ({ op: Act.hardSigmoid, a: c.attrs.float('alpha', 0.2), b: c.attrs.float('beta', 0.5) }),
    js: (x, a, b) => Math.max(0, Math.min(1, a * x + b)),
  }),
  unaryDef({ opType: 'HardSwish', since: 14, code: fixed(Act.hardSwish), js: (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)) }),
  unaryDef({ opType: 'Elu', since: 6, attributes: ['alpha'], code: (c) => ({ op: Act.elu, a: c.attrs.float('alpha', 1), b: 0 }), js: (x, a) => (x < 0 ? a * Math.expm1(x) : x) }),
  unaryDef({
    opType: 'Selu', since: 6, attributes: ['alpha', 'gamma'],
    code: (c) => ({ op: Act.selu, a: c.attrs.float('alpha', 1.67326319217681884765625), b: c.attrs.float('gamma', 1.05070102214813232421875) }),
    js: (x, a, g) => (x <= 0 ? g * a * Math.expm1(x) : g * x),
  }),
  unaryDef({
    opType: 'Celu', since: 12, attributes: ['alpha'],
    params: (c) => {
      const a = c.attrs.float('alpha', 1);
      if (a === 0) throw c.attrs.error('alpha', 'must not be 0');
      return { a, b: 0 };
    },
    js: (x, a) => Math.max(0, x) + Math.min(0, a * Math.expm1(x / a)),
  }),
  unaryDef({ opType: 'ThresholdedRelu', since: 10, attributes: ['alpha'], params: (c) => ({ a: c.attrs.float('alpha', 1), b: 0 }), js: (x, a) => (x > a ? x : 0) }),
  unaryDef({
    opType: 'Shrink', since: 9, attributes: ['bias', 'lambd'], types: [...NUMBERS, 'float16'],
    params: (c) => ({ a: c.attrs.float('lambd', 0.5), b: c.attrs.float('bias', 0) }),
    js: (x, l, b) => (x < -l ? x + b : x > l ? x - b : 0),
  }),
  unaryDef({ opType: 'Softplus', since: 1, code: fixed(Act.softplus), js: softplus }),
  unaryDef({ opType: 'Mish', since: 18, code: fixed(Act.mish), js: (x) => x * Math.tanh(softplus(x)) }),
  unaryDef({
    opType: 'Swish', since: 24, attributes: ['alpha'],
    params: (c) => ({ a: c.attrs.float('alpha', 1), b: 0 }),
    js: (x, a) => x * sigmoid(a * x),
  }),
  unaryDef({
    opType: 'Gelu', since: 20, attributes: ['approximate'],
    code: (c) => ({ op: c.attrs.oneOf('approximate', ['none', 'tanh'], 'none') === 'tanh' ? Act.geluTanh : Act.geluErf, a: 0, b: 0 }),
    js: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  }),
  unaryDef({ opType: 'Exp', since: 6, code: fixed(Unary.exp), js: Math.exp }),
  unaryDef({ opType: 'Log', since: 6, code: fixed(Unary.log), js: Math.log }),
  unaryDef({ opType: 'Sqrt', since: 6, code: fixed(Unary.sqrt), js: Math.sqrt }),
  unaryDef({ opType: 'Neg', since: 6, code: fixed(Unary.neg), js: (x) => -x, types: SIGNED }),
  unaryDef({ opType: 'Abs', since: 6, code: fixed(Unary.abs), js: Math.abs, types: [...NUMBERS, 'float16'] }),
  unaryDef({ opType: 'Reciprocal', since: 6, code: fixed(Unary.reciprocal), js: (x) => 1 / x }),
  unaryDef({ opType: 'Floor', since: 6, code: fixed(Unary.floor), js: Math.floor }),
  unaryDef({ opType: 'Ceil', since: 6, code: fixed(Unary.ceil), js: Math.ceil }),
  unaryDef({ opType: 'Round', since: 11, code: fixed(Unary.round), js: roundEven }),
  unaryDef({ opType: 'Erf', since: 9, code: fixed(Unary.erf), js: erf }),
  unaryDef({ opType: 'Sin', since: 7, code: fixed(Unary.sin), js: Math.sin }),
  unaryDef({ opType: 'Cos', since: 7, code: fixed(Unary.cos), js: Math.cos }),
  unaryDef({ opType: 'Tan', since: 7, js: Math.tan }),
  unaryDef({ opType: 'Asin', since: 7, js: Math.asin }),
  unaryDef({ opType: 'Acos', since: 7, js: Math.acos }),
  unaryDef({ opType: 'Atan', since: 7, js: Math.atan }),
  unaryDef({ opType: 'Sinh', since: 9, js: Math.sinh }),
  unaryDef({ opType: 'Cosh', since: 9, js: Math.cosh }),
  unaryDef({ opType: 'Asinh', since: 9, js: Math.asinh }),
  unaryDef({ opType: 'Acosh', since: 9, js: Math.acosh }),
  unaryDef({ opType: 'Atanh', since: 9, js: Math.atanh }),
  unaryDef({ opType: 'Sign', since: 9, code: fixed(Unary.sign), js: Math.sign, types: [...NUMBERS, 'float16'] }),
  unaryDef({ opType: 'Softsign', since: 1, code: fixed(Unary.softsign), js: (x) => x / (1 + Math.abs(x)) }),
];

/** erf to ~1e-15 (Abramowitz–Stegun 7.1.26 is too coarse for float64 tests): series near 0, continued fraction beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)).
    let term = ax, sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * sum * 1.1283791670955126;
  }
  if (ax > 6) return Math.sign(x);
  // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))), evaluated bottom-up.
  let f = 0;
  for (let k = 60; k >= 1; k--) f = (k / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

/** Clip: bounds are attributes before opset 11 and optional constant inputs since. */
export const clipOp: OpDef = {
  opType: 'Clip',
  since: 6,
  attributes: ['min', 'max'],
  prepare(ctx) {
    const x = ctx.input(0);
    requireDtype(ctx, 0, NUMBERS);
    let lo = -Infinity, hi = Infinity;
    refuseAttrsFrom(ctx, 11, ['min', 'max'], 'inputs');
    if (ctx.opset < 11) {
      lo = ctx.attrs.float('min', -3.4028234663852886e38);
      hi = ctx.attrs.float('max', 3.4028234663852886e38);
    } else {
      for (const [i, set] of [[1, (v: number) => { lo = v; }], [2, (v: number) => { hi = v; }]] as const) {
        const b = ctx.inputs[i];
        if (!b) continue;
        if (!b.value) ctx.fail(`input ${i} ('${b.name}') must be a constant`, 'UNSUPPORTED_OP');
        set(Number((b.value as ArrayLike<number | bigint>)[0]));
      }
    }
    const n = shapeSize(x.dims);
    return {
      outputs: [{ dtype: x.dtype, dims: x.dims }],
      build: (bd) => x.dtype === 'float32'
        ? () => bd.k.unary_f32(bd.inputs[0]!, bd.outputs[0]!, n, Act.clip, lo, hi)
        : jsUnary(bd, x.dtype, n, (v) => Math.min(hi, Math.max(lo, v))),
    };
  },
};

// ---------------------------------------------------------------- binary

const NUMBERS16 = [...NUMBERS, 'float16'];
const INTEGER = new Set(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

interface Operand { ptr: number; dtype: DType; dims: readonly number[] }

/**
 * Prepares a broadcasting op over one or more inputs (`Add`: two; `Sum`, `Max`, `Mean`: any
 * number), folded left to right. `bDims` overrides input 1's dims (legacy `broadcast`/`axis`).
 */
export function prepareBinary(ctx: OpContext, op: number, types: readonly string[] = NUMBERS, opts: { bDims?: number[]; mean?: boolean; nary?: boolean } = {}): Prepared {
  const ins = opts.nary ? ctx.inputs.filter((x) => x !== undefined) : [ctx.input(0), ctx.input(1)];
  if (ins.length === 0) ctx.fail('needs at least one input');
  requireDtype(ctx, 0, types);
  const dtype = ins[0]!.dtype;
  ins.forEach((x, i) => {
    // Pow allows a different exponent type; compute in the base's type.
    if (x.dtype !== dtype && !(op === Binary.pow && i === 1)) ctx.fail(`inputs have different types (${dtype} and ${x.dtype})`, 'INVALID_MODEL');
  });
  const dims = ins.map((x, i) => (i === 1 && opts.bDims ? opts.bDims : x.dims));
  const out = broadcastShapes(ctx, dims);
  const mean = opts.mean === true;
  if (ins.length === 1 && !mean) return { outputs: [{ dtype, dims: out }], aliasOf: 0 };
  const n = shapeSize(out);
  const exponent = op === Binary.pow && !opts.nary && ins[1]!.constant ? ins[1]!.value : undefined;
  if (dtype === 'float32' && ins[1]?.dtype === 'float32' && exponent?.length === 1 && shapeSize(ins[0]!.dims) === n) {
    // x ** constant (RMSNorm's x², 33 nodes of a Qwen3 prefill): the unary kernel, one multiply
    // for 2, instead of a scalar pow per element in the broadcasting loop.
    const a = Number(exponent[0]);
    return { outputs: [{ dtype, dims: out }], build: (bd) => () => bd.k.unary_f32(bd.inputs[0]!, bd.outputs[0]!, n, Unary.powScalar, a, 0) };
  }
  return {
    outputs: [{ dtype, dims: out }],
    build: (bd) => {
      const present = ctx.inputs.flatMap((x, i) => (x ? [bd.inputs[i]!] : []));
      const operands: Operand[] = ins.map((x, i) => ({ ptr: present[i]!, dtype: x.dtype, dims: dims[i]! }));
      const Y = bd.outputs[0]!;
      if (dtype === 'float32' && ins.every((x) => x.dtype === 'float32')) {
        const steps: Step[] = [];
        if (ins.length === 1) steps.push(() => bd.k.unary_f32(operands[0]!.ptr, Y, n, Unary.affine, 1, 0));
        for (let k = 1; k < ins.length; k++) {
          // The first step reads input 0 broadcast; later steps accumulate into Y, contiguous.
          const acc = k === 1 ? operands[0]! : { ptr: Y, dtype, dims: out };
          const c = collapse(out, [broadcastStrides(acc.dims, out), broadcastStrides(operands[k]!.dims, out)]);
          steps.push(binaryKernel(bd, acc.ptr, operands[k]!.ptr, Y, op, c.dims, c.strides[0]!, c.strides[1]!));
        }
        if (mean) steps.push(() => bd.k.unary_f32(Y, Y, n, Unary.affine, 1 / ins.length, 0));
        return () => { for (const st of steps) st(); };
      }
      return jsBroadcast(bd, op, dtype, operands, Y, out, mean);
    },
  };
}

/** Runs binary_f32 over up to four collapsed dims; more are looped here. */
function binaryKernel(bd: Bound, A: number, B: number, Y: number, op: number, dims: number[], sa: number[], sb: number[]): Step {
  const pad = Math.max(0, 4 - dims.length);
  const d = [...new Array(pad).fill(1), ...dims];
  const as = [...new Array(pad).fill(0), ...sa];
  const bs = [...new Array(pad).fill(0), ...sb];
  const outer = d.length - 4;
  const k = bd.k;
  if (outer === 0) {
    return () => k.binary_f32(A, B, Y, op, d[0]!, d[1]!, d[2]!, d[3]!, as[0]!, as[1]!, as[2]!, as[3]!, bs[0]!, bs[1]!, bs[2]!, bs[3]!);
  }
  const inner = d.slice(outer);
  const innerSize = inner[0]! * inner[1]! * inner[2]! * inner[3]!;
  const outerDims = d.slice(0, outer);
  const count = outerDims.reduce((x, y) => x * y, 1);
  return () => {
    for (let o = 0; o < count; o++) {
      let rem = o, offA = 0, offB = 0;
      for (let i = outer - 1; i >= 0; i--) {
        const idx = rem % outerDims[i]!;
        rem = (rem - idx) / outerDims[i]!;
        offA += idx * as[i]!;
        offB += idx * bs[i]!;
      }
      k.binary_f32(A + offA * 4, B + offB * 4, Y + o * innerSize * 4, op, inner[0]!, inner[1]!, inner[2]!, inner[3]!,
        as[outer]!, as[outer + 1]!, as[outer + 2]!, as[outer + 3]!, bs[outer]!, bs[outer + 1]!, bs[outer + 2]!, bs[outer + 3]!);
    }
  };
}

function numberOp(op: number, dtype: DType): (a: number, b: number) => number {
  const int = INTEGER.has(dtype);
  switch (op) {
    case Binary.add: return (a, b) => a + b;
    case Binary.sub: return (a, b) => a - b;
    case Binary.mul: return dtype === 'int32' || dtype === 'uint32' ? Math.imul : (a, b) => a * b;
    case Binary.div: return int ? (a, b) => (b === 0 ? 0 : Math.trunc(a / b)) : (a, b) => a / b;
    case Binary.max: return Math.max;
    case Binary.min: return Math.min;
    case Binary.pow: return int ? (a, b) => Math.trunc(a ** b) : Math.pow;
    case Binary.prelu: return (a, b) => (a < 0 ? a * b : a);
    default: throw new Error(`binary op ${op}`);
  }
}

function bigOp(op: number): (x: bigint, y: bigint) => bigint {
  switch (op) {
    case Binary.add: return (x, y) => x + y;
    case Binary.sub: return (x, y) => x - y;
    case Binary.mul: return (x, y) => x * y;
    case Binary.div: return (x, y) => (y === 0n ? 0n : x / y);
    case Binary.max: return (x, y) => (x > y ? x : y);
    case Binary.min: return (x, y) => (x < y ? x : y);
    case Binary.pow: return (x, y) => (y < 0n ? (x === 1n ? 1n : 0n) : x ** y);
    case Binary.prelu: return (x, y) => (x < 0n ? x * y : x);
    default: throw new Error(`binary op ${op}`);
  }
}

/** Any dtype, any number of operands: an odometer over the collapsed output dims. */
function jsBroadcast(bd: Bound, op: number, dtype: DType, operands: Operand[], Y: number, out: number[], mean: boolean): Step {
  const n = shapeSize(out);
  const { dims, strides } = collapse(out, operands.map((o) => broadcastStrides(o.dims, out)));
  const views = operands.map((o, k) => bd.view(o.dtype, o.ptr, n === 0 ? 0 : 1 + dims.reduce((acc, d, i) => acc + (d - 1) * strides[k]![i]!, 0)));
  const vy = bd.view(dtype, Y, n);
  const big = dtype === 'int64' || dtype === 'uint64';
  const half = dtype === 'float16';
  const m = operands.length, rank = dims.length;
  const fNum = numberOp(op, dtype), fBig = bigOp(op);
  const wrap = dtype === 'uint64' ? (v: bigint) => BigInt.asUintN(64, v) : (v: bigint) => BigInt.asIntN(64, v);
  const readNum = (o: Operand) => (o.dtype === 'float16' ? (v: unknown) => halfToFloat(v as number) : (v: unknown) => Number(v));
  const readBig = (o: Operand) => (o.dtype === 'int64' || o.dtype === 'uint64' ? (v: unknown) => v as bigint : (v: unknown) => BigInt(Math.trunc(Number(v))));
  const readers: ((v: unknown) => number | bigint)[] = operands.map((o) => (big ? readBig(o) : readNum(o)));
  const idx = new Array<number>(rank).fill(0);
  const pos = new Array<number>(m).fill(0);
  return () => {
    const arrs = views.map((v) => v()), Yv = vy();
    idx.fill(0); pos.fill(0);
    for (let i = 0; i < n; i++) {
      let acc = readers[0]!(arrs[0]![pos[0]!]);
      for (let k = 1; k < m; k++) {
        const v = readers[k]!(arrs[k]![pos[k]!]);
        acc = big ? wrap(fBig(acc as bigint, v as bigint)) : fNum(acc as number, v as number);
      }
      if (mean) acc = big ? (acc as bigint) / BigInt(m) : (acc as number) / m;
      Yv[i] = (half ? floatToHalf(acc as number) : acc) as never;
      for (let d = rank - 1; d >= 0; d--) {
        for (let k = 0; k < m; k++) pos[k]! += strides[k]![d]!;
        if (++idx[d]! < dims[d]!) break;
        for (let k = 0; k < m; k++) pos[k]! -= strides[k]![d]! * dims[d]!;
        idx[d] = 0;
      }
    }
  };
}

/**
 * Before opset 7, B broadcast only with `broadcast=1`, aligned to A at `axis` (default: the
 * trailing dims). Padding B with trailing 1s turns that into numpy broadcasting.
 */
function legacyBDims(ctx: OpContext): number[] | undefined {
  const a = ctx.input(0), b = ctx.input(1);
  if (ctx.attrs.int('broadcast', 0) === 0) {
    if (ctx.attrs.has('axis')) throw ctx.attrs.error('axis', 'needs broadcast=1');
    if (a.dims.join() !== b.dims.join()) ctx.fail(`shapes [${a.dims}] and [${b.dims}] differ and broadcast is 0`, 'SHAPE_MISMATCH');
    return undefined;
  }
  const ra = a.dims.length, rb = b.dims.length;
  const axis = ctx.attrs.has('axis') ? normalizeAxis(ctx, ctx.attrs.int('axis', 0), ra) : ra - rb;
  if (axis < 0 || axis + rb > ra) throw ctx.attrs.error('axis', `does not place B [${b.dims}] inside A [${a.dims}]`);
  return [...b.dims, ...new Array<number>(ra - axis - rb).fill(1)];
}

// `consumed_inputs` (opset < 6) was an in-place hint for the old Caffe2 backend; it changes nothing.
const LEGACY_ATTRS = ['broadcast', 'axis', 'consumed_inputs'];

const binaryDefs = (opType: string, op: number, since = 7): OpDef[] => [
  { opType, since, attributes: [], prepare: (ctx) => prepareBinary(ctx, op, NUMBERS16) },
  { opType, since: 1, attributes: LEGACY_ATTRS, prepare: (ctx) => prepareBinary(ctx, op, NUMBERS16, { bDims: legacyBDims(ctx) }) },
];

/** PRelu before opset 7: a 1-D slope of C values applies per channel (axis 1). */
const preluLegacy: OpDef = {
  opType: 'PRelu', since: 1, attributes: ['consumed_inputs'],
  prepare(ctx) {
    const x = ctx.input(0), s = ctx.input(1);
    const channel = s.dims.length === 1 && x.dims.length > 2 && s.dims[0] === x.dims[1] && s.dims[0] !== 1;
    return prepareBinary(ctx, Binary.prelu, NUMBERS, { bDims: channel ? [s.dims[0]!, ...new Array<number>(x.dims.length - 2).fill(1)] : undefined });
  },
};

/** Max/Min/Sum/Mean take one or more inputs, broadcast together (same shapes before opset 8). */
const variadic = (opType: string, op: number, types: readonly string[], mean = false): OpDef[] => [
  { opType, since: 8, attributes: [], prepare: (ctx) => prepareBinary(ctx, op, types, { nary: true, mean }) },
  { opType, since: 1, attributes: ['consumed_inputs'], prepare: (ctx) => prepareBinary(ctx, op, types, { nary: true, mean }) },
];


export const binaryOps: OpDef[] = [
  ...binaryDefs('Add', Binary.add),
  ...binaryDefs('Sub', Binary.sub),
  ...binaryDefs('Mul', Binary.mul),
  ...binaryDefs('Div', Binary.div),
  ...binaryDefs('Pow', Binary.pow),
  { opType: 'PRelu', since: 7, attributes: [], prepare: (ctx) => prepareBinary(ctx, Binary.prelu) },
  preluLegacy,
  ...variadic('Max', Binary.max, NUMBERS16),
  ...variadic('Min', Binary.min, NUMBERS16),
  ...variadic('Sum', Binary.add, FLOATS),
  ...variadic('Mean', Binary.add, FLOATS, true),
];

/** SwiGLU: Swish(a, alpha) · b, broadcasting; float16 computed in float32. */
const swiGlu: OpDef = {
  opType: 'SwiGLU', since: 1, attributes: ['alpha'],
  prepare(ctx) {
    const a = ctx.input(0), b = ctx.input(1);
    requireDtype(ctx, 0, FLOATS);
    if (b.dtype !== a.dtype) ctx.fail(`inputs have different types (${a.dtype} and ${b.dtype})`, 'INVALID_MODEL');
    const alpha = ctx.attrs.float('alpha', 1);
    const out = broadcastShapes(ctx, [a.dims, b.dims]);
    const n = shapeSize(out);
    // Offsets into a and b per output element, only when they broadcast.
    const offsets = (dims: readonly number[]) => {
      if (dims.join() === out.join()) return undefined;
      const st = broadcastStrides(dims, out), o = new Int32Array(n), idx = new Array<number>(out.length).fill(0);
      for (let i = 0, p = 0; i < n; i++) {
        o[i] = p;
        for (let d = out.length - 1; d >= 0; d--) { p += st[d]!; if (++idx[d]! < out[d]!) break; p -= st[d]! * out[d]!; idx[d] = 0; }
      }
      return o;
    };
    const oa = offsets(a.dims), ob = offsets(b.dims);
    const half = a.dtype === 'float16';
    return {
      outputs: [{ dtype: a.dtype, dims: out }],
      build: (bd) => {
        const va = bd.view(a.dtype, bd.inputs[0]!, shapeSize(a.dims)), vb = bd.view(b.dtype, bd.inputs[1]!, shapeSize(b.dims));
        const vy = bd.view(a.dtype, bd.outputs[0]!, n);
        const rd = half ? (v: number) => halfToFloat(v) : (v: number) => v;
        return () => {
          const A = va() as Float32Array, B = vb() as Float32Array, Y = vy() as Float32Array;
          for (let i = 0; i < n; i++) {
            const x = rd(A[oa ? oa[i]! : i]!), g = rd(B[ob ? ob[i]! : i]!);
            const r = x * sigmoid(alpha * x) * g;
            Y[i] = half ? floatToHalf(r) : r;
          }
        };
      },
    };
  },
};

export const elementwiseOps: OpDef[] = [...unaryOps, clipOp, ...binaryOps, swiGlu];
