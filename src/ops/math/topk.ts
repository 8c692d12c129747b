/**
 * TopK: the k largest (or smallest) elements along an axis and their int64 indices. Equal values
 * keep their input order (the lower index first), as the spec requires; NaN counts as larger than
 * every number. k decides the output shape, so it must be known when the plan is made.
 */
import { shapeSize } from '../../api/tensor.js';
import type { DType } from '../../graph/ir.js';
import { halfToFloat } from './cast.js';
import type { OpContext, OpDef, Prepared } from '../types.js';
import { constInts, normalizeAxis, requireDtype } from '../util.js';

type Keys = Float64Array | bigint[];

const TYPES = ['float32', 'float64', 'float16', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'];

function prepareTopK(ctx: OpContext, k: number, largest: boolean): Prepared {
  const x = ctx.input(0);
  requireDtype(ctx, 0, TYPES);
  const r = x.dims.length;
  const axis = normalizeAxis(ctx, ctx.attrs.int('axis', -1), r);
  const R = x.dims[axis]!;
  if (!Number.isInteger(k) || k < 0 || k > R) ctx.fail(`k = ${k} is out of range for axis ${axis} of size ${R}`, 'SHAPE_MISMATCH');
  const outer = shapeSize(x.dims.slice(0, axis)), inner = shapeSize(x.dims.slice(axis + 1));
  const outDims = x.dims.map((d, i) => (i === axis ? k : d));
  const n = shapeSize(x.dims), m = shapeSize(outDims);
  const dtype: DType = x.dtype;
  return {
    outputs: [{ dtype, dims: outDims }, { dtype: 'int64', dims: outDims }],
    build: (bd) => {
      const vx = bd.view(dtype, bd.inputs[0]!, n);
      const vv = bd.view(dtype, bd.outputs[0]!, bd.outputs[0] ? m : 0);
      const vi = bd.view('int64', bd.outputs[1]!, bd.outputs[1] ? m : 0);
      const order = new Int32Array(R);
      // Plain numbers live unboxed in a Float64Array; only 64-bit integers need BigInt keys.
      const keys: Keys = dtype === 'int64' || dtype === 'uint64' ? new Array<bigint>(R) : new Float64Array(R);
      const read = dtype === 'float16' ? (v: number | bigint) => halfToFloat(v as number) : (v: number | bigint) => v;
      const sign = largest ? 1 : -1;
      // Descending by key for largest (ascending for smallest), NaN first for largest, ties by index.
      const cmp = (a: number, b: number): number => {
        const ka = keys[a]!, kb = keys[b]!;
        if (ka !== ka || kb !== kb) return ka !== ka ? (kb !== kb ? a - b : -sign) : sign;
        if (ka > kb) return -sign;
        if (ka < kb) return sign;
        return a - b;
      };
      return () => {
        const X = vx(), V = bd.outputs[0] ? vv() : undefined, I = bd.outputs[1] ? (vi() as BigInt64Array) : undefined;
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < inner; i++) {
            const base = o * R * inner + i;
            for (let j = 0; j < R; j++) keys[j] = read(X[base + j * inner]!);
            if (k <= SELECT_MAX) {
              if (keys instanceof Float64Array) selectF64(keys, R, k, largest, order);
              else select(keys, R, k, largest, order);
            }
            else {
              for (let j = 0; j < R; j++) order[j] = j;
              order.sort(cmp);
            }
            const ob = o * k * inner + i;
            for (let j = 0; j < k; j++) {
              const at = order[j]!;
              if (V) V[ob + j * inner] = X[base + at * inner]! as never;
              if (I) I[ob + j * inner] = BigInt(at);
            }
          }
        }
      };
    },
  };
}

/** Up to this k, an insertion into a sorted k-buffer (O(R·k)) beats sorting the whole axis. */
const SELECT_MAX = 32;

/**
 * Writes the indices of the k best keys, best first, into `out`. Scanning in index order and
 * inserting after equal keys keeps ties in input order.
 */
function select(keys: Keys, R: number, k: number, largest: boolean, out: Int32Array): void {
  if (k === 0) return;
  // a ranks strictly before b (NaN ranks as the largest value).
  const before = largest
    ? (a: number | bigint, b: number | bigint) => (a !== a ? b === b : a > b)
    : (a: number | bigint, b: number | bigint) => (b !== b ? a === a : a < b);
  let filled = 0;
  for (let j = 0; j < R; j++) {
    const v = keys[j]!;
    if (filled === k && !before(v, keys[out[k - 1]!]!)) continue;
    let p = filled < k ? filled++ : k - 1;
    while (p > 0 && before(v, keys[out[p - 1]!]!)) { out[p] = out[p - 1]!; p--; }
    out[p] = j;
  }
}

/** `select` for unboxed keys: the hot case (float32 logits), kept monomorphic. */
function selectF64(keys: Float64Array, R: number, k: number, largest: boolean, out: Int32Array): void {
  if (k === 0) return;
  // Negating for smallest turns both into "larger first"; NaN stays first either way.
  const sg = largest ? 1 : -1;
  let filled = 0;
  for (let j = 0; j < R; j++) {
    const v = keys[j]! * sg;
    if (filled === k) {
      const w = keys[out[k - 1]!]! * sg;
      if (!(v !== v ? w === w : v > w)) continue;
    }
    let p = filled < k ? filled++ : k - 1;
    while (p > 0) {
      const w = keys[out[p - 1]!]! * sg;
      if (!(v !== v ? w === w : v > w)) break;
      out[p] = out[p - 1]!; p--;
    }
    out[p] = j;
  }
}

export const topkOps: OpDef[] = [
  {
    opType: 'TopK', since: 1, attributes: ['k', 'axis'],
    prepare(ctx) {
      if (!ctx.attrs.has('k')) throw ctx.attrs.error('k', 'is required before opset 10');
      return prepareTopK(ctx, ctx.attrs.int('k', 0), true);
    },
  },
  {
    opType: 'TopK', since: 10, attributes: ['axis'],
    prepare: (ctx) => prepareTopK(ctx, kInput(ctx), true),
  },
  {
    opType: 'TopK', since: 11, attributes: ['axis', 'largest', 'sorted'],
    prepare(ctx) {
      // sorted = 0 leaves the order unspecified; sorted output is one valid answer.
      const sorted = ctx.attrs.int('sorted', 1);
      if (sorted !== 0 && sorted !== 1) throw ctx.attrs.error('sorted', `must be 0 or 1, got ${sorted}`);
      return prepareTopK(ctx, kInput(ctx), ctx.attrs.int('largest', 1) !== 0);
    },
  },
];

function kInput(ctx: OpContext): number {
  const k = constInts(ctx, 1, 'K');
  if (!k || k.length !== 1) ctx.fail('K must be a 1-element tensor', 'INVALID_MODEL');
  return k![0]!;
}
