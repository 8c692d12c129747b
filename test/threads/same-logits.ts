/**
 * The check the BERT thread tests share: one padded batch through sessions made at 1, 2 and 3
 * threads gives bit-identical logits, and a batch above 1 hands work to the pool.
 */
import { expect } from 'vitest';
import type { InferenceSession } from '../../src/index.js';
import { poolStats } from '../../src/runtime/threads/index.js';
import { bertFeeds } from '../bert/helpers.js';

export const BERT_BATCHES = [[1, 9, 0], [3, 33, 7], [8, 47, 3]] as const;

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

export async function expectSameBertLogits(sessions: InferenceSession[], vocab: number, batch: number, seq: number, padStep: number): Promise<void> {
  const feeds = bertFeeds(batch, seq, vocab, padStep, batch * 100 + seq);
  const outs: Float32Array[] = [];
  const handed = poolStats().itemsHanded;
  for (const s of sessions) outs.push((await s.run(feeds)).logits!.data as Float32Array);
  if (batch > 1) expect(poolStats().itemsHanded).toBeGreaterThan(handed);
  for (const o of outs.slice(1)) expect(bits(o).equals(bits(outs[0]!))).toBe(true);
}
