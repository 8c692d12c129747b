/**
 * Ops whose result is decided by element positions: Trilu, EyeLike, OneHot, CumSum/CumProd, NonZero. All
 * are plain JavaScript over typed views (they are rare and memory-bound); NonZero's output shape
 * depends on its input's values, so it runs only when those are known at plan time.
 */
import { shapeSize } from '../../api/tensor.js';
import type { DType } from '../../graph/ir.js';
import { dtypeFromOnnx } from '../../onnx/dtype.js';
import { floatToHalf, halfToFloat } from '../math/cast.js';
import type { OpContext, OpDef } from '../types.js';
import { normalizeAxis, product, requiredInts } from '../util.js';
import { allocValues, isBig } from '../values.js';

const zeroOf = (dtype: DType): number | bigint => (isBig(dtype) ? 0n : 0);
const oneOf = (dtype: DType): number | bigint => (isBig(dtype) ? 1n : dtype === 'float16' ? 0x3c00 : 1);

/** A scalar int input known at plan time (Trilu's k, OneHot's depth, CumSum's axis), or a default. */
function knownScalar(ctx: OpContext, i: number, what: string, fallback?: number): number {
  if (!ctx.inputs[i]) {
    if (fallback === undefined) ctx.fail(`${what} (input ${i}) is required`);
    return fallback!;
  }
  const v = requiredInts(ctx, i, what);
  if (v.length !== 1) ctx.fail(`${what} (input ${i}) must hold one value, got ${v.length}`, 'SHAPE_MISMATCH');
  return v[0]!;
}

const trilu: OpDef = {
  opType: 'Trilu', since: 14, attributes: ['upper'],
  prepare(ctx) {
    const x = ctx.input(0);
    if (x.dims.length < 2) ctx.fail(`input must have rank ≥ 2, got [${x.dims}]`, 'SHAPE_MISMATCH');
    if (x.dtype === 'string') ctx.fail('string input is not supported', 'UNSUPPORTED_OP');
    const upper = ctx.attrs.int('upper', 1);
    if (upper !== 0 && upper !== 1) throw ctx.attrs.error('upper', `must be 0 or 1, got ${upper}`);
    const k = knownScalar(ctx, 1, 'k', 0);
    const [M, N] = x.dims.slice(-2) as [number, number];
    const n = shapeSize(x.dims), mats = M * N === 0 ? 0 : n / (M * N);
    const zero = zeroOf(x.dtype);
    return {
      outputs: [{ dtype: x.dtype, dims: x.dims }],
      build: (bd) => {
        const vx = bd.view(x.dtype, bd.inputs[0]!, n), vy = bd.view(x.dtype, bd.outputs[0]!, n);
        return () => {
          const X = vx(), Y = vy();
          Y.set(X as never);
          for (let b = 0; b < mats; b++) {
            for (let i = 0; i < M; i++) {
              for (let j = 0; j < N; j++) {
                const keep = upper ? j - i >= k : j - i <= k;
                if (!keep) Y[b * M * N + i * N + j] = zero as never;
              }
            }
          }
        };
      },
    };
  },
};

const eyeLike: OpDef = {
  opType: 'EyeLike', since: 9, attributes: ['dtype', 'k'],
  prepare(ctx) {
    const x = ctx.input(0);
    if (x.dims.length !== 2) ctx.fail(`input must be 2-D, got [${x.dims}]`, 'SHAPE_MISMATCH');
    const code = ctx.attrs.intOpt('dtype');
    const dtype = code === undefined ? x.dtype : dtypeFromOnnx(code);
    if (!dtype || dtype === 'string') throw ctx.attrs.error('dtype', `type ${code} is not supported`);
    const k = ctx.attrs.int('k', 0);
    const [M, N] = x.dims as [number, number];
    return {
      outputs: [{ dtype, dims: [M, N] }],
      dataFree: true,
      evaluate: () => {
        const out = allocValues(dtype, M * N);
        for (let i = 0; i < M; i++) if (i + k >= 0 && i + k < N) out[i * N + i + k] = oneOf(dtype) as never;
        return [out];
      },
    };
  },
};

const oneHot: OpDef = {
  opType: 'OneHot', since: 9, attributes: ['axis'],
  prepare(ctx) {
    const ind = ctx.input(0), vals = ctx.input(2);
    if (shapeSize(vals.dims) !== 2) ctx.fail(`values must hold [off, on], got dims [${vals.dims}]`, 'SHAPE_MISMATCH');
    if (vals.dtype === 'string') ctx.fail('string values are not supported', 'UNSUPPORTED_OP');
    const depthRaw = ctx.input(1).value;
    if (depthRaw === undefined) ctx.fail(`depth (input 1, '${ctx.input(1).name}') must be known at plan time: it sets the output shape`, 'UNSUPPORTED_OP');
    const depth = Math.trunc(Number((depthRaw as ArrayLike<number | bigint>)[0]));
    if (!(depth > 0)) ctx.fail(`depth must be positive, got ${depth}`);
    const r = ind.dims.length;
    const axis = normalizeAxis(ctx, ctx.attrs.int('axis', -1), r + 1);
    const outDims = [...ind.dims.slice(0, axis), depth, ...ind.dims.slice(axis)];
    const outer = product(ind.dims, 0, axis), inner = product(ind.dims, axis);
    const n = shapeSize(ind.dims), total = shapeSize(outDims);
    return {
      outputs: [{ dtype: vals.dtype, dims: outDims }],
      build: (bd) => {
        const vi = bd.view(ind.dtype, bd.inputs[0]!, n), vv = bd.view(vals.dtype, bd.inputs[2]!, 2), vy = bd.view(vals.dtype, bd.outputs[0]!, total);
        return () => {
          const I = vi(), V = vv(), Y = vy();
          Y.fill(V[0] as never);
          for (let o = 0; o < outer; o++) {
            for (let j = 0; j < inner; j++) {
              let d = Math.trunc(Number(I[o * inner + j]));
              if (d < 0) d += depth;
              if (d >= 0 && d < depth) Y[(o * depth + d) * inner + j] = V[1] as never;
            }
          }
        };
      },
    };
  },
};

/** CumSum and CumProd: a running sum or product along an axis, optionally exclusive and reversed. */
const cumulative = (opType: string, since: number, product_: boolean): OpDef => ({
  opType, since, attributes: ['exclusive', 'reverse'],
  prepare(ctx) {
    const x = ctx.input(0);
    const types = ['float32', 'float64', 'float16', 'int32', 'int64', 'uint32', 'uint64'];
    if (!types.includes(x.dtype)) ctx.fail(`${opType} does not take ${x.dtype}`, 'UNSUPPORTED_OP');
    const step = product_
      ? (a: number | bigint, v: number | bigint) => (typeof a === 'bigint' ? a * (v as bigint) : a * (v as number))
      : (a: number | bigint, v: number | bigint) => (typeof a === 'bigint' ? a + (v as bigint) : a + (v as number));
    const init = big0(x.dtype, product_ ? 1 : 0);
    const axis = normalizeAxis(ctx, knownScalar(ctx, 1, 'axis'), x.dims.length);
    const exclusive = ctx.attrs.int('exclusive', 0) === 1, reverse = ctx.attrs.int('reverse', 0) === 1;
    const outer = product(x.dims, 0, axis), len = x.dims[axis]!, inner = product(x.dims, axis + 1);
    const n = shapeSize(x.dims);
    const big = isBig(x.dtype), half = x.dtype === 'float16';
    return {
      outputs: [{ dtype: x.dtype, dims: x.dims }],
      build: (bd) => {
        const vx = bd.view(x.dtype, bd.inputs[0]!, n), vy = bd.view(x.dtype, bd.outputs[0]!, n);
        return () => {
          const X = vx(), Y = vy();
          for (let o = 0; o < outer; o++) {
            for (let j = 0; j < inner; j++) {
              let acc: number | bigint = init;
              for (let t = 0; t < len; t++) {
                const a = reverse ? len - 1 - t : t;
                const p = (o * len + a) * inner + j;
                const v = half ? halfToFloat(X[p] as number) : X[p]!;
                if (!exclusive) acc = step(acc, v as number | bigint);
                Y[p] = (half ? floatToHalf(acc as number) : acc) as never;
                if (exclusive) acc = step(acc, v as number | bigint);
              }
            }
          }
        };
      },
    };
  },
});

const big0 = (dtype: DType, v: number): number | bigint => (isBig(dtype) ? BigInt(v) : v);

const nonZero: OpDef = {
  opType: 'NonZero', since: 9, attributes: [],
  prepare(ctx) {
    const x = ctx.input(0);
    const v = x.value;
    if (v === undefined) {
      ctx.fail(`the input ('${x.name}') must be known at plan time (a constant or a graph input): NonZero's output shape depends on its values`, 'UNSUPPORTED_OP');
    }
    const data = v as ArrayLike<unknown>;
    const half = x.dtype === 'float16';
    const hits: number[] = [];
    for (let i = 0; i < data.length; i++) {
      const e = data[i];
      if (half ? halfToFloat(e as number) !== 0 : typeof e === 'string' ? e !== '' : e !== 0 && e !== 0n) hits.push(i);
    }
    const r = x.dims.length, nnz = hits.length;
    const out = new BigInt64Array(r * nnz);
    hits.forEach((flat, j) => {
      let rem = flat;
      for (let d = r - 1; d >= 0; d--) {
        out[d * nnz + j] = BigInt(rem % x.dims[d]!);
        rem = Math.floor(rem / x.dims[d]!);
      }
    });
    return { outputs: [{ dtype: 'int64', dims: [r, nnz] }], dataFree: true, evaluate: () => [out] };
  },
};

export const indexingOps: OpDef[] = [trilu, eyeLike, oneHot, cumulative('CumSum', 11, false), cumulative('CumProd', 26, true), nonZero];
