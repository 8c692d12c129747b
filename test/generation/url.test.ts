// GenerationSession.create from a URL (a local HTTP server): the decoder is downloaded once and
// streamed into Wasm memory as InferenceSession.create streams it, whether the resident-cache
// rewrite takes the graph or the cache is copied, and it generates the ids the same bytes give.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/index.js';
import { GenerationSession } from '../../src/generation/session.js';
import { root, serve } from '../platforms/helpers.js';

let server: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => { server = await serve(`${root}models/generation`); });
afterAll(() => new Promise<void>((r) => server.server.close(() => r())));

describe('GenerationSession.create(URL)', () => {
  for (const kvCache of ['auto', 'copied'] as const) {
    it(`kvCache ${kvCache}: one download, the same greedy ids as from bytes`, async () => {
      const prompt = [5, 17, 42, 3, 77, 8];
      const bytes = new Uint8Array(readFileSync(`${root}models/generation/tiny-qwen3.onnx`));
      const fromBytes = await GenerationSession.create(bytes, { kvCache });
      const want = await fromBytes.generate(prompt, { max_new_tokens: 12 });
      await fromBytes.release();
      const before = server.requests.length;
      const gen = await GenerationSession.create(new URL(`${server.url}/tiny-qwen3.onnx`), { kvCache });
      expect(server.requests.slice(before)).toEqual(['/tiny-qwen3.onnx']);
      expect(gen.kvCache).toBe(kvCache === 'auto' ? 'resident' : 'copied');
      expect(await gen.generate(prompt, { max_new_tokens: 12 })).toEqual(want);
      await gen.release();
    });
  }
});
