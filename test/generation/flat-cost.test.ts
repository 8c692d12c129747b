// Per-token cost stays flat on the resident cache: a 400-token generation makes two plans
// (prefill and decode) and no more, feeds and reads the same bytes on every decode step (the
// cache never crosses JavaScript), and allocates nothing in Wasm memory after the first step.
// The copied path (present → past through JavaScript) gives the same ids, re-plans as the past
// grows and moves the whole cache each step: the contrast the resident path removes.
import '../../src/index.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GenerationSession } from '../../src/generation/session.js';
import { BaseStreamer } from '../../src/generation/streamers.js';

const bytes = new Uint8Array(readFileSync(new URL('../../models/generation/tiny-qwen3.onnx', import.meta.url)));

/** Samples the session's counters after every token. */
class Probe extends BaseStreamer {
  readonly samples: { plans: number; fed: number; read: number; heap: number }[] = [];
  constructor(private readonly gen: GenerationSession) { super(); }
  override put(): void {
    const s = this.gen.stats;
    this.samples.push({ plans: s.plans, fed: s.bytesFedLastStep, read: s.bytesReadLastStep, heap: s.heapBytes });
  }
  override end(): void {}
}

describe('flat per-token cost', () => {
  it('400 tokens: two plans, constant bytes per step, no Wasm allocation after the prefill (the decode plan is made at load)', async () => {
    const gen = await GenerationSession.create(bytes, { maxLength: 512 });
    expect(gen.kvCache).toBe('resident');
    // The decode plan is made (and its weights packed) by create, before any prompt.
    expect((gen.session as unknown as { planCount: number }).planCount).toBe(1);
    const probe = new Probe(gen);
    const prompt = [1, 2, 3, 4, 5, 6, 7, 8];
    const out = await gen.generate(prompt, { max_new_tokens: 400, min_new_tokens: 400, streamer: probe });
    expect(out).toHaveLength(408);
    const decode = probe.samples.slice(2); // after the prompt and the prefill
    expect(new Set(decode.map((s) => s.plans))).toEqual(new Set([2]));
    expect(new Set(decode.map((s) => s.fed)).size).toBe(1);
    expect(new Set(decode.map((s) => s.read)).size).toBe(1);
    expect(new Set(decode.map((s) => s.heap)).size).toBe(1);
    // What crosses per step: ids, positions, the length, the mask row; one row of 96 logits back.
    expect(decode[0]!.read).toBe(96 * 4);
    expect(decode[0]!.fed).toBeLessThan(512 * 4 + 64);
    // A second generation on the same session reuses both plans and the cache.
    await gen.generate([9, 8, 7], { max_new_tokens: 50 });
    expect(gen.stats.plans).toBe(3); // one new prefill plan for the 3-token prompt
    await gen.release();
  });

  it('the copied path gives the same ids, but re-plans and moves the cache every step', async () => {
    const resident = await GenerationSession.create(bytes);
    const copied = await GenerationSession.create(bytes, { kvCache: 'copied' });
    expect(copied.kvCache).toBe('copied');
    const prompt = [3, 1, 4, 1, 5, 9, 2, 6];
    const probe = new Probe(copied);
    const a = await resident.generate(prompt, { max_new_tokens: 40 });
    const b = await copied.generate(prompt, { max_new_tokens: 40, streamer: probe });
    expect(b).toEqual(a);
    const s = probe.samples;
    expect(s.at(-1)!.plans).toBeGreaterThan(30);
    expect(s.at(-1)!.fed).toBeGreaterThan(s[2]!.fed); // past grows: more bytes each step
    await resident.release();
    await copied.release();
  });
});
