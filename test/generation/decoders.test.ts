// Every decoder models/decoders commits (six architectures in fp32; Qwen3 also fp16, q8 and q4;
// Llama q4; the genai layout's GroupQueryAttention, fp32 and int4) generates on the resident KV cache with greedy ids equal to onnxruntime-web's, driven
// step by step as transformers.js drives it (present fed back as past), and a left-padded batch of two equals
// PyTorch's greedy ids (reference.json, written by models/decoders/export.py); in the genai layout a
// right-padded batch of three generates each row as if alone.
import '../../src/index.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GenerationSession } from '../../src/generation/session.js';
import { ortGreedy } from './ort-generate.js';

const dir = new URL('../../models/decoders/', import.meta.url);
const read = (file: string) => new Uint8Array(readFileSync(new URL(file, dir)));
const cases = [
  ['tiny-qwen3', 'model'], ['tiny-llama', 'model'], ['tiny-qwen2', 'model'], ['tiny-gpt2', 'model'],
  ['tiny-gemma', 'model'], ['tiny-phi3', 'model'], ['tiny-qwen3', 'model_fp16'], ['tiny-qwen3', 'model_quantized'],
  ['tiny-qwen3', 'model_q4'], ['tiny-llama', 'model_q4'],
  // onnxruntime-genai's layout: GroupQueryAttention (fp32 and int4 weights), file at the folder's top.
  ['tiny-llama-genai', '../model'], ['tiny-llama-genai-int4', '../model'],
] as const;

describe('decoders on the resident cache', () => {
  for (const [folder, file] of cases) {
    it(`${folder}/${file}: greedy ids equal onnxruntime-web's`, async () => {
      const bytes = read(`${folder}/onnx/${file}.onnx`);
      const gen = await GenerationSession.create(bytes);
      expect(gen.kvCache, gen.kvCacheReason).toBe('resident');
      const prompt = [5, 17, 42, 3, 77, 8, 120];
      expect(await gen.generate(prompt, { max_new_tokens: 12 })).toEqual(await ortGreedy(bytes, prompt, 12));
      expect(gen.stats.plans).toBe(2); // one prefill plan, one for every decode step
      if (file === 'model') {
        // The left-padded batch of reference.json, as PyTorch generated it.
        const ref = JSON.parse(readFileSync(new URL(`${folder}/reference.json`, dir), 'utf8')) as {
          steps: { input_ids: number[][]; attention_mask: number[][] }[]; greedy_new_ids: number[][];
        };
        const { input_ids, attention_mask } = ref.steps[0]!;
        const prompts = input_ids.map((row, b) => row.filter((_, i) => attention_mask[b]![i] === 1));
        const pad = input_ids[1]![0]!;
        const n = ref.greedy_new_ids[0]!.length;
        const out = await gen.generate(prompts, { max_new_tokens: n, pad_token_id: pad });
        expect(out.map((seq, b) => seq.slice(prompts[b]!.length))).toEqual(ref.greedy_new_ids);
      }
      if (file === '../model') {
        // Prompts of different lengths, right-padded for GroupQueryAttention: each row as if alone.
        const prompts = [[5, 17, 42, 3, 77, 8, 120], [9, 33], [64, 2, 71, 15]];
        const batch = await gen.generate(prompts, { max_new_tokens: 10, pad_token_id: 0 });
        for (const [b, p] of prompts.entries()) expect(batch[b]).toEqual(await gen.generate(p, { max_new_tokens: 10 }));
      }
      await gen.release();
    });
  }
});
