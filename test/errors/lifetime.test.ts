/**
 * Long life keeps memory flat: 2,000 MNIST runs grow RSS by < 30 MB, 30 create/release cycles
 * (with the released sessions still referenced) by < 150 MB. Measured in a child process with
 * --expose-gc on an esbuild bundle of src/, so the numbers are this library's alone.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without types
import { bundle } from '../../scripts/fuzz.mjs';
import { mnistModelPath } from '../helpers/mnist.js';

const MB = 2 ** 20;
type M = { rss: number; heap: number; ab: number };

describe('lifetime', () => {
  it('RSS stays flat over 2,000 runs and 30 create/release cycles', async () => {
    const url: string = await bundle();
    const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(new URL('./lifetime.mjs', import.meta.url)), url, mnistModelPath], { encoding: 'utf8', timeout: 120_000 });
    const r = JSON.parse(out) as { runs: [M, M]; cycles: [M, M]; freed: number };
    const grow = ([a, b]: [M, M]) => ({ rss: (b.rss - a.rss) / MB, heap: (b.heap - a.heap) / MB, arrayBuffers: (b.ab - a.ab) / MB });
    const runs = grow(r.runs), cycles = grow(r.cycles);
    console.log('growth over 2,000 runs (MB):', runs, '— over 30 create/release cycles (MB):', cycles, `— ${r.freed}/30 memories collected`);
    expect(runs.rss).toBeLessThan(30);
    expect(runs.heap).toBeLessThan(10);
    expect(cycles.rss).toBeLessThan(150);
    expect(cycles.heap).toBeLessThan(20);
    // The Wasm memories of released sessions are collected although the sessions are still held.
    expect(r.freed).toBeGreaterThanOrEqual(25);
  }, 150_000);
});
