/**
 * Softmax, LogSoftmax and Hardmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1);
 * from 13 the op normalises along one axis (default -1). The kernel works on contiguous rows; an
 * inner axis runs through a strided JavaScript loop.
 */
import { shapeSize } from '../../api/tensor.js';
import { floatToHalf, halfToFloat } from './cast.js';
import type { OpContext, OpDef, Prepared } from '../types.js';
import { normalizeAxis, product, requireDtype } from '../util.js';

type Kind = 'softmax' | 'log' | 'hard';

function prepareSoftmax(ctx: OpContext, kind: Kind): Prepared {
  const x = ctx.input(0);
  requireDtype(ctx, 0, ['float32', 'float64', 'float16']);
  const log = kind === 'log';
  const rank = x.dims.length;
  const legacy = ctx.opset < 13;
  const axis = normalizeAxis(ctx, ctx.attrs.int('axis', legacy ? 1 : -1), rank);
  const n = shapeSize(x.dims);
  // Legacy semantics and a last axis are the same thing: rows × cols with contiguous rows.
  const contiguous = legacy || axis === rank - 1;
  const cols = legacy ? product(x.dims, axis) : x.dims[axis]!;
  const rows = cols === 0 ? 0 : n / cols;
  const inner = contiguous ? 1 : product(x.dims, axis + 1);
  return {
    outputs: [{ dtype: x.dtype, dims: x.dims }],
    build: (bd) => {
      const [X, Y] = [bd.inputs[0]!, bd.outputs[0]!];
      const inner2 = contiguous ? 1 : inner, outer = rows / inner2;
      if (x.dtype !== 'float32' || kind === 'hard') {
        // float64 and float16 (and Hardmax) run in JavaScript, in float64.
        const vx = bd.view(x.dtype, X, n), vy = bd.view(x.dtype, Y, n);
        const half = x.dtype === 'float16';
        const a = new Float64Array(n), b = new Float64Array(n);
        return () => {
          const xs = vx(), ys = vy();
          for (let i = 0; i < n; i++) a[i] = half ? halfToFloat(xs[i] as number) : (xs[i] as number);
          if (kind === 'hard') hardmax(a, b, outer, cols, inner2);
          else stridedSoftmax(a, b, outer, cols, inner2, log);
          for (let i = 0; i < n; i++) ys[i] = half ? floatToHalf(b[i]!) : b[i]!;
        };
      }
      if (contiguous) {
        return log ? () => bd.k.log_softmax_f32(X, Y, rows, cols) : () => bd.k.softmax_f32(X, Y, rows, cols);
      }
      const vx = bd.view('float32', X, n), vy = bd.view('float32', Y, n);
      return () => stridedSoftmax(vx() as Float32Array, vy() as Float32Array, outer, cols, inner, log);
    },
  };
}

function stridedSoftmax(x: Float32Array | Float64Array, y: Float32Array | Float64Array, outer: number, axis: number, inner: number, log: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * axis * inner + i;
      let max = -Infinity;
      for (let j = 0; j < axis; j++) max = Math.max(max, x[base + j * inner]!);
      let sum = 0;
      for (let j = 0; j < axis; j++) sum += Math.exp(x[base + j * inner]! - max);
      const lse = Math.log(sum);
      for (let j = 0; j < axis; j++) {
        const z = x[base + j * inner]! - max;
        y[base + j * inner] = log ? z - lse : Math.exp(z) / sum;
      }
    }
  }
}

/** 1 at the first maximum along the axis, 0 elsewhere. */
function hardmax(x: Float64Array, y: Float64Array, outer: number, axis: number, inner: number): void {
  y.fill(0);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * axis * inner + i;
      let best = 0;
      for (let j = 1; j < axis; j++) if (x[base + j * inner]! > x[base + best * inner]!) best = j;
      if (axis > 0) y[base + best * inner] = 1;
    }
  }
}

export const softmaxOps: OpDef[] = [
  { opType: 'Softmax', since: 1, attributes: ['axis'], prepare: (c) => prepareSoftmax(c, 'softmax') },
  { opType: 'LogSoftmax', since: 1, attributes: ['axis'], prepare: (c) => prepareSoftmax(c, 'log') },
  { opType: 'Hardmax', since: 1, attributes: ['axis'], prepare: (c) => prepareSoftmax(c, 'hard') },
];
