// The resident KV cache: greedy ids equal onnxruntime-web's (driven as transformers.js drives it)
// on the tiny Llama and Qwen3-shaped fixtures, and a long generation makes no plan per token and
// moves no cache bytes through JavaScript.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../../src/index.js';
import { GenerationSession } from '../../src/generation/session.js';
import { ortGreedy } from './ort-generate.js';

const fixtures = ['tiny-llama', 'tiny-qwen3'];
const read = (name: string) => new Uint8Array(readFileSync(new URL(`../../models/generation/${name}.onnx`, import.meta.url)));

describe('GenerationSession with the resident cache', () => {
  for (const name of fixtures) {
    it(`${name}: greedy ids equal onnxruntime-web step by step`, async () => {
      const bytes = read(name);
      const gen = await GenerationSession.create(bytes);
      expect(gen.kvCache, gen.kvCacheReason).toBe('resident');
      expect(gen.logitsAt).toBe('last');
      const prompt = [5, 17, 42, 3, 77, 8];
      const ours = await gen.generate(prompt, { max_new_tokens: 24 });
      expect(ours).toEqual(await ortGreedy(bytes, prompt, 24));
      // Again on the same session (the cache is reused from position 0), with another prompt.
      const prompt2 = [1, 2, 3];
      expect(await gen.generate(prompt2, { max_new_tokens: 10 })).toEqual(await ortGreedy(bytes, prompt2, 10));
      await gen.release();
    });
  }
});
