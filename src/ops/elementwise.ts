/**
 * Element-wise ops: float32 runs on the Wasm kernels (unary_f32 / binary_f32 with broadcasting
 * collapsed to at most four loops); other numeric types run a plain JavaScript loop.
 */
import { shapeSize } from '../api/tensor.js';
import type { DType } from '../graph/ir.js';
import { Act, Binary, Unary } from '../runtime/kernels.js';
import type { Bound, OpContext, OpDef, Prepared, Step } from './types.js';
import { broadcastShapes, broadcastStrides, collapse, requireDtype } from './util.js';

const FLOATS = ['float32'];
const NUMBERS = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'];

// ---------------------------------------------------------------- unary

interface UnarySpec {
  opType: string;
  since: number;
  attributes?: string[];
  /** Kernel op code and its two parameters, from the node's attributes. */
  code(ctx: OpContext): { op: number; a: number; b: number };
  /** JavaScript for other dtypes (omitted: float32 only). */
  js?: (x: number) => number;
  types?: string[];
}

function unaryDef(spec: UnarySpec): OpDef {
  return {
    opType: spec.opType,
    since: spec.since,
    attributes: spec.attributes ?? [],
    prepare(ctx) {
      const x = ctx.input(0);
      requireDtype(ctx, 0, spec.types ?? (spec.js ? NUMBERS : FLOATS));
      const { op, a, b } = spec.code(ctx);
      const n = shapeSize(x.dims);
      return {
        outputs: [{ dtype: x.dtype, dims: x.dims }],
        build: (bd) => {
          if (x.dtype === 'float32') return () => bd.k.unary_f32(bd.inputs[0]!, bd.outputs[0]!, n, op, a, b);
          return jsUnary(bd, x.dtype, n, spec.js!);
        },
      };
    },
  };
}

function jsUnary(bd: Bound, dtype: DType, n: number, f: (x: number) => number): Step {
  const src = bd.view(dtype, bd.inputs[0]!, n);
  const dst = bd.view(dtype, bd.outputs[0]!, n);
  const big = dtype === 'int64' || dtype === 'uint64';
  return () => {
    const s = src(), d = dst();
    if (big) for (let i = 0; i < n; i++) d[i] = BigInt(f(Number(s[i]))) as never;
    else for (let i = 0; i < n; i++) d[i] = f(s[i] as number);
  };
}

const fixed = (op: number, a = 0, b = 0) => () => ({ op, a, b });

export const unaryOps: OpDef[] = [
  unaryDef({ opType: 'Relu', since: 6, code: fixed(Act.relu), js: (x) => (x > 0 ? x : 0) }),
  unaryDef({ opType: 'Sigmoid', since: 6, code: fixed(Act.sigmoid) }),
  unaryDef({ opType: 'Tanh', since: 6, code: fixed(Act.tanh) }),
  unaryDef({ opType: 'LeakyRelu', since: 6, attributes: ['alpha'], code: (c) => ({ op: Act.leakyRelu, a: c.attrs.float('alpha', 0.01), b: 0 }) }),
  unaryDef({ opType: 'HardSigmoid', since: 6, attributes: ['alpha', 'beta'], code: (c) => ({ op: Act.hardSigmoid, a: c.attrs.float('alpha', 0.2), b: c.attrs.float('beta', 0.5) }) }),
  unaryDef({ opType: 'HardSwish', since: 14, code: fixed(Act.hardSwish) }),
  unaryDef({ opType: 'Elu', since: 6, attributes: ['alpha'], code: (c) => ({ op: Act.elu, a: c.attrs.float('alpha', 1), b: 0 }) }),
  unaryDef({
    opType: 'Selu', since: 6, attributes: ['alpha', 'gamma'],
    code: (c) => ({ op: Act.selu, a: c.attrs.float('alpha', 1.67326319217681884765625), b: c.attrs.float('gamma', 1.05070102214813232421875) }),
  }),
  unaryDef({ opType: 'Softplus', since: 1, code: fixed(Act.softplus) }),
  unaryDef({ opType: 'Mish', since: 18, code: fixed(Act.mish) }),
  unaryDef({
    opType: 'Gelu', since: 20, attributes: ['approximate'],
    code: (c) => ({ op: c.attrs.oneOf('approximate', ['none', 'tanh'], 'none') === 'tanh' ? Act.geluTanh : Act.geluErf, a: 0, b: 0 }),
  }),
  unaryDef({ opType: 'Exp', since: 6, code: fixed(Unary.exp) }),
  unaryDef({ opType: 'Log', since: 6, code: fixed(Unary.log) }),
  unaryDef({ opType: 'Sqrt', since: 6, code: fixed(Unary.sqrt) }),
  unaryDef({ opType: 'Neg', since: 6, code: fixed(Unary.neg), js: (x) => -x, types: ['float32', 'float64', 'int8', 'int16', 'int32', 'int64'] }),
  unaryDef({ opType: 'Abs', since: 6, code: fixed(Unary.abs), js: Math.abs }),
  unaryDef({ opType: 'Reciprocal', since: 6, code: fixed(Unary.reciprocal) }),
  unaryDef({ opType: 'Floor', since: 6, code: fixed(Unary.floor) }),
  unaryDef({ opType: 'Ceil', since: 6, code: fixed(Unary.ceil) }),
  unaryDef({ opType: 'Round', since: 11, code: fixed(Unary.round) }),
  unaryDef({ opType: 'Erf', since: 9, code: fixed(Unary.erf) }),
  unaryDef({ opType: 'Sin', since: 7, code: fixed(Unary.sin) }),
  unaryDef({ opType: 'Cos', since: 7, code: fixed(Unary.cos) }),
  unaryDef({ opType: 'Sign', since: 9, code: fixed(Unary.sign), js: Math.sign }),
  unaryDef({ opType: 'Softsign', since: 1, code: fixed(Unary.softsign) }),
];

/** Clip: bounds are attributes before opset 11 and optional constant inputs since. */
export const clipOp: OpDef = {
  opType: 'Clip',
  since: 6,
  attributes: ['min', 'max'],
  prepare(ctx) {
    const x = ctx.input(0);
    requireDtype(ctx, 0, NUMBERS);
    let lo = -Infinity, hi = Infinity;
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

const BINARY_JS: Record<number, (a: number, b: number) => number> = {
  [Binary.add]: (a, b) => a + b,
  [Binary.sub]: (a, b) => a - b,
  [Binary.mul]: (a, b) => a * b,
  [Binary.div]: (a, b) => a / b,
  [Binary.max]: Math.max,
  [Binary.min]: Math.min,
  [Binary.pow]: Math.pow,
  [Binary.prelu]: (a, b) => (a < 0 ? a * b : a),
};

const INTEGER = new Set(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

/** Prepares a broadcasting binary op on two inputs. */
export function prepareBinary(ctx: OpContext, op: number, types: readonly string[] = NUMBERS): Prepared {
  const a = ctx.input(0), b = ctx.input(1);
  requireDtype(ctx, 0, types);
  if (op === Binary.pow) {
    // Pow allows a different exponent type; compute in the base's type.
  } else if (a.dtype !== b.dtype) {
    ctx.fail(`inputs have different types (${a.dtype} and ${b.dtype})`, 'INVALID_MODEL');
  }
  const out = broadcastShapes(ctx, [a.dims, b.dims]);
  const { dims, strides } = collapse(out, [broadcastStrides(a.dims, out), broadcastStrides(b.dims, out)]);
  const dtype = a.dtype;
  return {
    outputs: [{ dtype, dims: out }],
    build: (bd) => {
      if (dtype === 'float32' && b.dtype === 'float32') return binaryKernel(bd, op, dims, strides[0]!, strides[1]!);
      return jsBinary(bd, op, dtype, b.dtype, out, dims, strides[0]!, strides[1]!);
    },
  };
}

/** Runs binary_f32 over up to four collapsed dims; more are looped here. */
function binaryKernel(bd: Bound, op: number, dims: number[], sa: number[], sb: number[]): Step {
  const pad = Math.max(0, 4 - dims.length);
  const d = [...new Array(pad).fill(1), ...dims];
  const as = [...new Array(pad).fill(0), ...sa];
  const bs = [...new Array(pad).fill(0), ...sb];
  const outer = d.length - 4;
  const [A, B, Y] = [bd.inputs[0]!, bd.inputs[1]!, bd.outputs[0]!];
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

function jsBinary(bd: Bound, op: number, dtype: DType, bType: DType, out: number[], dims: number[], sa: number[], sb: number[]): Step {
  const n = shapeSize(out);
  const aLen = n === 0 ? 0 : 1 + dims.reduce((acc, d, i) => acc + (d - 1) * sa[i]!, 0);
  const bLen = n === 0 ? 0 : 1 + dims.reduce((acc, d, i) => acc + (d - 1) * sb[i]!, 0);
  const va = bd.view(dtype, bd.inputs[0]!, aLen), vb = bd.view(bType, bd.inputs[1]!, bLen), vy = bd.view(dtype, bd.outputs[0]!, n);
  const f = BINARY_JS[op]!;
  const big = dtype === 'int64' || dtype === 'uint64';
  const truncate = INTEGER.has(dtype) && op === Binary.div;
  const rank = dims.length;
  const idx = new Array<number>(rank).fill(0);
  return () => {
    const A = va(), B = vb(), Y = vy();
    idx.fill(0);
    let ia = 0, ib = 0;
    for (let i = 0; i < n; i++) {
      let r: number | bigint;
      if (big) {
        const x = A[ia] as bigint, y = typeof B[ib] === 'bigint' ? (B[ib] as bigint) : BigInt(Math.trunc(B[ib] as number));
        r = bigBinary(op, x, y);
      } else {
        const v = f(A[ia] as number, Number(B[ib]));
        r = truncate ? Math.trunc(v) : v;
      }
      Y[i] = r as never;
      // Odometer increment over the collapsed dims.
      for (let k = rank - 1; k >= 0; k--) {
        ia += sa[k]!; ib += sb[k]!;
        if (++idx[k]! < dims[k]!) break;
        ia -= sa[k]! * dims[k]!; ib -= sb[k]! * dims[k]!;
        idx[k] = 0;
      }
    }
  };
}

function bigBinary(op: number, x: bigint, y: bigint): bigint {
  switch (op) {
    case Binary.add: return x + y;
    case Binary.sub: return x - y;
    case Binary.mul: return x * y;
    case Binary.div: return y === 0n ? 0n : x / y;
    case Binary.max: return x > y ? x : y;
    case Binary.min: return x < y ? x : y;
    case Binary.pow: return y < 0n ? 0n : x ** y;
    default: return x;
  }
}

const binaryDef = (opType: string, op: number, since = 7): OpDef => ({
  opType, since, attributes: [], prepare: (ctx) => prepareBinary(ctx, op),
});

/** Max/Min/Sum/Mean take any number of inputs; two is by far the common case. */
const variadic = (opType: string, op: number): OpDef => ({
  opType, since: 8, attributes: [],
  prepare(ctx) {
    if (ctx.inputs.length !== 2) ctx.fail(`tessera supports ${opType} with exactly 2 inputs, got ${ctx.inputs.length}`, 'UNSUPPORTED_OP');
    return prepareBinary(ctx, op);
  },
});

export const binaryOps: OpDef[] = [
  binaryDef('Add', Binary.add),
  binaryDef('Sub', Binary.sub),
  binaryDef('Mul', Binary.mul),
  binaryDef('Div', Binary.div),
  binaryDef('Pow', Binary.pow),
  binaryDef('PRelu', Binary.prelu),
  variadic('Max', Binary.max),
  variadic('Min', Binary.min),
  variadic('Sum', Binary.add),
];

export const elementwiseOps: OpDef[] = [...unaryOps, clipOp, ...binaryOps];

