/**
 * ConvInteger and QLinearConv (1-D and 2-D, groups, dilations, pads, auto_pad): the input is
 * unfolded into pixel rows by im2row_u8 (padding with x's zero point, so it contributes nothing)
 * and widened into the GEMM's packed A (pack_a_i8); the weights are packed once as the int8 GEMM's
 * B (output channels are its columns, with the per-channel zero points folded in), and the i32
 * result is written back in NCHW, requantized for QLinearConv.
 */
import { shapeSize } from '../../api/tensor.js';
import { packedAI8Bytes, packedBI8Bytes } from '../../runtime/kernels.js';
import { windowGeometry } from '../nn/conv-geometry.js';
import { packedBI8, perTensorOr } from './quant-gemm.js';
import { floatReader, roundHalfEven, saturator } from '../../math/quant-math.js';
import type { OpContext, OpDef, Prepared } from '../types.js';
import { requireDtype } from '../util.js';

const CONV_ATTRS = ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'];
const BYTES = ['uint8', 'int8'];

interface Slots { x: number; w: number; xz: number; wz: number }

function prepareIntConv(ctx: OpContext, at: Slots, requant?: { xs: number; ws: number; ys: number; yz: number; bias: number }): Prepared {
  const x = ctx.input(at.x), w = ctx.input(at.w), xz = ctx.inputs[at.xz], wz = ctx.inputs[at.wz];
  requireDtype(ctx, at.x, BYTES);
  requireDtype(ctx, at.w, BYTES);
  if (xz && xz.dtype !== x.dtype) ctx.fail(`x zero point '${xz.name}' is ${xz.dtype}, x is ${x.dtype}`, 'INVALID_MODEL');
  if (wz && wz.dtype !== w.dtype) ctx.fail(`w zero point '${wz.name}' is ${wz.dtype}, w is ${w.dtype}`, 'INVALID_MODEL');
  if (x.dims.length < 3 || x.dims.length > 4) ctx.fail(`tessera supports 1-D and 2-D integer convolution; got input dims [${x.dims}]`, 'UNSUPPORTED_OP');
  if (w.dims.length !== x.dims.length) ctx.fail(`weight rank ${w.dims.length} does not match input rank ${x.dims.length}`, 'SHAPE_MISMATCH');
  if (xz && shapeSize(xz.dims) !== 1) ctx.fail(`x zero point '${xz.name}' must be one value, got shape [${xz.dims}]`, 'UNSUPPORTED_OP');
  const group = ctx.attrs.int('group', 1);
  const [N, C] = [x.dims[0]!, x.dims[1]!], [M, Cg] = [w.dims[0]!, w.dims[1]!];
  if (group < 1 || M % group !== 0 || Cg * group !== C) ctx.fail(`group=${group} does not fit input channels ${C}, weight [${w.dims}]`, 'SHAPE_MISMATCH');
  const wzCol = perTensorOr(ctx, wz, M, 'w_zero_point');
  const oneD = x.dims.length === 3;
  const [H, W] = oneD ? [1, x.dims[2]!] : [x.dims[2]!, x.dims[3]!];
  const [kh, kw] = oneD ? [1, w.dims[2]!] : [w.dims[2]!, w.dims[3]!];
  const declared = ctx.attrs.ints('kernel_shape');
  if (declared && declared.join() !== w.dims.slice(2).join()) ctx.fail(`kernel_shape [${declared}] does not match the weight's [${w.dims.slice(2)}]`, 'SHAPE_MISMATCH');
  let geo;
  if (oneD) {
    const g = windowGeometry(ctx, [W], [kw]);
    geo = { strides: [1, g.strides[0]!], dilations: [1, g.dilations[0]!], pads: [0, g.pads[0]!, 0, g.pads[1]!], out: [1, g.out[0]!] };
  } else {
    geo = windowGeometry(ctx, [H, W], [kh, kw]);
  }
  const [OH, OW] = geo.out as [number, number];
  const [sh, sw] = geo.strides, [dh, dw] = geo.dilations, [pt, pl] = geo.pads;
  const Mg = M / group, K = Cg * kh * kw, P = OH * OW;
  const aBytes = Math.ceil((P * K + 16) / 16) * 16, apBytes = packedAI8Bytes(P, K), cBytes = P * Mg * 4;
  const packBytes = w.constant && (!wz || wz.constant) ? 0 : packedBI8Bytes(K, Mg) * group;
  const outType = requant ? ctx.input(requant.yz).dtype : 'int32', sat = saturator(outType);
  let wsPer = false;
  if (requant) {
    for (const i of [requant.xs, requant.ws, requant.ys]) requireDtype(ctx, i, ['float32', 'float16']);
    requireDtype(ctx, requant.yz, BYTES);
    wsPer = perTensorOr(ctx, ctx.input(requant.ws), M, 'w_scale');
    const b = ctx.inputs[requant.bias];
    if (b && (b.dtype !== 'int32' || shapeSize(b.dims) !== M)) ctx.fail(`bias '${b.name}' must be int32 of ${M} values, got ${b.dtype} [${b.dims}]`, 'SHAPE_MISMATCH');
  }
  const outDims = oneD ? [N, M, OW] : [N, M, OH, OW];
  return {
    outputs: [{ dtype: outType, dims: outDims }],
    scratchBytes: aBytes + apBytes + cBytes + packBytes,
    build: (bd) => {
      const X = bd.inputs[at.x]!, Wt = bd.inputs[at.w]!, XZ = xz ? bd.inputs[at.xz]! : 0, WZ = wz ? bd.inputs[at.wz]! : 0;
      const aPtr = bd.scratch, apPtr = aPtr + aBytes, cPtr = apPtr + apBytes, packPtr = cPtr + cBytes;
      const panels = Array.from({ length: group }, (_, g) =>
        packedBI8(bd, w, wz, Wt + g * Mg * K, WZ ? WZ + (wzCol ? g * Mg : 0) : 0, wzCol, K, Mg, true, packPtr + g * packedBI8Bytes(K, Mg), `conv:${g}:${group}`));
      const vxz = bd.view('uint8', XZ || X, 1);
      const vc = bd.view('int32', cPtr, P * Mg), vy = bd.view(outType, bd.outputs[0]!, shapeSize(outDims));
      const signed = x.dtype === 'int8' ? 1 : 0;
      let epilogue: (Y: ArrayLike<number> & { [i: number]: number }, C: Int32Array, base: number, g: number) => void;
      if (requant) {
        const r = requant, xsI = ctx.input(r.xs), wsI = ctx.input(r.ws), ysI = ctx.input(r.ys), bI = ctx.inputs[r.bias];
        const vxs = bd.view(xsI.dtype, bd.inputs[r.xs]!, 1), vws = bd.view(wsI.dtype, bd.inputs[r.ws]!, wsPer ? M : 1);
        const vys = bd.view(ysI.dtype, bd.inputs[r.ys]!, 1), vyz = bd.view(outType, bd.inputs[r.yz]!, 1);
        const vb = bI ? bd.view('int32', bd.inputs[r.bias]!, M) : undefined;
        const rx = floatReader(xsI.dtype), rw = floatReader(wsI.dtype), ry = floatReader(ysI.dtype);
        epilogue = (Y, C, base, g) => {
          const XS = rx(vxs(), 0), WS = vws(), YS = ry(vys(), 0), Z = vyz()[0] as number, B = vb?.();
          for (let m = 0; m < Mg; m++) {
            const oc = g * Mg + m;
            const mult = Math.fround(Math.fround(XS * rw(WS, wsPer ? oc : 0)) / YS), add = B ? (B[oc] as number) : 0;
            for (let p = 0; p < P; p++) Y[base + oc * P + p] = sat(roundHalfEven(((C[p * Mg + m]! as number) + add) * mult) + Z);
          }
        };
      } else {
        // The i32 sums (P pixel rows × Mg channels) transposed into NCHW in Wasm (32-bit moves):
        // a JavaScript loop over Whisper's 3,000 × 384 stem took ~10 ms a window.
        const Yp = bd.outputs[0]!;
        epilogue = (_Y, _C, base, g) => bd.k.transpose2d_32(cPtr, Yp + (base + g * Mg * P) * 4, P, Mg);
      }
      return () => {
        for (const p of panels) p.perRun?.();
        const pad = XZ ? (vxz()[0] as number) : 0, Y = vy() as never;
        for (let n = 0; n < N; n++) {
          for (let g = 0; g < group; g++) {
            bd.k.im2row_u8(X + ((n * C) + g * Cg) * H * W, aPtr, Cg, H, W, kh, kw, sh!, sw!, dh!, dw!, pt!, pl!, OH, OW, pad);
            bd.k.pack_a_i8(aPtr, K, signed, XZ, 0, apPtr, P, K);
            bd.k.gemm_i16_i32(apPtr, panels[g]!.ptr, cPtr, Mg, P, Mg, K);
            epilogue(Y, vc() as Int32Array, n * M * P, g);
          }
        }
      };
    },
  };
}

export const quantConvOps: OpDef[] = [
  { opType: 'ConvInteger', since: 10, attributes: CONV_ATTRS, prepare: (ctx) => prepareIntConv(ctx, { x: 0, w: 1, xz: 2, wz: 3 }) },
  {
    opType: 'QLinearConv', since: 10, attributes: CONV_ATTRS,
    // Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B.
    prepare: (ctx) => prepareIntConv(ctx, { x: 0, w: 3, xz: 2, wz: 5 }, { xs: 1, ws: 4, ys: 6, yz: 7, bias: 8 }),
  },
];
