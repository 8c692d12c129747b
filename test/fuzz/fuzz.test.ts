/**
 * Deterministic fuzzing (seed 1): mutated real models and hand-made pathological graphs, each
 * in a child process that reports per case, so that a hang or a crash is reported with its case
 * id instead of taking the runner down. `npm run fuzz -- --iterations N` runs a longer campaign.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without types
import { runCampaign } from '../../scripts/fuzz.mjs';

interface Failure { id: number; kind: string; what: string; error: string }
interface Result { counts: Record<string, number>; failures: Failure[]; ms: number }

describe('fuzz', () => {
  it('a hang or a crash is reported with its case id, and the campaign goes on past it', async () => {
    const r: Result = await runCampaign({ seed: 1, iterations: 40, workers: 1, timeoutMs: 1500, simulate: { hang: 5, crash: 17 } });
    expect(r.failures.filter((f) => f.kind !== 'internal').map((f) => [f.id, f.kind])).toEqual([[5, 'hang'], [17, 'crash']]);
    expect(Object.values(r.counts).reduce((a, b) => a + b, 0)).toBe(40);
  }, 60_000);

  it('every case of 15,000 ends in a result or a TesseraError: no crash, no hang, no stray exception, no INTERNAL', async () => {
    const r: Result = await runCampaign({ seed: 1, iterations: 15_000, timeoutMs: 15_000 });
    const total = Object.values(r.counts).reduce((a, b) => a + b, 0);
    console.log(`fuzz seed 1: ${total} cases in ${r.ms} ms`, r.counts);
    expect(total).toBe(15_000);
    // An INTERNAL error kept the API contract but is still a bug below it: none is tolerated.
    expect(r.failures.map((f) => `#${f.id} ${f.kind} ${f.what}: ${f.error}`)).toEqual([]);
    // The campaign must reach past decoding: some cases load and run.
    expect(r.counts.ok ?? 0).toBeGreaterThan(50);
  }, 120_000);
});
