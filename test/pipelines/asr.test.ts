// pipeline('automatic-speech-recognition') against transformers.js v4's on the same micro Whisper
// folder (models/whisper/micro, random weights: the tokens are arbitrary, equal is the point) and
// the same samples (espeak-ng WAVs read by tessera's readAudio; transformers.js cannot read audio
// in Node). transformers.js runs on onnxruntime-node, its Node default.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeline, readAudio, BaseStreamer, type AutomaticSpeechRecognitionPipeline } from '../../src/index.js';

const root = fileURLToPath(new URL('../../models/whisper/', import.meta.url));
const wav = (name: string) => readAudio(readFileSync(`${root}audio/${name}.wav`), 16000);
type Tjs = ((a: Float32Array, o?: object) => Promise<unknown>) & { dispose(): Promise<void> };

async function tjsPipeline(dtype: string): Promise<Tjs> {
  const t = await import('@huggingface/transformers');
  t.env.allowRemoteModels = false;
  t.env.localModelPath = root;
  return await t.pipeline('automatic-speech-recognition', 'micro', { dtype: dtype as 'fp32' }) as unknown as Tjs;
}

describe('automatic-speech-recognition equals transformers.js v4 (micro, fp32)', () => {
  let theirs: Tjs, ours: AutomaticSpeechRecognitionPipeline;
  const hello = wav('hello-16k');
  beforeAll(async () => {
    theirs = await tjsPipeline('fp32');
    ours = await pipeline('automatic-speech-recognition', `${root}micro`, { dtype: 'fp32' });
  }, 60_000);
  afterAll(async () => { await ours?.dispose(); await theirs?.dispose(); });

  const cases: [string, object][] = [
    ['greedy', { max_new_tokens: 48 }],
    ['forced language and task', { language: 'german', task: 'translate', max_new_tokens: 32 }],
    ['segment timestamps', { return_timestamps: true, max_new_tokens: 64 }],
    ['segment timestamps, seek passes (no max_new_tokens)', { return_timestamps: true }],
  ];
  for (const [name, opts] of cases) {
    it(name, async () => {
      const want = await theirs(hello, opts);
      const got = await ours(hello, opts);
      expect(got).toEqual(want);
      expect(got.text.length).toBeGreaterThan(0);
      // One plan per prompt length (4 tokens, or 3 with timestamps) and one for every later token.
      expect(ours.model.stats.decoderPlans).toBeLessThanOrEqual(3);
    }, 60_000);
  }

  it('a 33.5 s clip (8 kHz WAV) in 20 s windows with 4 s strides, with timestamps', async () => {
    const long = wav('long-8k');
    expect(long.length / 16000).toBeGreaterThan(30);
    for (const opts of [{ chunk_length_s: 20, stride_length_s: 4, max_new_tokens: 32, return_timestamps: true }]) {
      const want = await theirs(long, opts);
      expect(await ours(long, opts)).toEqual(want);
    }
  }, 120_000);

  it('streamer: prompt then one put per token, end once per pass; WAV path input', async () => {
    const calls: number[][][] = [];
    let ends = 0;
    const streamer = new (class extends BaseStreamer {
      override put(ids: number[][]) { calls.push(ids); }
      override end() { ends++; }
    })();
    const got = await ours(`${root}audio/hello-16k.wav`, { max_new_tokens: 10, streamer });
    expect(ends).toBe(1);
    expect(calls[0]![0]!.length).toBe(4); // <|startoftranscript|> <|en|> <|transcribe|> <|notimestamps|>
    expect(calls.length).toBe(11);
    expect(got).toEqual(await theirs(hello, { max_new_tokens: 10 }));
  }, 60_000);

  it('bad audio: empty, NaN, not audio', async () => {
    await expect(ours(new Float32Array(0))).rejects.toThrow(/empty/);
    await expect(ours(Float32Array.of(0, NaN))).rejects.toThrow(/sample 1 is NaN/);
    await expect(ours(42 as unknown as Float32Array)).rejects.toThrow(/Float32Array/);
    await expect(ours(hello, { chunk_length_s: 5, stride_length_s: 5 })).rejects.toThrow(/larger than stride_length_s/);
  });
});

describe('automatic-speech-recognition: other decoders and formats', () => {
  const hello = wav('hello-16k');
  it('the unmerged pair gives what the merged decoder gives', async () => {
    const a = await pipeline('automatic-speech-recognition', `${root}micro`, { decoder: 'pair' });
    const b = await pipeline('automatic-speech-recognition', `${root}micro`);
    expect(await a(hello, { max_new_tokens: 40, return_timestamps: true })).toEqual(await b(hello, { max_new_tokens: 40, return_timestamps: true }));
    expect(a.model.decoderSource).toBe('pair');
    await a.dispose(); await b.dispose();
  }, 60_000);

  it('q8 (encoder and decoder quantized) equals transformers.js on the same files', async () => {
    const theirs = await tjsPipeline('q8');
    const ours = await pipeline('automatic-speech-recognition', `${root}micro`, { dtype: 'q8' });
    const want = await theirs(hello, { max_new_tokens: 32 });
    expect(await ours(hello, { max_new_tokens: 32 })).toEqual(want);
    await ours.dispose(); await theirs.dispose();
  }, 60_000);
});
