/**
 * Dynamically int8-quantized models (src/quantize) at 1, 2 and 3 threads: bit-identical outputs,
 * with the pool taking part in the int8 GEMMs (parallel-i8.ts). BERT (fortunes) runs
 * DynamicQuantizeMatMul with fused GELU; MNIST's quantized Gemms at batch 64 the same op.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { quantizeDynamic } from '../../src/quantize/index.js';
import { poolStats } from '../../src/runtime/threads/index.js';
import { bertFile, bertModels } from '../bert/helpers.js';
import { BERT_BATCHES, expectSameBertLogits } from './same-logits.js';
import { batchOf, heldout, mnistModel } from '../helpers/mnist.js';

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

async function sessionsOf(bytes: Uint8Array): Promise<InferenceSession[]> {
  const sessions: InferenceSession[] = [];
  for (const threads of [1, 2, 3]) sessions.push(await InferenceSession.create(bytes, { threads }));
  return sessions;
}

describe('int8 BERT (fortunes) at 1, 2 and 3 threads', () => {
  const m = bertModels.fortunes;
  let sessions: InferenceSession[] = [];
  beforeAll(async () => {
    const { bytes, report } = quantizeDynamic(bertFile(m.path), { perChannel: true });
    expect(report.quantized.length).toBeGreaterThan(0);
    sessions = await sessionsOf(bytes);
  });
  afterAll(async () => { for (const s of sessions) await s.release(); });

  it.each(BERT_BATCHES)('batch %i × seq %i (pad step %i): bit-identical logits', (batch, seq, padStep) =>
    expectSameBertLogits(sessions, m.vocab, batch, seq, padStep));
});

describe('int8 MNIST at 1, 2 and 3 threads', () => {
  const data = heldout();
  let sessions: InferenceSession[] = [];
  beforeAll(async () => { sessions = await sessionsOf(quantizeDynamic(mnistModel(), { perChannel: true }).bytes); });
  afterAll(async () => { for (const s of sessions) await s.release(); });

  it.each([1, 7, 64])('batch %i: bit-identical probabilities', async (n) => {
    const input = new Tensor('float32', batchOf(data.images, 5, n), [n, 1, 28, 28]);
    const outs: Float32Array[] = [];
    for (const s of sessions) outs.push((await s.run({ input })).probabilities!.data as Float32Array);
    for (const o of outs.slice(1)) expect(bits(o).equals(bits(outs[0]!))).toBe(true);
  });
});
