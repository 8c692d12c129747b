// GenerationSession's q4Compute: 'int8' runs every 4-bit MatMulNBits as accuracy_level 4 (int8
// activations, several times faster decode on a q4 model). Checked on the committed tiny q4 decoders,
// teacher-forced step by step: the logits move (the int8 path really runs) but stay within its
// tolerance of the float path's, and the greedy id is the same wherever the float path's margin
// exceeds the difference; a bad value is refused.
import '../../src/index.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/api/tensor.js';
import { KEY_MASK_INPUT, PAST_LENGTH_INPUT } from '../../src/graph/passes/kv-cache.js';
import { GenerationSession } from '../../src/generation/session.js';

const read = (folder: string) => new Uint8Array(readFileSync(new URL(`../../models/decoders/${folder}/onnx/model_q4.onnx`, import.meta.url)));
const prompt = [5, 17, 42, 3, 77, 8, 120];

/**
 * One step on the rewritten session, as GenerationSession's resident stepper feeds it: `ids` at
 * positions past … past + ids.length − 1, logits of the last one.
 */
async function step(gen: GenerationSession, ids: number[], past: number, maxLen: number): Promise<Float32Array> {
  const S = ids.length;
  const mask = new Float32Array(maxLen);
  const feeds: Record<string, Tensor> = {
    input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, S]),
    [PAST_LENGTH_INPUT]: new Tensor('int32', Int32Array.of(past), [1]),
    [KEY_MASK_INPUT]: new Tensor('float32', mask, [1, maxLen]),
    tessera_rows: new Tensor('int64', BigInt64Array.of(BigInt(S - 1)), [1]),
  };
  if (gen.session.inputNames.includes('position_ids')) feeds.position_ids = new Tensor('int64', BigInt64Array.from(ids.keys(), (i) => BigInt(past + i)), [1, S]);
  const out = await gen.session.run(feeds);
  return out.logits!.data as Float32Array;
}

const argmax = (a: Float32Array) => a.reduce((b, v, i) => (v > a[b]! ? i : b), 0);
/** Top-1 minus top-2. */
function margin(a: Float32Array): number {
  const i = argmax(a);
  let second = -Infinity;
  a.forEach((v, j) => { if (j !== i) second = Math.max(second, v); });
  return a[i]! - second;
}

describe("GenerationSession q4Compute: 'int8'", () => {
  for (const folder of ['tiny-qwen3', 'tiny-llama']) {
    it(`${folder}/model_q4: int8 compute moves the logits a little; greedy ids equal wherever the float margin exceeds the difference`, async () => {
      const bytes = read(folder);
      const ref = await GenerationSession.create(bytes);
      const int8 = await GenerationSession.create(bytes, { q4Compute: 'int8' });
      expect(int8.kvCache, int8.kvCacheReason).toBe('resident');
      expect(int8.logitsAt).toBe('last');
      // Teacher-forced on the float path's greedy tokens: the prompt (prefill), then 24 decode
      // steps of one row each (the int8 GEMV on every MatMulNBits).
      const maxLen = 64, steps = 24;
      let tokens = [...prompt], past = 0, moved = 0, decided = 0;
      for (let t = 0; t <= steps; t++) {
        const [a, b] = [await step(ref, tokens, past, maxLen), await step(int8, tokens, past, maxLen)];
        let maxDiff = 0, maxAbs = 0;
        for (let i = 0; i < a.length; i++) { maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!)); maxAbs = Math.max(maxAbs, Math.abs(a[i]!)); }
        expect(maxDiff).toBeLessThan(0.05 * maxAbs);
        if (maxDiff > 0) moved++;
        // Where the float path's top two logits are further apart than the two paths differ, the
        // int8 path must pick the same token (a nearer tie may go either way).
        if (margin(a) > 2 * maxDiff) { decided++; expect(argmax(b)).toBe(argmax(a)); }
        past += tokens.length;
        tokens = [argmax(a)];
      }
      expect(moved).toBe(steps + 1);
      expect(decided).toBeGreaterThan(steps / 2);
      await ref.release();
      await int8.release();
    });
  }

  it('refuses an unknown value', async () => {
    await expect(GenerationSession.create(read('tiny-qwen3'), { q4Compute: 'int4' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
