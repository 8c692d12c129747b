/**
 * Ops that generate or replicate tensors: ConstantOfShape, Range, Expand, Tile, Split. Shapes that
 * come from tensor values (a target shape, repeats, Range's bounds) must be known at plan time: a
 * constant, a value folded from shapes, or a graph input (the plan is then keyed by its value).
 */
import { shapeSize } from '../api/tensor.js';
import type { DType } from '../graph/ir.js';
import { stridedCopy } from './copy.js';
import type { OpContext, OpDef, Prepared } from './types.js';
import { broadcastShapes, broadcastStrides, constInts, normalizeAxis, stridesOf } from './util.js';
import { type Values, allocValues, checkShape, requireKnownStrings, toElement } from './values.js';

const constantOfShape: OpDef = {
  opType: 'ConstantOfShape', since: 9, attributes: ['value'],
  prepare(ctx) {
    const s = ctx.input(0);
    if (s.dtype !== 'int64') ctx.fail(`the shape input must be int64, got ${s.dtype}`, 'INVALID_MODEL');
    if (s.dims.length !== 1) ctx.fail(`the shape input must be 1-D, got [${s.dims}]`, 'SHAPE_MISMATCH');
    const dims = checkShape(ctx, constInts(ctx, 0, 'the shape')!, 'shape');
    const t = ctx.attrs.tensor('value');
    if (t && shapeSize(t.dims) !== 1) throw ctx.attrs.error('value', `must hold exactly one element, got dims [${t.dims}]`);
    const dtype: DType = t?.dtype ?? 'float32';
    const v = t ? (t.data as ArrayLike<number | bigint | string>)[0]! : 0;
    const n = shapeSize(dims);
    return {
      outputs: [{ dtype, dims }],
      dataFree: true,
      evaluate: () => [fill(dtype, n, v)],
    };
  },
};

function fill(dtype: DType, n: number, v: number | bigint | string): Values {
  const out = allocValues(dtype, n);
  const e = toElement(dtype, v);
  if (e !== 0 && e !== 0n && e !== '') (out as { fill(x: unknown): void }).fill(e);
  return out;
}

export const tensorOps: OpDef[] = [constantOfShape];

// Shared by the ops below: a strided copy for numbers, a plan-time gather for strings.
export function copyPrepared(ctx: OpContext, outDims: number[], srcStrides: number[], offset = 0): Prepared {
  const x = ctx.input(0);
  const n = shapeSize(x.dims);
  if (x.dtype === 'string') {
    const [v] = requireKnownStrings(ctx);
    return { outputs: [{ dtype: 'string', dims: outDims }], dataFree: true, evaluate: () => [gatherStrided(v as string[], offset, outDims, srcStrides)] };
  }
  return {
    outputs: [{ dtype: x.dtype, dims: outDims }],
    build: (bd) => stridedCopy(bd, x.dtype, bd.inputs[0]!, n, offset, bd.outputs[0]!, outDims, srcStrides),
  };
}

/** The strided copy of stridedCopy, in JavaScript over any array. */
export function gatherStrided<T>(src: ArrayLike<T>, offset: number, dims: readonly number[], strides: readonly number[]): T[] {
  const n = shapeSize(dims);
  const out = new Array<T>(n);
  const idx = new Array<number>(dims.length).fill(0);
  let p = offset;
  for (let i = 0; i < n; i++) {
    out[i] = src[p]!;
    for (let k = dims.length - 1; k >= 0; k--) {
      p += strides[k]!;
      if (++idx[k]! < dims[k]!) break;
      p -= strides[k]! * dims[k]!;
      idx[k] = 0;
    }
  }
  return out;
}

void broadcastShapes; void broadcastStrides; void normalizeAxis; void stridesOf;
