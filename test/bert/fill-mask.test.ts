/**
 * pipeline('fill-mask'): transformers.js' result shape, scores = softmax over the vocabulary at the
 * mask (checked against the full logits and against PyTorch's top-5 in models/bert/reference.json),
 * several masks, batches with padding, errors; and loading a Hugging Face repository layout from a
 * local HTTP server.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BertTokenizer, FillMaskPipeline, InferenceSession, TesseraError, pipeline } from '../../src/index.js';
import { directoryCache } from '../../src/platform/node-cache.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { bertFile, bertModels, fortunesVocab } from './helpers.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const m = bertModels.fortunes;
const reference = JSON.parse(readFileSync(fileURLToPath(new URL('../../models/bert/reference.json', import.meta.url)), 'utf8')) as {
  examples: { text: string; input_ids: number[]; top5: { token: number; token_str: string; score: number }[] }[];
};

describe("pipeline('fill-mask') on models/bert", () => {
  let unmasker: FillMaskPipeline;
  let full: InferenceSession;
  const tokenizer = BertTokenizer.fromVocab(fortunesVocab());
  beforeAll(async () => {
    unmasker = await pipeline('fill-mask', { model: bertFile(m.path), vocab: fortunesVocab(), maxLength: m.maxPosition });
    full = await InferenceSession.create(bertFile(m.path));
  });
  afterAll(async () => { await unmasker.release(); await full.release(); });

  it.each(reference.examples.map((e) => [e.text, e] as const))("%s: PyTorch's top 5, same ids", async (text, ex) => {
    expect(tokenizer.encode(text)).toEqual(ex.input_ids);
    const got = await unmasker.unmask(text) as { token: number; token_str: string; score: number; sequence: string }[];
    expect(got.map((r) => r.token)).toEqual(ex.top5.map((r) => r.token));
    expect(got.map((r) => r.token_str)).toEqual(ex.top5.map((r) => r.token_str));
    got.forEach((r, i) => expect(Math.abs(r.score - ex.top5[i]!.score)).toBeLessThan(1e-4));
    for (let i = 1; i < got.length; i++) expect(got[i]!.score).toBeLessThanOrEqual(got[i - 1]!.score);
    expect(got[0]!.sequence).toBe(tokenizer.decode(ex.input_ids.map((id) => (id === tokenizer.maskTokenId ? got[0]!.token : id))));
  });

  it('scores are the softmax of the full graph at the mask, top_k of them', async () => {
    const text = 'The [MASK] is mightier than the sword.';
    const got = await unmasker.unmask(text, { top_k: 12 }) as { token: number; score: number }[];
    expect(got).toHaveLength(12);
    const enc = tokenizer.encodeBatch([text]);
    const logits = (await full.run({ ...enc })).logits!;
    const pos = tokenizer.encode(text).indexOf(tokenizer.maskTokenId);
    const row = Array.from((logits.data as Float32Array).subarray(pos * m.vocab, (pos + 1) * m.vocab));
    const max = Math.max(...row);
    const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
    const order = row.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 12);
    expect(got.map((r) => r.token)).toEqual(order.map(([, i]) => i));
    got.forEach((r, i) => expect(r.score).toBeCloseTo(Math.exp(order[i]![0] - max) / sum, 6));
  });

  it('several masks: one list per mask, each sequence filling its own mask', async () => {
    const got = await unmasker.unmask('The [MASK] of the [MASK] is near.', { top_k: 3 }) as { token_str: string; sequence: string }[][];
    expect(got).toHaveLength(2);
    for (const list of got) expect(list).toHaveLength(3);
    expect(got[0]![0]!.sequence).toContain(`the ${got[0]![0]!.token_str.replace(/^##/, '')}`);
  });

  it('a batch of texts of different lengths (padded) gives what each text gives alone', async () => {
    const texts = ['Hello, my dog is [MASK].', 'A [MASK] in the hand is worth two in the bush, said the wise old man.', '[MASK] [MASK]!'];
    const batch = await unmasker.unmask(texts);
    expect(batch).toHaveLength(3);
    for (let i = 0; i < texts.length; i++) {
      const alone = await unmasker.unmask(texts[i]!);
      const strip = (x: unknown) => JSON.parse(JSON.stringify(x), (k, v) => (k === 'score' ? Math.round(v * 1e5) : v));
      expect(strip(batch[i])).toEqual(strip(alone));
    }
  });

  it('selectRows: false gives the same answers from the full graph', async () => {
    const plain = await pipeline('fill-mask', { model: bertFile(m.path), vocab: fortunesVocab(), selectRows: false });
    expect(plain.session.inputNames).not.toContain('row_indices');
    const text = 'You will be [MASK] for a long time.';
    const a = await plain.unmask(text) as { token: number; score: number }[];
    const b = await unmasker.unmask(text) as { token: number; score: number }[];
    expect(a.map((r) => r.token)).toEqual(b.map((r) => r.token));
    a.forEach((r, i) => expect(r.score).toBeCloseTo(b[i]!.score, 6));
    await plain.release();
  });

  it('refuses text without [MASK], bad top_k, unknown tasks and missing tokenizers', async () => {
    await expect(unmasker.unmask('no mask here')).rejects.toThrow(/no \[MASK\] token in "no mask here"/);
    await expect(unmasker.unmask('a [MASK]', { top_k: 0 })).rejects.toThrow(/top_k must be a positive integer/);
    await expect(pipeline('sentiment' as 'fill-mask', { model: bertFile(m.path), vocab: '' })).rejects.toThrow(/unknown task 'sentiment'/);
    await expect(pipeline('fill-mask', { model: bertFile(m.path) })).rejects.toBeInstanceOf(TesseraError);
    await expect(pipeline('fill-mask', 'not a repo!')).rejects.toThrow(/not a repository name/);
  });

  it('maxLength truncates; past the position table without it, a TesseraError, not a crash', async () => {
    const long = `${'the cat sat on the mat and '.repeat(10)}[MASK].`;
    await expect(unmasker.unmask(long)).rejects.toThrow(/no \[MASK\] token in .* \(within the first 48 tokens\)/);
    const early = `The [MASK] ${'sat on the mat and '.repeat(10)}`;
    expect(await unmasker.unmask(early)).toHaveLength(5);
    const unbounded = await pipeline('fill-mask', { model: bertFile(m.path), vocab: fortunesVocab() });
    await expect(unbounded.unmask(early)).rejects.toBeInstanceOf(TesseraError);
    await unbounded.release();
  });

  it('selectRows: true refuses a model without a per-token head; auto runs it as exported', async () => {
    const mnist = readFileSync(fileURLToPath(new URL('../../models/mnist/mnist-cnn.onnx', import.meta.url)));
    await expect(pipeline('fill-mask', { model: new Uint8Array(mnist), vocab: fortunesVocab(), selectRows: true })).rejects.toThrow(/selectRows: no graph output named 'logits'/);
    await expect(pipeline('fill-mask', { model: new Uint8Array(mnist), vocab: fortunesVocab() })).rejects.toThrow(/the model has no 'input_ids' input/);

    // logits = a lookup table row per token: no MatMul head, so 'auto' keeps the graph whole.
    const vocabSize = m.vocab;
    const table = Array.from({ length: vocabSize * vocabSize }, (_, i) => (i % (vocabSize + 1) === 0 ? 5 : 0));
    const lookup = model({
      nodes: [node('Gather', ['table', 'input_ids'], ['logits'], { axis: 0 })],
      inputs: [valueInfo('input_ids', DT.INT64, ['b', 's']), valueInfo('attention_mask', DT.INT64, ['b', 's'])],
      outputs: [valueInfo('logits', DT.FLOAT, ['b', 's', vocabSize])],
      initializers: [floatTensor('table', [vocabSize, vocabSize], table)],
    });
    await expect(pipeline('fill-mask', { model: lookup, vocab: fortunesVocab(), selectRows: true })).rejects.toThrow(/selectRows: output 'logits' comes from Gather node/);
    const p = await pipeline('fill-mask', { model: lookup, vocab: fortunesVocab() });
    expect(p.session.inputNames).toEqual(['input_ids', 'attention_mask']);
    const got = await p.unmask('the [MASK]', { top_k: 1 }) as { token: number; score: number }[];
    // Each token predicts itself: at the mask, [MASK].
    expect(got[0]!.token).toBe(tokenizer.maskTokenId);
    expect(got[0]!.score).toBeCloseTo(Math.exp(5) / (Math.exp(5) + vocabSize - 1), 6);
    await p.release();
  });
});

describe("pipeline('fill-mask', 'org/model', { host }): a Hugging Face repository layout", () => {
  let server: Server;
  let host = '';
  const modelBytes = bertFile(m.path);
  const vocab = fortunesVocab();
  const log: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      log.push(req.url ?? '');
      const files: Record<string, Uint8Array | string> = {
        '/toys/bert-fortunes/resolve/main/onnx/model.onnx': modelBytes,
        '/toys/bert-fortunes/resolve/main/vocab.txt': vocab,
        '/toys/bert-fortunes/resolve/v2/onnx/model.onnx': modelBytes,
        '/toys/bert-fortunes/resolve/v2/tokenizer.json': JSON.stringify(tokenizerJson(vocab)),
      };
      const body = files[req.url ?? ''];
      if (body === undefined) { res.writeHead(404).end(); return; }
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      res.writeHead(200, { 'content-length': bytes.length, etag: '"1"' });
      for (let o = 0; o < bytes.length; o += 65536) res.write(bytes.subarray(o, o + 65536));
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('downloads onnx/model.onnx with progress, falls back to vocab.txt, caches', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'tessera-hub-'));
    const cache = directoryCache(cacheDir);
    const progress: [number, number | undefined][] = [];
    log.length = 0;
    const p = await pipeline('fill-mask', 'toys/bert-fortunes', { host, cache, maxLength: m.maxPosition, onProgress: (l, t) => progress.push([l, t]) });
    // config.json (labels, dtype) is asked for first, as every pipeline reads it; a 404 is fine.
    expect(log).toEqual([
      '/toys/bert-fortunes/resolve/main/config.json',
      '/toys/bert-fortunes/resolve/main/tokenizer.json',
      '/toys/bert-fortunes/resolve/main/vocab.txt',
      '/toys/bert-fortunes/resolve/main/onnx/model.onnx',
    ]);
    expect(progress.at(-1)).toEqual([modelBytes.length, modelBytes.length]);
    // vocab.txt and the model, each stored with its ETag (a body file and a metadata file).
    expect(readdirSync(cacheDir)).toHaveLength(4);
    const got = await p.unmask(reference.examples[0]!.text) as { token: number }[];
    expect(got.map((r) => r.token)).toEqual(reference.examples[0]!.top5.map((r) => r.token));
    await p.release();
  });

  it('reads tokenizer.json at a revision', async () => {
    log.length = 0;
    const p = await pipeline('fill-mask', 'toys/bert-fortunes', { host, revision: 'v2', cache: false });
    expect(log).toEqual([
      '/toys/bert-fortunes/resolve/v2/config.json', '/toys/bert-fortunes/resolve/v2/tokenizer.json',
      '/toys/bert-fortunes/resolve/v2/tokenizer_config.json', '/toys/bert-fortunes/resolve/v2/onnx/model.onnx',
    ]);
    const got = await p.unmask(reference.examples[1]!.text) as { token: number }[];
    expect(got.map((r) => r.token)).toEqual(reference.examples[1]!.top5.map((r) => r.token));
    await p.release();
  });

  it('names both tokenizer URLs when neither exists', async () => {
    await expect(pipeline('fill-mask', 'toys/missing', { host, cache: false }))
      .rejects.toThrow(/no tokenizer at .*\/toys\/missing\/resolve\/main\/tokenizer\.json .*HTTP 404.* nor .*vocab\.txt/);
  });
});

/** A minimal Hugging Face tokenizer.json for an uncased BERT WordPiece vocabulary. */
function tokenizerJson(vocabText: string): object {
  const tokens = vocabText.split('\n').filter((t) => t.length > 0);
  const vocab = Object.fromEntries(tokens.map((t, i) => [t, i]));
  const special = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((content) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [vocab[t]], tokens: [t] }])),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}


