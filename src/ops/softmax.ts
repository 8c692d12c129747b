/**
 * Softmax and LogSoftmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1);
 * from 13 the op normalises along one axis (default -1). The kernel works on contiguous rows; an
 * inner axis runs through a strided JavaScript loop.
 */
import { shapeSize } from '../api/tensor.js';
import type { OpContext, OpDef, Prepared } from './types.js';
import { normalizeAxis, product, requireDtype } from './util.js';

function prepareSoftmax(ctx: OpContext, log: boolean): Prepared {
  const x = ctx.input(0);
  requireDtype(ctx, 0, ['float32']);
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
    outputs: [{ dtype: 'float32', dims: x.dims }],
    build: (bd) => {
      const [X, Y] = [bd.inputs[0]!, bd.outputs[0]!];
      if (contiguous) {
        return log ? () => bd.k.log_softmax_f32(X, Y, rows, cols) : () => bd.k.softmax_f32(X, Y, rows, cols);
      }
      const vx = bd.view('float32', X, n), vy = bd.view('float32', Y, n);
      const outer = rows / inner;
      return () => stridedSoftmax(vx() as Float32Array, vy() as Float32Array, outer, cols, inner, log);
    },
  };
}

function stridedSoftmax(x: Float32Array, y: Float32Array, outer: number, axis: number, inner: number, log: boolean): void {
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

export const softmaxOps: OpDef[] = [
  { opType: 'Softmax', since: 1, attributes: ['axis'], prepare: (c) => prepareSoftmax(c, false) },
  { opType: 'LogSoftmax', since: 1, attributes: ['axis'], prepare: (c) => prepareSoftmax(c, true) },
];
