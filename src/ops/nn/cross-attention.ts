/**
 * CrossAttention (domain `tessera`, made by graph/passes/encoder-decoder-cache.ts for Whisper-style
 * encoder-decoder models): one decoder layer's attention over the encoder's keys and values, which
 * are computed once per audio chunk and then stay in the session's Wasm memory for every decoding
 * step. transformers.js instead feeds them back as `past_key_values.{i}.encoder.*` on every token,
 * copying layers × 2 × 1,500 positions × d_model floats in and out of Wasm per step.
 *
 * Inputs: q [B, H, S, d] (this step's queries, already scaled as the graph scales them), k and v
 * [B, H, Lk, d]: the encoder projections when the step is the first of a chunk (Lk = `length`),
 * or empty (Lk = 0) on every later step. With Lk = `length` the op copies them into its persistent
 * block (keyed by the `cache` attribute and the geometry, so the prefill and decode plans share it)
 * and attends; with Lk = 0 it attends to what the block holds. Each query row sees every key: no
 * causal mask, no padding mask (Whisper's encoder output is always full length).
 * Output [B, H, S, d]. The block does not hold the projections as they arrive: `cross_pack_f32`
 * (assembly/cross_attention.ts) repacks them once per chunk into key panels of 16 and value
 * panels of 4 columns, so that `cross_attention_f32` reads the cache once per query row with
 * independent vector multiply-adds instead of one dot product and one axpy per key.
 *
 * Optional output 1, `probs` [B, H, S, Lk = length]: each query row's softmax probabilities (the
 * `cross_attentions.{i}` outputs of exports with output_attentions, which transformers.js reads for
 * word timestamps). Written only when the node has that output (`cross_attention_probs_f32`: the
 * same kernel that also stores exp(score − max) · (1 / Σ exp), the factors output 0 is made of, so
 * output 0 keeps its bits); a node without it runs `cross_attention_f32` and writes nothing more.
 *
 * `batch_capacity` (optional, > 1): a batch of B > 1 rows (windows decoded together,
 * src/speech/decode-rows.ts) uses the first B rows of one block sized for that many rows, shared by
 * every batch size 2 … capacity, instead of a block per B: the memory stays bounded by the
 * capacity (blocks are never freed in a session's life). B = 1 keeps its own block, so a session
 * that never batches holds one row.
 */
import type { OpDef } from '../types.js';
import { requireDtype } from '../util.js';

// Mirrors of cross_keys_bytes / cross_values_bytes / cross_scratch_bytes (assembly/cross_attention.ts):
// keys padded to panels of 16, value columns to panels of 4; scores for up to 16 query rows at once.
const padKeys = (L: number): number => Math.ceil(L / 16) * 16;
const keyBytes = (L: number, d: number): number => padKeys(L) * d * 4;
const valueBytes = (L: number, d: number): number => Math.ceil(d / 4) * 4 * padKeys(L) * 4;
const scratchBytes = (L: number, rows: number): number => padKeys(L) * 4 * Math.max(1, Math.min(rows, 16));

/** Where a persistent cross-attention block lives (tests look for it). */
export function crossCacheKey(name: string, which: 'k' | 'v', B: number, H: number, L: number, d: number): string {
  return `cross-kv:${name}:${which}:${B}x${H}x${L}x${d}`;
}

/**
 * Rows of the persistent block a batch of B rows uses: B itself, or the capacity when the node has
 * one and B > 1 (the batch takes the block's first B rows). B above the capacity is refused.
 */
export function blockRows(B: number, capacity: number, fail: (message: string) => never): number {
  if (capacity <= 1 || B === 1) return B;
  if (B > capacity) fail(`batch of ${B} rows exceeds the cache's batch_capacity (${capacity})`);
  return capacity;
}

const crossAttention: OpDef = {
  opType: 'CrossAttention', domain: 'tessera', since: 1, attributes: ['scale', 'cache', 'length', 'batch_capacity'],
  optionalOutputs: true,
  prepare(ctx) {
    for (const i of [0, 1, 2]) requireDtype(ctx, i, ['float32']);
    const q = ctx.input(0), k = ctx.input(1), v = ctx.input(2);
    const scale = ctx.attrs.float('scale', NaN);
    const name = ctx.attrs.string('cache', '');
    const L = ctx.attrs.int('length', 0);
    if (!Number.isFinite(scale)) throw ctx.attrs.error('scale', 'must be a finite number');
    if (!name) throw ctx.attrs.error('cache', 'must name the cache');
    if (!(L > 0)) throw ctx.attrs.error('length', 'must be the encoder output length (> 0)');
    if (q.dims.length !== 4 || k.dims.length !== 4 || v.dims.length !== 4) ctx.fail(`q [${q.dims}], k [${k.dims}], v [${v.dims}] must be [batch, heads, sequence, head_size]`, 'SHAPE_MISMATCH');
    const [B, H, S, d] = q.dims as [number, number, number, number];
    const Lk = k.dims[2]!;
    if (k.dims[0] !== B || k.dims[1] !== H || k.dims[3] !== d || v.dims.join() !== k.dims.join()) {
      ctx.fail(`q [${q.dims}], k [${k.dims}] and v [${v.dims}] do not agree`, 'SHAPE_MISMATCH');
    }
    if (Lk !== 0 && Lk !== L) ctx.fail(`the encoder keys have ${Lk} positions; this model's cross-attention cache holds ${L} (feed all of them, or none to reuse the cache)`, 'SHAPE_MISMATCH');
    const rowsHeld = blockRows(B, ctx.attrs.int('batch_capacity', 0), (m) => ctx.fail(m, 'SHAPE_MISMATCH'));
    const kBytes = rowsHeld * H * keyBytes(L, d), vBytes = rowsHeld * H * valueBytes(L, d);
    const withProbs = !!ctx.node.outputs[1];
    return {
      outputs: [{ dtype: 'float32', dims: [B, H, S, d] }, ...(withProbs ? [{ dtype: 'float32' as const, dims: [B, H, S, L] }] : [])],
      scratchBytes: Math.ceil(scratchBytes(L, B * H * S) / 64) * 64,
      build(b) {
        const [qp, kp, vp] = b.inputs as [number, number, number];
        const out = b.outputs[0]!, probs = withProbs ? b.outputs[1]! : 0, scores = b.scratch, kern = b.k;
        const zero = (bytes: number) => (ptr: number) => new Uint8Array(b.memory.buffer, ptr, bytes).fill(0);
        const kc = b.persistent(crossCacheKey(name, 'k', rowsHeld, H, L, d), kBytes, zero(kBytes));
        const vc = b.persistent(crossCacheKey(name, 'v', rowsHeld, H, L, d), vBytes, zero(vBytes));
        return () => {
          if (Lk) kern.cross_pack_f32(kp, vp, kc, vc, B * H, L, d);
          if (withProbs) kern.cross_attention_probs_f32(qp, kc, vc, out, probs, scores, B * H, S, L, d, scale);
          else kern.cross_attention_f32(qp, kc, vc, out, scores, B * H, S, L, d, scale);
        };
      },
    };
  },
};

/** The encoder-decoder ops of the `tessera` domain. */
export const crossAttentionOps: readonly OpDef[] = [crossAttention];
