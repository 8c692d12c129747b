/**
 * Models "from other toolchains" (models/zoo): paddle2onnx-style OCR detector, recogniser and angle
 * classifier, and tf2onnx-style Keras nets, at opsets 9-13, each run through tessera and
 * onnxruntime-web on the same seeded inputs, at several sizes where the axes are dynamic.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { ortRun, ortSession } from '../helpers/ort.js';

const zoo = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../models/zoo/${name}.onnx`, import.meta.url)));

/** Uniform [0, 1) from a 32-bit LCG: the same input every run, no Math.random. */
function image(dims: number[], seed: number): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; data[i] = s / 2 ** 32; }
  return new Tensor('float32', data, dims);
}

interface Case { model: string; input: string; sizes: number[][] }
const cases: Case[] = [
  // The detector's FPN adds a /8 map upsampled ×2 to the /4 map: sides must be multiples of 8.
  { model: 'det-op9', input: 'x', sizes: [[1, 3, 64, 96], [1, 3, 40, 56], [2, 3, 96, 64], [1, 3, 8, 8]] },
  { model: 'det-op10', input: 'x', sizes: [[1, 3, 64, 96], [1, 3, 40, 56], [2, 3, 96, 64]] },
  { model: 'det-op11', input: 'x', sizes: [[1, 3, 64, 96], [1, 3, 40, 56], [2, 3, 96, 64], [1, 3, 160, 224]] },
  { model: 'rec-lstm-op11', input: 'x', sizes: [[1, 3, 32, 100], [1, 3, 32, 70], [2, 3, 32, 160], [1, 3, 32, 4]] },
  { model: 'rec-gru-op13', input: 'x', sizes: [[1, 3, 32, 100], [1, 3, 32, 70], [2, 3, 32, 160]] },
  { model: 'resize-op9', input: 'x', sizes: [[1, 3, 10, 12], [2, 3, 7, 5]] },
  { model: 'resize-op10', input: 'x', sizes: [[1, 3, 10, 12], [2, 3, 7, 5]] },
  { model: 'resize-op11', input: 'x', sizes: [[1, 3, 10, 12], [2, 3, 7, 5]] },
  { model: 'cls-op9', input: 'x', sizes: [[1, 3, 48, 192], [3, 3, 48, 192]] },
  { model: 'keras-like-op9', input: 'input_1', sizes: [[1, 20, 24, 3], [2, 9, 13, 3]] },
  { model: 'keras-like-op10', input: 'input_1', sizes: [[1, 20, 24, 3], [2, 9, 13, 3]] },
  { model: 'paddle-block-op11', input: 'x', sizes: [[1, 25, 16], [3, 7, 16], [2, 1, 16]] },
  { model: 'tf-resize-op11', input: 'images', sizes: [[1, 6, 8, 3], [2, 5, 3, 3], [1, 7, 9, 3]] },
];

/** Largest |a - b| / max(1, |b|) over every output: absolute near zero, relative for large values. */
function worstError(ours: Record<string, Tensor>, theirs: Record<string, { data: unknown; dims: readonly number[] }>): number {
  let worst = 0;
  for (const [name, t] of Object.entries(theirs)) {
    const o = ours[name];
    expect(o, name).toBeDefined();
    expect([...o!.dims], name).toEqual([...t.dims]);
    const a = o!.data as Float32Array, b = t.data as Float32Array;
    for (let i = 0; i < b.length; i++) {
      const e = Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!));
      if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
    }
  }
  return worst;
}

describe.each(cases)('$model', ({ model, input, sizes }) => {
  const bytes = zoo(model);
  const sessions: InferenceSession[] = [];
  afterAll(async () => { for (const s of sessions) await s.release(); });

  it('matches onnxruntime-web within 1e-3 at every size, optimized or not', async () => {
    const ort = await ortSession(bytes);
    const all = await InferenceSession.create(bytes);
    const none = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
    sessions.push(all, none);
    // Weights that old exporters also list as inputs are not for the user to feed.
    expect(all.inputNames).toEqual([...ort.inputNames]);
    expect(all.outputNames).toEqual([...ort.outputNames]);
    let first: Record<string, Tensor> | undefined;
    for (const [k, dims] of sizes.entries()) {
      const feeds = { [input]: image(dims, 7 + k) };
      const theirs = await ortRun(ort, feeds);
      const a = await all.run(feeds), b = await none.run(feeds);
      first ??= a;
      expect(worstError(a, theirs), `${dims} all`).toBeLessThanOrEqual(1e-3);
      expect(worstError(b, theirs), `${dims} disabled`).toBeLessThanOrEqual(1e-3);
      expect(worstError(a, b as never), `${dims} all vs disabled`).toBeLessThanOrEqual(1e-4);
    }
    // Back to the first shape after the others (its plan cached, the arena shared): the same bits.
    const again = await all.run({ [input]: image(sizes[0]!, 7) });
    for (const [name, t] of Object.entries(first!)) expect(again[name]!.data, name).toEqual(t.data);
    await ort.release();
  });

  it('runs no shape arithmetic once the input shape is known', async () => {
    const s = await InferenceSession.create(bytes);
    sessions.push(s);
    // Ops that only move shapes or rename values, and any step whose outputs are scalars or
    // vectors: in these models a 0-D/1-D tensor is always shape arithmetic (sizes, scales, indices).
    const shapeOps = new Set(['Shape', 'ConstantOfShape', 'Concat', 'Cast', 'Floor', 'Unsqueeze', 'Squeeze', 'Reshape', 'Flatten', 'Identity', 'Dropout']);
    for (const dims of sizes) {
      const feeds = { [input]: image(dims, 1) };
      await s.run(feeds);
      await s.run(feeds, { profile: true });
      const ran = s.lastProfile!.nodes.filter((n) => shapeOps.has(n.opType) || n.outputs.every((d) => d.length <= 1)).map((n) => `${n.opType} ${n.node}`);
      expect(ran, `${dims}`).toEqual([]);
    }
  });
});
