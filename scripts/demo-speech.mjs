// The speech part of `npm start`, on the built package (dist/): the voice activity detector
// (models/vad, a Silero-VAD-v5-interface look-alike trained here on espeak-ng speech) finds the
// speech in models/vad/speech-16k.wav as the file streams in, and the automatic-speech-recognition
// pipeline transcribes each segment with models/whisper/micro — Whisper's architecture and token
// layout with random weights, so the words are nonsense and the demo says so. Point it at a real
// Whisper export (transformers.js layout, e.g. whisper-tiny) and your own WAV with
//   TESSERA_ASR=/path/to/whisper-tiny TESSERA_WAV=/path/to/clip.wav npm start
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VoiceActivityDetector, pipeline, readAudio } from '../dist/node/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export async function speechDemo() {
  const folder = process.env.TESSERA_ASR ?? `${root}models/whisper/micro`;
  const file = process.env.TESSERA_WAV ?? `${root}models/vad/speech-16k.wav`;
  const label = process.env.TESSERA_ASR ? `your model (${folder})` : 'models/whisper/micro, random weights (the words are nonsense; set TESSERA_ASR to a real export)';
  const audio = readAudio(readFileSync(file), 16000);
  const seconds = audio.length / 16000;
  const vad = await VoiceActivityDetector.create(`${root}models/vad/silero-lookalike.onnx`, { min_silence_duration_ms: 500 });
  const asr = await pipeline('automatic-speech-recognition', folder, { dtype: process.env.TESSERA_ASR_DTYPE ?? 'fp32' });
  console.log(`Speech — ${file.replace(root, '')} (${seconds.toFixed(1)} s): voice activity (models/vad), then ${label}:`);
  // The file arrives as a microphone would deliver it: 100 ms at a time.
  async function* microphone() {
    for (let at = 0; at < audio.length; at += 1600) yield audio.subarray(at, at + 1600);
  }
  const t = performance.now();
  let spoken = 0;
  for await (const segment of vad.segments(microphone())) {
    const { text } = await asr(segment.audio, { max_new_tokens: 32 });
    spoken += segment.end - segment.start;
    console.log(`  ${segment.start.toFixed(2).padStart(5)} → ${segment.end.toFixed(2).padStart(5)} s  ${JSON.stringify(text.trim())}`);
  }
  const ms = performance.now() - t;
  console.log(`  (${spoken.toFixed(1)} s of speech found and transcribed in ${ms.toFixed(0)} ms: ${(ms / 1000 / seconds).toFixed(3)} × real time)\n`);
  await vad.release();
  await asr.dispose();
}
