/**
 * DeformConv (opset 19, 2-D): a convolution whose every kernel tap samples the input at its
 * regular position plus a learned (Δh, Δw) offset — bilinear, zero outside the image — optionally
 * scaled by a mask, with groups and offset groups. TypeScript, in float64.
 */
import type { OpDef } from '../types.js';
import { FLOAT_TYPES, readFloats, writeFloats } from '../float-io.js';
import { product, requireDtype } from '../util.js';

const deformConv: OpDef = {
  opType: 'DeformConv', since: 19, attributes: ['dilations', 'group', 'kernel_shape', 'offset_group', 'pads', 'strides'],
  prepare(ctx) {
    requireDtype(ctx, 0, FLOAT_TYPES);
    const x = ctx.input(0), w = ctx.input(1), off = ctx.input(2), bias = ctx.inputs[3], mask = ctx.inputs[4];
    for (const [i, p] of [[1, w], [2, off], [3, bias], [4, mask]] as const) if (p && p.dtype !== x.dtype) ctx.fail(`input ${i} ('${p.name}') has type ${p.dtype}, X has ${x.dtype}`);
    if (x.dims.length !== 4) ctx.fail(`only 2-D deformable convolution is supported: X must be [N, C, H, W], got [${x.dims}]`, 'UNSUPPORTED_OP');
    if (w.dims.length !== 4) ctx.fail(`W (input 1, '${w.name}') must be [M, C/group, kH, kW], got [${w.dims}]`, 'SHAPE_MISMATCH');
    const a = ctx.attrs;
    const [N, C, IH, IW] = x.dims as [number, number, number, number];
    const [M, Cg] = w.dims as [number, number];
    const kernel = a.ints('kernel_shape') ?? w.dims.slice(2);
    if (kernel.length !== 2 || kernel[0] !== w.dims[2] || kernel[1] !== w.dims[3]) throw a.error('kernel_shape', `[${kernel}] must match W's kernel [${w.dims.slice(2)}]`);
    const [KH, KW] = kernel as [number, number];
    const two = (name: string, n: number, fill: number, min: number): number[] => {
      const v = a.ints(name) ?? new Array<number>(n).fill(fill);
      if (v.length !== n || v.some((e) => e < min)) throw a.error(name, `must have ${n} entries of at least ${min}, got [${v}]`);
      return v;
    };
    const [DH, DW] = two('dilations', 2, 1, 1) as [number, number], [SH, SW] = two('strides', 2, 1, 1) as [number, number];
    const pads = two('pads', 4, 0, 0);
    const group = a.int('group', 1), og = a.int('offset_group', 1);
    if (group < 1 || C !== Cg * group || M % group !== 0) throw a.error('group', `${group} does not fit ${C} input channels, W [${w.dims}]`);
    if (og < 1 || C % og !== 0) throw a.error('offset_group', `${og} must divide the ${C} input channels`);
    const OH = Math.floor((IH + pads[0]! + pads[2]! - ((KH - 1) * DH + 1)) / SH) + 1;
    const OW = Math.floor((IW + pads[1]! + pads[3]! - ((KW - 1) * DW + 1)) / SW) + 1;
    const K = KH * KW;
    const wantOff = [N, og * K * 2, OH, OW], wantMask = [N, og * K, OH, OW];
    if (off.dims.length !== 4 || off.dims.some((d, i) => d !== wantOff[i])) ctx.fail(`offset (input 2, '${off.name}') must have shape [${wantOff}], got [${off.dims}]`, 'SHAPE_MISMATCH');
    if (mask && (mask.dims.length !== 4 || mask.dims.some((d, i) => d !== wantMask[i]))) ctx.fail(`mask (input 4, '${mask.name}') must have shape [${wantMask}], got [${mask.dims}]`, 'SHAPE_MISMATCH');
    if (bias && (bias.dims.length !== 1 || bias.dims[0] !== M)) ctx.fail(`B (input 3, '${bias.name}') must have shape [${M}], got [${bias.dims}]`, 'SHAPE_MISMATCH');
    const Mg = M / group, Cog = C / og, P = OH * OW;
    return {
      outputs: [{ dtype: x.dtype, dims: [N, M, OH, OW] }],
      build(b) {
        const sizes = [product(x.dims), product(w.dims), product(off.dims)];
        const views = [0, 1, 2].map((i) => b.view(x.dtype, b.inputs[i]!, sizes[i]!));
        const bv = bias ? b.view(x.dtype, b.inputs[3]!, M) : undefined, mv = mask ? b.view(x.dtype, b.inputs[4]!, product(mask.dims)) : undefined;
        const yv = b.view(x.dtype, b.outputs[0]!, N * M * P);
        const X = new Float64Array(sizes[0]!), W = new Float64Array(sizes[1]!), O = new Float64Array(sizes[2]!);
        const B = new Float64Array(M), Mk = mask ? new Float64Array(product(mask.dims)) : undefined, Y = new Float64Array(N * M * P);
        const col = new Float64Array(Cg * K); // one output position's sampled taps for one group
        const at = (plane: number, h: number, wv: number): number => (h >= 0 && h < IH && wv >= 0 && wv < IW ? X[plane + h * IW + wv]! : 0);
        return () => {
          readFloats(x.dtype, views[0]!(), X); readFloats(x.dtype, views[1]!(), W); readFloats(x.dtype, views[2]!(), O);
          if (bv) readFloats(x.dtype, bv(), B);
          if (Mk) readFloats(x.dtype, mv!(), Mk);
          for (let n = 0; n < N; n++) {
            for (let oh = 0; oh < OH; oh++) {
              for (let ow = 0; ow < OW; ow++) {
                const p = oh * OW + ow;
                for (let g = 0; g < group; g++) {
                  for (let ci = 0; ci < Cg; ci++) {
                    const c = g * Cg + ci, o = Math.floor(c / Cog), plane = (n * C + c) * IH * IW;
                    for (let k = 0; k < K; k++) {
                      const i = Math.floor(k / KW), j = k % KW;
                      const oo = ((n * og + o) * K + k) * 2;
                      const h = oh * SH - pads[0]! + i * DH + O[oo * P + p]!, wc = ow * SW - pads[1]! + j * DW + O[(oo + 1) * P + p]!;
                      let v = 0;
                      if (h > -1 && h < IH && wc > -1 && wc < IW) {
                        const h0 = Math.floor(h), w0 = Math.floor(wc), th = h - h0, tw = wc - w0;
                        v = (1 - th) * ((1 - tw) * at(plane, h0, w0) + tw * at(plane, h0, w0 + 1)) + th * ((1 - tw) * at(plane, h0 + 1, w0) + tw * at(plane, h0 + 1, w0 + 1));
                      }
                      col[ci * K + k] = Mk ? v * Mk[((n * og + o) * K + k) * P + p]! : v;
                    }
                  }
                  for (let mi = 0; mi < Mg; mi++) {
                    const m = g * Mg + mi, wo = m * Cg * K;
                    let s = B[m]!;
                    for (let q = 0; q < Cg * K; q++) s += W[wo + q]! * col[q]!;
                    Y[(n * M + m) * P + p] = s;
                  }
                }
              }
            }
          }
          writeFloats(x.dtype, Y, yv());
        };
      },
    };
  },
};

export const deformConvOps: readonly OpDef[] = [deformConv];
