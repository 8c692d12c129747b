/**
 * A pool thread that dies mid-split must not hang the run: the run rejects with a TesseraError
 * naming the cause, the pool is closed, the session goes on with one thread (bit-identical
 * results) and a new session starts a fresh pool. Deaths are made by the pool's test hook (an
 * uncaught error in the thread, or a thread that goes silent as a killed one would) and by
 * terminating a thread between runs. Nothing here is timed: the tests assert what happens.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor, TesseraError } from '../../src/index.js';
import { currentPool, poolStats, setThreadHost, type PoolWorker } from '../../src/runtime/threads/index.js';
import { threadHost } from '../../src/runtime/threads/host.js';
import { batchOf, heldout, mnistModel } from '../helpers/mnist.js';

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
// Batch 64: MNIST's GEMMs are large enough to be split.
const input = new Tensor('float32', batchOf(heldout().images, 0, 64), [64, 1, 28, 28]);

async function reference(): Promise<Buffer> {
  const one = await InferenceSession.create(mnistModel());
  const out = (await one.run({ input })).probabilities!.data as Float32Array;
  await one.release();
  return bits(out);
}

describe('a pool thread dying', () => {
  afterEach(() => expect(poolStats().sessions).toBe(0));

  it('mid-split by an uncaught error: the run rejects, the session goes on with one thread, a new session gets a fresh pool', async () => {
    const want = await reference();
    const s = await InferenceSession.create(mnistModel(), { threads: 2 });
    expect(bits((await s.run({ input })).probabilities!.data as Float32Array).equals(want)).toBe(true);
    currentPool()!.failNextItem('throw');
    const err = await s.run({ input }).catch((e) => e);
    expect(err).toBeInstanceOf(TesseraError);
    expect(err.code).toBe('WASM_UNAVAILABLE');
    expect(err.message).toMatch(/worker thread 1 died while running \w+_f32; the thread pool is closed/);
    expect(currentPool()).toBeUndefined();
    expect(poolStats().threads).toBe(0);
    // The same session runs on the caller alone, with the same bits.
    expect(bits((await s.run({ input })).probabilities!.data as Float32Array).equals(want)).toBe(true);
    const fresh = await InferenceSession.create(mnistModel(), { threads: 2 });
    expect(fresh.threads).toBe(2);
    expect(poolStats()).toMatchObject({ threads: 1, sessions: 1 });
    const before = poolStats().itemsHanded;
    expect(bits((await fresh.run({ input })).probabilities!.data as Float32Array).equals(want)).toBe(true);
    expect(poolStats().itemsHanded).toBeGreaterThan(before);
    await s.release();
    await fresh.release();
    expect(poolStats().threads).toBe(0);
  });

  it('mid-split without a word (killed, out of memory): the bounded wait rejects the run', async () => {
    const want = await reference();
    const s = await InferenceSession.create(mnistModel(), { threads: 3 });
    const pool = currentPool()!;
    pool.waitFloorMs = 200; // the bound, shortened for the test (a real one is seconds)
    pool.failNextItem('vanish');
    const err = await s.run({ input }).catch((e) => e);
    expect(err).toBeInstanceOf(TesseraError);
    expect(err.code).toBe('WASM_UNAVAILABLE');
    expect(err.message).toMatch(/a worker thread did not finish its part of \w+_f32 in \d+ ms: it was lost without a word/);
    expect(pool.broken).toBeDefined();
    expect(poolStats().threads).toBe(0);
    expect(bits((await s.run({ input })).probabilities!.data as Float32Array).equals(want)).toBe(true);
    await s.release();
  });

  it('between runs (terminated): the host event closes the pool before the next run needs it', async () => {
    const real = threadHost()!;
    const spawned: PoolWorker[] = [];
    setThreadHost({ ...real, spawn() { const w = real.spawn(); spawned.push(w); return w; } });
    try {
      const want = await reference();
      const s = await InferenceSession.create(mnistModel(), { threads: 3 });
      const pool = currentPool()!;
      expect(spawned.length).toBe(2);
      spawned[1]!.terminate();
      for (let i = 0; i < 200 && !pool.broken; i++) await new Promise((r) => setTimeout(r, 10));
      expect(pool.broken).toMatch(/worker thread 2 died: it exited/);
      expect(poolStats().threads).toBe(0);
      expect(bits((await s.run({ input })).probabilities!.data as Float32Array).equals(want)).toBe(true);
      const fresh = await InferenceSession.create(mnistModel(), { threads: 2 });
      expect(fresh.threads).toBe(2);
      expect(bits((await fresh.run({ input })).probabilities!.data as Float32Array).equals(want)).toBe(true);
      await fresh.release();
      await s.release();
    } finally {
      setThreadHost(real);
    }
  });
});
