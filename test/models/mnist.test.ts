/**
 * The first model a user tries, end to end through the public API: accuracy equal to PyTorch's on
 * the held-out digits, probabilities equal to onnxruntime-web's within 1e-4 at batch 1, 7 and 64.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { batchOf, heldout, mnistModel, mnistModelPath, mnistReference } from '../helpers/mnist.js';
import { ortRun, ortSession } from '../helpers/ort.js';

describe('MNIST CNN', () => {
  let session: InferenceSession;
  const data = heldout();
  const ref = mnistReference();

  beforeAll(async () => { session = await InferenceSession.create(mnistModel()); });
  afterAll(async () => { await session.release(); });

  it('exposes the graph inputs and outputs in order, without initializers', () => {
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['probabilities']);
  });

  it('loads from a path in Node', async () => {
    const s = await InferenceSession.create(mnistModelPath);
    expect(s.inputNames).toEqual(['input']);
    await s.release();
  });

  it.each([1, 7, 64])('matches onnxruntime-web within 1e-4 at batch %i', async (n) => {
    const ort = await ortSession(mnistModel());
    for (const start of [0, 100, data.count - n]) {
      const input = new Tensor('float32', batchOf(data.images, start, n), [n, 1, 28, 28]);
      const ours = (await session.run({ input })).probabilities!;
      const theirs = (await ortRun(ort, { input })).probabilities!;
      expect(ours.type).toBe('float32');
      expect(ours.dims).toEqual([n, 10]);
      expect(ours.size).toBe(n * 10);
      const a = ours.data as Float32Array, b = theirs.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      expect(worst).toBeLessThan(1e-4);
    }
    await ort.release();
  });

  it("classifies the held-out digits with PyTorch's accuracy", async () => {
    let correct = 0;
    const batch = 250;
    for (let start = 0; start < data.count; start += batch) {
      const n = Math.min(batch, data.count - start);
      const out = await session.run({ input: new Tensor('float32', batchOf(data.images, start, n), [n, 1, 28, 28]) });
      const p = out.probabilities!.data as Float32Array;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (p[i * 10 + c]! > p[i * 10 + best]!) best = c;
        if (best === data.labels[start + i]) correct++;
      }
    }
    expect(correct).toBe(ref.heldout_correct);
  });

  it("reproduces PyTorch's probabilities for the first digits", async () => {
    const first: number[][] = ref.first8.probabilities;
    const out = await session.run({ input: new Tensor('float32', batchOf(data.images, 0, first.length), [first.length, 1, 28, 28]) });
    const p = out.probabilities!.data as Float32Array;
    first.forEach((row, i) => row.forEach((v, c) => expect(Math.abs(p[i * 10 + c]! - v)).toBeLessThan(1e-4)));
  });
});
