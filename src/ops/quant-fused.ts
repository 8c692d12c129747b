/**
 * tessera.DynamicQuantizeMatMul: onnxruntime's quantize_dynamic pattern (DynamicQuantizeLinear →
 * MatMulInteger → Cast → Mul by x_scale·w_scale [→ Add bias]) as one step, made by
 * graph/passes/fuse-qdq.ts, on Wasm kernels end to end: the range (minmax_f32); x quantized to
 * uint8 minus its zero point, straight into the GEMM's packed-A layout in scratch
 * (quantize_pack_a_f32); and the int8 GEMM on the weights packed once at load (gemm_i16_dq_f32),
 * whose tile epilogue scales by x_scale·w_scale[j] (and adds the bias) in registers, so the i32
 * product never goes through memory; an activation fused after it (graph/passes/fuse-activation.ts:
 * Gelu in BERT's MLP) is applied there too. The float32 roundings and the activation code are those
 * of the unfused ops, so results are identical.
 */
import { shapeSize } from '../api/tensor.js';
import { type DynamicParams, dynamicParams } from './quant.js';
import { packedBI8, perTensorOr } from './quant-gemm.js';
import { packedAI8Bytes } from '../runtime/kernels.js';
import { FUSED_ACT_ATTRS, fusedActivation } from './conv.js';
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
  // An activation after the bias (graph/passes/fuse-activation.ts), applied in the same tile store.
  const { act, a: actA, b: actB } = fusedActivation(ctx);
  const aBytes = packedAI8Bytes(M, K);
  const outDims = [...x.dims.slice(0, -1), N];
  return {
    outputs: [{ dtype: 'float32', dims: outDims }],
    // Scratch: packed A | min, max.
    scratchBytes: aBytes + 8,
    build: (bd) => {
      const ap = bd.scratch, range = ap + aBytes;
      const packed = packedBI8(bd, w, wz, bd.inputs[1]!, bd.inputs[2]!, zCol, K, N, false, 0, 'dqmm');
      // w_scale as N floats (a per-tensor scale repeated), once per session.
      const wsIn = bd.inputs[3]!;
      const scales = bd.persistent(`dqmmScales:${ws.name}:${N}`, N * 4, (dst) => {
        const src = bd.view('float32', wsIn, sCol ? N : 1)() as Float32Array;
        const out = bd.view('float32', dst, N)() as Float32Array;
        if (sCol) out.set(src); else out.fill(src[0]!);
      });
      const vr = bd.view('float32', range, 2);
      const X = bd.inputs[0]!, Y = bd.outputs[0]!, B = bias ? bd.inputs[4]! : 0, n = M * K, k = bd.k;
      const params: DynamicParams = { scale: 0, zeroPoint: 0 };
      return () => {
        let lo = 0, hi = 0;
        if (n > 0) { k.minmax_f32(X, n, range); const r = vr(); lo = r[0] as number; hi = r[1] as number; }
        const p = dynamicParams(lo, hi, params);
        k.quantize_pack_a_f32(X, K, ap, M, K, p.scale, p.zeroPoint);
        k.gemm_i16_dq_f32(ap, packed.ptr, Y, N, M, N, K, p.scale, scales, B, act, actA, actB);
      };
    },
  };
}

export const quantFusedOps: OpDef[] = [
  { opType: 'DynamicQuantizeMatMul', domain: 'tessera', since: 1, attributes: [...FUSED_ACT_ATTRS], prepare },
];
