/**
 * `com.microsoft` MultiHeadAttention: attention over already-projected Q, K, V (self or cross),
 * as onnxruntime's optimizer writes it for BART/T5/Whisper/CLIP/SD encoders and decoders.
 * Accepted layouts: query [B, S, D] with key/value [B, L, D] / [B, L, Dv] or per head [B, N, L, H];
 * packed QKV query [B, S, N, 3, H]; packed KV key [B, L, N, 2, H]. bias [D + D + Dv] is added to
 * the 3-D operands (for packed ones, per head). key_padding_mask, attention_bias, unidirectional
 * and past_key/past_value → present_key/present_value follow the Attention op's conventions.
 *
 * Every layout is read in place by tessera's fused attention kernel through strides; only a bias
 * add (into scratch) or a KV concatenation (into present) copies anything.
 */
import { shapeSize } from '../../api/tensor.js';
import { attentionScratchBytes } from '../nn/fused-attention.js';
import type { Kernels } from '../../runtime/kernels.js';
import type { OpDef } from '../types.js';
import { requireDtype } from '../util.js';
import { align64, concatPresent, headSize, maskAttrs, planMask, requireShape, runHeads, scaleOf, type HeadLayout } from './bert-attention-core.js';
import { addRowBias } from './gelu.js';

type Form = 'separate' | 'perHead' | 'packedQKV' | 'packedKV';

const multiHeadAttention: OpDef = {
  opType: 'MultiHeadAttention', domain: 'com.microsoft', since: 1,
  attributes: ['num_heads', 'scale', 'mask_filter_value', 'unidirectional'],
  optionalOutputs: true,
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32']);
    const q = ctx.input(0), key = ctx.inputs[1], value = ctx.inputs[2], bias = ctx.inputs[3];
    const pastK = ctx.inputs[6], pastV = ctx.inputs[7];
    if (ctx.inputs[8]) ctx.fail('past_sequence_length (input 8, buffer sharing) is not supported', 'UNSUPPORTED_OP');
    if (ctx.inputs[9]) ctx.fail('cache_indirection (input 9, beam search) is not supported', 'UNSUPPORTED_OP');
    if ((ctx.node.outputs[3] ?? '') !== '') ctx.fail('the qk output (3) is not supported', 'UNSUPPORTED_OP');
    const N = ctx.attrs.int('num_heads', 0);
    if (!(N > 0)) throw ctx.attrs.error('num_heads', N === 0 ? 'is required (a positive number of heads)' : `must be positive, got ${N}`);
    let form: Form = 'separate', B = 0, S = 0, L = 0, d = 0;
    if (q.dims.length === 5) {
      const [b0, s0, n0, three, h0] = q.dims as [number, number, number, number, number];
      if (n0 !== N || three !== 3) ctx.fail(`packed QKV query '${q.name}' must be [batch, sequence, ${N}, 3, head_size], got [${q.dims}]`, 'SHAPE_MISMATCH');
      if (key || value) ctx.fail('with packed QKV query, key and value must be absent', 'INVALID_MODEL');
      form = 'packedQKV'; B = b0; S = s0; L = s0; d = h0;
    } else {
      if (q.dims.length !== 3) ctx.fail(`query '${q.name}' must be 3-D [batch, sequence, hidden] or packed [batch, sequence, ${N}, 3, head_size], got [${q.dims}]`, 'SHAPE_MISMATCH');
      [B, S] = q.dims as [number, number];
      d = headSize(ctx, N, q.dims[2]!, `query hidden size`);
      if (!key) ctx.fail('key is required unless query is packed QKV', 'INVALID_MODEL');
      requireDtype(ctx, 1, ['float32']);
      const kd = key!.dims;
      if (kd.length === 5) {
        if (value) ctx.fail('with packed KV key, value must be absent', 'INVALID_MODEL');
        if (kd[0] !== B || kd[2] !== N || kd[3] !== 2 || kd[4] !== d) ctx.fail(`packed KV key '${key!.name}' must be [${B}, kv_sequence, ${N}, 2, ${d}], got [${kd}]`, 'SHAPE_MISMATCH');
        form = 'packedKV'; L = kd[1]!;
      } else if (kd.length === 3) {
        if (!value) ctx.fail('value is required with a 3-D key', 'INVALID_MODEL');
        if (kd[0] !== B || kd[2] !== N * d) ctx.fail(`key '${key!.name}' must be [${B}, kv_sequence, ${N * d}], got [${kd}]`, 'SHAPE_MISMATCH');
        L = kd[1]!;
        requireShape(ctx, 2, value!, [B, L, N * d], 'value');
        form = 'separate';
      } else if (kd.length === 4) {
        if (!value) ctx.fail('value is required with a 4-D key', 'INVALID_MODEL');
        if (kd[0] !== B || kd[1] !== N || kd[3] !== d) ctx.fail(`key '${key!.name}' must be [${B}, ${N}, kv_sequence, ${d}], got [${kd}]`, 'SHAPE_MISMATCH');
        L = kd[2]!;
        requireShape(ctx, 2, value!, [B, N, L, d], 'value');
        if (pastK || pastV) ctx.fail('past_key/past_value cannot be combined with a 4-D (per-head) key and value', 'INVALID_MODEL');
        form = 'perHead';
      } else {
        ctx.fail(`key '${key!.name}' must be [batch, kv_sequence, hidden], [batch, ${N}, kv_sequence, head_size] or packed [batch, kv_sequence, ${N}, 2, head_size], got [${kd}]`, 'SHAPE_MISMATCH');
      }
    }
    const D = N * d;
    if (bias) requireShape(ctx, 3, bias, [3 * D], 'bias');
    if (bias && form === 'perHead') ctx.fail('bias with a 4-D (per-head) key and value is not supported', 'UNSUPPORTED_OP');
    if (!!pastK !== !!pastV) ctx.fail('past_key and past_value must be given together', 'INVALID_MODEL');
    let P = 0;
    if (pastK) {
      requireDtype(ctx, 6, ['float32']);
      const pd = pastK.dims;
      if (pd.length !== 4 || pd[0] !== B || pd[1] !== N || pd[3] !== d) ctx.fail(`past_key '${pastK.name}' must be [${B}, ${N}, past_sequence, ${d}], got [${pd}]`, 'SHAPE_MISMATCH');
      P = pd[2]!;
      requireShape(ctx, 7, pastV!, [B, N, P, d], 'past_value');
    }
    const T = P + L;
    const scale = scaleOf(ctx, d);
    const { filter, causal: uni } = maskAttrs(ctx);
    const causal = uni && S > 1;
    const mask = planMask(ctx, 4, 5, B, N, S, P, T, causal, filter);
    const wantK = (ctx.node.outputs[1] ?? '') !== '', wantV = (ctx.node.outputs[2] ?? '') !== '';
    const stateful = pastK !== undefined || wantK || wantV;
    // Operand layouts (element strides) before any bias or concatenation.
    const lay = (batch: number, head: number, row: number): Omit<HeadLayout, 'ptr'> => ({ batch, head, row });
    const qL = form === 'packedQKV' ? lay(S * 3 * D, 3 * d, 3 * D) : lay(S * D, d, D);
    const kL = form === 'packedQKV' ? qL : form === 'packedKV' ? lay(L * 2 * D, 2 * d, 2 * D) : form === 'perHead' ? lay(N * L * d, L * d, d) : lay(L * D, d, D);
    const vL = kL;
    // With a bias, the biased operands are written to scratch in the operands' own layout.
    const qFloats = B * S * (form === 'packedQKV' ? 3 * D : D);
    const kvFloats = form === 'packedQKV' ? 0 : form === 'packedKV' ? B * L * 2 * D : 2 * B * L * D;
    const biasScratch = bias ? align64(qFloats * 4) + align64(kvFloats * 4) + align64(3 * D * 4) : 0;
    const presentFloats = B * N * T * d;
    const presentScratch = (stateful && !wantK ? align64(presentFloats * 4) : 0) + (stateful && !wantV ? align64(presentFloats * 4) : 0);
    const maskBytes = align64(mask.floats * 4);
    const kernelBytes = attentionScratchBytes(T, d) * (ctx.threads ?? 1);
    const outputs = [{ dtype: 'float32' as const, dims: [B, S, D] }];
    if (ctx.node.outputs.length > 1) outputs.push({ dtype: 'float32', dims: [B, N, T, d] });
    if (ctx.node.outputs.length > 2) outputs.push({ dtype: 'float32', dims: [B, N, T, d] });
    return {
      outputs,
      scratchBytes: biasScratch + presentScratch + maskBytes + kernelBytes,
      build(b) {
        const k = b.k, Y = b.outputs[0]!;
        let at = b.scratch;
        const take = (bytes: number) => { const p = at; at += bytes; return p; };
        const qBuf = bias ? take(align64(qFloats * 4)) : 0, kvBuf = bias ? take(align64(kvFloats * 4)) : 0, biasBuf = bias ? take(align64(3 * D * 4)) : 0;
        const pk = stateful ? (wantK ? b.outputs[1]! : take(align64(presentFloats * 4))) : 0;
        const pv = stateful ? (wantV ? b.outputs[2]! : take(align64(presentFloats * 4))) : 0;
        const maskPtr = take(maskBytes), kernelScratch = take(kernelBytes);
        // Where Q, K and V start (after the bias, if any).
        const Q0 = bias ? qBuf : b.inputs[0]!;
        const K0 = form === 'packedQKV' ? Q0 + d * 4 : bias ? kvBuf : b.inputs[1]!;
        const V0 = form === 'packedQKV' ? Q0 + 2 * d * 4 : form === 'packedKV' ? K0 + d * 4 : bias ? kvBuf + B * L * D * 4 : b.inputs[2]!;
        const biasView = bias ? b.view('float32', b.inputs[3]!, 3 * D) : undefined;
        const biasRow = bias ? b.view('float32', biasBuf, 3 * D) : undefined;
        const addBias = bias ? biasStep(form, N, d, B, S, L) : undefined;
        const maskView = mask.fill ? b.view('float32', maskPtr, mask.floats) : undefined;
        const intMask = ctx.inputs[4] ? b.view('int32', b.inputs[4]!, shapeSize(ctx.inputs[4].dims)) : undefined;
        const abView = ctx.inputs[5] ? b.view('float32', b.inputs[5]!, shapeSize(ctx.inputs[5].dims)) : undefined;
        const m = mask.kind === 'none' ? undefined : mask.strides(mask.kind === 'bias' ? b.inputs[5]! : maskPtr);
        const q: HeadLayout = { ptr: Q0, ...qL };
        const out: HeadLayout = { ptr: Y, batch: S * D, head: d, row: D };
        // Views for the concatenation into present (K and V from their own base pointers).
        const kSrc = stateful ? b.view('float32', K0, (B - 1) * kL.batch + (N - 1) * kL.head + (L - 1) * kL.row + d) : undefined;
        const vSrc = stateful ? b.view('float32', V0, (B - 1) * vL.batch + (N - 1) * vL.head + (L - 1) * vL.row + d) : undefined;
        const pkView = stateful ? b.view('float32', pk, presentFloats) : undefined, pvView = stateful ? b.view('float32', pv, presentFloats) : undefined;
        const pastKView = pastK ? b.view('float32', b.inputs[6]!, B * N * P * d) : undefined;
        const pastVView = pastK ? b.view('float32', b.inputs[7]!, B * N * P * d) : undefined;
        const inputs = b.inputs;
        return () => {
          if (addBias) addBias(k, biasView!() as Float32Array, biasRow!() as Float32Array, biasBuf, inputs, qBuf, kvBuf);
          if (maskView) mask.fill!(maskView() as Float32Array, intMask?.() as Int32Array | undefined, abView?.() as Float32Array | undefined);
          if (!stateful) {
            runHeads(k, q, { ptr: K0, ...kL }, { ptr: V0, ...vL }, out, m, kernelScratch, B, N, S, T, d, scale);
            return;
          }
          const srcL = (l: Omit<HeadLayout, 'ptr'>): HeadLayout => ({ ptr: 0, ...l });
          concatPresent(pkView!() as Float32Array, pastKView?.() as Float32Array | undefined, kSrc!() as Float32Array, srcL(kL), B, N, P, L, d);
          concatPresent(pvView!() as Float32Array, pastVView?.() as Float32Array | undefined, vSrc!() as Float32Array, srcL(vL), B, N, P, L, d);
          const per = { batch: N * T * d, head: T * d, row: d };
          runHeads(k, q, { ptr: pk, ...per }, { ptr: pv, ...per }, out, m, kernelScratch, B, N, S, T, d, scale);
        };
      },
    };
  },
};

/**
 * The bias add for each layout: the 1-D bias [Dq | Dk | Dv] is rearranged (per run, 3·D floats)
 * into the operand's own column order, then one broadcast add per operand writes it to scratch.
 */
function biasStep(form: Form, N: number, d: number, B: number, S: number, L: number) {
  const D = N * d;
  return (k: Kernels, src: Float32Array, row: Float32Array, rowPtr: number, inputs: readonly number[], qBuf: number, kvBuf: number) => {
    if (form === 'packedQKV') {
      // Columns of one token: head h, then q|k|v, then d.
      for (let h = 0; h < N; h++) for (let w = 0; w < 3; w++) row.set(src.subarray(w * D + h * d, w * D + h * d + d), (h * 3 + w) * d);
      addRowBias(k, inputs[0]!, rowPtr, qBuf, B * S, 3 * D);
      return;
    }
    row.set(src);
    addRowBias(k, inputs[0]!, rowPtr, qBuf, B * S, D);
    if (form === 'packedKV') {
      // Columns: head h, then k|v, then d; the K and V biases sit at D and 2D of the source.
      for (let h = 0; h < N; h++) for (let w = 0; w < 2; w++) row.set(src.subarray((w + 1) * D + h * d, (w + 1) * D + h * d + d), D + (h * 2 + w) * d);
      addRowBias(k, inputs[1]!, rowPtr + D * 4, kvBuf, B * L, 2 * D);
      return;
    }
    addRowBias(k, inputs[1]!, rowPtr + D * 4, kvBuf, B * L, D);
    addRowBias(k, inputs[2]!, rowPtr + 2 * D * 4, kvBuf + B * L * D * 4, B * L, D);
  };
}

/** com.microsoft MultiHeadAttention, for src/ops/contrib/index.ts. */
export const contribMultiHeadAttentionOps: readonly OpDef[] = [multiHeadAttention];
