/**
 * Cast and CastLike between every numeric type, bool, and ONNX's small formats (float16, bfloat16,
 * float8, float4, int4/int2), which are stored as their bits and converted by onnx/float-formats.
 */
import { bytesPerElement, shapeSize } from '../../api/tensor.js';
import type { DType } from '../../graph/ir.js';
import { dtypeFromOnnx, onnxTypeName } from '../../onnx/dtype.js';
import type { NumericArray } from '../../runtime/memory.js';
import type { OpContext, OpDef, Prepared } from '../types.js';
import {
  type E8M0RoundMode, bfloat16ToFloat, e8m0ToFloat, floatToBfloat16, floatToE8M0, floatToHalf, floatToMiniFloat, floatToSubByteInt, halfToFloat, miniFloatToFloat,
} from '../../onnx/float-formats.js';

export { floatToHalf, halfToFloat } from '../../onnx/float-formats.js';

type Scalar = number | bigint;

/** How to read one stored element as a number (small floats decoded from their bits). */
function reader(from: DType): (v: Scalar) => Scalar {
  switch (from) {
    case 'float16': return (v) => halfToFloat(v as number);
    case 'bfloat16': return (v) => bfloat16ToFloat(v as number);
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz': case 'float4e2m1':
      return (v) => miniFloatToFloat(from, v as number);
    case 'float8e8m0': return (v) => e8m0ToFloat(v as number);
    default: return (v) => v;
  }
}

/**
 * Converts one value as ONNX's Cast: integer targets truncate toward zero and wrap like C casts,
 * sub-byte integers clamp and round half to even, small floats round to nearest even (`saturate`
 * clamping float8 overflow to the largest finite value).
 */
export function converter(from: DType, to: DType, saturate = true, roundMode: E8M0RoundMode = 'up'): (v: Scalar) => Scalar {
  const read = reader(from);
  const toNum = (v: Scalar) => (typeof v === 'bigint' ? Number(v) : v);
  switch (to) {
    case 'bool': return (v) => (read(v) ? 1 : 0);
    case 'float16': return (v) => floatToHalf(toNum(read(v)));
    case 'bfloat16': return (v) => floatToBfloat16(toNum(read(v)));
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz': case 'float4e2m1':
      return (v) => floatToMiniFloat(to, toNum(read(v)), saturate);
    case 'float8e8m0': return (v) => floatToE8M0(toNum(read(v)), saturate, roundMode);
    case 'int4': case 'uint4': case 'int2': case 'uint2': return (v) => floatToSubByteInt(to, toNum(read(v)));
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
  const saturate = ctx.attrs.intOpt('saturate') ?? 1;
  const roundMode = ctx.attrs.string('round_mode', 'up');
  if (!['up', 'down', 'nearest'].includes(roundMode)) throw ctx.attrs.error('round_mode', `must be 'up', 'down' or 'nearest', got '${roundMode}'`);
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
  const f = converter(x.dtype, to, saturate !== 0, roundMode as E8M0RoundMode);
  return {
    outputs: [{ dtype: to, dims: x.dims }],
    build: (bd) => {
      // float16 ↔ float32, the casts fp16 exports put around their float32 islands: Wasm kernels
      // with the bits of halfToFloat / floatToHalf (assembly/half.ts).
      const [from, out] = [bd.inputs[0]!, bd.outputs[0]!];
      if (x.dtype === 'float16' && to === 'float32') return () => bd.k.widen_f16_f32(from, out, n);
      if (x.dtype === 'float32' && to === 'float16') return () => bd.k.narrow_f32_f16(from, out, n);
      // int32 → float32, the Cast after ConvInteger / MatMulInteger: one SIMD pass (assembly/convert.ts).
      if (x.dtype === 'int32' && to === 'float32') return () => bd.k.convert_i32_f32(from, out, n);
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
    opType: 'Cast', since: 6, attributes: ['to', 'saturate', 'round_mode'],
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
  { opType: 'CastLike', since: 15, attributes: ['saturate', 'round_mode'], prepare: (ctx) => prepareCast(ctx, ctx.input(1).dtype) },
];
