/**
 * `com.microsoft` Attention: the self-attention block onnxruntime's BERT/GPT-2 optimizer writes,
 * input [B, S, Din] × packed weights [Din, Dq + Dk + Dv] (+ bias) → Q, K, V, then multi-head
 * scaled dot-product attention with the mask_index forms and past/present state.
 *
 * The projection is one GEMM (weights packed once per session, bias in the epilogue) into scratch
 * [B·S, Dq + Dk + Dv]; the attention is tessera's fused kernel (attention_f32) reading Q, K and V
 * straight out of that buffer through its leading dimensions — no transposes, no score matrix in
 * memory. With past state the keys and values are concatenated into present ([2, B, N, T, H]) and
 * read from there per head.
 */
import { shapeSize } from '../../api/tensor.js';
import { BiasKind, packedBFloats } from '../../runtime/kernels.js';
import { attentionScratchBytes } from '../nn/fused-attention.js';
import type { OpDef } from '../types.js';
import { requireDtype } from '../util.js';
import { align64, concatPresent, headSize, maskAttrs, planMask, runHeads, scaleOf, type HeadLayout } from './bert-attention-core.js';

const attention: OpDef = {
  opType: 'Attention', domain: 'com.microsoft', since: 1,
  attributes: ['num_heads', 'qkv_hidden_sizes', 'unidirectional', 'scale', 'mask_filter_value', 'past_present_share_buffer', 'do_rotary', 'rotary_embedding_dim'],
  optionalOutputs: true,
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32']);
    requireDtype(ctx, 1, ['float32']);
    const x = ctx.input(0), w = ctx.input(1), bias = ctx.inputs[2], past = ctx.inputs[4];
    if (ctx.attrs.int('do_rotary', 0) !== 0) throw ctx.attrs.error('do_rotary', 'is not supported (rotary embedding inside Attention); only 0 is');
    if (ctx.attrs.int('past_present_share_buffer', 0) !== 0) throw ctx.attrs.error('past_present_share_buffer', 'is not supported; only 0 is');
    if (ctx.inputs[6]) ctx.fail('past_sequence_length (input 6) is only used with past_present_share_buffer, which tessera does not support', 'UNSUPPORTED_OP');
    if (x.dims.length !== 3) ctx.fail(`input '${x.name}' must be 3-D [batch, sequence, hidden], got [${x.dims}]`, 'SHAPE_MISMATCH');
    const [B, S, Din] = x.dims as [number, number, number];
    if (w.dims.length !== 2 || w.dims[0] !== Din) ctx.fail(`weights '${w.name}' must be [${Din}, Dq + Dk + Dv], got [${w.dims}]`, 'SHAPE_MISMATCH');
    const W3 = w.dims[1]!;
    const sizes = ctx.attrs.ints('qkv_hidden_sizes');
    if (sizes && (sizes.length !== 3 || sizes.some((s) => !(s > 0)) || sizes[0]! + sizes[1]! + sizes[2]! !== W3)) {
      throw ctx.attrs.error('qkv_hidden_sizes', `must be three positive sizes adding up to the weights' ${W3} columns, got [${sizes}]`);
    }
    if (!sizes && W3 % 3 !== 0) ctx.fail(`weights '${w.name}' have ${W3} columns, not 3 equal Q/K/V parts (give qkv_hidden_sizes)`, 'SHAPE_MISMATCH');
    const [Dq, Dk, Dv] = sizes ?? [W3 / 3, W3 / 3, W3 / 3];
    if (Dq !== Dk) throw ctx.attrs.error('qkv_hidden_sizes', `Q and K hidden sizes must be equal, got ${Dq} and ${Dk}`);
    const N = ctx.attrs.int('num_heads', 0);
    const d = headSize(ctx, N, Dq!, 'Q/K hidden size');
    if (Dv! % N !== 0 || Dv! / N !== d) throw ctx.attrs.error('qkv_hidden_sizes', `V's head size (${Dv} / ${N}) must equal Q's (${d}) in tessera's attention kernel`);
    if (bias) {
      requireDtype(ctx, 2, ['float32']);
      if (bias.dims.length !== 1 || bias.dims[0] !== W3) ctx.fail(`bias '${bias.name}' must be [${W3}], got [${bias.dims}]`, 'SHAPE_MISMATCH');
    }
    const scale = scaleOf(ctx, d);
    const { filter, causal: uni } = maskAttrs(ctx);
    let P = 0;
    if (past) {
      requireDtype(ctx, 4, ['float32']);
      const pd = past.dims;
      if (pd.length !== 5 || pd[0] !== 2 || pd[1] !== B || pd[2] !== N || pd[4] !== d) ctx.fail(`past '${past.name}' must be [2, ${B}, ${N}, past_sequence_length, ${d}], got [${pd}]`, 'SHAPE_MISMATCH');
      P = pd[3]!;
      if (Dv !== Dq) throw ctx.attrs.error('qkv_hidden_sizes', 'Q, K and V hidden sizes must be equal with past state');
    }
    const T = P + S;
    const causal = uni && S > 1;
    const mask = planMask(ctx, 3, 5, B, N, S, P, T, causal, filter);
    const wantPresent = (ctx.node.outputs[1] ?? '') !== '';
    const stateful = past !== undefined || wantPresent;
    const rows = B * S;
    // Scratch: the QKV projection, a present when the graph does not want one, the mask, the kernel's blocks.
    const qkvBytes = align64(rows * W3 * 4);
    const presentFloats = 2 * B * N * T * d;
    const kvBytes = stateful && !wantPresent ? align64(presentFloats * 4) : 0;
    const maskBytes = align64(mask.floats * 4);
    const wPacked = w.constant ? 0 : align64(packedBFloats(Din, W3) * 4);
    const kernelBytes = attentionScratchBytes(T, d) * (ctx.threads ?? 1);
    const outputs = [{ dtype: 'float32' as const, dims: [B, S, Dv!] }];
    if (ctx.node.outputs.length > 1) outputs.push({ dtype: 'float32', dims: [2, B, N, T, d] });
    return {
      outputs,
      scratchBytes: qkvBytes + kvBytes + maskBytes + wPacked + kernelBytes,
      build(b) {
        const k = b.k, X = b.inputs[0]!, W = b.inputs[1]!, Y = b.outputs[0]!;
        const qkv = b.scratch, kvPtr = wantPresent ? b.outputs[1]! : qkv + qkvBytes;
        const maskPtr = qkv + qkvBytes + kvBytes, wScratch = maskPtr + maskBytes, kernelScratch = wScratch + wPacked;
        const pack = (dst: number) => k.pack_b_f32(W, dst, Din, W3, W3, 0);
        const wp = w.constant ? b.persistent(`msAttentionW:${w.name}:${W}:${Din}x${W3}`, packedBFloats(Din, W3) * 4, pack, W) : wScratch;
        const biasPtr = bias ? b.inputs[2]! : 0;
        const maskView = mask.fill ? b.view('float32', maskPtr, mask.floats) : undefined;
        const intMask = ctx.inputs[3] ? b.view('int32', b.inputs[3]!, shapeSize(ctx.inputs[3].dims)) : undefined;
        const biasView = ctx.inputs[5] ? b.view('float32', b.inputs[5]!, shapeSize(ctx.inputs[5].dims)) : undefined;
        const strides = mask.strides(mask.kind === 'bias' ? b.inputs[5]! : maskPtr);
        const m = mask.kind === 'none' ? undefined : strides;
        const out: HeadLayout = { ptr: Y, batch: S * Dv!, head: d, row: Dv! };
        const q: HeadLayout = { ptr: qkv, batch: S * W3, head: d, row: W3 };
        const kNew: HeadLayout = { ptr: qkv + Dq! * 4, batch: S * W3, head: d, row: W3 };
        const vNew: HeadLayout = { ptr: qkv + (Dq! + Dk!) * 4, batch: S * W3, head: d, row: W3 };
        const qkvView = stateful ? b.view('float32', qkv, rows * W3) : undefined;
        const presentView = stateful ? b.view('float32', kvPtr, presentFloats) : undefined;
        const pastView = past ? b.view('float32', b.inputs[4]!, shapeSize(past.dims)) : undefined;
        const half = B * N * T * d;
        return () => {
          if (!w.constant) pack(wp);
          k.gemm_f32(X, Din, wp, qkv, W3, rows, W3, Din, biasPtr, bias ? BiasKind.perColumn : BiasKind.none, 0, 0, 0, 0);
          if (maskView) mask.fill!(maskView() as Float32Array, intMask?.() as Int32Array | undefined, biasView?.() as Float32Array | undefined);
          if (!stateful) {
            runHeads(k, q, kNew, vNew, out, m, kernelScratch, B, N, S, S, d, scale);
            return;
          }
          const all = qkvView!() as Float32Array, pres = presentView!() as Float32Array, pst = pastView?.() as Float32Array | undefined;
          const layout = (off: number): HeadLayout => ({ ptr: off, batch: S * W3, head: d, row: W3 });
          // V before K, for the same reason as concatPresent's order (present's K half covers past's V).
          concatPresent(pres.subarray(half), pst?.subarray(B * N * P * d), all, layout(Dq! + Dk!), B, N, P, S, d);
          concatPresent(pres.subarray(0, half), pst?.subarray(0, B * N * P * d), all, layout(Dq!), B, N, P, S, d);
          const kp: HeadLayout = { ptr: kvPtr, batch: N * T * d, head: T * d, row: d };
          const vp: HeadLayout = { ptr: kvPtr + half * 4, batch: N * T * d, head: T * d, row: d };
          runHeads(k, q, kp, vp, out, m, kernelScratch, B, N, S, T, d, scale);
        };
      },
    };
  },
};

/** com.microsoft Attention, for src/ops/contrib/index.ts. */
export const contribAttentionOps: readonly OpDef[] = [attention];
