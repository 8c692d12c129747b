// No-speech detection (OpenAI whisper's transcribe(), HF transformers' WhisperNoSpeechDetection) on
// the micro Whisper folder (random weights): the probability is checked against onnxruntime-web
// running the same encoder and merged decoder, then thresholds are set around the measured values
// so that a pass is dropped or kept; without the options the output is transformers.js's.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeline, readAudio, type AutomaticSpeechRecognitionPipeline } from '../../src/index.js';
import { Tensor } from '../../src/api/tensor.js';
import { ortRun, ortSession } from '../helpers/ort.js';

const root = fileURLToPath(new URL('../../models/whisper/', import.meta.url));
const gen = JSON.parse(readFileSync(`${root}micro/generation_config.json`, 'utf8')) as { decoder_start_token_id: number; lang_to_id: Record<string, number>; task_to_id: Record<string, number>; no_timestamps_token_id: number };
const hello = readAudio(readFileSync(`${root}audio/hello-16k.wav`), 16000);

/** softmax(row)[t] in float64, from onnxruntime-web's logits of the prompt's first decoder run. */
async function ortNoSpeechProb(features: Tensor, prompt: number[], token: number): Promise<number> {
  const enc = await ortSession(readFileSync(`${root}micro/onnx/encoder_model.onnx`));
  const dec = await ortSession(readFileSync(`${root}micro/onnx/decoder_model_merged.onnx`));
  const h = (await ortRun(enc, { input_features: features })).last_hidden_state!;
  const feeds: Record<string, Tensor> = {
    input_ids: new Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, prompt.length]),
    encoder_hidden_states: new Tensor('float32', h.data as Float32Array, [...h.dims]),
    use_cache_branch: new Tensor('bool', Uint8Array.of(0), [1]),
  };
  for (const n of dec.inputNames.filter((x) => x.startsWith('past_key_values'))) feeds[n] = new Tensor('float32', new Float32Array(0), [1, 2, 0, 12]);
  const lg = (await ortRun(dec, feeds)).logits!;
  const V = lg.dims[2]!;
  const row = (lg.data as Float32Array).subarray(0, V); // the <|startoftranscript|> position
  const m = Math.max(...row);
  let sum = 0;
  for (const x of row) sum += Math.exp(x - m);
  return Math.exp(row[token]! - m) / sum;
}

describe('no-speech detection (micro Whisper)', () => {
  let asr: AutomaticSpeechRecognitionPipeline;
  beforeAll(async () => { asr = await pipeline('automatic-speech-recognition', `${root}micro`); }, 60_000);
  afterAll(async () => { await asr?.dispose(); });
  const opts = { max_new_tokens: 16 };

  it('<|nospeech|> is the tokenizer token before <|notimestamps|>; its probability equals onnxruntime-web\'s softmax at <|startoftranscript|>', async () => {
    const noSpeech = asr.tokenizer.tokenToId('<|nospeech|>')!;
    expect(noSpeech).toBe(gen.no_timestamps_token_id - 1);
    const r = await asr(hello, { ...opts, return_no_speech_prob: true });
    expect(r.no_speech).toHaveLength(1);
    const [w] = r.no_speech!;
    const prompt = [gen.decoder_start_token_id, gen.lang_to_id['<|en|>']!, gen.task_to_id.transcribe!, gen.no_timestamps_token_id];
    const want = await ortNoSpeechProb(asr.processor.extract(hello).input_features, prompt, noSpeech);
    expect(w!.no_speech_prob).toBeGreaterThan(0);
    expect(Math.abs(w!.no_speech_prob - want)).toBeLessThan(1e-5 * Math.max(want, 1e-3) + 1e-7);
    expect(w!.timestamp).toEqual([0, hello.length / 16000]);
    expect(w!.avg_logprob).toBeLessThan(0);
    expect(w!.skipped).toBe(false);
    // The report changes nothing else.
    const { no_speech: _, ...rest } = r;
    expect(rest).toEqual(await asr(hello, opts));
  }, 60_000);

  it('without the options the output is transformers.js v4\'s (no no_speech field)', async () => {
    const t = await import('@huggingface/transformers');
    t.env.allowRemoteModels = false;
    t.env.localModelPath = root;
    const theirs = await t.pipeline('automatic-speech-recognition', 'micro', { dtype: 'fp32' }) as unknown as ((a: Float32Array, o?: object) => Promise<unknown>) & { dispose(): Promise<void> };
    const got = await asr(hello, opts);
    expect(got).toEqual(await theirs(hello, opts));
    expect('no_speech' in got).toBe(false);
    await theirs.dispose();
  }, 60_000);

  it('thresholds around the measured values drop the window or keep it', async () => {
    const base = await asr(hello, { ...opts, return_no_speech_prob: true });
    const { no_speech_prob: p, avg_logprob: lp } = base.no_speech![0]!;
    expect(base.text.length).toBeGreaterThan(0);
    const run = (o: object) => asr(hello, { ...opts, return_no_speech_prob: true, ...o });
    // Above the threshold, and the text not confident (avg_logprob ≤ logprob_threshold): silence.
    const silent = await run({ no_speech_threshold: p * 0.99, logprob_threshold: lp + 0.01 });
    expect(silent.text).toBe('');
    expect(silent.no_speech![0]!.skipped).toBe(true);
    expect(silent.no_speech![0]!.no_speech_prob).toBe(p);
    // logprob_threshold null: the probability alone decides (OpenAI's rule).
    expect((await run({ no_speech_threshold: p * 0.99, logprob_threshold: null })).text).toBe('');
    // Probability not above the threshold: kept.
    const kept = await run({ no_speech_threshold: p * 1.01, logprob_threshold: 0 });
    expect(kept).toEqual(base);
    // Above the threshold but confident text (avg_logprob > logprob_threshold): kept.
    expect(await run({ no_speech_threshold: p * 0.99, logprob_threshold: lp - 0.01 })).toEqual(base);
    // The default logprob_threshold is -1 (OpenAI's transcribe()).
    const byDefault = await run({ no_speech_threshold: p * 0.99 });
    expect(byDefault.text).toBe(lp > -1 ? base.text : '');
  }, 60_000);

  it('timestamps: seek passes and chunked windows are judged one by one', async () => {
    const seek = await asr(hello, { return_timestamps: true, return_no_speech_prob: true });
    expect(seek.no_speech!.length).toBeGreaterThanOrEqual(1);
    const dropped = await asr(hello, { return_timestamps: true, return_no_speech_prob: true, no_speech_threshold: 0, logprob_threshold: 0 });
    expect(dropped.text).toBe('');
    expect(dropped.chunks).toEqual([]);
    expect(dropped.no_speech).toEqual([{ ...seek.no_speech![0]!, skipped: true }]);
    // Two 4 s windows (1 s strides) of a 6 s input: a threshold between their probabilities drops one.
    const audio = new Float32Array(16000 * 6);
    audio.set(hello.subarray(0, Math.min(hello.length, audio.length)));
    const o = { chunk_length_s: 4, stride_length_s: 1, max_new_tokens: 8, return_no_speech_prob: true };
    const both = await asr(audio, o);
    expect(both.no_speech!.map((w) => w.timestamp)).toEqual([[0, 4], [2, 6]]);
    const [a, b] = both.no_speech!.map((w) => w.no_speech_prob) as [number, number];
    expect(a).not.toBe(b);
    const one = await asr(audio, { ...o, no_speech_threshold: (a + b) / 2, logprob_threshold: null });
    expect(one.no_speech!.map((w) => w.skipped)).toEqual([a > b, b > a]);
    expect(one.text.length).toBeGreaterThan(0); // the kept window's text
    const none = await asr(audio, { ...o, no_speech_threshold: Math.min(a, b) * 0.99, logprob_threshold: null });
    expect(none.no_speech!.map((w) => w.skipped)).toEqual([true, true]);
    expect(none.text).toBe('');
  }, 60_000);

  it('avg_logprob: greedy steps on the model, suppression applied, log-softmax of the chosen tokens (EOS included) ÷ (text tokens + 1)', async () => {
    const g = gen as unknown as { suppress_tokens: number[]; begin_suppress_tokens: number[]; eos_token_id: number };
    const prompt = [gen.decoder_start_token_id, gen.lang_to_id['<|en|>']!, gen.task_to_id.transcribe!, gen.no_timestamps_token_id];
    let logits = await asr.model.step(prompt, await asr.model.encode(asr.processor.extract(hello).input_features));
    let sum = 0, text = 0;
    for (let k = 0; k < opts.max_new_tokens; k++) {
      for (const t of g.suppress_tokens) logits[t] = -Infinity;
      if (k === 0) for (const t of g.begin_suppress_tokens) logits[t] = -Infinity;
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
      const m = logits[best]!;
      sum += m - m - Math.log(logits.reduce((s, x) => s + Math.exp(x - m), 0));
      if (best === g.eos_token_id) break;
      text++;
      logits = await asr.model.step([best]);
    }
    const r = await asr(hello, { ...opts, return_no_speech_prob: true });
    // 1e-6: the pipeline's first run computes two logits rows (another plan, float32 rounding).
    expect(r.no_speech![0]!.avg_logprob).toBeCloseTo(sum / (text + 1), 6);
    expect(text).toBeGreaterThan(0);
  }, 60_000);

  it('bad thresholds are refused', async () => {
    await expect(asr(hello, { ...opts, no_speech_threshold: 2 })).rejects.toThrow(/no_speech_threshold must be a probability/);
    await expect(asr(hello, { ...opts, no_speech_threshold: 0.5, logprob_threshold: NaN })).rejects.toThrow(/logprob_threshold/);
  });
});
