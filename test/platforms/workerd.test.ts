/**
 * Cloudflare's runtime (workerd, through miniflare 3): the Workers build with its kernels imported
 * as `.wasm` modules and the model as a Data module; digits are POSTed, predictions come back.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, startWorkerExample } from './helpers.js';
import type { FillMaskResult } from '../../src/index.js';

/** Peak RSS (VmHWM) of the workerd processes this test process started, from /proc (Linux), for the README. */
function workerdPeakRss(): string {
  try {
    const rows = execFileSync('ps', ['-eo', 'pid,ppid,comm'], { encoding: 'utf8' }).split('\n').map((l) => l.trim().split(/\s+/));
    const pids = rows.filter((r) => r[1] === String(process.pid) && /workerd/.test(r[2] ?? '')).map((r) => r[0]!);
    return pids.map((p) => `${(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024).toFixed(0)} MiB`).join(', ') || 'n/a';
  } catch {
    return 'n/a';
  }
}

let mf: import('miniflare').Miniflare;
let example: import('miniflare').Miniflare;
let bundled = '';
let cleanupExample = async (): Promise<void> => {};


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
      // Before the ESModule rule, whose '**/*.js' would also take '.json' (miniflare keeps one
      // rule per type).
      { type: 'Text', include: ['**/*.txt', '**/*.json'] },
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
      { type: 'Data', include: ['**/*.onnx'] },
    ],
    compatibilityDate: '2024-09-23',
  });
  await mf.ready;
  ({ worker: example, bundled, cleanup: cleanupExample } = await startWorkerExample('worker'));
});
afterAll(async () => {
  await mf?.dispose();
  await cleanupExample();
});

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

  it('fills a mask with the small BERT under a 48 MiB Wasm budget, as in Node', async () => {
    const text = 'Hello, my dog is [MASK].';
    const res = await mf.dispatchFetch('http://localhost/fill-mask', { method: 'POST', body: JSON.stringify({ text }) });
    const body = await res.text();
    expect(res.status, body).toBe(200);
    const got = JSON.parse(body) as { score: number; token: number; token_str: string }[];
    const { pipeline } = await import('../../src/index.js');
    const fm = await pipeline('fill-mask', { model: join(root, 'models/bert/bert-fortunes.onnx'), vocab: readFileSync(join(root, 'models/bert/vocab.txt'), 'utf8') });
    const want = (await fm.unmask(text, { top_k: 3 })) as FillMaskResult[];
    await fm.release();
    expect(got.map((r) => r.token)).toEqual(want.map((r) => r.token));
    got.forEach((r, i) => expect(r.score).toBeCloseTo(want[i]!.score, 5));
  });

  it('tokenizes, decodes and renders a chat template with the Workers build, as in Node', async () => {
    const text = 'Hello wörld 😀\tcode  <|im_start|>x';
    const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi!' }];
    const res = await mf.dispatchFetch('http://localhost/tokenize', { method: 'POST', body: JSON.stringify({ text, messages }) });
    const body = await res.text();
    expect(res.status, body).toBe(200);
    const { Tokenizer } = await import('../../src/index.js');
    const dir = join(root, 'models/tokenizers/qwen3-mini');
    const tok = Tokenizer.fromJSON(readFileSync(join(dir, 'tokenizer.json'), 'utf8'), readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    const enc = tok.encodeWithOffsets(text);
    const batch = tok.encodeBatch([text, 'short']);
    expect(JSON.parse(body)).toEqual({
      ids: enc.ids, offsets: enc.offsets, decoded: text,
      prompt: tok.applyChatTemplate(messages, { tokenize: false, addGenerationPrompt: true }),
      batch: { dims: batch.input_ids.dims, ids: Array.from(batch.input_ids.data, Number) },
    });
  });

  it('a model that cannot fit a Worker\'s 128 MB fails at create with OUT_OF_MEMORY, and the isolate keeps serving', async () => {
    const { DT, int64Tensor, model, node, valueInfo } = await import('../helpers/onnx-builder.js');
    // A tiny file whose folded constant needs 256 MB (ConstantOfShape of 64 M floats).
    const huge = model({
      nodes: [node('ConstantOfShape', ['shape'], ['big']), node('Add', ['x', 'big'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT, [1])], outputs: [valueInfo('y', DT.FLOAT, [64 * 2 ** 20])],
      initializers: [int64Tensor('shape', [1], [64 * 2 ** 20])],
    });
    const res = await mf.dispatchFetch(`http://localhost/create-limited?max=${128 * 2 ** 20}`, { method: 'POST', body: huge });
    const got = JSON.parse(await res.text()) as { ok: boolean; code: string; message: string };
    expect(got.ok).toBe(false);
    expect(got.code).toBe('OUT_OF_MEMORY');
    expect(got.message).toMatch(/256\.0 MiB .*over the limit of 128\.0 MiB/);
    // The isolate is alive and a model that fits still loads under the same limit.
    const ok = await mf.dispatchFetch(`http://localhost/create-limited?max=${128 * 2 ** 20}`, { method: 'POST', body: readFileSync(join(root, 'models/mnist/mnist-cnn.onnx')) });
    expect((JSON.parse(await ok.text()) as { ok: boolean }).ok).toBe(true);
  });

  it('threads: 2 falls back to one thread with a warning (workerd cannot start threads)', async () => {
    const res = await mf.dispatchFetch('http://localhost/?threads=2');
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const r = JSON.parse(text) as { threads: number; warnings: string[]; outputs: number };
    expect(r.threads).toBe(1);
    expect(r.outputs).toBe(10);
    expect(r.warnings.join('\n')).toMatch(/threads: 2 requested, running on one thread: .*(SharedArrayBuffer|cannot start worker threads)/);
  });

  it('examples/worker /embed: POSTed texts → the vectors the Node pipeline gives, in one padded batch', async () => {
    const texts = ['How do I reset my password?', 'Best pizza places open late downtown', 'ok'];
    const post = (body: unknown) => example.dispatchFetch('http://localhost/embed', { method: 'POST', body: JSON.stringify(body) });
    const res = await post({ texts });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const got = JSON.parse(text) as { dims: number[]; vectors: number[][] };
    expect(got.dims).toEqual([3, 64]);
    const { pipeline } = await import('../../src/index.js');
    const p = await pipeline('feature-extraction', join(root, 'models/hf/minilm-worker'), { dtype: 'q8' });
    const want = await p(texts, { pooling: 'mean', normalize: true });
    await p.dispose();
    got.vectors.flat().forEach((v, i) => expect(Math.abs(v - (want.data as Float32Array)[i]!)).toBeLessThan(1e-5));
    // Per-request time in workerd (warm isolate), printed for examples/worker/README.md.
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await (await post({ texts: texts.slice(0, 1) })).arrayBuffer();
      times.push(performance.now() - t);
    }
    console.log(`workerd /embed, 1 text, warm: median ${times.sort((a, b) => a - b)[2]!.toFixed(1)} ms per request`);
    // What the embeddings model costs the isolate (examples/worker/README.md): well under 128 MB.
    const mem = JSON.parse(await (await example.dispatchFetch('http://localhost/memory')).text()) as Record<string, number>;
    expect(mem.heapHighWaterBytes).toBeGreaterThan(mem.modelBytes! / 2);
    expect(mem.wasmMemoryBytes).toBeLessThan(32 * 2 ** 20);
    expect(mem.totalBytes).toBeLessThan(32 * 2 ** 20);
    const mb = (b: number) => (b / 2 ** 20).toFixed(2);
    console.log(`workerd /memory: Wasm memory ${mb(mem.wasmMemoryBytes!)} MiB (used ${mb(mem.heapHighWaterBytes!)} MiB), model ${mb(mem.modelBytes!)} MiB, tokenizer ${mb(mem.tokenizerBytes!)} MiB; workerd process peak RSS ${workerdPeakRss()}`);
    expect((await post({ texts: [] })).status).toBe(400);
    expect((await post({ text: 'x' })).status).toBe(400);
  });

  it('examples/worker, bundled as wrangler would, answers a POSTed digit with JSON', async () => {
    // The workerd condition picked the Workers build: kernels are module imports, not URLs.
    const code = readFileSync(bundled, 'utf8');
    expect(code).toMatch(/import [\w$]+ from "\.\/\.\.\/\.\.\/\.\.\/dist\/kernels\.wasm"/);
    expect(code).not.toContain('import.meta.url');
    const image = readFileSync(join(root, 'models/mnist/heldout-images.u8')).subarray(0, 784);
    const label = readFileSync(join(root, 'models/mnist/heldout-labels.u8'))[0];
    const res = await example.dispatchFetch('http://localhost/', { method: 'POST', body: image });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const [result] = JSON.parse(text) as { digit: number; probabilities: number[] }[];
    expect(result!.digit).toBe(label);
    expect(result!.probabilities).toHaveLength(10);
    const bad = await example.dispatchFetch('http://localhost/', { method: 'POST', body: new Uint8Array(5) });
    expect(bad.status).toBe(400);
  });
});
