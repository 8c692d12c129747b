/**
 * tessera's pipelines against transformers.js v4 on the same model folders (models/hf/, made by
 * models/hf/make.py): labels, tokens and sequences identical, scores and vectors within 1e-4, for
 * single inputs and batches, fp32 (onnx/model.onnx) and q8 (onnx/model_quantized.onnx).
 * transformers.js reads the folders locally only and runs on its default Node device
 * (onnxruntime-node), which agrees with onnxruntime-web to ~4e-5.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, cosSim, pipeline } from '../../src/index.js';

const root = fileURLToPath(new URL('../../models/hf/', import.meta.url));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
let tjs: Any;

beforeAll(async () => {
  tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = root;
});

const TEXTS = [
  'I love this movie, it is wonderful!',
  'The soup was cold and the waiter was rude.',
  'Paris is the capital of France.',
  'ok',
  'Café au lait, naïve façade — 42 times in 2024?',
];

/** Same structure; strings and integers equal; other numbers within 1e-4 (tensors: dims and data). */
function expectClose(got: unknown, want: unknown, path = 'result'): void {
  if (want && typeof want === 'object' && 'dims' in (want as object) && 'data' in (want as object)) {
    const w = want as { dims: number[]; data: Float32Array };
    const g = got as Tensor;
    expect(g, path).toBeInstanceOf(Tensor);
    expect(g.dims, `${path}.dims`).toEqual(w.dims);
    const gd = g.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < w.data.length; i++) worst = Math.max(worst, Math.abs(gd[i]! - w.data[i]!));
    expect(worst, `${path}: largest difference`).toBeLessThan(1e-4);
    return;
  }
  if (Array.isArray(want)) {
    expect(Array.isArray(got), `${path} is an array`).toBe(true);
    expect((got as unknown[]).length, `${path}.length`).toBe(want.length);
    want.forEach((w, i) => expectClose((got as unknown[])[i], w, `${path}[${i}]`));
    return;
  }
  if (want && typeof want === 'object') {
    expect(Object.keys(got as object).sort(), `${path} keys`).toEqual(Object.keys(want).sort());
    for (const [k, w] of Object.entries(want)) expectClose((got as Record<string, unknown>)[k], w, `${path}.${k}`);
    return;
  }
  if (typeof want === 'number' && !Number.isInteger(want)) {
    expect(Math.abs((got as number) - want), `${path}: ${got} vs ${want}`).toBeLessThan(1e-4);
    return;
  }
  expect(got, path).toEqual(want);
}

describe.each(['fp32', 'q8'] as const)('same answers as transformers.js v4 (%s)', (dtype) => {
  const opened: { dispose(): Promise<void> }[] = [];
  afterAll(async () => { for (const p of opened) await p.dispose(); });
  async function both(task: string, folder: string) {
    const ours = await pipeline(task as 'feature-extraction', `${root}${folder}`, { dtype });
    const theirs = await tjs.pipeline(task, folder, { dtype });
    opened.push(ours, theirs);
    return [ours as Any, theirs];
  }

  it('feature-extraction: none, mean + normalize, cls; one text and a batch', async () => {
    const [ours, theirs] = await both('feature-extraction', 'minilm-embed');
    for (const options of [{}, { pooling: 'mean', normalize: true }, { pooling: 'cls' }, { pooling: 'mean' }]) {
      expectClose(await ours(TEXTS[0], options), await theirs(TEXTS[0], options), `one ${JSON.stringify(options)}`);
      expectClose(await ours(TEXTS, options), await theirs(TEXTS, options), `batch ${JSON.stringify(options)}`);
    }
    const e = await ours(TEXTS.slice(0, 2), { pooling: 'mean', normalize: true });
    const [a, b] = [e.data.subarray(0, 16), e.data.subarray(16, 32)];
    expect(cosSim(a, b)).toBeCloseTo(tjs.cos_sim(Array.from(a), Array.from(b)), 6);
  });

  it('text-classification: top_k 1, 2, null; one text and a batch; labels differ between texts', async () => {
    const [ours, theirs] = await both('text-classification', 'bert-sst');
    for (const options of [{}, { top_k: 2 }, { top_k: null }]) {
      expectClose(await ours(TEXTS[1], options), await theirs(TEXTS[1], options), `one ${JSON.stringify(options)}`);
      expectClose(await ours(TEXTS, options), await theirs(TEXTS, options), `batch ${JSON.stringify(options)}`);
    }
    const labels = new Set((await ours(TEXTS) as { label: string }[]).map((r) => r.label));
    expect(labels.size).toBeGreaterThan(1);
  });

  it('zero-shot-classification: softmax across labels, multi_label, a template, a batch', async () => {
    const [ours, theirs] = await both('zero-shot-classification', 'bert-nli');
    const labels = ['food', 'politics', 'sports', 'travel'];
    expectClose(await ours(TEXTS[0], labels), await theirs(TEXTS[0], labels), 'one');
    expectClose(await ours(TEXTS, labels), await theirs(TEXTS, labels), 'batch');
    const multi = { multi_label: true, hypothesis_template: 'This text is about {}.' };
    expectClose(await ours(TEXTS, labels, multi), await theirs(TEXTS, labels, multi), 'multi_label');
    expectClose(await ours(TEXTS[2], 'travel'), await theirs(TEXTS[2], 'travel'), 'one label');
  });

  it('fill-mask: top tokens, token_str and sequences; one text and a batch', async () => {
    const [ours, theirs] = await both('fill-mask', 'bert-mlm');
    const masked = ['The capital of France is [MASK].', 'I [MASK] this movie!', '[MASK]', 'Hello, my dog is [MASK] and cute.'];
    expectClose(await ours(masked[0]), await theirs(masked[0]), 'one');
    expectClose(await ours(masked, { top_k: 3 }), await theirs(masked, { top_k: 3 }), 'batch');
  });
});
