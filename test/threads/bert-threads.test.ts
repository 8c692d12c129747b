/**
 * BERT (models/bert) at 1, 2 and 3 threads: bit-identical logits, with the pool taking part (its
 * MatMuls at batch 3 × 33, the vocabulary projection above all, are large enough to split; at
 * batch 8 × 47 so is the fused attention, between heads or batches, one scratch block per thread).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { InferenceSession } from '../../src/index.js';
import { bertFile, bertModels } from '../bert/helpers.js';
import { BERT_BATCHES, expectSameBertLogits } from './same-logits.js';

describe.each(Object.entries(bertModels))('BERT %s at 1, 2 and 3 threads', (_name, m) => {
  const sessions: InferenceSession[] = [];
  beforeAll(async () => {
    for (const threads of [1, 2, 3]) sessions.push(await InferenceSession.create(bertFile(m.path), { threads }));
  });
  afterAll(async () => { for (const s of sessions) await s.release(); });

  it.each(BERT_BATCHES)('batch %i × seq %i (pad step %i): bit-identical logits', (batch, seq, padStep) =>
    expectSameBertLogits(sessions, m.vocab, batch, seq, padStep));
});
