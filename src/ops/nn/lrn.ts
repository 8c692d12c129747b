/**
 * LRN (local response normalisation across channels, AlexNet/GoogLeNet era). Runs in TypeScript
 * over a sliding window of squared sums: O(N·C·HW), cheap next to the convolutions around it.
 */
import type { OpDef } from '../types.js';
import { requireDtype } from '../util.js';

const lrn: OpDef = {
  opType: 'LRN', since: 1, attributes: ['alpha', 'beta', 'bias', 'size'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32', 'float64']);
    const x = ctx.input(0);
    if (x.dims.length < 2) ctx.fail(`input must be at least 2-D [N, C, …], got [${x.dims}]`, 'SHAPE_MISMATCH');
    const size = ctx.attrs.intOpt('size');
    if (size === undefined || size < 1) throw ctx.attrs.error('size', size === undefined ? 'is required' : `must be positive, got ${size}`);
    const alpha = ctx.attrs.float('alpha', 1e-4), beta = ctx.attrs.float('beta', 0.75), bias = ctx.attrs.float('bias', 1);
    const [N, C] = x.dims as [number, number];
    const hw = x.dims.slice(2).reduce((a, d) => a * d, 1), count = N * C * hw;
    // Channels c - floor((size-1)/2) … c + ceil((size-1)/2), clipped to [0, C).
    const lo = Math.floor((size - 1) / 2), hi = Math.ceil((size - 1) / 2), k = alpha / size;
    return {
      outputs: [{ dtype: x.dtype, dims: [...x.dims] }],
      build(b) {
        const xv = b.view(x.dtype, b.inputs[0]!, count), yv = b.view(x.dtype, b.outputs[0]!, count);
        const sq = new Float64Array(C);
        return () => {
          const X = xv() as Float32Array, Y = yv() as Float32Array;
          for (let n = 0; n < N; n++) {
            for (let p = 0; p < hw; p++) {
              const base = n * C * hw + p;
              for (let c = 0; c < C; c++) { const v = X[base + c * hw]!; sq[c] = v * v; }
              for (let c = 0; c < C; c++) {
                let s = 0;
                for (let j = Math.max(0, c - lo), e = Math.min(C - 1, c + hi); j <= e; j++) s += sq[j]!;
                const i = base + c * hw;
                Y[i] = X[i]! / Math.pow(bias + k * s, beta);
              }
            }
          }
        };
      },
    };
  },
};

export const lrnOps: readonly OpDef[] = [lrn];
