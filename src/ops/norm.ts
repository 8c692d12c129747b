/**
 * Normalisation ops. BatchNormalization (inference) becomes y = x·scale[c] + shift[c] on the
 * channel_affine_f32 kernel; scale/shift are computed once into persistent memory when the four
 * parameters are constant, else per run into scratch (C floats — negligible next to the tensor).
 * InstanceNormalization runs in TypeScript (two passes per channel plane).
 */
import type { InputInfo, OpContext, OpDef } from './types.js';
import { requireDtype } from './util.js';

type Arr = Float32Array | Float64Array;

function nc(ctx: OpContext): { x: InputInfo; N: number; C: number; hw: number } {
  const x = ctx.input(0);
  if (x.dims.length < 2) ctx.fail(`input must be at least 2-D [N, C, …], got [${x.dims}]`, 'SHAPE_MISMATCH');
  const [N, C] = x.dims as [number, number];
  return { x, N, C, hw: x.dims.slice(2).reduce((a, d) => a * d, 1) };
}

function requireChannels(ctx: OpContext, from: number, to: number, C: number): void {
  for (let i = from; i < to; i++) {
    const p = ctx.input(i);
    if (p.dims.length !== 1 || p.dims[0] !== C) ctx.fail(`input ${i} ('${p.name}') must have shape [${C}], got [${p.dims}]`, 'SHAPE_MISMATCH');
  }
}

const batchNorm: OpDef = {
  opType: 'BatchNormalization', since: 1,
  attributes: ['epsilon', 'momentum', 'training_mode', 'spatial', 'is_test', 'consumed_inputs'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32', 'float64']);
    const { x, N, C, hw } = nc(ctx);
    requireChannels(ctx, 1, 5, C);
    if (ctx.attrs.int('training_mode', 0) !== 0) throw ctx.attrs.error('training_mode', 'is not supported (inference only)');
    if (ctx.opset < 9 && ctx.attrs.int('spatial', 1) !== 1) throw ctx.attrs.error('spatial', 'only spatial = 1 is supported');
    if (ctx.opset >= 9 && ctx.attrs.has('spatial')) throw ctx.attrs.error('spatial', 'exists only before opset 9');
    if (ctx.opset >= 7 && ctx.attrs.has('is_test')) throw ctx.attrs.error('is_test', 'exists only before opset 7');
    if (ctx.node.outputs.filter((o) => o !== '').length > 1) ctx.fail('training outputs (running mean/var, saved mean/var) are not supported');
    const eps = ctx.attrs.float('epsilon', 1e-5);
    const params = [1, 2, 3, 4].map((i) => ctx.input(i));
    const count = N * C * hw, f32 = x.dtype === 'float32';
    const fill = (vals: ArrayLike<number>[], sc: Float32Array | Float64Array, sh: Float32Array | Float64Array) => {
      const [g, b, m, v] = vals as [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>, ArrayLike<number>];
      for (let c = 0; c < C; c++) { const s = g[c]! / Math.sqrt(v[c]! + eps); sc[c] = s; sh[c] = b[c]! - m[c]! * s; }
    };
    const constant = params.every((p) => p.constant && p.value !== undefined);
    return {
      outputs: [{ dtype: x.dtype, dims: [...x.dims] }],
      scratchBytes: f32 && !constant ? 8 * C : 0,
      build(b) {
        const pv = params.map((p, i) => b.view(p.dtype, b.inputs[i + 1]!, C));
        if (!f32) {
          const xv = b.view(x.dtype, b.inputs[0]!, count), yv = b.view(x.dtype, b.outputs[0]!, count);
          const sc = new Float64Array(C), sh = new Float64Array(C);
          return () => {
            fill(pv.map((v) => v() as Arr), sc, sh);
            const X = xv() as Arr, Y = yv() as Arr;
            for (let n = 0, i = 0; n < N; n++) for (let c = 0; c < C; c++) for (let p = 0; p < hw; p++, i++) Y[i] = X[i]! * sc[c]! + sh[c]!;
          };
        }
        const k = b.k, xp = b.inputs[0]!, yp = b.outputs[0]!;
        if (constant) {
          const key = `bn:${params.map((p) => p.name).join('|')}:${eps}`;
          const ptr = b.persistent(key, 8 * C, (p) => {
            const all = new Float32Array(b.memory.buffer, p, 2 * C);
            fill(params.map((q) => q.value as ArrayLike<number>), all.subarray(0, C), all.subarray(C));
          });
          return () => k.channel_affine_f32(xp, yp, ptr, ptr + 4 * C, N, C, hw, 0, 0, 0);
        }
        const sv = b.view('float32', b.scratch, 2 * C);
        return () => {
          const s = sv() as Float32Array;
          fill(pv.map((v) => v() as Arr), s.subarray(0, C), s.subarray(C));
          k.channel_affine_f32(xp, yp, b.scratch, b.scratch + 4 * C, N, C, hw, 0, 0, 0);
        };
      },
    };
  },
};

const instanceNorm: OpDef = {
  opType: 'InstanceNormalization', since: 1, attributes: ['epsilon', 'consumed_inputs'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32', 'float64']);
    const { x, N, C, hw } = nc(ctx);
    requireChannels(ctx, 1, 3, C);
    const eps = ctx.attrs.float('epsilon', 1e-5), count = N * C * hw;
    return {
      outputs: [{ dtype: x.dtype, dims: [...x.dims] }],
      build(b) {
        const xv = b.view(x.dtype, b.inputs[0]!, count), yv = b.view(x.dtype, b.outputs[0]!, count);
        const gv = b.view(ctx.input(1).dtype, b.inputs[1]!, C), bv = b.view(ctx.input(2).dtype, b.inputs[2]!, C);
        return () => {
          const X = xv() as Arr, Y = yv() as Arr, G = gv() as Arr, B = bv() as Arr;
          for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
            const o = (n * C + c) * hw;
            let mean = 0; for (let p = 0; p < hw; p++) mean += X[o + p]!;
            mean /= hw;
            let v = 0; for (let p = 0; p < hw; p++) { const d = X[o + p]! - mean; v += d * d; }
            const s = G[c]! / Math.sqrt(v / hw + eps), t = B[c]! - mean * s;
            for (let p = 0; p < hw; p++) Y[o + p] = X[o + p]! * s + t;
          }
        };
      },
    };
  },
};

export const normOps: readonly OpDef[] = [batchNorm, instanceNorm];
