/**
 * Text generation in headless Chromium (Debian's, through playwright-core) with dist/browser: the
 * toy decoder's folder read over HTTP, streamed (stream() and TextStreamer), aborted mid-generation
 * with the pipeline still usable, a chat template rendered; every text equal to Node's for the same
 * greedy call. Never skipped: without Chromium the test fails.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, requireChromium, root, serve } from './helpers.js';
import type { TextGenerationPipeline } from '../../src/index.js';

let browser: Browser;
let site: Awaited<ReturnType<typeof serve>>;
let page: Page;
let node: TextGenerationPipeline;

beforeAll(async () => {
  requireChromium();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  site = await serve(root);
  page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${site.url}/test/platforms/fixtures/generate.html`);
  try {
    await page.waitForFunction(() => (window as any).ready, undefined, { timeout: 30_000 });
  } catch (e) {
    throw new Error(`generate.html never became ready: ${errors.join('; ') || (e as Error).message}`);
  }
  const { pipeline } = await import('../../src/index.js');
  node = await pipeline('text-generation', join(root, 'models/decoders/toy-lm'));
});
afterAll(async () => {
  await node?.dispose();
  await browser?.close();
  site?.server.close();
});

describe('text generation in headless Chromium', () => {
  it('loads the folder by URL, streams with stream() and TextStreamer, aborts, chats: all as in Node', async () => {
    expect(await page.evaluate((f) => (window as any).load(f), '/models/decoders/toy-lm/')).toBe('resident');
    expect(site.requests).toContain('/models/decoders/toy-lm/onnx/model.onnx');
    const prompt = 'Love is', options = { max_new_tokens: 32, do_sample: false };
    const want = (await node(prompt, { ...options, return_full_text: false }))[0]!.generated_text as string;
    expect(await page.evaluate(([p, o]) => (window as any).complete(p, { ...o as object, return_full_text: false }), [prompt, options] as const)).toBe(want);
    const streamed: string[] = await page.evaluate(([p, o]) => (window as any).streamPieces(p, o), [prompt, options] as const);
    expect(streamed.length).toBeGreaterThan(1);
    expect(streamed.join('')).toBe(want);
    const pieces: string[] = await page.evaluate(([p, o]) => (window as any).streamerPieces(p, o), [prompt, options] as const);
    expect(pieces.join('')).toBe(want);

    // Abort after 5 tokens: generation stops between tokens, what came out is a prefix, and the
    // next call (same pipeline) gives the full text again.
    const long = { max_new_tokens: 64, do_sample: false };
    const full = (await node(prompt, { ...long, return_full_text: false }))[0]!.generated_text as string;
    const cut = await page.evaluate(([p, o]) => (window as any).abortAfter(p, o, 5), [prompt, long] as const) as { pieces: string[]; tokens: number; aborted: boolean };
    expect(cut.aborted).toBe(true);
    expect(cut.tokens).toBe(5);
    expect(full.startsWith(cut.pieces.join(''))).toBe(true);
    expect(cut.pieces.join('').length).toBeLessThan(full.length);
    expect(await page.evaluate(([p, o]) => (window as any).complete(p, { ...o as object, return_full_text: false }), [prompt, long] as const)).toBe(full);

    const messages = [{ role: 'system', content: 'You tell fortunes.' }, { role: 'user', content: 'What does tomorrow hold?' }];
    expect(await page.evaluate((m) => (window as any).chatPrompt(m), messages)).toBe(node.tokenizer.applyChatTemplate(messages, { tokenize: false, addGenerationPrompt: true }));
    const chat = await page.evaluate(([m, o]) => (window as any).complete(m, o), [messages, options] as const);
    expect(chat).toEqual((await node(messages, options))[0]!.generated_text);
  });
});
