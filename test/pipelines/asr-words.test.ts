// return_timestamps: 'word' against transformers.js v4 on the same micro Whisper folder exported with
// its cross-attention outputs (models/whisper/micro-timestamped: random weights, so the words are
// nonsense and their times arbitrary; equal is the point): token timestamps from the alignment
// heads (median filter, DTW), words merged across overlapping windows.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeline, readAudio, type AutomaticSpeechRecognitionPipeline } from '../../src/index.js';
import { statelessTransformersJsPunctuation } from '../helpers/tjs-punctuation.js';

// transformers.js with its punctuation test made stateless, as tessera's (test/helpers/tjs-punctuation.ts).
statelessTransformersJsPunctuation();

const root = fileURLToPath(new URL('../../models/whisper/', import.meta.url));
const wav = (name: string) => readAudio(readFileSync(`${root}audio/${name}.wav`), 16000);
type Tjs = ((a: Float32Array, o?: object) => Promise<unknown>) & { dispose(): Promise<void> };
type Words = { text: string; chunks: { text: string; timestamp: [number, number] }[] };

describe("return_timestamps: 'word' equals transformers.js v4 (micro-timestamped, fp32)", () => {
  let theirs: Tjs, ours: AutomaticSpeechRecognitionPipeline;
  const hello = wav('hello-16k');
  beforeAll(async () => {
    const t = await import('@huggingface/transformers');
    t.env.allowRemoteModels = false;
    t.env.localModelPath = root;
    theirs = await t.pipeline('automatic-speech-recognition', 'micro-timestamped', { dtype: 'fp32' }) as unknown as Tjs;
    ours = await pipeline('automatic-speech-recognition', `${root}micro-timestamped`, { dtype: 'fp32' });
  }, 60_000);
  afterAll(async () => { await ours?.dispose(); await theirs?.dispose(); });

  const cases: [string, object][] = [
    ['one pass (max_new_tokens)', { return_timestamps: 'word', max_new_tokens: 40 }],
    ['seek passes (no max_new_tokens)', { return_timestamps: 'word' }],
    ['forced language and task', { return_timestamps: 'word', language: 'french', max_new_tokens: 24 }],
  ];
  for (const [name, opts] of cases) {
    it(name, async () => {
      const want = await theirs(hello, opts) as Words;
      const got = await ours(hello, opts as object) as Words;
      expect(got).toEqual(want);
      expect(got.chunks.length).toBeGreaterThan(1);
      for (const c of got.chunks) expect(c.timestamp[0]).toBeLessThanOrEqual(c.timestamp[1]);
    }, 60_000);
  }

  it('a 33.5 s clip in 20 s windows with 4 s strides: words merged at the overlaps; batched = one by one', async () => {
    const long = wav('long-8k');
    const opts = { chunk_length_s: 20, stride_length_s: 4, max_new_tokens: 32, return_timestamps: 'word' as const };
    const want = await theirs(long, opts);
    const batched = await ours(long, opts);
    expect(batched).toEqual(want);
    expect(await ours(long, { ...opts, batch_size: 1 })).toEqual(batched);
  }, 120_000);

  it('segment timestamps and plain text are unchanged by the extra outputs', async () => {
    for (const opts of [{ max_new_tokens: 32 }, { return_timestamps: true, max_new_tokens: 32 }]) {
      expect(await ours(hello, opts)).toEqual(await theirs(hello, opts));
    }
  }, 60_000);
});

describe("return_timestamps: 'word' refused clearly", () => {
  it('on a decoder without cross-attention outputs', async () => {
    const asr = await pipeline('automatic-speech-recognition', `${root}micro`);
    await expect(asr(wav('hello-16k'), { return_timestamps: 'word', max_new_tokens: 8 })).rejects.toThrow(/cross-attention/);
    // The refusal leaves the pipeline usable.
    expect((await asr(wav('hello-16k'), { max_new_tokens: 8 })).text.length).toBeGreaterThan(0);
    await asr.dispose();
  }, 60_000);
});
