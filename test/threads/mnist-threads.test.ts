/**
 * Threads change nothing but speed: MNIST probabilities at 1, 2 and 3 threads are bit-identical
 * (at a batch large enough that its GEMMs are split across the pool), and the held-out accuracy
 * on three threads is PyTorch's.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { poolStats } from '../../src/runtime/threads/index.js';
import { batchOf, heldout, mnistModel, mnistReference } from '../helpers/mnist.js';

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('MNIST at 1, 2 and 3 threads', () => {
  const data = heldout();
  const sessions = new Map<number, InferenceSession>();
  afterAll(async () => { for (const s of sessions.values()) await s.release(); });

  it('gives bit-identical probabilities at batch 1, 7 and 64', async () => {
    for (const threads of [1, 2, 3]) {
      const s = await InferenceSession.create(mnistModel(), { threads });
      expect(s.threads).toBe(threads);
      sessions.set(threads, s);
    }
    expect(poolStats().threads).toBe(2);
    for (const n of [1, 7, 64]) {
      const input = new Tensor('float32', batchOf(data.images, 3, n), [n, 1, 28, 28]);
      const before = poolStats().itemsHanded;
      const outs: Float32Array[] = [];
      for (const threads of [1, 2, 3]) outs.push((await sessions.get(threads)!.run({ input })).probabilities!.data as Float32Array);
      if (n === 64) expect(poolStats().itemsHanded).toBeGreaterThan(before); // the split really happened
      expect(bits(outs[1]!).equals(bits(outs[0]!))).toBe(true);
      expect(bits(outs[2]!).equals(bits(outs[0]!))).toBe(true);
    }
  });

  it("classifies the held-out digits with PyTorch's accuracy on three threads", async () => {
    const s = sessions.get(3)!;
    let correct = 0;
    for (let start = 0; start < data.count; start += 250) {
      const n = Math.min(250, data.count - start);
      const p = (await s.run({ input: new Tensor('float32', batchOf(data.images, start, n), [n, 1, 28, 28]) })).probabilities!.data as Float32Array;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (p[i * 10 + c]! > p[i * 10 + best]!) best = c;
        if (best === data.labels[start + i]) correct++;
      }
    }
    expect(correct).toBe(mnistReference().heldout_correct);
  });
});
