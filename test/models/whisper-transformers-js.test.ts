/**
 * models/whisper/micro is a folder transformers.js v4 accepts as Whisper: its
 * automatic-speech-recognition pipeline loads it (config, generation_config, preprocessor,
 * tokenizer, encoder_model + decoder_model_merged of each dtype) and transcribes 1 s of espeak-ng
 * speech, with and without timestamps. Random weights: the text is not meant to be right, only to
 * exist and come from Whisper's prompt (<|startoftranscript|><|en|><|transcribe|>…). Also: the
 * tokenizer reads the same in HF's Rust tokenizers and @huggingface/tokenizers.
 * transformers.js runs on onnxruntime-node here (its Node default).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tokenizer as RustTokenizer } from '@anush008/tokenizers';
import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../models/whisper/', import.meta.url));
const json = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** The first `seconds` of a PCM16 mono WAV as float samples (the clips are written so). */
function wav16(path: string, seconds: number): { audio: Float32Array; rate: number } {
  const b = readFileSync(path);
  const rate = b.readUInt32LE(24);
  let p = 12;
  while (b.toString('ascii', p, p + 4) !== 'data') p += 8 + b.readUInt32LE(p + 4);
  const n = Math.min(b.readUInt32LE(p + 4) / 2, Math.round(seconds * rate));
  const audio = new Float32Array(n);
  for (let i = 0; i < n; i++) audio[i] = b.readInt16LE(p + 8 + 2 * i) / 32768;
  return { audio, rate };
}

interface Gen { decoder_start_token_id: number; lang_to_id: Record<string, number>; task_to_id: Record<string, number>; no_timestamps_token_id: number }

describe('transformers.js v4 loads models/whisper/micro', () => {
  const { audio, rate } = wav16(`${root}audio/hello-16k.wav`, 1);

  it.each(['fp32', 'fp16', 'q8', 'q4'])('automatic-speech-recognition (%s): text (and timestamped chunks for fp32, q8)', async (dtype) => {
    expect(rate).toBe(16000);
    const tjs = await import('@huggingface/transformers');
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = root;
    const asr = await tjs.pipeline('automatic-speech-recognition', 'micro', { dtype: dtype as 'fp32' });
    const out = await asr(audio, { max_new_tokens: 10, language: 'en', task: 'transcribe' }) as { text: string };
    expect(typeof out.text).toBe('string');
    expect(out.text.length).toBeGreaterThan(0);
    if (dtype === 'fp32' || dtype === 'q8') {
      const ts = await asr(audio, { max_new_tokens: 10, language: 'en', return_timestamps: true }) as { text: string; chunks: { timestamp: [number, number | null] }[] };
      expect(ts.chunks.length).toBeGreaterThan(0);
      expect(typeof ts.chunks[0]!.timestamp[0]).toBe('number');
    }
    await (asr as unknown as { dispose(): Promise<void> }).dispose();
  }, 60_000);

  it('generate: Whisper\'s prompt tokens come first, then new ids inside the vocabulary', async () => {
    const tjs = await import('@huggingface/transformers');
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = root;
    const asr = await tjs.pipeline('automatic-speech-recognition', 'micro', { dtype: 'fp32' }) as unknown as {
      processor: (a: Float32Array) => Promise<{ input_features: unknown }>;
      model: { generate(o: object): Promise<{ tolist(): bigint[][] }>; config: { vocab_size: number } };
      dispose(): Promise<void>;
    };
    const gen = json<Gen>(`${root}micro/generation_config.json`);
    const { input_features } = await asr.processor(audio);
    const ids = (await asr.model.generate({ inputs: input_features, max_new_tokens: 6, language: 'en', task: 'transcribe' })).tolist()[0]!.map(Number);
    expect(ids.slice(0, 4)).toEqual([gen.decoder_start_token_id, gen.lang_to_id['<|en|>'], gen.task_to_id.transcribe, gen.no_timestamps_token_id]);
    expect(ids.length).toBeGreaterThan(4);
    for (const id of ids) expect(id).toBeLessThan(asr.model.config.vocab_size);
    await asr.dispose();
  }, 60_000);
});

describe('transformers.js v4 loads models/whisper/micro-timestamped', () => {
  it("return_timestamps: 'word' — the decoder's cross_attentions.{i} give word chunks (micro without them is refused)", async () => {
    const { audio } = wav16(`${root}audio/hello-16k.wav`, 1);
    const tjs = await import('@huggingface/transformers');
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = root;
    const asr = await tjs.pipeline('automatic-speech-recognition', 'micro-timestamped', { dtype: 'fp32' });
    const out = await asr(audio, { max_new_tokens: 10, language: 'en', return_timestamps: 'word' }) as { text: string; chunks: { text: string; timestamp: [number, number] }[] };
    expect(out.chunks.length).toBeGreaterThan(0);
    for (const c of out.chunks) {
      expect(c.timestamp[0]).toBeGreaterThanOrEqual(0);
      expect(c.timestamp[1]).toBeGreaterThanOrEqual(c.timestamp[0]);
    }
    expect(out.chunks.map((c) => c.text).join('').trim()).toBe(out.text.trim());
    await (asr as unknown as { dispose(): Promise<void> }).dispose();
    const plain = await tjs.pipeline('automatic-speech-recognition', 'micro', { dtype: 'fp32' });
    await expect(plain(audio, { max_new_tokens: 10, language: 'en', return_timestamps: 'word' })).rejects.toThrow(/cross attentions/);
    await (plain as unknown as { dispose(): Promise<void> }).dispose();
  }, 60_000);
});

describe('models/whisper/micro tokenizer', () => {
  it('Rust tokenizers and @huggingface/tokenizers agree; special and timestamp ids sit where Whisper\'s layout puts them', async () => {
    const path = `${root}micro/tokenizer.json`;
    const rust = RustTokenizer.fromFile(path);
    const js = new JsTokenizer(json<object>(path), json<object>(`${root}micro/tokenizer_config.json`));
    const cfg = json<{ vocab_size: number; eos_token_id: number }>(`${root}micro/config.json`);
    for (const text of ['Hello world. This is a test of speech recognition.', ' (quoted) -- "speech"! ♪♪ 日本語']) {
      const want = (await rust.encode(text, null, { addSpecialTokens: false })).getIds();
      expect(js.encode(text, { add_special_tokens: false }).ids, text).toEqual(want);
      expect(await rust.decode(want, false)).toBe(text);
    }
    const eot = cfg.eos_token_id;
    const specials = (await rust.encode('<|endoftext|><|startoftranscript|><|en|><|zh|><|su|><|translate|><|transcribe|><|startoflm|><|startofprev|><|nospeech|><|notimestamps|><|0.00|><|0.02|><|30.00|>', null, { addSpecialTokens: false })).getIds();
    expect(specials).toEqual([eot, eot + 1, eot + 2, eot + 3, eot + 100, eot + 101, eot + 102, eot + 103, eot + 104, eot + 105, eot + 106, eot + 107, eot + 108, cfg.vocab_size - 1]);
  });
});
