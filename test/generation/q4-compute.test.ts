// GenerationSession's q4Compute: 'int8' runs every 4-bit MatMulNBits as accuracy_level 4 (int8
// activations, several times faster decode on a q4 model). Checked on the committed tiny q4 decoders,
// teacher-forced step by step: the logits move (the int8 path really runs) but stay within its
// tolerance of the float path's, and the greedy id is the same wherever the float path's margin
// exceeds the difference; against onnxruntime-web on the same file (the default, x quantized to 16
// bits per block: 1e-4 of the largest logit; int8: 5 %); a bad value is refused.
import '../../src/index.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/api/tensor.js';
import { KEY_MASK_INPUT, PAST_LENGTH_INPUT } from '../../src/graph/passes/kv-cache.js';
import { GenerationSession } from '../../src/generation/session.js';
import * as ort from 'onnxruntime-web';
import { ortGreedy } from './ort-generate.js';

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

/** onnxruntime-web driving the file step by step (every present fed back as past): each step's last logits. */
async function ortLogits(bytes: Uint8Array, seq: number[], promptLen: number): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const pasts = s.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const meta = (s as unknown as { inputMetadata: { name: string; shape: (number | string)[] }[] }).inputMetadata;
  const i64 = (v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v, BigInt), dims);
  let feeds: Record<string, ort.Tensor> = {};
  for (const n of pasts) { const sh = meta.find((m) => m.name === n)!.shape; feeds[n] = new ort.Tensor('float32', new Float32Array(0), [1, sh[1] as number, 0, sh[3] as number]); }
  const outs: Float32Array[] = [];
  for (let past = 0, ids = seq.slice(0, promptLen); past + ids.length <= seq.length; ids = [seq[past]!]) {
    const S = ids.length;
    feeds.input_ids = i64(ids, [1, S]);
    if (s.inputNames.includes('attention_mask')) feeds.attention_mask = i64(new Array(past + S).fill(1), [1, past + S]);
    if (s.inputNames.includes('position_ids')) feeds.position_ids = i64(Array.from({ length: S }, (_, i) => past + i), [1, S]);
    const out = await s.run(feeds);
    const V = out.logits!.dims[2]!;
    outs.push((out.logits!.data as Float32Array).slice((S - 1) * V, S * V));
    const next: Record<string, ort.Tensor> = {};
    for (const n of pasts) next[n] = out[n.replace('past_key_values', 'present')]!;
    feeds = next;
    past += S;
    if (past >= seq.length) break;
  }
  await s.release();
  return outs;
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

  // The default quantizes each decode row to 16 bits per block (each x off by ≤ 2^-16 of its block's
  // largest; float kernels measured 1.4e-6 here, the 16-bit path 4.7e-5 — the error compounds over
  // the layers' MatMulNBits): 1e-4 of the largest logit, ~500× closer than int8.
  it('tiny-qwen3/model_q4 against onnxruntime-web on the same file, 16 teacher-forced steps: default within 1e-4, int8 within 5 % of the largest logit', async () => {
    const bytes = read('tiny-qwen3');
    const steps = 16;
    const ortSeq = await ortGreedy(bytes, prompt, steps);
    const want = await ortLogits(bytes, ortSeq, prompt.length);
    const worstOf: Record<string, number> = {};
    for (const [mode, tol] of [['model', 1e-4], ['int8', 0.05]] as const) {
      const gen = await GenerationSession.create(bytes, { q4Compute: mode });
      let past = 0, tokens = [...prompt], worst = 0;
      for (let t = 0; t <= steps; t++) {
        const got = await step(gen, tokens, past, 64);
        let d = 0, m = 0;
        for (let i = 0; i < got.length; i++) { d = Math.max(d, Math.abs(got[i]! - want[t]![i]!)); m = Math.max(m, Math.abs(want[t]![i]!)); }
        worst = Math.max(worst, d / m);
        past += tokens.length;
        tokens = [ortSeq[past]!];
      }
      expect(worst, mode).toBeLessThan(tol);
      worstOf[mode] = worst;
      if (mode === 'int8') expect(worst).toBeGreaterThan(100 * worstOf.model!);
      await gen.release();
    }
  });

  it('refuses an unknown value', async () => {
    await expect(GenerationSession.create(read('tiny-qwen3'), { q4Compute: 'int4' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
