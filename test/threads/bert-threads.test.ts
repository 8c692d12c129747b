/**
 * BERT (models/bert) at 1, 2 and 3 threads: bit-identical logits, with the pool taking part (its
 * MatMuls at batch 3 × 33, the vocabulary projection above all, are large enough to split; at
 * batch 8 × 47 so is the fused attention, between heads or batches, one scratch block per thread).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/index.js';
import { poolStats } from '../../src/runtime/threads/index.js';
import { bertFeeds, bertFile, bertModels } from '../bert/helpers.js';

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe.each(Object.entries(bertModels))('BERT %s at 1, 2 and 3 threads', (_name, m) => {
  const sessions: InferenceSession[] = [];
  beforeAll(async () => {
    for (const threads of [1, 2, 3]) sessions.push(await InferenceSession.create(bertFile(m.path), { threads }));
  });
  afterAll(async () => { for (const s of sessions) await s.release(); });

  it.each([[1, 9, 0], [3, 33, 7], [8, 47, 3]])('batch %i × seq %i (pad step %i): bit-identical logits', async (batch, seq, padStep) => {
    const feeds = bertFeeds(batch, seq, m.vocab, padStep, batch * 100 + seq);
    const outs: Float32Array[] = [];
    const handed = poolStats().itemsHanded;
    for (const s of sessions) outs.push((await s.run(feeds)).logits!.data as Float32Array);
    if (batch > 1) expect(poolStats().itemsHanded).toBeGreaterThan(handed);
    for (const o of outs.slice(1)) expect(bits(o).equals(bits(outs[0]!))).toBe(true);
  });
});
