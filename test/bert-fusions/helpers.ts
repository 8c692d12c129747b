/** BERT graphs made by scripts/make-bert.mjs, feeds with padding, and a relative-error measure. */
import { InferenceSession, Tensor } from '../../src/index.js';
// @ts-expect-error: a plain .mjs script, typed here by use
import { makeBert } from '../../scripts/make-bert.mjs';

export interface BertSize { layers: number; hidden: number; heads: number; intermediate: number; vocab: number; maxPosition?: number; seed?: number }

export const bert = (size: BertSize): Uint8Array => makeBert(size) as Uint8Array;

/** Token ids, types and a mask whose row b has `lengths[b]` ones then zeros (right padding). */
export function bertFeeds(batch: number, seq: number, vocab: number, lengths: number[] = []): Record<string, Tensor> {
  const n = batch * seq;
  const ids = new BigInt64Array(n), mask = new BigInt64Array(n), types = new BigInt64Array(n);
  let s = 12345;
  for (let b = 0; b < batch; b++) {
    const len = lengths[b] ?? seq;
    for (let i = 0; i < seq; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const on = i < len;
      ids[b * seq + i] = BigInt(on ? 1 + (s % (vocab - 1)) : 0);
      mask[b * seq + i] = on ? 1n : 0n;
      types[b * seq + i] = on && i >= len >> 1 ? 1n : 0n;
    }
  }
  return {
    input_ids: new Tensor('int64', ids, [batch, seq]),
    attention_mask: new Tensor('int64', mask, [batch, seq]),
    token_type_ids: new Tensor('int64', types, [batch, seq]),
  };
}

/** max |a − b| / max |b|: the error relative to the scale of the logits. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return a.length === b.length ? err / scale : Infinity;
}

/** Op types of the steps that ran (a profiled run), counted. */
export async function opHistogram(s: InferenceSession, feeds: Record<string, Tensor>): Promise<Record<string, number>> {
  await s.run(feeds, { profile: true });
  const h: Record<string, number> = {};
  for (const n of s.lastProfile!.nodes) h[n.opType] = (h[n.opType] ?? 0) + 1;
  return h;
}
