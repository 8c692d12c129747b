// The text-generation pipeline against transformers.js v4 itself on the same local folder
// (models/decoders/tiny-qwen3: its tokenizer, chat template and generation_config): same greedy
// text for a prompt and for a chat. transformers.js runs on onnxruntime-node here (its Node
// default; same ids as onnxruntime-web, see decoders.test.ts).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pipeline } from '../../src/index.js';

const root = fileURLToPath(new URL('../../models/decoders/', import.meta.url));

describe('text-generation equals transformers.js v4', () => {
  it('tiny-qwen3: prompt and chat, greedy', async () => {
    const tjs = await import('@huggingface/transformers');
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = root;
    const theirs = await tjs.pipeline('text-generation', 'tiny-qwen3', { dtype: 'fp32' });
    const ours = await pipeline('text-generation', `${root}tiny-qwen3`, { dtype: 'fp32' });
    const prompt = 'The quick brown fox';
    const opts = { max_new_tokens: 20, do_sample: false };
    const t1 = await theirs(prompt, opts) as { generated_text: unknown }[];
    expect(await ours(prompt, opts)).toEqual(t1);
    const chat = [{ role: 'user', content: 'Tell me a fortune.' }];
    const t2 = await theirs(chat, opts) as { generated_text: unknown }[];
    expect(await ours(chat, opts)).toEqual(t2);
    await ours.dispose();
    await (theirs as unknown as { dispose(): Promise<void> }).dispose();
  });
});
