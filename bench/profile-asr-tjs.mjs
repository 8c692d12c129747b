// Where transformers.js v4 on onnxruntime-web spends a chunked call (the peer of bench/asr.mjs),
// per onnxruntime session: runs and wall time of the encoder and the decoder, one thread.
//   node bench/profile-asr-tjs.mjs [--size tiny] [--format fp32] [--tokens 96] [--calls 2]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { useOrtWebForTransformersJs } from './transformers-js-on-ort-web.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const size = arg('size', 'tiny'), format = arg('format', 'fp32'), tokens = Number(arg('tokens', '96')), calls = Number(arg('calls', '2'));
const { readAudio } = await import('../dist/node/index.js');
const audio = readAudio(readFileSync(`${root}models/whisper/audio/long-8k.wav`), 16000);
const ort = await useOrtWebForTransformersJs(1);
const tjs = await import('@huggingface/transformers');
tjs.env.allowRemoteModels = false;
tjs.env.localModelPath = `${root}bench/out/`;
tjs.env.logLevel = 'error';
const asr = await tjs.pipeline('automatic-speech-recognition', `whisper-${size}`, {
  dtype: format, device: { encoder_model: '', decoder_model_merged: '' }, session_options: { executionProviders: ['wasm'] },
});
const opts = { chunk_length_s: 30, stride_length_s: 5, max_new_tokens: tokens };
await asr(audio, opts); // first call
const stats = new Map();
const run = ort.InferenceSession.prototype.run;
ort.InferenceSession.prototype.run = async function (...args) {
  const t = performance.now();
  const r = await run.apply(this, args);
  const s = stats.get(this) ?? { name: this.inputNames.includes('input_features') ? 'encoder' : this.inputNames.includes('input_ids') ? 'decoder' : `other (${this.inputNames.join(', ')})`, runs: 0, ms: 0 };
  s.runs++; s.ms += performance.now() - t;
  stats.set(this, s);
  return r;
};
for (let i = 0; i < calls; i++) {
  stats.clear();
  const t0 = performance.now();
  await asr(audio, opts);
  const total = performance.now() - t0;
  const parts = [...stats.values()].map((s) => `${s.name} ${s.runs} runs ${s.ms.toFixed(0)} ms`);
  const inRuns = [...stats.values()].reduce((n, s) => n + s.ms, 0);
  console.log(`${size} ${format}: call ${total.toFixed(0)} ms = ${parts.join(' + ')} + ${(total - inRuns).toFixed(0)} ms outside runs; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
}
