// A Worker that listens to a POSTed WAV file and answers where the speech is:
//   POST /   a WAV file (PCM 8/16/24/32-bit or float, any rate, any channels)
//         → {"seconds": 9.5, "sampleRate": 16000, "segments": [{"start": 0.77, "end": 3.99}, …]}
// With the variable ASR_MODEL_URL (wrangler.toml [vars]) naming a Whisper model folder (URL base of
// an optimum/transformers.js export), each segment also gets its "text" from tessera's
// automatic-speech-recognition pipeline: only the speech is transcribed.
// The audio is resampled to 16 kHz and streamed through tessera's VoiceActivityDetector (the
// Silero-VAD-v5-style model in models/vad, bundled as a Data module); the detector is made on the
// first request (one per rate: 16 kHz, or 8 kHz for 8 kHz files) and reused while the isolate
// lives; each request starts from a reset. Requests are answered one at a time per detector.
import { VoiceActivityDetector, pipeline, readWav, resample } from 'tessera';
import vadModel from '../../../models/vad/silero-lookalike.onnx';

const MAX_BYTES = 16 * 1024 * 1024; // ~8 minutes of 16-bit 16 kHz mono
const detectors = new Map(); // by rate, made on first use
const MIN_SILENCE_MS = 500; // ends a segment; Silero's default 100 splits sentences at commas

const queues = new Map();
let asr; // the Whisper pipeline, when env.ASR_MODEL_URL names a model folder

/** A detector reads one stream at a time: concurrent requests wait their turn. */
function oneAtATime(rate, job) {
  const turn = (queues.get(rate) ?? Promise.resolve()).then(job);
  queues.set(rate, turn.catch(() => {}));
  return turn;
}

async function detector(rate) {
  if (!detectors.has(rate)) {
    detectors.set(rate, VoiceActivityDetector.create(new Uint8Array(vadModel), { sampling_rate: rate, min_silence_duration_ms: MIN_SILENCE_MS }));
  }
  return detectors.get(rate);
}

export default {
  async fetch(request, env) {
    if (request.method !== 'POST') return new Response('POST a WAV file to get its speech segments\n', { status: 405 });
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.length > MAX_BYTES) return Response.json({ error: `the WAV file is over ${MAX_BYTES} bytes` }, { status: 413 });
    let wav;
    try {
      wav = readWav(bytes);
    } catch (e) {
      return Response.json({ error: `not a WAV file tessera can read: ${e.message}` }, { status: 400 });
    }
    if (!(wav.sampleRate >= 4000 && wav.sampleRate <= 384000) || wav.samples.length === 0) {
      return Response.json({ error: `unusable WAV: ${wav.sampleRate} Hz, ${wav.samples.length} samples` }, { status: 400 });
    }
    // 8 kHz audio (telephony) goes to the model's 8 kHz branch as it is; anything else to 16 kHz
    const rate = wav.sampleRate === 8000 ? 8000 : 16000;
    const samples = resample(wav.samples, wav.sampleRate, rate);
    const found = await oneAtATime(rate, async () => (await detector(rate)).detect(samples));
    const segments = found.map((s) => ({ start: round(s.start), end: round(s.end) }));
    if (env?.ASR_MODEL_URL) {
      asr ??= pipeline('automatic-speech-recognition', env.ASR_MODEL_URL);
      const whisper = await asr;
      for (const [i, s] of found.entries()) segments[i].text = (await whisper(resample(s.audio, rate, 16000))).text.trim();
    }
    return Response.json({ seconds: round(samples.length / rate), sampleRate: wav.sampleRate, segments });
  },
};

function round(x) {
  return Math.round(x * 1000) / 1000;
}
