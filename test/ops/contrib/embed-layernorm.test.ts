/**
 * com.microsoft EmbedLayerNormalization against onnxruntime-web: with and without segments, mask
 * and position_ids, the mask_index and embedding_sum outputs; ids outside a table are an
 * INVALID_FEED error naming the node.
 */
import { describe, expect, it } from 'vitest';
import { TesseraError } from '../../../src/api/errors.js';
import { f32, feedsOf, i32, konst, msModel, rand, runTessera, worstVsOrt, type In, type MsSpec } from './encoder-harness.js';

const [B, S, H, V, P] = [3, 7, 24, 50, 16];
const ids = i32([B, S], rand(B * S, 1, 0, V).map(Math.floor));
const segs = i32([B, S], rand(B * S, 2, 0, 2).map(Math.floor));
// Row 0 full, row 1 right-padded, row 2 with a hole (mask_index counts 1s).
const mask = i32([B, S], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0]);
const word = konst(f32([V, H], 3)), pos = konst(f32([P, H], 4)), seg = konst(f32([2, H], 5));
const gamma = konst(f32([H], 6, 0.5, 1.5)), beta = konst(f32([H], 7));

describe('com.microsoft EmbedLayerNormalization vs onnxruntime-web', () => {
  const cases: [string, In[], string[], Record<string, number>?][] = [
    ['BERT: words, segments, positions, mask → output and mask_index', [ids, segs, word, pos, seg, gamma, beta, mask], ['out0', 'out1']],
    ['no segments (DistilBERT/RoBERTa)', [ids, '', word, pos, '', gamma, beta, mask], ['out0', 'out1']],
    ['no mask: mask_index is zeros', [ids, segs, word, pos, seg, gamma, beta], ['out0', 'out1']],
    ['embedding_sum output, epsilon 1e-5', [ids, segs, word, pos, seg, gamma, beta, mask], ['out0', 'out1', 'out2'], { epsilon: 1e-5 }],
    ['position_ids [1, S]', [ids, segs, word, pos, seg, gamma, beta, mask, i32([1, S], [3, 4, 5, 6, 7, 8, 9])], ['out0', 'out1']],
    ['position_ids [B, S], mask_index_type 0 (no mask_index)', [ids, '', word, pos, '', gamma, beta, '', i32([B, S], rand(B * S, 9, 0, P).map(Math.floor))], ['out0'], { mask_index_type: 0 }],
  ];
  for (const [name, inputs, outputs, attrs] of cases) {
    it(name, async () => {
      const w = await worstVsOrt({ op: 'EmbedLayerNormalization', inputs, outputs, attrs, outTypes: { out1: 'int32' } });
      expect(w.out0).toBeLessThan(1e-5);
      if ('out1' in w) expect(w.out1).toBe(0);
      if ('out2' in w) expect(w.out2).toBeLessThan(1e-6);
    });
  }

  it('an id outside its table is INVALID_FEED naming the node; bad attributes are refused', async () => {
    const run = (spec: MsSpec) => runTessera(msModel(spec), feedsOf(spec)).then(() => undefined, (e: unknown) => e as TesseraError);
    const bad = i32([1, 2], [3, V]);
    const e1 = await run({ op: 'EmbedLayerNormalization', inputs: [bad, '', word, pos, '', gamma, beta], name: 'emb' });
    expect(e1).toBeInstanceOf(TesseraError);
    expect(e1!.code).toBe('INVALID_FEED');
    expect(e1!.message).toMatch(/'emb'.*input id 50/);
    const e2 = await run({ op: 'EmbedLayerNormalization', inputs: [ids, '', word, pos, '', gamma, beta], attrs: { mask_index_type: 3 }, name: 'emb2' });
    expect(e2!.code).toBe('INVALID_ATTRIBUTE');
    expect(e2!.message).toMatch(/'emb2'.*'mask_index_type'/);
    const e3 = await run({ op: 'EmbedLayerNormalization', inputs: [i32([1, 20], new Array(20).fill(1)), '', word, pos, '', gamma, beta], name: 'emb3' });
    expect(e3!.code).toBe('SHAPE_MISMATCH');
    expect(e3!.message).toMatch(/'emb3'.*position_embedding/);
  });
});
