/**
 * The pipeline machinery on the committed BERT toy (models/bert): the callable object, folder
 * loading (config.json, tokenizer files, dtype → file), the parts form, and every refusal
 * releasing its session. Task outputs against transformers.js are in transformers-js.test.ts.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { BertTokenizer, InferenceSession, Tensor, TesseraError, cosSim, pipeline } from '../../src/index.js';
import { bertModels, fortunesVocab } from '../bert/helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const m = bertModels.fortunes;

/** A model folder in the Hugging Face layout, with vocab.txt in place of tokenizer.json. */
function folder(files: { config?: object; vocab?: boolean; model?: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pipe-'));
  mkdirSync(join(dir, 'onnx'));
  if (files.config) writeFileSync(join(dir, 'config.json'), JSON.stringify(files.config));
  if (files.vocab !== false) writeFileSync(join(dir, 'vocab.txt'), fortunesVocab());
  copyFileSync(files.model ?? m.path, join(dir, 'onnx/model.onnx'));
  return dir;
}

describe('pipeline(): the callable and its loading', () => {
  let dir: string;
  beforeAll(() => { dir = folder({ config: { id2label: { 0: 'a' } } }); });

  it('is a function carrying task, session/model, tokenizer, config and dispose', async () => {
    const p = await pipeline('feature-extraction', dir);
    expect(typeof p).toBe('function');
    expect(p.task).toBe('feature-extraction');
    expect(p.model).toBe(p.session);
    expect(p.config.id2label).toEqual({ 0: 'a' });
    const out = await p('the cat sat', { pooling: 'mean', normalize: true });
    expect(out).toBeInstanceOf(Tensor);
    expect(out.dims).toEqual([1, m.vocab]);
    expect(cosSim(out, out)).toBeCloseTo(1, 6);
    await p.dispose();
    await expect(p('the cat sat')).rejects.toMatchObject({ code: 'RELEASED' });
  });

  it('runs a list as one padded batch, each row as the text alone (mean pooling skips padding)', async () => {
    const p = await pipeline('feature-extraction', dir);
    const texts = ['a', 'the cat sat on the mat', 'hello world'];
    const run = vi.spyOn(p.session, 'run');
    const batch = await p(texts, { pooling: 'mean' });
    expect(run).toHaveBeenCalledTimes(1);
    expect(batch.dims).toEqual([3, m.vocab]);
    for (let i = 0; i < texts.length; i++) {
      const alone = await p(texts[i]!, { pooling: 'mean' });
      const row = (batch.data as Float32Array).subarray(i * m.vocab, (i + 1) * m.vocab);
      (alone.data as Float32Array).forEach((v, j) => expect(Math.abs(v - row[j]!)).toBeLessThan(1e-4));
    }
    const none = await p(texts);
    expect(none.dims).toEqual([3, BertTokenizer.fromVocab(fortunesVocab()).encode(texts[1]!).length, m.vocab]);
    await p.dispose();
  });

  it('takes { model, tokenizer, config } and an existing session (left alive on refusal)', async () => {
    const tokenizer = BertTokenizer.fromVocab(fortunesVocab());
    const p = await pipeline('text-classification', { model: m.path, tokenizer, config: {} }).catch((e: unknown) => e);
    // bert-fortunes' logits are [batch, seq, vocab]: the output name fits, the shape does not.
    expect(p).not.toBeInstanceOf(Error);
    await expect((p as (t: string) => Promise<unknown>)('hi')).rejects.toThrow(/not float32 \[batch, labels\]/);
    const session = await InferenceSession.create(join(root, 'models/mnist/mnist-cnn.onnx'));
    await expect(pipeline('feature-extraction', { model: session, tokenizer })).rejects.toThrow(/no 'input_ids' input/);
    expect(session.inputNames.length).toBeGreaterThan(0); // still usable
    await session.release();
  });

  it('dtype picks the file as transformers.js names it; a missing one is named', async () => {
    await expect(pipeline('feature-extraction', dir, { dtype: 'q8' })).rejects.toThrow(/no onnx\/model_quantized\.onnx .*dtype 'q8'/);
    await expect(pipeline('feature-extraction', dir, { dtype: 'q4' })).rejects.toThrow(/onnx\/model_q4\.onnx/);
    await expect(pipeline('feature-extraction', dir, { dtype: 'int3' as 'q8' })).rejects.toThrow(/unknown dtype 'int3'/);
    const auto = folder({ config: { 'transformers.js_config': { dtype: 'fp16' } } });
    await expect(pipeline('feature-extraction', auto)).rejects.toThrow(/onnx\/model_fp16\.onnx/);
  });

  it('refuses unknown tasks, folders without a tokenizer, empty batches; releases on refusal', async () => {
    await expect(pipeline('summarization' as 'fill-mask', dir)).rejects.toThrow(/unknown task 'summarization'; supported: .*feature-extraction/);
    await expect(pipeline('feature-extraction', folder({ vocab: false }))).rejects.toThrow(/has no tokenizer: no tokenizer at .*tokenizer\.json/);
    const release = vi.spyOn(InferenceSession.prototype, 'release');
    const mnist = folder({ model: join(root, 'models/mnist/mnist-cnn.onnx') });
    await expect(pipeline('zero-shot-classification', mnist)).rejects.toMatchObject({ code: 'INVALID_MODEL', message: expect.stringMatching(/no 'input_ids' input/) });
    expect(release).toHaveBeenCalledTimes(1);
    release.mockRestore();
    const p = await pipeline('feature-extraction', dir);
    await expect(p([])).rejects.toThrow(/the batch is empty/);
    await expect(p([1 as unknown as string])).rejects.toThrow(/texts\[0\] is number/);
    await expect(p('x', { pooling: 'max' as 'mean' })).rejects.toBeInstanceOf(TesseraError);
    await p.dispose();
  });

  it("fill-mask from a folder is callable, with unmask as an alias", async () => {
    const p = await pipeline('fill-mask', dir);
    const a = await p('the [MASK] sat on the mat.', { top_k: 3 });
    const b = await p.unmask('the [MASK] sat on the mat.', { top_k: 3 });
    expect(a).toEqual(b);
    expect(a).toHaveLength(3);
    await p.release();
  });
});

describe('pipeline(task, "org/name", { host, revision, dtype }): a hub repository over HTTP', () => {
  it('reads config, tokenizer and the dtype\'s file from resolve/<revision>/, with progress', async () => {
    const log: string[] = [];
    const server = createServer((req, res) => {
      log.push(req.url ?? '');
      const m = /^\/org\/sst\/resolve\/v1\/(.+)$/.exec(req.url ?? '');
      const file = m && join(root, 'models/hf/bert-sst', m[1]!);
      if (!file || !existsSync(file)) { res.writeHead(404).end(); return; }
      const bytes = readFileSync(file);
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const files = new Set<string>();
      const p = await pipeline('text-classification', 'org/sst', {
        host, revision: 'v1', dtype: 'q8', cache: false, progress_callback: (i) => files.add(`${i.file} ${i.status}`),
      });
      expect(log).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_quantized.onnx'].map((f) => `/org/sst/resolve/v1/${f}`));
      expect([...files]).toContain('onnx/model_quantized.onnx progress');
      const local = await pipeline('text-classification', join(root, 'models/hf/bert-sst'), { dtype: 'q8' });
      expect(await p(['I love it', 'meh'], { top_k: null })).toEqual(await local(['I love it', 'meh'], { top_k: null }));
      expect(p.config.problem_type).toBe('single_label_classification');
      await p.dispose();
      await local.dispose();
    } finally {
      server.close();
    }
  });
});
