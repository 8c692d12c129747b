/**
 * BERT MLM graphs in the torch export pattern (scripts/make-bert.mjs): the fused graph (LayerNorm,
 * GELU in the GEMM epilogue, attention) against the unfused one and onnxruntime-web, with padded
 * batches; and proof that the fusions fired.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/index.js';
import { ortRun, ortSession } from '../helpers/ort.js';
import { bert, bertFeeds, opHistogram, relError, type BertSize } from './helpers.js';

const sizes: [string, BertSize, number, number, number[]][] = [
  ['tiny (d = 5, odd sizes)', { layers: 1, hidden: 10, heads: 2, intermediate: 24, vocab: 50, maxPosition: 40 }, 3, 7, [7, 3, 1]],
  ['small (2 layers, d = 16)', { layers: 2, hidden: 64, heads: 4, intermediate: 128, vocab: 300, maxPosition: 80 }, 2, 70, [70, 33]],
  ['wide head (d = 36, 1 head)', { layers: 1, hidden: 36, heads: 1, intermediate: 72, vocab: 100 }, 2, 9, [9, 4]],
];

describe('BERT fusions', () => {
  for (const [label, size, batch, seq, lengths] of sizes) {
    it(`${label}: fused = unfused = onnxruntime-web, padded batch ${batch}×${seq}`, async () => {
      const bytes = bert(size);
      const feeds = bertFeeds(batch, seq, size.vocab, lengths);
      const fused = await InferenceSession.create(bytes);
      const plain = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
      const a = (await fused.run(feeds)).logits!, b = (await plain.run(feeds)).logits!;
      const o = (await ortRun(await ortSession(bytes), feeds)).logits!;
      expect(a.dims).toEqual([batch, seq, size.vocab]);
      expect(relError(a.data as Float32Array, o.data as Float32Array)).toBeLessThan(1e-4);
      expect(relError(b.data as Float32Array, o.data as Float32Array)).toBeLessThan(1e-4);
      expect(relError(a.data as Float32Array, b.data as Float32Array)).toBeLessThan(1e-4);

      const h = await opHistogram(fused, feeds);
      const L = size.layers;
      expect(h.FusedAttention).toBe(L);
      expect(h.LayerNormalization).toBe(2 * L + 2);
      expect(h.Softmax ?? 0).toBe(0);
      expect(h.ReduceMean ?? 0).toBe(0);
      expect(h.Erf ?? 0).toBe(0);
      expect(h.Transpose ?? 0).toBe(0);
      // q, k, v, attention output, intermediate (+GELU), output, head transform (+GELU), decoder
      expect(h.FusedMatMul).toBe(6 * L + 2);
      expect(h.MatMul ?? 0).toBe(0);
      const ph = await opHistogram(plain, feeds);
      expect(ph.Softmax).toBe(L);
      expect(ph.ReduceMean).toBe(4 * L + 4);
      await fused.release();
      await plain.release();
    });
  }
});

describe('BERT-base (12 × 768, vocab 30522) at 1×128', () => {
  it('fused logits match onnxruntime-web', async () => {
    // ≈ 530 MB of weights: one model, one tessera and one onnxruntime-web session, released in turn.
    const bytes = bert({ layers: 12, hidden: 768, heads: 12, intermediate: 3072, vocab: 30522, maxPosition: 512 });
    const feeds = bertFeeds(1, 128, 30522, [100]);
    const ort = await ortSession(bytes);
    const want = (await ortRun(ort, feeds)).logits!.data as Float32Array;
    await ort.release();
    const s = await InferenceSession.create(bytes);
    const got = (await s.run(feeds)).logits!;
    expect(got.dims).toEqual([1, 128, 30522]);
    expect(relError(got.data as Float32Array, want)).toBeLessThan(1e-4);
    const h = await opHistogram(s, feeds);
    expect([h.FusedAttention, h.LayerNormalization, h.FusedMatMul, h.Softmax, h.MatMul]).toEqual([12, 26, 74, undefined, undefined]);
    await s.release();
  }, 300_000);
});
