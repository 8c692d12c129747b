// pipeline('text-generation'): transformers.js-shaped results for text and chat, streaming
// (TextStreamer and stream()), abort, stop strings, seeded sampling, batches.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TextStreamer, pipeline, type TextGenerationPipeline } from '../../src/index.js';
import { makeFolder } from './folder.js';

let dir: string;
let gen: TextGenerationPipeline;
beforeAll(async () => {
  dir = makeFolder();
  gen = await pipeline('text-generation', dir);
});
afterAll(async () => {
  await gen?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("pipeline('text-generation')", () => {
  it('returns [{ generated_text }] with the prompt, equal to generate() on the encoded prompt', async () => {
    expect(gen.model.kvCache).toBe('resident');
    const out = await gen('Hello there', { max_new_tokens: 12 });
    expect(out).toHaveLength(1);
    const text = out[0]!.generated_text as string;
    expect(text.startsWith('Hello there')).toBe(true);
    const ids = await gen.model.generate(gen.tokenizer.encode('Hello there', { addSpecialTokens: false }), { max_new_tokens: 12, eos_token_id: [0, 2] });
    expect(text).toBe(gen.tokenizer.decode(ids, { skipSpecialTokens: true }));
    const only = await gen('Hello there', { max_new_tokens: 12, return_full_text: false });
    expect('Hello there' + only[0]!.generated_text).toBe(text);
  });

  it('answers a chat with the conversation and the reply appended', async () => {
    const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Name a colour.' }];
    const [res] = await gen(messages, { max_new_tokens: 8 });
    const conv = res!.generated_text as { role: string; content: string }[];
    expect(conv.slice(0, 2)).toEqual(messages);
    expect(conv[2]!.role).toBe('assistant');
    const prompt = gen.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
    const ids = await gen.model.generate(prompt, { max_new_tokens: 8, eos_token_id: [0, 2] });
    expect(conv[2]!.content).toBe(gen.tokenizer.decode(ids.slice(prompt.length), { skipSpecialTokens: true }));
  });

  it('streams: TextStreamer pieces and stream() pieces concatenate to the new text', async () => {
    const full = (await gen('The cat', { max_new_tokens: 30, return_full_text: false }))[0]!.generated_text;
    const pieces: string[] = [];
    const streamer = new TextStreamer(gen.tokenizer, {
      skip_prompt: true, callback_function: (t) => pieces.push(t),
    });
    await gen('The cat', { max_new_tokens: 30, streamer });
    expect(pieces.join('')).toBe(full);
    const streamed: string[] = [];
    for await (const piece of gen.stream('The cat', { max_new_tokens: 30 })) streamed.push(piece);
    expect(streamed.join('')).toBe(full);
  });

  it('TextStreamer emits words as they complete, lines at once, and the rest at end()', () => {
    const pieces: string[] = [];
    const streamer = new TextStreamer(gen.tokenizer, { callback_function: (t) => pieces.push(t), skip_prompt: true });
    streamer.put([gen.tokenizer.encode('prompt')]);
    const ids = gen.tokenizer.encode('hello world foo\nbar baz');
    const seen: number[] = [];
    for (const id of ids) { streamer.put([[id]]); seen.push(pieces.length); }
    streamer.end();
    expect(pieces).toEqual(['hello ', 'world ', 'foo\n', 'bar ', 'baz']);
    expect(seen.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 1]); // 'hello ' only once its space arrives
  });

  it('stops between tokens on abort, and the session stays usable', async () => {
    const reference = (await gen('Once', { max_new_tokens: 20, return_full_text: false }))[0]!.generated_text as string;
    const controller = new AbortController();
    let tokens = 0;
    const counter = { put: () => { if (++tokens === 4) controller.abort(); }, end: () => {} };
    const cut = (await gen('Once', { max_new_tokens: 20, return_full_text: false, streamer: counter as never, signal: controller.signal }))[0]!.generated_text as string;
    expect(tokens).toBe(4); // the prompt, then three tokens; none after the abort
    expect(reference.startsWith(cut)).toBe(true);
    expect(cut.length).toBeLessThan(reference.length);
    // Breaking out of stream() aborts too.
    for await (const _ of gen.stream('Once', { max_new_tokens: 20 })) break;
    expect((await gen('Once', { max_new_tokens: 20, return_full_text: false }))[0]!.generated_text).toBe(reference);
  });

  it('stops at a stop string', async () => {
    const reference = (await gen('Once', { max_new_tokens: 40, return_full_text: false }))[0]!.generated_text as string;
    const stop = reference.slice(10, 12);
    const at = reference.indexOf(stop) + stop.length;
    const cut = (await gen('Once', { max_new_tokens: 40, return_full_text: false, stop_strings: [stop] }))[0]!.generated_text as string;
    expect(cut).toBe(reference.slice(0, at));
  });

  it('samples reproducibly with a seed; top_k 1 is greedy', async () => {
    const opts = { max_new_tokens: 25, do_sample: true, temperature: 1.3, top_k: 20, top_p: 0.95, min_p: 0.01, repetition_penalty: 1.2, return_full_text: false };
    const a = await gen('Seeded', { ...opts, seed: 42 });
    const b = await gen('Seeded', { ...opts, seed: 42 });
    const c = await gen('Seeded', { ...opts, seed: 43 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const greedy = await gen('Seeded', { max_new_tokens: 25, return_full_text: false });
    expect(await gen('Seeded', { max_new_tokens: 25, return_full_text: false, do_sample: true, top_k: 1, seed: 5 })).toEqual(greedy);
  });

  it('generates a batch of prompts of different lengths as each alone', async () => {
    const prompts = ['A', 'A longer prompt here'];
    const batch = await gen(prompts, { max_new_tokens: 10 });
    for (const [i, p] of prompts.entries()) expect(batch[i]).toEqual(await gen(p, { max_new_tokens: 10 }));
  });
});
