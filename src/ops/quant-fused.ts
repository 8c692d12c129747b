/**
 * tessera.DynamicQuantizeMatMul: onnxruntime's quantize_dynamic pattern (DynamicQuantizeLinear →
 * MatMulInteger → Cast → Mul by x_scale·w_scale [→ Add bias]) as one step, made by
 * graph/passes/fuse-qdq.ts. x is quantized to uint8 into scratch, multiplied on the int8 GEMM
 * with the pre-packed weights, and the i32 result is scaled (and biased) straight into y, with the
 * same float32 roundings as the unfused ops, so results are identical.
 */
import { shapeSize } from '../api/tensor.js';
import { dynamicParams } from './quant.js';
import { packedBI8, perTensorOr } from './quant-gemm.js';
import { roundHalfEven, saturate } from './quant-math.js';
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
  const qBytes = Math.ceil((M * K + 16) / 64) * 64;
  const outDims = [...x.dims.slice(0, -1), N];
  return {
    outputs: [{ dtype: 'float32', dims: outDims }],
    scratchBytes: qBytes + M * N * 4 + 4,
    build: (bd) => {
      const q = bd.scratch, acc = bd.scratch + qBytes, zp = acc + M * N * 4;
      const packed = packedBI8(bd, w, wz, bd.inputs[1]!, bd.inputs[2]!, zCol, K, N, false, 0, 'dqmm');
      const vx = bd.view('float32', bd.inputs[0]!, M * K), vq = bd.view('uint8', q, M * K), vz = bd.view('uint8', zp, 1);
      const vacc = bd.view('int32', acc, M * N), vy = bd.view('float32', bd.outputs[0]!, M * N);
      const WS = Float32Array.from(bd.view('float32', bd.inputs[3]!, sCol ? N : 1)() as Float32Array);
      const B = bias ? Float32Array.from(bd.view('float32', bd.inputs[4]!, N)() as Float32Array) : undefined;
      const scale = new Float32Array(N);
      return () => {
        const X = vx() as Float32Array, Q = vq();
        let min = Infinity, max = -Infinity;
        for (let i = 0; i < X.length; i++) { const v = X[i]!; if (v < min) min = v; if (v > max) max = v; }
        const p = dynamicParams(X.length ? min : 0, X.length ? max : 0);
        for (let i = 0; i < X.length; i++) Q[i] = p.scale === 0 ? p.zeroPoint : saturate(roundHalfEven(Math.fround(X[i]! / p.scale)) + p.zeroPoint, 'uint8');
        vz()[0] = p.zeroPoint;
        bd.k.gemm_i8(q, K, 0, zp, 0, packed.ptr, acc, N, M, N, K);
        for (let j = 0; j < N; j++) scale[j] = Math.fround(p.scale * WS[sCol ? j : 0]!);
        const C = vacc() as Int32Array, Y = vy() as Float32Array;
        for (let i = 0, o = 0; i < M; i++) {
          if (B) for (let j = 0; j < N; j++, o++) Y[o] = Math.fround(Math.fround(Math.fround(C[o]!) * scale[j]!) + B[j]!);
          else for (let j = 0; j < N; j++, o++) Y[o] = Math.fround(C[o]!) * scale[j]!;
        }
      };
    },
  };
}

export const quantFusedOps: OpDef[] = [
  { opType: 'DynamicQuantizeMatMul', domain: 'tessera', since: 1, attributes: [], prepare },
];
