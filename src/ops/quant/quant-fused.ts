/**
 * tessera.DynamicQuantizeMatMul: onnxruntime's quantize_dynamic pattern (DynamicQuantizeLinear →
 * MatMulInteger → Cast → Mul by x_scale·w_scale [→ Add bias]) as one step, made by
 * graph/passes/fuse-qdq.ts, on Wasm kernels end to end: the range (minmax_f32); x quantized to
 * uint8 minus its zero point, straight into the GEMM's packed-A layout in scratch
 * (quantize_pack_a_f32); and the int8 GEMM on the weights packed once, over their initializer, as
 * one-byte panels (gemm_q8_dq_f32; gemv_q8_dq_f32 for decode rows; i16 panels and gemm_i16_dq_f32
 * where w − w_zero_point does not fit a byte),
 * whose tile epilogue scales by x_scale·w_scale[j] (and adds the bias) in registers, so the i32
 * product never goes through memory; an activation fused after it (graph/passes/fuse-activation.ts:
 * Gelu in BERT's MLP) is applied there too. The float32 roundings and the activation code are those
 * of the unfused ops, so results are identical.
 *
 * An optional sixth input, x_range, supplies the range instead of x (x then holds selected rows of
 * it: a q8 lm_head run at the last position only, quantized as the all-rows head would be).
 *
 * tessera.DynamicQuantizeMatMulGroup (graph/passes/share-dynamic-quantize.ts): several of them on
 * one x (BERT's Q, K, V), x's range found and x quantized once, then one GEMM per output. Inputs
 * x, then (w, w_zero_point, w_scale, bias or '') per output; `activations` (one per output, ''
 * for none) and `activation_params` (two per output).
 *
 * `per_item_range` = 1 (both ops; set by graph/passes/per-item-quantize.ts on a decoder that
 * decodes several windows as one batch, never from a model file): x's first axis indexes batch
 * items, and each item is quantized with the range of its own values, as the item alone would be
 * (ONNX's DynamicQuantizeLinear takes one range over the whole tensor, which would make an item's
 * rounding depend on the others). The weights are still read once for all rows: the rows are
 * packed with their item's scale and zero point (quantize_pack_a_rows_f32) and the GEMM scales each
 * row by its own (the kernels' aScales). Integer sums are exact, so each item's output has the
 * bits of the same op run on that item alone. One item runs the per-tensor path itself.
 */
import { shapeSize } from '../../api/tensor.js';
import { type DynamicParams, dynamicParams } from './quant.js';
import { packedWeightI8, perTensorOr } from './quant-gemm.js';
import { Act, packedAI8Bytes } from '../../runtime/kernels.js';
import { FUSED_ACT_ATTRS, fusedActivation } from '../nn/conv.js';
import type { Bound, OpContext, OpDef, Prepared } from '../types.js';
import { requireDtype } from '../util.js';

/** Rows up to which the weight-streaming GEMV (gemv_q8_dq_f32) replaces the GEMM: decode steps. */
const GEMV_MAX_ROWS = 4;

interface Activation { act: number; a: number; b: number }

/** One weight of the step: inputs w, w_zero_point, w_scale, bias? from `first`. */
interface Product {
  N: number;
  act: Activation;
  /** The weight packed once for the session (packedWeightI8). */
  pack(bd: Bound): { ptr: number; q8: boolean };
  /**
   * Binds the packed weight, scales and bias; returns the GEMM for packed A at `ap`, A's scale
   * `aScale`, or per row at `aScales` (M floats) when that is not 0.
   */
  bind(bd: Bound, y: number, p: { ptr: number; q8: boolean }): (ap: number, aScale: number, aScales: number) => void;
}

function product(ctx: OpContext, first: number, M: number, K: number, act: Activation): Product {
  const w = ctx.input(first), wz = ctx.input(first + 1), ws = ctx.input(first + 2), bias = ctx.inputs[first + 3];
  requireDtype(ctx, first, ['uint8', 'int8']);
  requireDtype(ctx, first + 2, ['float32']);
  if (w.dims.length !== 2) ctx.fail(`weight '${w.name}' must be 2-D, got [${w.dims}]`, 'SHAPE_MISMATCH');
  const [Kw, N] = w.dims as [number, number];
  if (Kw !== K) ctx.fail(`inner dimensions differ: x has ${K} columns, weight '${w.name}' is [${w.dims}]`, 'SHAPE_MISMATCH');
  if (!w.constant || !wz.constant || !ws.constant || (bias && !bias.constant)) ctx.fail('weights, zero points, scales and bias must be constant', 'UNSUPPORTED_OP');
  const zCol = perTensorOr(ctx, wz, N, 'w_zero_point'), sCol = perTensorOr(ctx, ws, N, 'w_scale');
  if (bias && (bias.dtype !== 'float32' || shapeSize(bias.dims) !== N)) ctx.fail(`bias must be float32 of ${N} values, got ${bias.dtype} [${bias.dims}]`, 'SHAPE_MISMATCH');
  return {
    N, act,
    // One packed copy of the weight serves every plan (Bound.persistent replaces the initializer
    // by it): one-byte panels when every w − w_zero_point fits int8, read by the decode GEMV for
    // M ≤ 4 rows and by the GEMM, which widens them as it loads them, for more; else i16 panels
    // and the GEMM. Both give the same bits.
    pack: (bd) => packedWeightI8(bd, w, wz, bd.inputs[first]!, bd.inputs[first + 1]!, zCol, K, N, false),
    bind: (bd, Y, p) => {
      // w_scale as N floats (a per-tensor scale repeated), once per session.
      const wsIn = bd.inputs[first + 2]!;
      const scales = bd.persistent(`dqmmScales:${ws.name}:${N}`, N * 4, (dst) => {
        const src = bd.view('float32', wsIn, sCol ? N : 1)() as Float32Array;
        const out = bd.view('float32', dst, N)() as Float32Array;
        if (sCol) out.set(src); else out.fill(src[0]!);
      });
      const B = bias ? bd.inputs[first + 3]! : 0, k = bd.k;
      const { act: code, a, b } = act;
      if (p.q8 && M >= 1 && M <= GEMV_MAX_ROWS) return (ap, aScale, aScales) => k.gemv_q8_dq_f32(ap, p.ptr, Y, N, M, N, K, aScale, scales, B, code, a, b, aScales);
      const gemm = p.q8 ? k.gemm_q8_dq_f32 : k.gemm_i16_dq_f32;
      return (ap, aScale, aScales) => gemm(ap, p.ptr, Y, N, M, N, K, aScale, scales, B, code, a, b, aScales);
    },
  };
}

/**
 * The step for x (input 0) and its products, one output each. `rangeAt`: the input whose min/max
 * sets x's quantization instead of x's own (a q8 lm_head at selected rows, whose range spans
 * every row: graph/passes/select-rows.ts's selectQuantizedHeadRows).
 */
function prepareProducts(ctx: OpContext, acts: Activation[], rangeAt = -1): Prepared {
  const x = ctx.input(0);
  requireDtype(ctx, 0, ['float32']);
  const rangeIn = rangeAt >= 0 ? ctx.inputs[rangeAt] : undefined;
  if (rangeIn) requireDtype(ctx, rangeAt, ['float32']);
  if (x.dims.length < 1) ctx.fail(`needs x of rank ≥ 1, got [${x.dims}]`, 'SHAPE_MISMATCH');
  const K = x.dims[x.dims.length - 1]!;
  const M = shapeSize(x.dims.slice(0, -1));
  const perItem = ctx.attrs.int('per_item_range', 0);
  if (perItem !== 0 && perItem !== 1) ctx.fail(`attribute 'per_item_range' must be 0 or 1, got ${perItem}`, 'INVALID_ATTRIBUTE');
  if (perItem && rangeIn) ctx.fail("'per_item_range' cannot be combined with an x_range input", 'INVALID_MODEL');
  if (perItem && x.dims.length < 3) ctx.fail(`'per_item_range' needs x of rank ≥ 3 ([items, rows, K]), got [${x.dims}]`, 'SHAPE_MISMATCH');
  // Items quantized alone; one item (or none) is the per-tensor case.
  const items = perItem ? x.dims[0]! : 1;
  const products = acts.map((act, i) => product(ctx, 1 + 4 * i, M, K, act));
  const aBytes = packedAI8Bytes(M, K);
  const rowParams = items > 1 ? 8 * M : 0;
  return {
    outputs: products.map((p) => ({ dtype: 'float32', dims: [...x.dims.slice(0, -1), p.N] })),
    // Scratch: packed A | min, max | per item: each row's scale (M f32) and zero point (M i32).
    scratchBytes: aBytes + 8 + rowParams,
    build: (bd) => {
      const ap = bd.scratch, range = ap + aBytes;
      if (items > 1) return perItemStep(bd, products, ap, range, M, K, items);
      // Every weight packed before anything else is filled: a fill that reads the node's inputs as
      // stored (the scales) would first read in whole any weight still in the model file, which
      // its packing reads from the file a band at a time instead (Engine.deferWeight).
      const packed = products.map((p) => p.pack(bd));
      const gemms = products.map((p, i) => p.bind(bd, bd.outputs[i]!, packed[i]!));
      const vr = bd.view('float32', range, 2);
      const X = bd.inputs[0]!, n = M * K, k = bd.k;
      const R = rangeIn ? bd.inputs[rangeAt]! : X, rn = rangeIn ? shapeSize(rangeIn.dims) : n;
      const params: DynamicParams = { scale: 0, zeroPoint: 0 };
      return () => {
        let lo = 0, hi = 0;
        if (rn > 0) { k.minmax_f32(R, rn, range); const r = vr(); lo = r[0] as number; hi = r[1] as number; }
        const p = dynamicParams(lo, hi, params);
        k.quantize_pack_a_f32(X, K, ap, M, K, p.scale, p.zeroPoint);
        for (let i = 0; i < gemms.length; i++) gemms[i]!(ap, p.scale, 0);
      };
    },
  };
}

/**
 * The step of `per_item_range` over `items` > 1: each item's range over its M/items rows (contiguous
 * in x), its DynamicQuantizeLinear scale and zero point given to each of its rows, x packed per row,
 * and the products dequantized per row. Scratch after the range: M scales, then M zero points.
 */
function perItemStep(bd: Bound, products: Product[], ap: number, range: number, M: number, K: number, items: number): () => void {
  const packed = products.map((p) => p.pack(bd));
  const gemms = products.map((p, i) => p.bind(bd, bd.outputs[i]!, packed[i]!));
  const scales = range + 8, zps = scales + 4 * M;
  const vr = bd.view('float32', range, 2), vs = bd.view('float32', scales, M), vz = bd.view('int32', zps, M);
  const X = bd.inputs[0]!, rows = M / items, n = rows * K, k = bd.k;
  const params: DynamicParams = { scale: 0, zeroPoint: 0 };
  return () => {
    const s = vs() as Float32Array, z = vz() as Int32Array;
    for (let b = 0; b < items; b++) {
      let lo = 0, hi = 0;
      if (n > 0) { k.minmax_f32(X + 4 * b * n, n, range); const r = vr(); lo = r[0] as number; hi = r[1] as number; }
      const p = dynamicParams(lo, hi, params);
      s.fill(p.scale, b * rows, b * rows + rows);
      z.fill(p.zeroPoint, b * rows, b * rows + rows);
    }
    k.quantize_pack_a_rows_f32(X, K, ap, M, K, scales, zps);
    for (let i = 0; i < gemms.length; i++) gemms[i]!(ap, 0, scales);
  };
}

function prepare(ctx: OpContext): Prepared {
  // Inputs: x, w (K×N), w_zero_point, w_scale, bias?, x_range? (the tensor whose min/max
  // quantizes x: x's rows are a selection of it).
  if (ctx.node.inputs.length > 6) ctx.fail(`takes at most 6 inputs, got ${ctx.node.inputs.length}`, 'INVALID_MODEL');
  return prepareProducts(ctx, [fusedActivation(ctx)], 5);
}

function prepareGroup(ctx: OpContext): Prepared {
  const G = ctx.node.outputs.length;
  if (G < 1 || ctx.node.inputs.length !== 1 + 4 * G) ctx.fail(`needs x and 4 inputs per output: ${ctx.node.inputs.length} inputs for ${G} outputs`, 'INVALID_MODEL');
  const names = ctx.attrs.strings('activations') ?? [], params = ctx.attrs.floats('activation_params') ?? [];
  if (names.length !== G || params.length !== 2 * G) {
    ctx.fail(`needs ${G} activations and ${2 * G} activation_params, got ${names.length} and ${params.length}`, 'INVALID_ATTRIBUTE');
  }
  const acts = names.map((name, i) => {
    const code = name === '' ? Act.none : (Act as Record<string, number>)[name];
    if (code === undefined) ctx.fail(`unknown fused activation '${name}'`, 'INVALID_ATTRIBUTE');
    return { act: code!, a: params[2 * i]!, b: params[2 * i + 1]! };
  });
  return prepareProducts(ctx, acts);
}

export const quantFusedOps: OpDef[] = [
  { opType: 'DynamicQuantizeMatMul', domain: 'tessera', since: 1, attributes: [...FUSED_ACT_ATTRS, 'per_item_range'], prepare },
  { opType: 'DynamicQuantizeMatMulGroup', domain: 'tessera', since: 1, attributes: ['activations', 'activation_params', 'per_item_range'], prepare: prepareGroup },
];
