/**
 * QuantizeLinear, DequantizeLinear (opsets 10–21: per tensor, per axis, blocked) and
 * DynamicQuantizeLinear. Element-wise JavaScript loops: in a quantized graph these sit at the
 * edges of the integer kernels (or are fused away by graph/passes/fuse-qdq.ts).
 */
import { shapeSize } from '../../api/tensor.js';
import type { DType } from '../../graph/ir.js';
import { dtypeFromOnnx } from '../../onnx/dtype.js';
import { type MiniFloatType, floatToBfloat16, floatToHalf, floatToMiniFloat } from '../../onnx/float-formats.js';
import { MINI_FLOATS, floatReader, quantizeValue, roundHalfEven, saturate, saturator } from '../../math/quant-math.js';
import type { InputInfo, OpContext, OpDef, Prepared } from '../types.js';
import { normalizeAxis, product, requireDtype } from '../util.js';

const FLOATS = ['float32', 'float16', 'bfloat16'];
const INT_QTYPES = ['uint8', 'int8', 'uint16', 'int16', 'int4', 'uint4', 'int2', 'uint2'];
const QTYPES = [...INT_QTYPES, ...MINI_FLOATS];

/** Maps an element index of x to its scale/zero-point index (per tensor, per axis, blocked). */
function scaleIndexer(ctx: OpContext, x: InputInfo, scale: InputInfo): (i: number) => number {
  const n = shapeSize(scale.dims);
  const blockSize = ctx.opset >= 21 ? ctx.attrs.int('block_size', 0) : 0;
  if (blockSize < 0) ctx.fail(`attribute 'block_size' must be ≥ 0, got ${blockSize}`, 'INVALID_ATTRIBUTE');
  if (scale.dims.length === 0 || (n === 1 && scale.dims.length <= 1 && blockSize === 0)) return () => 0;
  const rank = x.dims.length;
  const axis = normalizeAxis(ctx, ctx.opset >= 13 ? ctx.attrs.int('axis', 1) : 1, rank);
  const inner = product(x.dims, axis + 1), len = x.dims[axis]!;
  if (blockSize === 0) {
    if (scale.dims.length !== 1 || n !== len) {
      ctx.fail(`scale '${scale.name}' has shape [${scale.dims}]; per-axis quantization on axis ${axis} of [${x.dims}] needs [${len}]`, 'SHAPE_MISMATCH');
    }
    return (i) => Math.floor(i / inner) % len;
  }
  const blocks = Math.ceil(len / blockSize);
  const ok = scale.dims.length === rank && scale.dims.every((d, k) => (k === axis ? d === blocks : d === x.dims[k]));
  if (!ok) ctx.fail(`scale '${scale.name}' has shape [${scale.dims}]; block_size ${blockSize} on axis ${axis} of [${x.dims}] needs that shape with ${blocks} on the axis`, 'SHAPE_MISMATCH');
  return (i) => {
    const o = Math.floor(i / (inner * len)), a = Math.floor(i / inner) % len, r = i % inner;
    return (o * blocks + Math.floor(a / blockSize)) * inner + r;
  };
}

function checkZeroPoint(ctx: OpContext, scale: InputInfo, zp: InputInfo | undefined): void {
  if (zp && zp.dims.join() !== scale.dims.join() && !(shapeSize(zp.dims) === 1 && shapeSize(scale.dims) === 1)) {
    ctx.fail(`zero point '${zp.name}' has shape [${zp.dims}], scale '${scale.name}' has [${scale.dims}]`, 'SHAPE_MISMATCH');
  }
}

function prepareQuantize(ctx: OpContext): Prepared {
  const x = ctx.input(0), scale = ctx.input(1), zp = ctx.inputs[2];
  requireDtype(ctx, 0, [...FLOATS, 'int32']);
  requireDtype(ctx, 1, FLOATS);
  let outType: DType = 'uint8';
  const code = ctx.opset >= 21 ? ctx.attrs.int('output_dtype', 0) : 0;
  if (code) {
    const t = dtypeFromOnnx(code);
    if (!t || !QTYPES.includes(t)) ctx.fail(`attribute 'output_dtype' ${code} is not a type tessera quantizes to (${QTYPES.join(', ')})`, 'UNSUPPORTED_OP');
    outType = t;
  }
  if (zp) {
    requireDtype(ctx, 2, QTYPES);
    if (code && zp.dtype !== outType) ctx.fail(`output_dtype is ${outType} but zero point '${zp.name}' is ${zp.dtype}`, 'INVALID_MODEL');
    outType = zp.dtype;
  }
  checkZeroPoint(ctx, scale, zp);
  const at = scaleIndexer(ctx, x, scale);
  const n = shapeSize(x.dims), ns = shapeSize(scale.dims);
  const readX = floatReader(x.dtype), readS = floatReader(scale.dtype), readZ = floatReader(outType);
  const mini = MINI_FLOATS.includes(outType), sat = mini ? (v: number) => v : saturator(outType);
  // float8/float4: x / scale + zero point, rounded by the format itself (saturating by default).
  const saturateFloat = ctx.attrs.int('saturate', 1) !== 0;
  const encode = mini ? (v: number) => floatToMiniFloat(outType as MiniFloatType, v, saturateFloat) : undefined;
  return {
    outputs: [{ dtype: outType, dims: [...x.dims] }],
    build: (bd) => {
      const vx = bd.view(x.dtype, bd.inputs[0]!, n), vs = bd.view(scale.dtype, bd.inputs[1]!, ns);
      const vz = zp ? bd.view(zp.dtype, bd.inputs[2]!, ns) : undefined, vy = bd.view(outType, bd.outputs[0]!, n);
      return () => {
        const X = vx(), S = vs(), Z = vz?.(), Y = vy();
        for (let i = 0; i < n; i++) {
          const s = at(i);
          Y[i] = encode
            ? encode(Math.fround(readX(X, i) / readS(S, s)) + (Z ? readZ(Z, s) : 0))
            : quantizeValue(readX(X, i), readS(S, s), Z ? (Z[s] as number) : 0, sat);
        }
      };
    },
  };
}

function prepareDequantize(ctx: OpContext): Prepared {
  const x = ctx.input(0), scale = ctx.input(1), zp = ctx.inputs[2];
  requireDtype(ctx, 0, [...QTYPES, 'int32']);
  requireDtype(ctx, 1, FLOATS);
  if (zp && zp.dtype !== x.dtype) ctx.fail(`zero point '${zp.name}' is ${zp.dtype}, x is ${x.dtype}`, 'INVALID_MODEL');
  checkZeroPoint(ctx, scale, zp);
  const at = scaleIndexer(ctx, x, scale);
  const n = shapeSize(x.dims), ns = shapeSize(scale.dims);
  const outType = scale.dtype, readS = floatReader(scale.dtype), readX = floatReader(x.dtype);
  const write = outType === 'float16' ? floatToHalf : outType === 'bfloat16' ? floatToBfloat16 : (v: number) => v;
  return {
    outputs: [{ dtype: outType, dims: [...x.dims] }],
    build: (bd) => {
      const vx = bd.view(x.dtype, bd.inputs[0]!, n), vs = bd.view(scale.dtype, bd.inputs[1]!, ns);
      const vz = zp ? bd.view(zp.dtype, bd.inputs[2]!, ns) : undefined, vy = bd.view(outType, bd.outputs[0]!, n);
      return () => {
        const X = vx(), S = vs(), Z = vz?.(), Y = vy();
        for (let i = 0; i < n; i++) {
          const s = at(i);
          const v = (readX(X, i) - (Z ? readX(Z, s) : 0)) * readS(S, s);
          Y[i] = write(v);
        }
      };
    },
  };
}

export interface DynamicParams { scale: number; zeroPoint: number }

/**
 * uint8 scale and zero point from the range of x widened to include 0 (the ONNX formula), written
 * into `out` so that a step reuses one object instead of allocating per run.
 */
export function dynamicParams(min: number, max: number, out: DynamicParams = { scale: 0, zeroPoint: 0 }): DynamicParams {
  const lo = Math.min(0, min), hi = Math.max(0, max);
  out.scale = Math.fround(Math.fround(hi - lo) / 255);
  out.zeroPoint = out.scale === 0 ? 0 : saturate(roundHalfEven(Math.fround(-lo / out.scale)), 'uint8');
  return out;
}

function prepareDynamicQuantize(ctx: OpContext): Prepared {
  const x = ctx.input(0);
  requireDtype(ctx, 0, ['float32']);
  const n = shapeSize(x.dims);
  return {
    outputs: [{ dtype: 'uint8', dims: [...x.dims] }, { dtype: 'float32', dims: [] }, { dtype: 'uint8', dims: [] }],
    scratchBytes: 8,
    build: (bd) => {
      const X = bd.inputs[0]!, Y = bd.outputs[0]!, k = bd.k;
      const vy = bd.view('uint8', Y, n), vr = bd.view('float32', bd.scratch, 2), vs = bd.view('float32', bd.outputs[1]!, 1), vz = bd.view('uint8', bd.outputs[2]!, 1);
      const params: DynamicParams = { scale: 0, zeroPoint: 0 };
      return () => {
        let lo = 0, hi = 0;
        if (n > 0) { k.minmax_f32(X, n, bd.scratch); const r = vr(); lo = r[0] as number; hi = r[1] as number; }
        const { scale, zeroPoint } = dynamicParams(lo, hi, params);
        vs()[0] = scale;
        vz()[0] = zeroPoint;
        if (scale === 0) (vy() as Uint8Array).fill(zeroPoint);
        else k.quantize_f32_u8(X, Y, n, scale, zeroPoint);
      };
    },
  };
}

export const quantOps: OpDef[] = [
  { opType: 'QuantizeLinear', since: 10, attributes: ['axis', 'saturate', 'block_size', 'output_dtype'], prepare: prepareQuantize },
  { opType: 'DequantizeLinear', since: 10, attributes: ['axis', 'block_size'], prepare: prepareDequantize },
  { opType: 'DynamicQuantizeLinear', since: 11, attributes: [], prepare: prepareDynamicQuantize },
];
