/**
 * Headless Chromium (Debian's, driven by playwright-core): the browser build loaded from a
 * localhost page classifies digits, the web example predicts what is drawn on its canvas, and an
 * app importing `tessera` built with Vite runs. Never skipped: without Chromium the tests fail.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, digits, requireChromium, root, serve } from './helpers.js';
import { floatToHalf, halfToFloat } from '../../src/onnx/float-formats.js';

let browser: Browser;
let site: Awaited<ReturnType<typeof serve>>;
const { images, labels } = digits(16);

beforeAll(async () => {
  requireChromium();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  site = await serve(root);
});
afterAll(async () => {
  await browser?.close();
  site?.server.close();
});

async function open(url: string): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  try {
    await page.waitForFunction(() => (window as any).ready || document.body?.dataset.ready, undefined, { timeout: 30_000 });
  } catch (e) {
    throw new Error(`${url} never became ready: ${errors.join('; ') || (e as Error).message}`);
  }
  return page;
}

const correct = (predicted: number[]) => predicted.filter((p, i) => p === labels[i]).length;

describe('headless Chromium', () => {
  it('dist/browser classifies digits with the relaxed-SIMD kernels, fetched next to the bundle', async () => {
    const page = await open(`${site.url}/test/platforms/fixtures/browser.html`);
    const predicted = await page.evaluate((imgs) => (window as any).classify(imgs), images);
    expect(correct(predicted)).toBeGreaterThanOrEqual(15);
    expect(site.requests).toContain('/dist/kernels-relaxed.wasm');
    await page.close();
  });

  it('and with the SIMD128 baseline when relaxed SIMD is turned off', async () => {
    const page = await open(`${site.url}/test/platforms/fixtures/browser.html`);
    const predicted = await page.evaluate((imgs) => (window as any).classify(imgs, { relaxedSimd: false }), images);
    expect(correct(predicted)).toBeGreaterThanOrEqual(15);
    expect(site.requests).toContain('/dist/kernels.wasm');
    await page.close();
  });

  it('dist/browser loads external data (externalData by URL) and float16 models', async () => {
    const page = await open(`${site.url}/test/platforms/fixtures/browser.html`);
    const n = 4, pixels = images.slice(0, n).flat().map((v) => v / 255), dims = [n, 1, 28, 28];
    const ext = await page.evaluate(({ pixels, dims }) => (window as any).runModel('/models/mnist/mnist-cnn-external.onnx', {
      externalData: [{ path: 'mnist-cnn-external.onnx_data', data: '/models/mnist/mnist-cnn-external.onnx_data' }],
    }, 'float32', pixels, dims), { pixels, dims });
    const half = await page.evaluate(({ bits, dims }) => (window as any).runModel('/models/mnist/mnist-cnn-fp16.onnx', {}, 'float16', bits, dims),
      { bits: pixels.map(floatToHalf), dims });
    expect(ext.type).toBe('float32');
    expect(half.type).toBe('float16');
    const argmax = (p: number[]) => Array.from({ length: n }, (_, i) => { let b = 0; for (let c = 1; c < 10; c++) if (p[i * 10 + c]! > p[i * 10 + b]!) b = c; return b; });
    expect(argmax(ext.data)).toEqual(labels.slice(0, n));
    expect(argmax(half.data.map(halfToFloat))).toEqual(argmax(ext.data));
    await page.close();
  });

  it('streams a download into the Cache API as it loads, then loads the cached copy offline, bit-identical', async () => {
    const page = await open(`${site.url}/test/platforms/fixtures/browser.html`);
    const n = 2, pixels = images.slice(0, n).flat().map((v) => v / 255), dims = [n, 1, 28, 28];
    const model = '/models/mnist/mnist-cnn.onnx';
    const run = (options: object) => page.evaluate(({ model, options, pixels, dims }) => (window as any).runModel(model, options, 'float32', pixels, dims), { model, options, pixels, dims });
    const plain = await run({});
    // cache: undefined → the default cache (the Cache API): the body is stored as it streams past.
    const first = await run({ cache: undefined });
    const stored = await page.evaluate(async (m) => {
      const r = await (await caches.open('tessera-models')).match(m);
      return r ? (await r.arrayBuffer()).byteLength : -1;
    }, model);
    expect(stored).toBe(readFileSync(join(root, model)).length);
    // The network gone: the cached copy is read through its body stream.
    await page.route(`**${model}`, (r) => r.abort());
    const offline = await run({ cache: undefined });
    expect(first.data).toEqual(plain.data);
    expect(offline.data).toEqual(plain.data);
    await page.close();
  });

  it('threads: 2 in a page that is not cross-origin isolated runs on one thread and warns', async () => {
    const page = await open(`${site.url}/test/platforms/fixtures/browser.html`);
    const r = await page.evaluate((imgs) => (window as any).classifyThreads(imgs, 2), images);
    expect(r.isolated).toBe(false);
    expect(r.threads).toBe(1);
    expect(r.warnings.join('\n')).toMatch(/threads: 2 requested, running on one thread: .*(cross-origin isolated|SharedArrayBuffer)/);
    expect(correct(r.predicted)).toBeGreaterThanOrEqual(15);
    await page.close();
  });

  it('threads: 2 in a cross-origin isolated page uses Web Workers, bit-identical to one thread', async () => {
    const isolated = await serve(root, { isolated: true });
    try {
      const page = await open(`${isolated.url}/test/platforms/fixtures/browser.html`);
      const two = await page.evaluate((imgs) => (window as any).classifyThreads(imgs, 2), images);
      const one = await page.evaluate((imgs) => (window as any).classifyThreads(imgs, 1), images);
      expect(two.isolated).toBe(true);
      expect(two.warnings).toEqual([]);
      expect(two.threads).toBe(2);
      expect(isolated.requests).toContain('/dist/kernels-relaxed-threads.wasm');
      expect(correct(two.predicted)).toBeGreaterThanOrEqual(15);
      expect(two.probabilities).toEqual(one.probabilities);
      await page.close();
    } finally {
      isolated.server.close();
    }
  });

  it('dist/browser runs in a module Web Worker', async () => {
    const page = await open(`${site.url}/test/platforms/fixtures/browser.html`);
    const predicted = await page.evaluate((imgs) => new Promise((done) => {
      const w = new Worker('/test/platforms/fixtures/web-worker.js', { type: 'module' });
      w.onmessage = (e) => { done(e.data); w.terminate(); };
      w.onerror = (e) => done(String(e.message));
      w.postMessage(imgs);
    }), images);
    expect(Array.isArray(predicted), String(predicted)).toBe(true);
    expect(correct(predicted as number[])).toBeGreaterThanOrEqual(15);
    await page.close();
  });

  it('examples/web predicts the digit drawn on its canvas and draws the bars', async () => {
    const page = await open(`${site.url}/examples/web/`);
    const drawn: number[] = [];
    for (let i = 0; i < 8; i++) drawn.push(await page.evaluate((px) => (window as any).tessera.drawDigit(px), images[i]!));
    expect(correct(drawn)).toBeGreaterThanOrEqual(7);
    const shot = await page.screenshot({ type: 'png' });
    expect(shot.length).toBeGreaterThan(2000);
    const guess = await page.textContent('#guess');
    expect(guess).toBe(String(drawn[7]));
    const widths = await page.$$eval('#bars .bar > div', (els) => els.map((e) => parseFloat((e as HTMLElement).style.width)));
    expect(widths).toHaveLength(10);
    expect(Math.max(...widths)).toBeGreaterThan(50);
    await page.close();
  });

  it('an app importing tessera, built by Vite with no configuration, classifies digits', async () => {
    const app = mkdtempSync(join(tmpdir(), 'tessera-vite-'));
    try {
      mkdirSync(join(app, 'node_modules'));
      symlinkSync(root, join(app, 'node_modules', 'tessera'), 'dir');
      writeFileSync(join(app, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
      cpSync(join(root, 'models/mnist/mnist-cnn.onnx'), join(app, 'public', 'mnist-cnn.onnx'), { recursive: true });
      writeFileSync(join(app, 'main.js'), `
        import { InferenceSession, Tensor } from 'tessera';
        window.classify = async (images) => {
          const session = await InferenceSession.create('/mnist-cnn.onnx', { cache: false });
          const n = images.length, x = new Float32Array(n * 784);
          images.forEach((img, i) => img.forEach((v, j) => { x[i * 784 + j] = v / 255; }));
          const p = (await session.run({ input: new Tensor('float32', x, [n, 1, 28, 28]) })).probabilities.data;
          return Array.from({ length: n }, (_, i) => { let b = 0; for (let c = 1; c < 10; c++) if (p[i * 10 + c] > p[i * 10 + b]) b = c; return b; });
        };
        window.ready = true;`);
      const { build } = await import('vite');
      await build({ root: app, logLevel: 'silent', configFile: false, build: { outDir: join(app, 'dist') } });
      const assets = readFileSync(join(app, 'dist', 'index.html'), 'utf8');
      expect(assets).toMatch(/assets\/index-.*\.js/);
      const built = await serve(join(app, 'dist'));
      try {
        const page = await open(`${built.url}/`);
        const predicted = await page.evaluate((imgs) => (window as any).classify(imgs), images);
        expect(correct(predicted)).toBeGreaterThanOrEqual(15);
        expect(built.requests.some((r) => /\/assets\/kernels(-relaxed)?-.*\.wasm$/.test(r))).toBe(true);
        await page.close();
      } finally {
        built.server.close();
      }
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('an app bundled by rollup, with the kernels hosted elsewhere through env.wasm, classifies digits', async () => {
    const app = mkdtempSync(join(tmpdir(), 'tessera-rollup-'));
    try {
      mkdirSync(join(app, 'node_modules'));
      symlinkSync(root, join(app, 'node_modules', 'tessera'), 'dir');
      mkdirSync(join(app, 'out', 'wasm'), { recursive: true });
      cpSync(join(root, 'dist/kernels.wasm'), join(app, 'out', 'wasm', 'k.wasm'));
      writeFileSync(join(app, 'out', 'index.html'), '<!doctype html><script type="module" src="./app.js"></script>');
      writeFileSync(join(app, 'main.js'), `
        import { InferenceSession, Tensor, env } from 'tessera';
        // Override: the baseline kernels from a URL of our choosing; relaxed SIMD off so it is used.
        env.relaxedSimd = false;
        env.wasm.simd = new URL('./wasm/k.wasm', import.meta.url);
        window.classify = async (images, model) => {
          const session = await InferenceSession.create(new Uint8Array(model));
          const n = images.length, x = new Float32Array(n * 784);
          images.forEach((img, i) => img.forEach((v, j) => { x[i * 784 + j] = v / 255; }));
          const p = (await session.run({ input: new Tensor('float32', x, [n, 1, 28, 28]) })).probabilities.data;
          return Array.from({ length: n }, (_, i) => { let b = 0; for (let c = 1; c < 10; c++) if (p[i * 10 + c] > p[i * 10 + b]) b = c; return b; });
        };
        window.ready = true;`);
      const { rollup } = await import('rollup');
      const { nodeResolve } = await import('@rollup/plugin-node-resolve');
      const commonjs = (await import('@rollup/plugin-commonjs')).default;
      const bundle = await rollup({ input: join(app, 'main.js'), plugins: [nodeResolve({ browser: true }), commonjs()], onwarn: () => {} });
      await bundle.write({ file: join(app, 'out', 'app.js'), format: 'es' });
      await bundle.close();
      const built = await serve(join(app, 'out'));
      try {
        const page = await open(`${built.url}/`);
        const model = Array.from(readFileSync(join(root, 'models/mnist/mnist-cnn.onnx')));
        const predicted = await page.evaluate(([imgs, m]) => (window as any).classify(imgs, m), [images, model] as const);
        expect(correct(predicted)).toBeGreaterThanOrEqual(15);
        expect(built.requests).toContain('/wasm/k.wasm');
        await page.close();
      } finally {
        built.server.close();
      }
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
});
