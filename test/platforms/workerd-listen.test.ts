/**
 * examples/listen-worker in workerd (miniflare 3), bundled as wrangler bundles it: a POSTed WAV
 * comes back as speech segments with their transcripts (models/whisper/micro read over HTTP), the
 * same as the detector and the ASR pipeline give in Node; 8 kHz files go to the
 * model's 8 kHz branch; bad bodies get a 400 with a reason; concurrent requests are all answered.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, serve, startWorkerExample } from './helpers.js';
import { VoiceActivityDetector, pipeline } from '../../src/index.js';
import { readWav } from '../../src/audio/wav.js';

let worker: import('miniflare').Miniflare;
let cleanup = async (): Promise<void> => {};
let site: Awaited<ReturnType<typeof serve>>;
const wav16 = readFileSync(join(root, 'models/vad/speech-16k.wav'));
const wav8 = readFileSync(join(root, 'models/vad/speech-8k.wav'));

beforeAll(async () => {
  site = await serve(root); // the Whisper folder, over HTTP as a Worker reads it
  ({ worker, cleanup } = await startWorkerExample('listen-worker', { ASR_MODEL_URL: `${site.url}/models/whisper/micro/` }));
});
afterAll(async () => {
  await cleanup();
  site?.server.close();
});

type Answer = { seconds: number; sampleRate: number; segments: { start: number; end: number; text?: string }[]; error?: string };
async function post(body: Uint8Array): Promise<{ status: number; json: Answer }> {
  const res = await worker.dispatchFetch('http://localhost/', { method: 'POST', body });
  return { status: res.status, json: (await res.json()) as Answer };
}

describe('examples/listen-worker in workerd', () => {
  it('answers a POSTed WAV with the speech segments Node finds, each transcribed as in Node', async () => {
    const node = await VoiceActivityDetector.create(join(root, 'models/vad/silero-lookalike.onnx'), { min_silence_duration_ms: 500 });
    const asr = await pipeline('automatic-speech-recognition', join(root, 'models/whisper/micro'));
    const want: { start: number; end: number; text: string }[] = [];
    for (const s of await node.detect(readWav(wav16).samples)) {
      want.push({ start: Math.round(s.start * 1000) / 1000, end: Math.round(s.end * 1000) / 1000, text: (await asr(s.audio)).text.trim() });
    }
    await Promise.all([node.release(), asr.dispose()]);
    const [a, b, c] = await Promise.all([post(wav16), post(wav16), post(wav8)]);
    expect(a.status).toBe(200);
    expect(a.json.segments).toHaveLength(2);
    expect(a.json.segments).toEqual(want);
    expect(b.json).toEqual(a.json);
    expect(c.status).toBe(200);
    expect(c.json.sampleRate).toBe(8000);
    expect(c.json.segments).toHaveLength(2);
    c.json.segments.forEach((s, i) => {
      expect(typeof s.text).toBe('string');
      expect(Math.abs(s.start - want[i]!.start)).toBeLessThan(0.1);
      expect(Math.abs(s.end - want[i]!.end)).toBeLessThan(0.2);
    });
  });

  it('refuses what is not a WAV file', async () => {
    const r = await post(new TextEncoder().encode('hello'));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/not a WAV file/);
  });
});
