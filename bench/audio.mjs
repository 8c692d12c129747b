// `node bench/audio.mjs [--rounds N]` (after `npm run build`): Whisper's log-mel features for one
// 30 s window (80 mels × 3000 frames), tessera's WhisperFeatureExtractor (Wasm kernels) against
// transformers.js v4's on onnxruntime-web (its mel matmul is an ORT session; wasm, one thread),
// each in fresh processes, engines alternating; the median over processes of each process's
// median of 10 calls after 3 warm-ups. Also tessera's resample() of 30 s from 44.1 kHz to 16 kHz.
// The audio: the espeak-ng fixture (test/fixtures/audio) repeated over 30 s.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { useOrtWebForTransformersJs } from './transformers-js-on-ort-web.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const CONFIG = { feature_size: 80, sampling_rate: 16000, hop_length: 160, n_fft: 400, chunk_length: 30, n_samples: 480000, nb_max_frames: 3000, padding_value: 0 };
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function audio30s() {
  const { readAudio } = await import('../dist/node/index.js');
  const speech = readAudio(readFileSync(`${root}test/fixtures/audio/speech-espeak-22k.wav`));
  const a = new Float32Array(480000);
  for (let i = 0; i < a.length; i += speech.length) a.set(speech.subarray(0, Math.min(speech.length, a.length - i)), i);
  return a;
}

async function child(engine) {
  const audio = await audio30s();
  let call;
  if (engine === 'tessera') {
    const { WhisperFeatureExtractor } = await import('../dist/node/index.js');
    const fe = await WhisperFeatureExtractor.create(CONFIG);
    call = async () => fe.extract(audio);
  } else if (engine === 'resample') {
    const { resample } = await import('../dist/node/index.js');
    const at44 = new Float32Array(30 * 44100).map((_, i) => Math.sin(i * 0.05) * 0.5);
    call = async () => resample(at44, 44100, 16000);
  } else {
    await useOrtWebForTransformersJs(1);
    const { WhisperFeatureExtractor } = await import('@huggingface/transformers');
    const fe = new WhisperFeatureExtractor(structuredClone(CONFIG));
    call = async () => fe(audio);
  }
  for (let i = 0; i < 3; i++) await call();
  const times = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  console.log(JSON.stringify({ medianMs: median(times) }));
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]);
} else {
  const i = process.argv.indexOf('--rounds');
  const rounds = i > 0 ? Number(process.argv[i + 1]) : 3;
  const runs = { tessera: [], transformers: [], resample: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? ['transformers', 'tessera', 'resample'] : ['tessera', 'transformers', 'resample'];
    for (const e of order) {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', e], { encoding: 'utf8' });
      runs[e].push(JSON.parse(out.trim().split('\n').pop()).medianMs);
    }
  }
  const t = median(runs.tessera), j = median(runs.transformers), rs = median(runs.resample);
  console.log('| 30 s of audio, one thread | tessera | transformers.js 4 (onnxruntime-web) | ratio |');
  console.log('|---|---:|---:|---:|');
  console.log(`| Whisper log-mel features (80 × 3000) | ${t.toFixed(1)} ms | ${j.toFixed(1)} ms | ${(t / j).toFixed(3)}× |`);
  console.log(`| resample 44.1 kHz → 16 kHz | ${rs.toFixed(1)} ms | — (browser AudioContext only) | |`);
}
