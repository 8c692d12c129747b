// Listen to a WAV file: find its speech with the voice activity detector, print each segment as it
// is found, and transcribe only the speech when a Whisper model folder is given.
//
//   node examples/listen/node.mjs file.wav                       # speech segments
//   node examples/listen/node.mjs file.wav models/whisper/micro  # + a transcript of each segment
//   options: --vad model.onnx (default: models/vad/silero-lookalike.onnx), --min-silence-ms 500
//            (silence that ends a segment; Silero's default 100 splits sentences at commas),
//            --chunk-ms 100, --json
//
// The file is streamed to the detector in chunks, as a microphone would deliver it.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { VoiceActivityDetector, pipeline, readWav, resample } from 'tessera';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const [, value] = args.splice(i, 2);
  return value;
};
const json = args.includes('--json') && Boolean(args.splice(args.indexOf('--json'), 1));
const vadModel = flag('--vad', fileURLToPath(new URL('../../models/vad/silero-lookalike.onnx', import.meta.url)));
const chunkMs = Number(flag('--chunk-ms', '100'));
const minSilenceMs = Number(flag('--min-silence-ms', '500'));
const [wavPath, asrFolder] = args;
if (!wavPath) {
  console.error('usage: node examples/listen/node.mjs file.wav [whisper-model-folder] [--vad model.onnx] [--min-silence-ms 500] [--chunk-ms 100] [--json]');
  process.exit(2);
}

const wav = readWav(await readFile(wavPath));
// 8 kHz audio (telephony) goes to the model's 8 kHz branch as it is; anything else to 16 kHz
const rate = wav.sampleRate === 8000 ? 8000 : 16000;
const samples = resample(wav.samples, wav.sampleRate, rate);
const vad = await VoiceActivityDetector.create(vadModel, { sampling_rate: rate, min_silence_duration_ms: minSilenceMs });
const asr = asrFolder ? await pipeline('automatic-speech-recognition', asrFolder) : undefined;

/** The file as a live stream: chunks of chunkMs, one per tick. */
async function* microphone() {
  const n = Math.max(1, Math.round((rate * chunkMs) / 1000));
  for (let at = 0; at < samples.length; at += n) {
    yield samples.subarray(at, at + n);
    await new Promise((r) => setImmediate(r));
  }
}

const t0 = performance.now();
const found = [];
for await (const segment of vad.segments(microphone())) {
  const item = { start: round(segment.start), end: round(segment.end) };
  if (asr) item.text = (await asr(resample(segment.audio, rate, 16000))).text.trim(); // Whisper takes 16 kHz
  found.push(item);
  if (!json) console.log(`${fmt(item.start)} → ${fmt(item.end)}${item.text !== undefined ? `  ${item.text}` : ''}`);
}
const ms = performance.now() - t0;
if (json) console.log(JSON.stringify({ file: wavPath, seconds: round(samples.length / rate), segments: found }));
else console.log(`${found.length} speech segment(s) in ${fmt(samples.length / rate)} of audio (${wav.sampleRate} Hz, ${wav.channels} ch); ${ms.toFixed(0)} ms`);
await vad.release();
await asr?.dispose?.();

function round(x) {
  return Math.round(x * 1000) / 1000;
}
function fmt(s) {
  return `${s.toFixed(2).padStart(6)} s`;
}
