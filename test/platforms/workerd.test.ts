/**
 * Cloudflare's runtime (workerd, through miniflare 3): the Workers build with its kernels imported
 * as `.wasm` modules and the model as a Data module; digits are POSTed, predictions come back.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root } from './helpers.js';

let mf: import('miniflare').Miniflare;

beforeAll(async () => {
  let Miniflare: typeof import('miniflare').Miniflare;
  try {
    ({ Miniflare } = await import('miniflare'));
  } catch (e) {
    throw new Error(`miniflare is not installed (npm ci): the workerd tests never skip. ${(e as Error).message}`);
  }
  mf = new Miniflare({
    modules: true,
    modulesRoot: root,
    scriptPath: join(root, 'test/platforms/fixtures/worker.mjs'),
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
      { type: 'Data', include: ['**/*.onnx'] },
    ],
    compatibilityDate: '2024-09-23',
  });
  await mf.ready;
});
afterAll(async () => { await mf?.dispose(); });

describe('workerd', () => {
  it('classifies POSTed digits with the Workers build', async () => {
    const n = 16;
    const images = readFileSync(join(root, 'models/mnist/heldout-images.u8')).subarray(0, n * 784);
    const labels = Array.from(readFileSync(join(root, 'models/mnist/heldout-labels.u8')).subarray(0, n));
    const res = await mf.dispatchFetch('http://localhost/', { method: 'POST', body: images });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const { digits } = JSON.parse(text) as { digits: number[] };
    expect(digits.filter((d, i) => d === labels[i]).length).toBeGreaterThanOrEqual(15);
  });
});
