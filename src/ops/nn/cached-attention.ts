/**
 * CachedAttention (domain `tessera`, made by graph/passes/kv-cache.ts for text generation): one
 * decoder layer's attention over a key/value cache that lives in the session's Wasm memory for the
 * whole generation. The step writes this call's new keys and values into the cache at the current
 * length (O(new tokens) copied, inside Wasm), then attends each new query row to every cached key
 * up to its own position (causal) with `cached_attention_heads_f32`, which a session's threads
 * split between query heads.
 *
 * The cache length is read at run time from input 3 (an int32 scalar the generator writes before
 * each step), never from a shape, so one plan serves every step with the same number of new
 * tokens. The cache's capacity comes from input 4's shape: the additive key mask [B, maxLen]
 * (0 = attend, a large negative number = padding). The cache itself is a persistent block keyed
 * by the `cache` attribute and its geometry, shared by every plan of the session (prefill and
 * decode plans read and write the same memory).
 *
 * Inputs: q [B, H, S, d], k [B, kvH, S, d], v [B, kvH, S, d] (this step's projections, rotary
 * already applied), past_length int32 [1], key_mask float32 [B, maxLen]. Output [B, H, S, d].
 * Head h reads key/value head ⌊h / (H / kvH)⌋ (grouped-query attention's repeat_kv).
 * `batch_capacity` (optional): as CrossAttention's (cross-attention.ts), a batch of B > 1 rows uses
 * the first B rows of one block sized for the capacity, shared by every B in 2 … capacity.
 */
import { TesseraError } from '../../api/errors.js';
import { groupQueryAttentionOps } from '../contrib/group-query-attention.js';
import type { OpDef } from '../types.js';
import { requireDtype } from '../util.js';
import { cachedAttentionScoresBytes } from '../../runtime/kernels.js';
import { blockRows } from './cross-attention.js';

/** Where a persistent cache block lives: exposed so that tests can see the cache is never copied. */
export function cacheKey(name: string, which: 'k' | 'v', B: number, kvH: number, maxLen: number, d: number): string {
  return `kv-cache:${name}:${which}:${B}x${kvH}x${maxLen}x${d}`;
}

const cachedAttention: OpDef = {
  opType: 'CachedAttention', domain: 'tessera', since: 1, attributes: ['scale', 'cache', 'batch_capacity'],
  prepare(ctx) {
    for (const i of [0, 1, 2, 4]) requireDtype(ctx, i, ['float32']);
    requireDtype(ctx, 3, ['int32']);
    const q = ctx.input(0), k = ctx.input(1), v = ctx.input(2), len = ctx.input(3), mask = ctx.input(4);
    const scale = ctx.attrs.float('scale', NaN);
    const name = ctx.attrs.string('cache', '');
    if (!Number.isFinite(scale)) throw ctx.attrs.error('scale', 'must be a finite number');
    if (!name) throw ctx.attrs.error('cache', 'must name the cache');
    if (q.dims.length !== 4 || k.dims.length !== 4 || v.dims.length !== 4) ctx.fail(`q [${q.dims}], k [${k.dims}], v [${v.dims}] must be [batch, heads, sequence, head_size]`, 'SHAPE_MISMATCH');
    const [B, H, S, d] = q.dims as [number, number, number, number];
    const kvH = k.dims[1]!;
    if (k.dims[0] !== B || k.dims[2] !== S || k.dims[3] !== d || v.dims.join() !== k.dims.join() || kvH === 0 || H % kvH !== 0) {
      ctx.fail(`q [${q.dims}], k [${k.dims}] and v [${v.dims}] do not agree`, 'SHAPE_MISMATCH');
    }
    if (len.dims.reduce((a, b) => a * b, 1) !== 1) ctx.fail(`past_length '${len.name}' must hold one value, got [${len.dims}]`, 'SHAPE_MISMATCH');
    if (mask.dims.length !== 2 || mask.dims[0] !== B) ctx.fail(`key_mask '${mask.name}' must be [${B}, max_length], got [${mask.dims}]`, 'SHAPE_MISMATCH');
    const maxLen = mask.dims[1]!;
    const rowsHeld = blockRows(B, ctx.attrs.int('batch_capacity', 0), (m) => ctx.fail(m, 'SHAPE_MISMATCH'));
    const cacheBytes = rowsHeld * kvH * maxLen * d * 4;
    const rowBytes = d * 4;
    return {
      outputs: [{ dtype: 'float32', dims: [B, H, S, d] }],
      // One block of scores per thread: a session's threads split the heads (parallel-attention.ts).
      scratchBytes: cachedAttentionScoresBytes(maxLen) * (ctx.threads ?? 1),
      build(b) {
        const [qp, kp, vp, lenp, maskp] = b.inputs as [number, number, number, number, number];
        const out = b.outputs[0]!, scores = b.scratch, kern = b.k;
        const zero = (ptr: number) => new Uint8Array(b.memory.buffer, ptr, cacheBytes).fill(0);
        const kc = b.persistent(cacheKey(name, 'k', rowsHeld, kvH, maxLen, d), cacheBytes, zero);
        const vc = b.persistent(cacheKey(name, 'v', rowsHeld, kvH, maxLen, d), cacheBytes, zero);
        const lenView = b.view('int32', lenp, 1);
        let u8 = new Uint8Array(b.memory.buffer);
        return () => {
          const past = lenView()[0] as number;
          if (!(past >= 0 && past + S <= maxLen)) {
            throw new TesseraError('INVALID_ARGUMENT', `CachedAttention '${name}': ${past} cached + ${S} new tokens exceed the cache's ${maxLen} positions`);
          }
          if (u8.buffer !== b.memory.buffer) u8 = new Uint8Array(b.memory.buffer);
          // This step's keys and values go in place: rows past … past + S − 1 of each (b, head).
          for (let bh = 0; bh < B * kvH; bh++) {
            const dst = (bh * maxLen + past) * rowBytes, src = bh * S * rowBytes;
            u8.copyWithin(kc + dst, kp + src, kp + src + S * rowBytes);
            u8.copyWithin(vc + dst, vp + src, vp + src + S * rowBytes);
          }
          kern.cached_attention_heads_f32(qp, kc, vc, maskp, out, scores, B, H, kvH, S, past, maxLen, d, scale, 0, B * H);
        };
      },
    };
  },
};

const gqa = groupQueryAttentionOps[0]!;

/**
 * ResidentGroupQueryAttention (domain `tessera`, made by graph/passes/kv-cache.ts from an
 * onnxruntime-genai export's com.microsoft GroupQueryAttention): the same op with its past and
 * present bound to one persistent block per layer, sized by total_sequence_length (the generator
 * feeds an attention_mask as long as the cache, so that value, and the plan, stay fixed). This is
 * genai's past_present_share_buffer mode: GroupQueryAttention then writes only the new rows, and
 * seqlens_k, read at run time, says how much of the cache is live. Inputs as GroupQueryAttention's
 * with 3 and 4 (past) omitted; one output (the attention).
 */
const residentGqa: OpDef = {
  opType: 'ResidentGroupQueryAttention', domain: 'tessera', since: 1, attributes: [...gqa.attributes, 'cache'],
  prepare(ctx) {
    const name = ctx.attrs.string('cache', '');
    if (!name) throw ctx.attrs.error('cache', 'must name the cache');
    const q = ctx.input(0), total = ctx.input(6);
    const H = ctx.attrs.int('num_heads', 0), KVH = ctx.attrs.int('kv_num_heads', 0);
    const packed = !ctx.inputs[1];
    const D = q.dims[2]! / (packed ? H + 2 * KVH : H);
    const T = total.value ? Number(total.value[0]) : NaN;
    if (!(T >= 1) || !Number.isInteger(D)) ctx.fail(`cannot size the cache: total_sequence_length ${T}, head size ${D}`, 'SHAPE_MISMATCH');
    const B = q.dims[0]!;
    const cacheDims = [B, KVH, T, D];
    const past = (i: number) => ({ name: `${name}/${i === 3 ? 'k' : 'v'}`, dtype: 'float32' as const, dims: cacheDims, constant: false, value: undefined });
    const inputs = ctx.inputs.map((x, i) => (i === 3 || i === 4 ? past(i) : x));
    const inner = gqa.prepare({ ...ctx, inputs, input: (i) => inputs[i] ?? ctx.input(i) });
    const bytes = B * KVH * T * D * 4;
    return {
      outputs: [inner.outputs[0]!],
      scratchBytes: inner.scratchBytes,
      build(b) {
        const zero = (ptr: number) => new Uint8Array(b.memory.buffer, ptr, bytes).fill(0);
        const kc = b.persistent(cacheKey(name, 'k', B, KVH, T, D), bytes, zero);
        const vc = b.persistent(cacheKey(name, 'v', B, KVH, T, D), bytes, zero);
        const ins = b.inputs.map((p, i) => (i === 3 ? kc : i === 4 ? vc : p));
        return inner.build!({ ...b, inputs: ins, outputs: [b.outputs[0]!, kc, vc] });
      },
    };
  },
};

/** The text-generation ops of the `tessera` domain. */
export const cachedAttentionOps: readonly OpDef[] = [cachedAttention, residentGqa];
