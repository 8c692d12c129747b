// Windows of a chunked transcription decoded together as one batch (batch_size) give exactly what
// decoding them one by one gives (batch_size: 1, the path transformers.js' equality tests cover):
// tokens, timestamps, no-speech reports, streamer calls; on the micro Whisper folder (random
// weights: arbitrary tokens, equality is the point), 5 windows of the 33.5 s clip in groups of 3
// and 2 (a partial group).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeline, readAudio, BaseStreamer, type AutomaticSpeechRecognitionPipeline, type AsrCallOptions } from '../../src/index.js';

const root = fileURLToPath(new URL('../../models/whisper/', import.meta.url));
const long = readAudio(readFileSync(`${root}audio/long-8k.wav`), 16000);
// 10 s windows, 2 s strides: offsets 0, 6, 12, 18, 24 s.
const chunks = { chunk_length_s: 10, stride_length_s: 2 };
const gen = JSON.parse(readFileSync(`${root}micro/generation_config.json`, 'utf8')) as { decoder_start_token_id: number; lang_to_id: Record<string, number>; task_to_id: Record<string, number>; no_timestamps_token_id: number };

/** Records every streamer call: put ids, or 'end'. */
class Recorder extends BaseStreamer {
  calls: (number[][] | 'end')[] = [];
  override put(ids: number[][]) { this.calls.push(ids.map((r) => [...r])); }
  override end() { this.calls.push('end'); }
}

for (const dtype of ['fp32', 'q8'] as const) {
  describe(`batched windows equal windows one by one (micro, ${dtype})`, () => {
    let asr: AutomaticSpeechRecognitionPipeline;
    beforeAll(async () => { asr = await pipeline('automatic-speech-recognition', `${root}micro`, { dtype, batch_size: 4 }); }, 60_000);
    afterAll(async () => { await asr?.dispose(); });

    /** The call one window at a time and in batches of 3; returns both and the decoder runs of each. */
    const both = async (opts: AsrCallOptions) => {
      let steps = asr.model.stats.decoderSteps;
      const one = await asr(long, { ...chunks, ...opts, batch_size: 1 });
      const oneSteps = asr.model.stats.decoderSteps - steps;
      steps = asr.model.stats.decoderSteps;
      const batched = await asr(long, { ...chunks, ...opts, batch_size: 3 });
      return { one, batched, oneSteps, batchedSteps: asr.model.stats.decoderSteps - steps };
    };
    // Both batch (fewer decoder runs): q8's dynamic quantization takes each window's own range.
    const expectBatched = (oneSteps: number, batchedSteps: number) => expect(batchedSteps).toBeLessThan(oneSteps / 2);

    it('greedy, and segment timestamps in single passes (max_new_tokens)', async () => {
      expect(asr.model.rowsIndependent).toBe(true);
      for (const opts of [{ max_new_tokens: 24 }, { max_new_tokens: 24, return_timestamps: true }]) {
        const { one, batched, oneSteps, batchedSteps } = await both(opts);
        expect(batched).toEqual(one);
        expect(one.text.length).toBeGreaterThan(0);
        expectBatched(oneSteps, batchedSteps);
      }
    }, 120_000);

    it('no-speech detection: the same windows dropped, the same reports', async () => {
      const probe = await asr(long, { ...chunks, max_new_tokens: 16, return_no_speech_prob: true, batch_size: 1 });
      const probs = probe.no_speech!.map((r) => r.no_speech_prob).sort((a, b) => a - b);
      expect(probs.length).toBe(5);
      // A threshold between the windows' probabilities: the 3 most likely are silence, 2 not.
      const threshold = (probs[1]! + probs[2]!) / 2;
      const { one, batched, oneSteps, batchedSteps } = await both({ max_new_tokens: 16, no_speech_threshold: threshold, logprob_threshold: null, return_no_speech_prob: true });
      expect(batched).toEqual(one);
      expect(one.no_speech!.filter((r) => r.skipped).length).toBe(3);
      expectBatched(oneSteps, batchedSteps);
    }, 120_000);

    it('a streamer sees each window\'s put/end in window order, as one by one', async () => {
      const a = new Recorder(), b = new Recorder();
      const one = await asr(long, { ...chunks, max_new_tokens: 12, streamer: a, batch_size: 1 });
      const batched = await asr(long, { ...chunks, max_new_tokens: 12, streamer: b, batch_size: 3 });
      expect(batched).toEqual(one);
      expect(b.calls).toEqual(a.calls);
      expect(a.calls.filter((c) => c === 'end').length).toBe(5);
    }, 120_000);

    it('seek passes (return_timestamps without max_new_tokens) stay one window at a time; 5-token prompts batch', async () => {
      const { one, batched, oneSteps, batchedSteps } = await both({ return_timestamps: true, chunk_length_s: 20, stride_length_s: 4 } as AsrCallOptions);
      expect(batched).toEqual(one);
      expect(batchedSteps).toBe(oneSteps);
      // A prompt of 5 rows: the first step's 10 or 15 rows share GEMM tiles across windows, and
      // each row still gets its one-window sums.
      const prompt = [gen.decoder_start_token_id, gen.lang_to_id['<|en|>']!, gen.task_to_id.transcribe!, gen.no_timestamps_token_id, 500];
      const five = await both({ max_new_tokens: 8, decoder_input_ids: prompt });
      expect(five.batched).toEqual(five.one);
      expectBatched(five.oneSteps, five.batchedSteps);
    }, 120_000);

    it('signal stops every window of the batch; bad batch_size refused; plans bounded', async () => {
      const stop = new AbortController();
      const s = new (class extends BaseStreamer {
        n = 0;
        override put() { if (++this.n === 6) stop.abort(); }
        override end() {}
      })();
      const steps = asr.model.stats.decoderSteps;
      await asr(long, { ...chunks, max_new_tokens: 24, streamer: s, signal: stop.signal, batch_size: 3 });
      // The streamer sees window 0 live (later windows are held until it ends): its prompt and 5
      // tokens, then the abort stops the whole group after that run, as it stops window 0 alone.
      expect(asr.model.stats.decoderSteps - steps).toBe(5);
      await expect(asr(long, { ...chunks, batch_size: 0 })).rejects.toThrow(/batch_size must be a positive integer/);
      await expect(asr(long, { ...chunks, batch_size: 2.5 })).rejects.toThrow(/batch_size must be a positive integer/);
      await expect(asr(long, { ...chunks, batch_size: 5 })).rejects.toThrow(/exceeds the 4 windows/);
      // Plans: a fixed number per batch size and first-step shape (prompt of 4 or 3 tokens; 1 or
      // 2 rows of logits), one for the token steps; a repeated call makes none.
      const before = asr.model.stats.decoderPlans;
      const opts = { ...chunks, max_new_tokens: 8, batch_size: 3, return_timestamps: true, return_no_speech_prob: true };
      await asr(long, opts);
      const after = asr.model.stats.decoderPlans;
      await asr(long, opts);
      expect(after - before).toBeLessThanOrEqual(4);
      expect(asr.model.stats.decoderPlans).toBe(after);
    }, 120_000);
  });
}

describe('batch_size at load', () => {
  it('sets the most windows per batch (default 2); 1 decodes one by one; a bad value is refused', async () => {
    await expect(pipeline('automatic-speech-recognition', `${root}micro`, { batch_size: 0 })).rejects.toThrow(/batch_size must be a positive integer/);
    const one = await pipeline('automatic-speech-recognition', `${root}micro`, { batch_size: 1 });
    const two = await pipeline('automatic-speech-recognition', `${root}micro`);
    try {
      expect(one.model.maxBatch()).toBe(1);
      expect(two.model.maxBatch()).toBe(2);
      const opts = { ...chunks, max_new_tokens: 16 };
      expect(await two(long, opts)).toEqual(await one(long, opts));
      expect(two.model.stats.decoderSteps).toBeLessThan(one.model.stats.decoderSteps);
      await expect(two(long, { ...opts, batch_size: 3 })).rejects.toThrow(/exceeds the 2 windows/);
    } finally {
      await one.dispose(); await two.dispose();
    }
  }, 120_000);
});
