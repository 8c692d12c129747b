/** Cast and CastLike between every numeric type, bool and float16 (stored as its 16 bits). */
import { bytesPerElement, shapeSize } from '../api/tensor.js';
import type { DType } from '../graph/ir.js';
import { dtypeFromOnnx, onnxTypeName } from '../onnx/dtype.js';
import type { NumericArray } from '../runtime/memory.js';
import type { OpContext, OpDef, Prepared } from './types.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Round-to-nearest-even float → half bits, as numpy and onnxruntime do. */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >> shift;
    const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** Converts one value; integer targets truncate toward zero and wrap like C casts. */
function converter(from: DType, to: DType): (v: number | bigint) => number | bigint {
  const read = from === 'float16' ? (v: number | bigint) => halfToFloat(v as number) : (v: number | bigint) => v;
  const toNum = (v: number | bigint) => (typeof v === 'bigint' ? Number(v) : v);
  switch (to) {
    case 'bool': return (v) => (read(v) ? 1 : 0);
    case 'float16': return (v) => floatToHalf(toNum(read(v)));
    case 'float32': case 'float64': return (v) => toNum(read(v));
    case 'int64': case 'uint64': return (v) => {
      const x = read(v);
      if (typeof x === 'bigint') return to === 'uint64' ? BigInt.asUintN(64, x) : BigInt.asIntN(64, x);
      if (!Number.isFinite(x)) return 0n;
      const b = BigInt(Math.trunc(x));
      return to === 'uint64' ? BigInt.asUintN(64, b) : BigInt.asIntN(64, b);
    };
    default: return (v) => {
      const x = read(v);
      if (typeof x === 'bigint') return Number(BigInt.asIntN(64, x) & 0xffffffffn); // typed array wraps
      return Number.isFinite(x) ? Math.trunc(x) : 0;
    };
  }
}

function prepareCast(ctx: OpContext, to: DType): Prepared {
  const x = ctx.input(0);
  const n = shapeSize(x.dims);
  if (x.dtype === 'string' || to === 'string') {
    if (x.dtype === to) return { outputs: [{ dtype: to, dims: x.dims }], aliasOf: 0 };
    const conv = to === 'string'
      ? (v: NumericArray) => Array.from(v as ArrayLike<number>, (e) => String(x.dtype === 'bool' ? Boolean(e) : e))
      : (v: string[]) => castStrings(v, to);
    return { outputs: [{ dtype: to, dims: x.dims }], evaluate: (v) => [conv(v[0] as never) as never] };
  }
  if (x.dtype === to) return { outputs: [{ dtype: to, dims: x.dims }], aliasOf: 0 };
  const f = converter(x.dtype, to);
  return {
    outputs: [{ dtype: to, dims: x.dims }],
    build: (bd) => {
      const vs = bd.view(x.dtype, bd.inputs[0]!, n), vd = bd.view(to, bd.outputs[0]!, n);
      return () => {
        const S = vs(), D = vd();
        for (let i = 0; i < n; i++) D[i] = f(S[i]!) as never;
      };
    },
  };
}

function castStrings(v: string[], to: DType): NumericArray {
  const out = new (to === 'int64' ? BigInt64Array : to === 'float64' ? Float64Array : Float32Array)(v.length);
  v.forEach((s, i) => { out[i] = (to === 'int64' ? BigInt(Math.trunc(Number(s))) : Number(s)) as never; });
  return out as NumericArray;
}

export const castOps: OpDef[] = [
  {
    opType: 'Cast', since: 6, attributes: ['to', 'saturate'],
    prepare(ctx) {
      const code = ctx.attrs.intOpt('to');
      if (code === undefined) ctx.fail("attribute 'to' is required", 'INVALID_ATTRIBUTE');
      const to = dtypeFromOnnx(code!);
      if (!to) ctx.fail(`casting to ${onnxTypeName(code!)} is not supported`, 'UNSUPPORTED_OP');
      return prepareCast(ctx, to!);
    },
  },
  {
    // The same bits read as another type: an alias of the input (no step runs).
    opType: 'BitCast', since: 26, attributes: ['to'],
    prepare(ctx) {
      const x = ctx.input(0);
      const code = ctx.attrs.intOpt('to');
      if (code === undefined) throw ctx.attrs.error('to', 'is required');
      const to = dtypeFromOnnx(code!);
      if (!to || to === 'string' || x.dtype === 'string') throw ctx.attrs.error('to', `casting ${x.dtype} to ${onnxTypeName(code!)} is not supported`);
      if (bytesPerElement(to!) !== bytesPerElement(x.dtype)) {
        throw ctx.attrs.error('to', `${onnxTypeName(code!)} differs in size from ${x.dtype}; tessera bit-casts only between types of one size`);
      }
      return { outputs: [{ dtype: to!, dims: x.dims }], aliasOf: 0 };
    },
  },
  { opType: 'CastLike', since: 15, attributes: ['saturate'], prepare: (ctx) => prepareCast(ctx, ctx.input(1).dtype) },
];
