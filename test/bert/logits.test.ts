/**
 * The committed BERT masked-LM exports (models/bert/, made by export.py the way Hugging Face
 * exports BertForMaskedLM) give onnxruntime-web's logits within 1e-4 (relative to the largest
 * logit) at several batch × sequence sizes, including padded rows (zeros in attention_mask).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/index.js';
import { ortRun, ortSession } from '../helpers/ort.js';
import { bertFeeds, bertFile, bertModels, relativeError } from './helpers.js';

// [batch, seq, padStep]: padStep > 0 shortens each next row, leaving zeros in attention_mask.
const SIZES: [number, number, number][] = [[1, 1, 0], [1, 9, 0], [2, 16, 5], [3, 33, 7], [4, 48, 11]];

describe.each(Object.entries(bertModels))('BERT %s vs onnxruntime-web', (_name, m) => {
  let ours: InferenceSession;
  let theirs: Awaited<ReturnType<typeof ortSession>>;
  beforeAll(async () => {
    ours = await InferenceSession.create(bertFile(m.path));
    theirs = await ortSession(bertFile(m.path));
  });
  afterAll(async () => { await ours.release(); await theirs.release(); });

  it('has the inputs and output Hugging Face exports', () => {
    expect(ours.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(ours.outputNames).toEqual(['logits']);
  });

  it.each(SIZES)('batch %i × seq %i (pad step %i)', async (batch, seq, padStep) => {
    const feeds = bertFeeds(batch, seq, m.vocab, padStep, batch * 100 + seq);
    const a = (await ours.run(feeds)).logits!;
    const b = (await ortRun(theirs, feeds)).logits!;
    expect(a.dims).toEqual([batch, seq, m.vocab]);
    expect(relativeError(a.data as Float32Array, b.data as Float32Array)).toBeLessThan(1e-4);
  });
});
