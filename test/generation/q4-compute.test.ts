// GenerationSession's q4Compute: 'int8' runs every 4-bit MatMulNBits as accuracy_level 4 (int8
// activations, ~2× faster decode on a q4 model). Checked on the committed tiny q4 decoders: the
// logits move (the int8 path really runs) but stay within its tolerance of the float path's, and
// greedy ids match; a bad value is refused.
import '../../src/index.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/api/tensor.js';
import { KEY_MASK_INPUT, PAST_LENGTH_INPUT } from '../../src/graph/passes/kv-cache.js';
import { GenerationSession } from '../../src/generation/session.js';

const read = (folder: string) => new Uint8Array(readFileSync(new URL(`../../models/decoders/${folder}/onnx/model_q4.onnx`, import.meta.url)));
const prompt = [5, 17, 42, 3, 77, 8, 120];

/** The prefill logits at the last prompt position, run straight on the rewritten session. */
async function lastLogits(gen: GenerationSession): Promise<Float32Array> {
  const S = prompt.length, maxLen = 16;
  const feeds: Record<string, Tensor> = {
    input_ids: new Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, S]),
    [PAST_LENGTH_INPUT]: new Tensor('int32', Int32Array.of(0), [1]),
    [KEY_MASK_INPUT]: new Tensor('float32', new Float32Array(maxLen), [1, maxLen]),
    tessera_rows: new Tensor('int64', BigInt64Array.of(BigInt(S - 1)), [1]),
  };
  if (gen.session.inputNames.includes('position_ids')) feeds.position_ids = new Tensor('int64', BigInt64Array.from(prompt.keys(), BigInt), [1, S]);
  const out = await gen.session.run(feeds);
  return out.logits!.data as Float32Array;
}

describe("GenerationSession q4Compute: 'int8'", () => {
  for (const folder of ['tiny-qwen3', 'tiny-llama']) {
    it(`${folder}/model_q4: int8 compute moves the logits a little, greedy ids unchanged`, async () => {
      const bytes = read(folder);
      const ref = await GenerationSession.create(bytes);
      const int8 = await GenerationSession.create(bytes, { q4Compute: 'int8' });
      expect(int8.kvCache, int8.kvCacheReason).toBe('resident');
      expect(int8.logitsAt).toBe('last');
      const [a, b] = [await lastLogits(ref), await lastLogits(int8)];
      let maxDiff = 0, maxAbs = 0;
      for (let i = 0; i < a.length; i++) { maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!)); maxAbs = Math.max(maxAbs, Math.abs(a[i]!)); }
      expect(maxDiff).toBeGreaterThan(0);
      expect(maxDiff).toBeLessThan(0.05 * maxAbs);
      expect(await int8.generate(prompt, { max_new_tokens: 8 })).toEqual(await ref.generate(prompt, { max_new_tokens: 8 }));
      await ref.release();
      await int8.release();
    });
  }

  it('refuses an unknown value', async () => {
    await expect(GenerationSession.create(read('tiny-qwen3'), { q4Compute: 'int4' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
