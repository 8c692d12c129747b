/**
 * Splitting text generation's attention over the resident KV cache (cached_attention_heads_f32,
 * what tessera.CachedAttention runs for prefill and every decode step) across a session's team.
 *
 * Bit-identical for any thread count: the split is between whole query heads, and each of a
 * head's rows is computed from its own query row, its key/value head's cache rows and the mask
 * alone, by the same code in the same order whichever part runs it. Each part has its own block
 * of scores (the op plans one per thread, OpContext.threads); part p takes block p.
 */
import { cachedAttentionScoresBytes, type Kernels } from '../kernels.js';
import { POOL_KERNELS } from './pool.js';
import { copy, type Fan, type Shift } from './split.js';

/**
 * Below this many multiply-adds (scores and P·V over every head) a step stays on the caller:
 * ~50–100 µs on one core. A decode step at context 128 of a 16-head, d = 128 model is ~0.5 M.
 */
const ATTENTION_MIN_MACS = 1 << 18;

type AttentionKernels = Pick<Kernels, 'cached_attention_heads_f32'>;

/** `full` is parallel.ts's whole-call argument array; `fan` its splitter. */
export function parallelCachedAttention(k: Kernels, fan: Fan, full: number[]): AttentionKernels {
  const kernel = k.cached_attention_heads_f32;
  const id = POOL_KERNELS.indexOf('cached_attention_heads_f32');
  // (q, kc, vc, mask, out, scores, B, H, kvH, Sq, past, maxLen, d, scale, first, count): heads
  // [first + s, first + s + n), scores block p.
  const heads: Shift = (d, f, s, n, p) => {
    copy(d, f);
    d[5] = f[5]! + p * cachedAttentionScoresBytes(f[11]!);
    d[14] = f[14]! + s; d[15] = n;
  };
  return {
    cached_attention_heads_f32(q: number, kc: number, vc: number, mask: number, out: number, scores: number, B: number, H: number,
      kvH: number, Sq: number, past: number, maxLen: number, d: number, scale: number, first: number, count: number): void {
      const n = Math.min(count, B * H - first);
      // Causal: row i of Sq sees past + i + 1 keys; a dot product and an axpy of d per key.
      if (n > 1 && 2 * n * Sq * (past + (Sq + 1) / 2) * d >= ATTENTION_MIN_MACS) {
        full[0] = q; full[1] = kc; full[2] = vc; full[3] = mask; full[4] = out; full[5] = scores; full[6] = B; full[7] = H;
        full[8] = kvH; full[9] = Sq; full[10] = past; full[11] = maxLen; full[12] = d; full[13] = scale; full[14] = first; full[15] = n;
        if (fan(kernel, id, 16, n, 1, heads, 'cached_attention_heads_f32')) return;
      }
      kernel(q, kc, vc, mask, out, scores, B, H, kvH, Sq, past, maxLen, d, scale, first, count);
    },
  };
}
