/**
 * tessera.DynamicQuantizeMatMul: onnxruntime's quantize_dynamic pattern (DynamicQuantizeLinear →
 * MatMulInteger → Cast → Mul by x_scale·w_scale [→ Add bias]) as one step, made by
 * graph/passes/fuse-qdq.ts, on Wasm kernels end to end: range (minmax_f32), x → uint8 into scratch
 * (quantize_f32_u8), the int8 GEMM on the pre-packed weights (gemm_i8), and the i32 result scaled
 * (and biased) into y (dequantize_i32_f32) with the same float32 roundings as the unfused ops, so
 * results are identical.
 */
import { shapeSize } from '../api/tensor.js';
import { type DynamicParams, dynamicParams } from './quant.js';
import { packedBI8, perTensorOr } from './quant-gemm.js';
import type { OpContext, OpDef, Prepared } from './types.js';
import { requireDtype } from './util.js';

function prepare(ctx: OpContext): Prepared {
  // Inputs: x, w (K×N), w_zero_point, w_scale, bias?
  const x = ctx.input(0), w = ctx.input(1), wz = ctx.input(2), ws = ctx.input(3), bias = ctx.inputs[4];
  requireDtype(ctx, 0, ['float32']);
  requireDtype(ctx, 1, ['uint8', 'int8']);
  requireDtype(ctx, 3, ['float32']);
  if (w.dims.length !== 2 || x.dims.length < 1) ctx.fail(`needs x of rank ≥ 1 and a 2-D weight, got [${x.dims}] and [${w.dims}]`, 'SHAPE_MISMATCH');
  const [K, N] = w.dims as [number, number];
  if (x.dims[x.dims.length - 1] !== K) ctx.fail(`inner dimensions differ: [${x.dims}] × [${w.dims}]`, 'SHAPE_MISMATCH');
  if (!w.constant || !wz.constant || !ws.constant || (bias && !bias.constant)) ctx.fail('weights, zero points, scales and bias must be constant', 'UNSUPPORTED_OP');
  const zCol = perTensorOr(ctx, wz, N, 'w_zero_point'), sCol = perTensorOr(ctx, ws, N, 'w_scale');
  if (bias && (bias.dtype !== 'float32' || shapeSize(bias.dims) !== N)) ctx.fail(`bias must be float32 of ${N} values, got ${bias.dtype} [${bias.dims}]`, 'SHAPE_MISMATCH');
  const M = shapeSize(x.dims) / K;
  const qBytes = Math.ceil((M * K + 16) / 64) * 64, accBytes = M * N * 4;
  const outDims = [...x.dims.slice(0, -1), N];
  return {
    outputs: [{ dtype: 'float32', dims: outDims }],
    // Scratch: x as uint8 | i32 accumulators | zero point (4 bytes) | min, max | N scales.
    scratchBytes: qBytes + accBytes + 4 + 8 + N * 4,
    build: (bd) => {
      const q = bd.scratch, acc = q + qBytes, zp = acc + accBytes, range = zp + 4, scales = range + 8;
      const packed = packedBI8(bd, w, wz, bd.inputs[1]!, bd.inputs[2]!, zCol, K, N, false, 0, 'dqmm');
      const vq = bd.view('uint8', q, M * K), vz = bd.view('uint8', zp, 1), vr = bd.view('float32', range, 2), vs = bd.view('float32', scales, N);
      const WS = Float32Array.from(bd.view('float32', bd.inputs[3]!, sCol ? N : 1)() as Float32Array);
      const X = bd.inputs[0]!, Y = bd.outputs[0]!, B = bias ? bd.inputs[4]! : 0, n = M * K, k = bd.k;
      const params: DynamicParams = { scale: 0, zeroPoint: 0 };
      return () => {
        let lo = 0, hi = 0;
        if (n > 0) { k.minmax_f32(X, n, range); const r = vr(); lo = r[0] as number; hi = r[1] as number; }
        const p = dynamicParams(lo, hi, params);
        if (p.scale === 0) (vq() as Uint8Array).fill(p.zeroPoint);
        else k.quantize_f32_u8(X, q, n, p.scale, p.zeroPoint);
        vz()[0] = p.zeroPoint;
        k.gemm_i8(q, K, 0, zp, 0, packed.ptr, acc, N, M, N, K);
        const S = vs();
        for (let j = 0; j < N; j++) S[j] = Math.fround(p.scale * WS[sCol ? j : 0]!);
        k.dequantize_i32_f32(acc, Y, M, N, scales, B);
      };
    },
  };
}

export const quantFusedOps: OpDef[] = [
  { opType: 'DynamicQuantizeMatMul', domain: 'tessera', since: 1, attributes: [], prepare },
];
