/**
 * token-classification, question-answering and image-classification against transformers.js v4
 * (onnxruntime-node, local models only) on the committed folders models/hf/{ner,qa}-bert-tiny and
 * image-resnet-tiny: labels, words, entity groups and answers identical, scores within 1e-4;
 * single inputs and batches; fp32 and q8. Then the refusals.
 */
import { deflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawImage, env, pipeline as tjsPipeline } from '@huggingface/transformers';
import { TesseraError, pipeline } from '../../src/index.js';

const HF = fileURLToPath(new URL('../../models/hf/', import.meta.url));
env.allowRemoteModels = false;
env.localModelPath = HF;

type Json = unknown;
/** Equal structure; numbers under a `score` key within 1e-4, everything else identical. */
function expectSame(ours: Json, ref: Json, path = '$'): void {
  if (Array.isArray(ref)) {
    expect(Array.isArray(ours), `${path} is an array`).toBe(true);
    expect((ours as Json[]).length, `${path}.length`).toBe(ref.length);
    ref.forEach((r, i) => expectSame((ours as Json[])[i], r, `${path}[${i}]`));
  } else if (ref && typeof ref === 'object') {
    expect(Object.keys(ours as object).sort(), `${path} keys`).toEqual(Object.keys(ref).sort());
    for (const [k, v] of Object.entries(ref)) {
      const o = (ours as Record<string, Json>)[k];
      if (k === 'score') expect(Math.abs((o as number) - (v as number)), `${path}.score ${o} vs ${v}`).toBeLessThan(1e-4);
      else expectSame(o, v, `${path}.${k}`);
    }
  } else expect(ours, path).toEqual(ref);
}

const TEXTS = [
  'My name is Sarah Jessica Parker and I live in London',
  'Hugging Face Inc. is a company based in New York City. Its headquarters are in DUMBO, Brooklyn.',
  'Angela Merkel visited Paris and met Emmanuel Macron at the Élysée.',
];

describe.each(['fp32', 'q8'] as const)('token-classification (%s) = transformers.js', (dtype) => {
  let ours: Awaited<ReturnType<typeof pipeline<'token-classification'>>>;
  let ref: Awaited<ReturnType<typeof tjsPipeline<'token-classification'>>>;
  beforeAll(async () => {
    ours = await pipeline('token-classification', `${HF}ner-bert-tiny`, { dtype });
    ref = await tjsPipeline('token-classification', 'ner-bert-tiny', { dtype });
  });
  afterAll(async () => { await ours.dispose(); await ref.dispose(); });

  it('a single text, a batch, ignore_labels [] and "simple" aggregation', async () => {
    const one = await ours(TEXTS[0]!);
    expect((one as unknown[]).length).toBeGreaterThan(2);
    expectSame(one, await ref(TEXTS[0]!));
    expectSame(await ours(TEXTS), await ref(TEXTS));
    expectSame(await ours(TEXTS, { ignore_labels: [] }), await ref(TEXTS, { ignore_labels: [] }));
    const grouped = await ours(TEXTS, { aggregation_strategy: 'simple' });
    expectSame(grouped, await ref(TEXTS, { aggregation_strategy: 'simple' }));
    // The heads are scaled so that words are merged into multi-token entities.
    expect((grouped as Array<Array<{ word: string }>>).flat().some((g) => g.word.includes(' '))).toBe(true);
    expectSame(await ours(TEXTS[1]!, { aggregation_strategy: 'simple', ignore_labels: ['O', 'B-MISC', 'I-MISC'] }),
      await ref(TEXTS[1]!, { aggregation_strategy: 'simple', ignore_labels: ['O', 'B-MISC', 'I-MISC'] }));
  });
});

const QUESTIONS = ['Who was Jim Henson?', 'Where is the tower?', 'What does she eat for breakfast every day?'];
const CONTEXTS = [
  'Jim Henson was a nice puppet maker from Mississippi.',
  'The Eiffel tower is in Paris, the capital of France, and was built in 1889.',
  'Every morning she eats porridge with blueberries, then walks the dog.',
];

type Answer = { answer: string; score: number; start?: number; end?: number };
/** The answers without start/end (which transformers.js leaves out), after checking that they
 * point at the answer in the context (the model is uncased: the decoded answer is lowercase). */
function withoutOffsets(out: unknown, context: string | string[]): unknown {
  const check = (a: Answer, ctx: string): Omit<Answer, 'start' | 'end'> => {
    expect(typeof a.start, `start of '${a.answer}'`).toBe('number');
    expect(ctx.slice(a.start, a.end).toLowerCase()).toBe(a.answer.replace(/^##/, '')); // a span may start mid-word
    const { start: _s, end: _e, ...rest } = a;
    return rest;
  };
  if (!Array.isArray(out)) return check(out as Answer, context as string);
  return out.map((x, i) => (Array.isArray(x) ? x.map((a) => check(a, (context as string[])[i]!)) : check(x as Answer, Array.isArray(context) ? context[i]! : context)));
}

describe.each(['fp32', 'q8'] as const)('question-answering (%s) = transformers.js', (dtype) => {
  let ours: Awaited<ReturnType<typeof pipeline<'question-answering'>>>;
  let ref: Awaited<ReturnType<typeof tjsPipeline<'question-answering'>>>;
  beforeAll(async () => {
    ours = await pipeline('question-answering', `${HF}qa-bert-tiny`, { dtype });
    ref = await tjsPipeline('question-answering', 'qa-bert-tiny', { dtype });
  });
  afterAll(async () => { await ours.dispose(); await ref.dispose(); });

  it('single, batched (padded), top_k', async () => {
    expectSame(withoutOffsets(await ours(QUESTIONS[0]!, CONTEXTS[0]!), CONTEXTS[0]!), await ref(QUESTIONS[0]!, CONTEXTS[0]!));
    const batch = await ours(QUESTIONS, CONTEXTS);
    expectSame(withoutOffsets(batch, CONTEXTS), await ref(QUESTIONS, CONTEXTS));
    expect(new Set((batch as Array<{ answer: string }>).map((a) => a.answer)).size).toBe(3); // answers differ
    expectSame(withoutOffsets(await ours(QUESTIONS[1]!, CONTEXTS[1]!, { top_k: 4 }), CONTEXTS[1]!), await ref(QUESTIONS[1]!, CONTEXTS[1]!, { top_k: 4 }));
    expectSame(withoutOffsets(await ours(QUESTIONS, CONTEXTS, { top_k: 3 }), CONTEXTS), await ref(QUESTIONS, CONTEXTS, { top_k: 3 }));
  });
});

/** A minimal 8-bit RGB PNG (filter 0 rows, zlib). */
function png(width: number, height: number, rgb: Uint8Array): Uint8Array<ArrayBuffer> {
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (b: Uint8Array) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length), dv = new DataView(out.buffer);
    dv.setUint32(0, data.length); out.set(Buffer.from(type, 'latin1'), 4); out.set(data, 8);
    dv.setUint32(8 + data.length, crc(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13), dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width); dv.setUint32(4, height); ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = new Uint8Array(height * (width * 3 + 1));
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** Smooth colour fields with noise, different per seed, so the classes differ between images. */
function picture(width: number, height: number, channels: number, seed: number): Uint8Array {
  const d = new Uint8Array(width * height * channels);
  let s = seed;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const base = 128 + 100 * Math.sin((x * (seed % 5 + 1)) / 7 + c * seed + (y * (seed % 3 + 1)) / 9);
    d[(y * width + x) * channels + c] = c === 3 ? 255 : Math.max(0, Math.min(255, Math.round(base + (s >>> 28) - 8)));
  }
  return d;
}

describe.each(['fp32', 'q8'] as const)('image-classification (%s) = transformers.js', (dtype) => {
  let ours: Awaited<ReturnType<typeof pipeline<'image-classification'>>>;
  let ref: Awaited<ReturnType<typeof tjsPipeline<'image-classification'>>>;
  beforeAll(async () => {
    ours = await pipeline('image-classification', `${HF}image-resnet-tiny`, { dtype });
    ref = await tjsPipeline('image-classification', 'image-resnet-tiny', { dtype });
  });
  afterAll(async () => { await ours.dispose(); await ref.dispose(); });

  // 36×48 needs no resize (its shortest edge is already 32 / 0.875 = 36), only the centre crop;
  // the others are resized bilinearly first (bytes equal to sharp's, test/pipelines/image-pixels.test.ts).
  const sizes: Array<[number, number, number]> = [[36, 48, 3], [48, 40, 3], [64, 64, 4], [50, 37, 1]];

  it('pixels as { data, width, height, channels }, one and a batch, top_k', async () => {
    const imgs = sizes.map(([w, h, c], i) => ({ data: picture(w, h, c, 11 + i * 7), width: w, height: h, channels: c }));
    const raws = imgs.map((m) => new RawImage(new Uint8ClampedArray(m.data), m.width, m.height, m.channels as 3));
    expectSame(await ours(imgs[0]!), await ref(raws[0]!));
    const batch = await ours(imgs, { top_k: 3 });
    expectSame(batch, await ref(raws, { top_k: 3 }));
    expect(new Set((batch as Array<Array<{ label: string }>>).map((r) => r[0]!.label)).size).toBeGreaterThan(1);
    expectSame(await ours(imgs.slice(1), { top_k: null }), await ref(raws.slice(1), { top_k: null }));
  });

  it('the parts form { model, processorConfig, config } gives the same answers', async () => {
    const { readFileSync } = await import('node:fs');
    const dir = `${HF}image-resnet-tiny/`;
    const parts = await pipeline('image-classification', {
      model: readFileSync(`${dir}onnx/${dtype === 'q8' ? 'model_quantized' : 'model'}.onnx`),
      processorConfig: JSON.parse(readFileSync(`${dir}preprocessor_config.json`, 'utf8')),
      config: JSON.parse(readFileSync(`${dir}config.json`, 'utf8')),
    });
    const img = { data: picture(36, 48, 3, 3), width: 36, height: 48 };
    expect(await parts(img)).toEqual(await ours(img));
    await parts.dispose();
  });

  it('a PNG file as bytes, as a Blob and as a path', async () => {
    const bytes = png(48, 40, picture(48, 40, 3, 5));
    const expected = await ref(await RawImage.fromBlob(new Blob([bytes as Uint8Array<ArrayBuffer>])));
    expectSame(await ours(bytes), expected);
    expectSame(await ours(new Blob([bytes as Uint8Array<ArrayBuffer>])), expected);
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'tessera-img-')), 'a.png');
    writeFileSync(file, bytes);
    expectSame(await ours(file), expected);
  });
});

describe('refusals name what is wrong', () => {
  it('empty batches, missing context, wrong image types, missing preprocessor', async () => {
    const ner = await pipeline('token-classification', `${HF}ner-bert-tiny`);
    const qa = await pipeline('question-answering', `${HF}qa-bert-tiny`);
    const img = await pipeline('image-classification', `${HF}image-resnet-tiny`);
    const code = async (p: Promise<unknown>, re: RegExp) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(TesseraError);
      expect((e as TesseraError).message).toMatch(re);
    };
    await code(ner([]), /batch is empty/);
    await code(ner('x', { aggregation_strategy: 'max' as 'simple' }), /aggregation_strategy must be 'none' or 'simple'/);
    await code(qa('Who?', undefined as unknown as string), /no context/);
    await code(qa(['a', 'b'], ['c']), /one context per question/);
    await code(qa([], []), /batch is empty/);
    await code(img([]), /batch is empty/);
    await code(img(42 as unknown as string), /the image is number/);
    await code(img([{ data: new Uint8Array(5), width: 2, height: 2 }]), /images\[0\] has 5 bytes for 2 × 2 pixels/);
    await code(img(new Uint8Array([1, 2, 3, 4])), /could not be decoded/);
    await code(pipeline('image-classification', `${HF}ner-bert-tiny`), /no image processor/);
    await code(pipeline('token-classification', `${HF}image-resnet-tiny`), /no tokenizer/);
    await Promise.all([ner.dispose(), qa.dispose(), img.dispose()]);
  });
});
