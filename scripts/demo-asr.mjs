#!/usr/bin/env node
// Transcription demo: a Whisper folder (transformers.js layout) and a WAV file → text, the
// segments with timestamps, and the time it took (real-time factor), text streamed as decoded.
// Runs on the committed micro folder by default: random weights, so the words are nonsense; point
// it at a real export (e.g. onnx-community/whisper-tiny downloaded beside) for real transcripts.
//   npm run build && node scripts/demo-asr.mjs [folder] [file.wav] [--dtype q8] [--timestamps | --words] [--language fr] [--task translate]
// --words: word timestamps (a folder whose decoder outputs its cross-attention, e.g. models/whisper/micro-timestamped).
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { pipeline, readAudio, TextStreamer } from '../dist/node/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args.splice(i, 2)[1] : undefined; };
const dtype = flag('dtype') ?? 'fp32';
const language = flag('language');
const task = flag('task');
const timestamps = args.includes('--words') ? 'word' : args.includes('--timestamps');
const [folder = `${root}models/whisper/micro`, file = `${root}models/whisper/audio/hello-16k.wav`] = args.filter((a) => !a.startsWith('--'));

const t0 = performance.now();
const asr = await pipeline('automatic-speech-recognition', folder, { dtype });
const audio = readAudio(readFileSync(file), 16000);
console.log(`loaded ${folder} (${dtype}) in ${(performance.now() - t0).toFixed(0)} ms; ${file}: ${(audio.length / 16000).toFixed(1)} s`);
process.stdout.write('streaming: ');
const streamer = new TextStreamer(asr.tokenizer, { skip_prompt: true });
const t1 = performance.now();
const out = await asr(audio, {
  return_timestamps: timestamps, language, task, streamer,
  chunk_length_s: audio.length > 30 * 16000 ? 30 : 0, max_new_tokens: 64,
});
const ms = performance.now() - t1;
console.log(`\ntext: ${JSON.stringify(out.text)}`);
for (const c of out.chunks ?? []) console.log(`  [${c.timestamp[0]} → ${c.timestamp[1]}] ${JSON.stringify(c.text)}`);
console.log(`${ms.toFixed(0)} ms for ${(audio.length / 16000).toFixed(1)} s of audio: real-time factor ${(ms / 1000 / (audio.length / 16000)).toFixed(3)}; decoder plans ${asr.model.stats.decoderPlans}`);
await asr.dispose();
