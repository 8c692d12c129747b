/**
 * com.microsoft GroupQueryAttention: the decoder attention of onnxruntime-genai's model builder
 * (Llama, Qwen, Phi, Gemma exports). Causal attention of num_heads query heads over kv_num_heads
 * key/value heads (query head h reads KV head h / (num_heads / kv_num_heads)), with a KV cache:
 * the new keys and values are written into present_key/present_value ([B, kv_heads, L, D]) at each
 * batch entry's positions past_b … past_b + S − 1, where past_b = seqlens_k[b] + 1 − S (0 for the
 * first prompt, S = total_sequence_length > 1: right-padded prompts).
 *
 * Two cache modes, as in onnxruntime: when present_key/present_value are the same memory as
 * past_key/past_value (a runtime that binds them so: genai's past_present_share_buffer, the
 * buffers sized to the maximum length), only the new rows are written — a decode step costs
 * O(new tokens) in copies, never O(cache length). Otherwise present is zeroed and past's first
 * past_b rows copied in (onnxruntime's concat). Attention reads K and V straight from present.
 *
 * total_sequence_length is a shape input (present is max(total, past length) long), read at plan
 * time, so each value keys a plan. A runtime that keeps one plan for every decode step feeds it
 * the buffer length (genai's shared-buffer mode, whose attention mask has that length): only
 * seqlens_k, read at run time, says how much of the cache is live.
 *
 * do_rotary rotates Q and the new K by cos/sin caches ([max_pos, r/2], r ≤ head size) at the
 * tokens' positions before K is stored. Not supported: position_ids, attention_bias, head_sink
 * inputs (refused at load), the qk output, float16.
 */
import { TesseraError, describeNode } from '../../api/errors.js';
import type { OpDef, OpContext } from '../types.js';
import { requireDtype } from '../util.js';

/** Bytes of scratch `gqa_attention_f32` needs for L keys; keep in step with assembly/gqa.ts. */
export function gqaScratchBytes(L: number): number {
  return Math.ceil((2 * Math.ceil(L / 4) * 4 * 4) / 64) * 64;
}

function positiveInt(ctx: OpContext, name: string): number {
  const v = ctx.attrs.intOpt(name);
  if (v === undefined || !(v > 0)) throw ctx.attrs.error(name, v === undefined ? 'is required' : `must be positive, got ${v}`);
  return v;
}

function flag(ctx: OpContext, name: string): boolean {
  const v = ctx.attrs.int(name, 0);
  if (v !== 0 && v !== 1) throw ctx.attrs.error(name, `must be 0 or 1, got ${v}`);
  return v === 1;
}

const groupQueryAttention: OpDef = {
  opType: 'GroupQueryAttention', domain: 'com.microsoft', since: 1,
  attributes: ['num_heads', 'kv_num_heads', 'scale', 'softcap', 'local_window_size', 'do_rotary', 'rotary_interleaved',
    'smooth_softmax', 'mask_filter_value', 'qk_output'],
  prepare(ctx) {
    const H = positiveInt(ctx, 'num_heads'), KVH = positiveInt(ctx, 'kv_num_heads');
    if (H % KVH !== 0) throw ctx.attrs.error('num_heads', `${H} is not a multiple of kv_num_heads ${KVH}`);
    const softcap = ctx.attrs.float('softcap', 0);
    if (!(softcap >= 0) || !Number.isFinite(softcap)) throw ctx.attrs.error('softcap', `must be a finite number ≥ 0, got ${softcap}`);
    const window = ctx.attrs.int('local_window_size', -1);
    if (window === 0 || window < -1) throw ctx.attrs.error('local_window_size', `must be -1 (none) or positive, got ${window}`);
    const rotary = flag(ctx, 'do_rotary'), interleaved = flag(ctx, 'rotary_interleaved'), smooth = flag(ctx, 'smooth_softmax');
    if (ctx.attrs.int('qk_output', 0) !== 0) throw ctx.attrs.error('qk_output', 'is not supported (only 0: no QK output)');
    for (const [i, what] of [[9, 'position_ids'], [10, 'attention_bias'], [11, 'head_sink']] as const) {
      if (ctx.inputs[i]) ctx.fail(`input ${i} (${what}, '${ctx.inputs[i]!.name}') is not supported`, 'UNSUPPORTED_OP');
    }
    if (ctx.inputs.length > 12) ctx.fail(`has ${ctx.inputs.length} inputs; GroupQueryAttention takes at most 12`, 'INVALID_MODEL');

    requireDtype(ctx, 0, ['float32']);
    const q = ctx.input(0), key = ctx.inputs[1], value = ctx.inputs[2];
    if (q.dims.length !== 3) ctx.fail(`query '${q.name}' must be [batch, sequence, hidden], got [${q.dims}]`, 'SHAPE_MISMATCH');
    const [B, S, X] = q.dims as [number, number, number];
    const packed = !key;
    if (packed && value) ctx.fail('value is given without key: give both, or neither (packed QKV in query)', 'INVALID_MODEL');
    if (!packed && !value) ctx.fail('key is given without value', 'INVALID_MODEL');
    const D = packed ? X / (H + 2 * KVH) : X / H;
    if (!Number.isInteger(D) || D < 1) {
      ctx.fail(`query '${q.name}' has ${X} features, not ${packed ? `(num_heads + 2·kv_num_heads) = ${H + 2 * KVH}` : `num_heads = ${H}`} × a head size`, 'SHAPE_MISMATCH');
    }
    if (!packed) {
      for (const i of [1, 2]) {
        requireDtype(ctx, i, ['float32']);
        const t = ctx.input(i);
        if (t.dims.length !== 3 || t.dims[0] !== B || t.dims[1] !== S || t.dims[2] !== KVH * D) {
          ctx.fail(`${i === 1 ? 'key' : 'value'} '${t.name}' must be [${B}, ${S}, ${KVH * D}], got [${t.dims}]`, 'SHAPE_MISMATCH');
        }
      }
    }
    const pk = ctx.inputs[3], pv = ctx.inputs[4];
    if (!pk !== !pv) ctx.fail('past_key and past_value must both be given or both omitted', 'INVALID_MODEL');
    let P = 0;
    if (pk && pv) {
      requireDtype(ctx, 3, ['float32']); requireDtype(ctx, 4, ['float32']);
      P = pk.dims[2] ?? -1;
      for (const t of [pk, pv]) {
        if (t.dims.length !== 4 || t.dims[0] !== B || t.dims[1] !== KVH || t.dims[2] !== P || t.dims[3] !== D) {
          ctx.fail(`past '${t.name}' must be [${B}, ${KVH}, past_length, ${D}] (and past_key's shape), got [${t.dims}]`, 'SHAPE_MISMATCH');
        }
      }
    }
    requireDtype(ctx, 5, ['int32']);
    requireDtype(ctx, 6, ['int32']);
    const seqlens = ctx.input(5), total = ctx.input(6);
    if (seqlens.dims.length !== 1 || seqlens.dims[0] !== B) ctx.fail(`seqlens_k '${seqlens.name}' must be [${B}], got [${seqlens.dims}]`, 'SHAPE_MISMATCH');
    if (total.dims.reduce((a, b) => a * b, 1) !== 1) ctx.fail(`total_sequence_length '${total.name}' must hold one value, got shape [${total.dims}]`, 'SHAPE_MISMATCH');
    // The present length is a shape: read the value at plan time (a fed value keys the plan).
    const T = total.value ? Number(total.value[0]) : NaN;
    if (!(T >= 1)) ctx.fail(`total_sequence_length '${total.name}' must be known and ≥ 1, got ${T}`, 'SHAPE_MISMATCH');
    const Lp = Math.max(T, P);
    const firstPrompt = S > 1 && S === T;

    let half = 0, maxPos = 0;
    if (rotary) {
      if (!ctx.inputs[7] || !ctx.inputs[8]) ctx.fail('do_rotary = 1 needs cos_cache and sin_cache (inputs 7 and 8)', 'INVALID_MODEL');
      const cos = ctx.input(7), sin = ctx.input(8);
      requireDtype(ctx, 7, ['float32']); requireDtype(ctx, 8, ['float32']);
      half = cos.dims[1] ?? 0; maxPos = cos.dims[0] ?? 0;
      if (cos.dims.length !== 2 || sin.dims.length !== 2 || sin.dims[0] !== maxPos || sin.dims[1] !== half || half < 1 || 2 * half > D) {
        ctx.fail(`cos_cache [${cos.dims}] and sin_cache [${sin.dims}] must both be [max_position, r/2] with r ≤ head size ${D}`, 'SHAPE_MISMATCH');
      }
    }
    const scaleAttr = ctx.attrs.float('scale', 0);
    if (!Number.isFinite(scaleAttr)) throw ctx.attrs.error('scale', `must be finite, got ${scaleAttr}`);
    const scale = scaleAttr === 0 ? 1 / Math.sqrt(D) : scaleAttr;

    const G = H / KVH, ldqIn = packed ? (H + 2 * KVH) * D : H * D, ldkv = packed ? ldqIn : KVH * D;
    const posBytes = Math.ceil((B * S * 4) / 64) * 64;
    const qrotBytes = rotary ? Math.ceil((B * S * H * D * 4) / 64) * 64 : 0;
    const where = describeNode(ctx.node);
    const cacheDims = [B, KVH, Lp, D];
    return {
      outputs: [{ dtype: 'float32', dims: [B, S, H * D] }, { dtype: 'float32', dims: cacheDims }, { dtype: 'float32', dims: [...cacheDims] }],
      scratchBytes: posBytes + qrotBytes + gqaScratchBytes(Lp),
      build(bd) {
        const k = bd.k;
        const qIn = bd.inputs[0]!;
        const kIn = packed ? qIn + H * D * 4 : bd.inputs[1]!, vIn = packed ? qIn + (H + KVH) * D * 4 : bd.inputs[2]!;
        const pastK = pk ? bd.inputs[3]! : 0, pastV = pk ? bd.inputs[4]! : 0;
        const out = bd.outputs[0]!, presK = bd.outputs[1]!, presV = bd.outputs[2]!;
        const cosP = rotary ? bd.inputs[7]! : 0, sinP = rotary ? bd.inputs[8]! : 0;
        const posP = bd.scratch, qrot = bd.scratch + posBytes, attnScratch = qrot + qrotBytes;
        const seqV = bd.view('int32', bd.inputs[5]!, B), posV = bd.view('int32', posP, B * S);
        const mem = bd.memory;
        const pastOf = new Int32Array(B);
        const headBytes = Lp * D * 4;
        return () => {
          const sl = seqV() as Int32Array, pos = posV() as Int32Array;
          for (let b = 0; b < B; b++) {
            const past = firstPrompt ? 0 : sl[b]! + 1 - S;
            if (past < 0 || past + S > Lp || sl[b]! >= T) {
              throw new TesseraError('INVALID_FEED', `${where}: seqlens_k[${b}] = ${sl[b]} does not fit ${S} new tokens in a cache of ${Lp} (total_sequence_length ${T})`);
            }
            pastOf[b] = past;
            for (let s = 0; s < S; s++) {
              const p = past + s;
              if (rotary && p >= maxPos) throw new TesseraError('INVALID_FEED', `${where}: position ${p} is outside the rotary caches of ${maxPos} positions`);
              pos[b * S + s] = p;
            }
          }
          // Cache: concat mode copies the live past rows (zeroing the rest), shared mode nothing.
          const shared = pk !== undefined && presK === pastK && presV === pastV && P === Lp;
          if (!shared) {
            const f = new Float32Array(mem.buffer);
            for (const [dst, src] of [[presK, pastK], [presV, pastV]] as const) {
              f.fill(0, dst >> 2, (dst >> 2) + B * KVH * Lp * D);
              if (!src) continue;
              for (let b = 0; b < B; b++) {
                for (let h = 0; h < KVH; h++) {
                  const s0 = (src >> 2) + (b * KVH + h) * P * D;
                  f.copyWithin((dst >> 2) + (b * KVH + h) * Lp * D, s0, s0 + pastOf[b]! * D);
                }
              }
            }
          }
          for (let b = 0; b < B; b++) {
            const rowK = presK + (b * KVH * Lp + pastOf[b]!) * D * 4, rowV = presV + (b * KVH * Lp + pastOf[b]!) * D * 4;
            const pb = posP + b * S * 4;
            // New keys (rotated when do_rotary) and values into their cache rows; rdim 0 is a copy.
            k.rotary_rows_f32(kIn + b * S * ldkv * 4, ldkv, D, rowK, D, Lp * D, S, KVH, D, cosP, sinP, pb, rotary ? 2 * half : 0, interleaved ? 1 : 0);
            k.rotary_rows_f32(vIn + b * S * ldkv * 4, ldkv, D, rowV, D, Lp * D, S, KVH, D, 0, 0, pb, 0, 0);
            if (rotary) k.rotary_rows_f32(qIn + b * S * ldqIn * 4, ldqIn, D, qrot + b * S * H * D * 4, H * D, D, S, H, D, cosP, sinP, pb, 2 * half, interleaved ? 1 : 0);
          }
          const qBase = rotary ? qrot : qIn, ldq = rotary ? H * D : ldqIn;
          for (let b = 0; b < B; b++) {
            for (let h = 0; h < KVH; h++) {
              const kv = (b * KVH + h) * headBytes;
              k.gqa_attention_f32(qBase + (b * S * ldq + h * G * D) * 4, ldq, presK + kv, presV + kv,
                out + (b * S * H * D + h * G * D) * 4, H * D, attnScratch, G, S, D, pastOf[b]!, window, scale, softcap, smooth ? 1 : 0);
            }
          }
        };
      },
    };
  },
};

/** GroupQueryAttention (com.microsoft). */
export const groupQueryAttentionOps: readonly OpDef[] = [groupQueryAttention];
