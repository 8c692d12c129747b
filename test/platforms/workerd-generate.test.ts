/**
 * examples/worker-generate in workerd (miniflare 3), bundled as wrangler bundles it: streamed text
 * generation as Server-Sent Events from a decoder bundled with the Worker, equal to Node's pipeline.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, startWorkerExample } from './helpers.js';
import type { TextGenerationPipeline } from '../../src/index.js';

let worker: import('miniflare').Miniflare;
let node: TextGenerationPipeline;
let cleanupExample = async (): Promise<void> => {};


interface Sse { events: { event: string; data: Record<string, unknown> }[]; contentType: string | null }

/** POSTs and reads the whole event stream (or only `keep` events, then cancels). */
async function post(body: unknown, keep = Infinity): Promise<Sse & { status: number }> {
  const res = await worker.dispatchFetch('http://localhost/', { method: 'POST', body: JSON.stringify(body) });
  const contentType = res.headers.get('content-type');
  if (res.status !== 200) return { status: res.status, contentType, events: [{ event: 'http', data: { body: await res.text() } }] };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: Sse['events'] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      events.push({ event, data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) });
    }
    if (events.length >= keep) { await reader.cancel(); events.length = keep; break; }
  }
  return { status: res.status, contentType, events };
}

const text = (s: Sse) => s.events.filter((e) => e.event === 'message').map((e) => e.data.text as string).join('');

beforeAll(async () => {
  ({ worker, cleanup: cleanupExample } = await startWorkerExample('worker-generate'));
  const { pipeline } = await import('../../src/index.js');
  node = await pipeline('text-generation', join(root, 'models/decoders/toy-lm'));
});
afterAll(async () => {
  await cleanupExample();
  await node?.dispose();
});

describe('examples/worker-generate in workerd', () => {
  it('streams a completion as text/event-stream, equal to Node’s non-streamed greedy text', async () => {
    const prompt = 'Love is';
    const got = await post({ prompt, max_new_tokens: 40 });
    expect(got.status, JSON.stringify(got.events)).toBe(200);
    expect(got.contentType).toMatch(/^text\/event-stream/);
    const pieces = got.events.filter((e) => e.event === 'message');
    expect(pieces.length).toBeGreaterThan(1);
    expect(got.events.at(-1)!.event).toBe('done');
    const want = (await node(prompt, { max_new_tokens: 40, return_full_text: false }))[0]!.generated_text as string;
    expect(want.length).toBeGreaterThan(0);
    expect(text(got)).toBe(want);
    const { tokens, ms } = got.events.at(-1)!.data as { tokens: number; ms: number };
    expect(tokens).toBeGreaterThan(0);
    expect(tokens).toBeLessThanOrEqual(40);
    // Per-token time in workerd (warm isolate; prompt prefill included), for the example's README.
    const warm = await post({ prompt, max_new_tokens: 64 });
    const last = warm.events.at(-1)!.data as { tokens: number; ms: number };
    console.log(`workerd toy-lm: ${last.tokens} tokens in ${last.ms} ms (${(last.ms / last.tokens).toFixed(2)} ms/token, warm; first request ${ms} ms for ${tokens})`);
  });

  it('answers a chat with the reply Node’s pipeline gives', async () => {
    const messages = [{ role: 'system', content: 'You tell fortunes.' }, { role: 'user', content: 'What does tomorrow hold?' }];
    const got = await post({ messages, max_new_tokens: 24 });
    expect(got.status).toBe(200);
    expect(got.events.at(-1)!.event).toBe('done');
    const [res] = await node(messages, { max_new_tokens: 24 });
    const conv = res!.generated_text as { role: string; content: string }[];
    expect(text(got)).toBe(conv.at(-1)!.content);
  });

  it('ends cleanly at max_new_tokens and when the client cancels; the Worker keeps answering', { timeout: 15000 }, async () => {
    const short = await post({ prompt: 'The', max_new_tokens: 3 });
    expect((short.events.at(-1)!.data as { tokens: number }).tokens).toBeLessThanOrEqual(3);
    expect(short.events.at(-1)!.event).toBe('done');
    // Read two pieces of a long generation, then hang up; the next request is served in full and
    // exactly (the session was not left mid-generation).
    const cut = await post({ prompt: 'Once upon a time', max_new_tokens: 256, min_new_tokens: 256, do_sample: true, seed: 1 }, 2);
    expect(cut.events).toHaveLength(2);
    const again = await post({ prompt: 'Love is', max_new_tokens: 40 });
    expect(again.events.at(-1)!.event).toBe('done');
    const want = (await node('Love is', { max_new_tokens: 40, return_full_text: false }))[0]!.generated_text;
    expect(text(again)).toBe(want);
    // The cut generation ended (cancelled between tokens, or at its 256 when the hang-up never
    // reached the Worker: under miniflare 3, in about one run of three, neither the stream's
    // cancel() nor request.signal fires at all — checked with 1,024-token cuts that ran 1–5 s to
    // their end — so how early it stops is reported, not asserted).
    const { recent } = await (await worker.dispatchFetch('http://localhost/status')).json() as { recent: { tokens: number; cancelled: boolean }[] };
    const record = recent.at(-2)!;
    expect(record.tokens).toBeGreaterThanOrEqual(2);
    expect(record.tokens).toBeLessThanOrEqual(256);
    if (record.cancelled) expect(record.tokens).toBeLessThan(256);
    console.log(`workerd-generate: the cut generation ${record.cancelled ? `was cancelled after ${record.tokens} tokens` : `ran to ${record.tokens} tokens before the hang-up arrived`}`);
  });

  it('answers bad requests with 400 and a message', async () => {
    for (const body of [{}, { prompt: '' }, { prompt: 'x', max_new_tokens: 5000 }, { messages: [{ role: 'user' }] }, { prompt: 'x', temperature: 'hot' }]) {
      const r = await post(body);
      expect(r.status).toBe(400);
      expect(String(r.events[0]!.data.body)).toMatch(/"error"/);
    }
  });
});
