// Speech recognition bench: real-time factor (processing time ÷ audio length; < 1 is faster than
// real time) of pipeline('automatic-speech-recognition') on Whisper tiny- and base-shaped folders
// (random weights, scripts/make-whisper.mjs → bench/out/whisper-{tiny,base}), fp32 and q8, one
// thread: tessera vs transformers.js v4 on onnxruntime-web (wasm), injected as bench/pipeline.mjs
// does. Audio: models/whisper/audio/long-8k.wav (33.5 s of espeak-ng speech, read and resampled by
// tessera's readAudio; transformers.js cannot read audio in Node), chunk_length_s 30 with 5 s
// strides (two windows). Random weights rarely emit EOS, so every window decodes exactly
// --tokens new tokens (default 96, about what 30 s of real speech gives) in both engines; the
// bench checks that both return the same text. Each engine runs in its own process; the first
// call (which also prepares plans and packs weights) is reported apart, then the median of --reps.
// --rounds processes per engine, alternating tessera, transformers.js, tessera, … so that a slow
// phase of the machine (this VM's come and go by ±30 % for minutes) lands on both: each column is
// the median over the rounds, the ratio the median of each round's tessera ÷ transformers.js, and
// every round's ratio is printed beside it.
//   npm run build && node bench/asr.mjs [--sizes tiny,base] [--formats fp32,q8] [--engines tessera,tjs] [--tokens 96] [--reps 3] [--rounds 3]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { useOrtWebForTransformersJs } from './transformers-js-on-ort-web.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const tokens = Number(arg('tokens', '96'));
const reps = Number(arg('reps', '3'));
const rounds = Number(arg('rounds', '3'));
// Of an even count, the mean of the middle two.
const median = (a) => { const s = [...a].sort((x, y) => x - y), h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };

async function child(size, format, engine) {
  const { readAudio } = await import('../dist/node/index.js');
  const audio = readAudio(readFileSync(`${root}models/whisper/audio/long-8k.wav`), 16000);
  const seconds = audio.length / 16000;
  const folder = `whisper-${size}`, parent = `${root}bench/out/`;
  const opts = { chunk_length_s: 30, stride_length_s: 5, max_new_tokens: tokens };
  let asr;
  const t0 = performance.now();
  if (engine === 'tessera') {
    const { pipeline } = await import('../dist/node/index.js');
    asr = await pipeline('automatic-speech-recognition', parent + folder, { dtype: format, threads: 1 });
  } else {
    await useOrtWebForTransformersJs(1);
    const tjs = await import('@huggingface/transformers');
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = parent;
    asr = await tjs.pipeline('automatic-speech-recognition', folder, {
      dtype: format, device: { encoder_model: '', decoder_model_merged: '' }, session_options: { executionProviders: ['wasm'] },
    });
  }
  const loadMs = performance.now() - t0;
  let t = performance.now();
  const first = await asr(audio, opts);
  const firstMs = performance.now() - t;
  const times = [], cpus = [];
  for (let i = 0; i < reps; i++) {
    t = performance.now();
    const c0 = process.cpuUsage();
    await asr(audio, opts);
    const c = process.cpuUsage(c0);
    times.push(performance.now() - t);
    cpus.push((c.user + c.system) / 1000);
  }
  process.stdout.write(JSON.stringify({ loadMs, firstMs, ms: median(times), cpuMs: median(cpus), seconds, text: first.text }));
}

async function main() {
  const sizes = arg('sizes', 'tiny,base').split(',');
  const formats = arg('formats', 'fp32,q8').split(',');
  const engines = arg('engines', 'tessera,tjs').split(',');
  const uptime = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`${new Date().toISOString()}, load average ${uptime()}; ${tokens} new tokens per window; per process the median of ${reps} calls, then the median of ${rounds} alternating processes per engine`);
  console.log('| size | format | engine | load ms | first call ms | call ms | call CPU ms | audio s | RTF | × faster than real time | vs transformers.js (each round) | CPU vs transformers.js |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const size of sizes) {
    if (!existsSync(`${root}bench/out/whisper-${size}/onnx/encoder_model_quantized.onnx`)) {
      // Made on first use (random weights, ~1 minute a size), as the other benches' large models.
      execFileSync(process.execPath, [`${root}scripts/make-whisper.mjs`, '--size', size, '--out', `${root}bench/out/whisper-${size}`, '--formats', 'fp32,q8'], { stdio: ['ignore', 2, 'inherit'] });
    }
    for (const format of formats) {
      const runs = Object.fromEntries(engines.map((e) => [e, []]));
      for (let round = 0; round < rounds; round++) {
        for (const engine of engines) {
          const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', size, format, engine, '--tokens', String(tokens), '--reps', String(reps)], { maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'] });
          runs[engine].push(JSON.parse(out.toString()));
        }
      }
      const rows = Object.fromEntries(engines.map((e) => [e, Object.fromEntries(['loadMs', 'firstMs', 'ms', 'cpuMs', 'seconds'].map((k) => [k, median(runs[e].map((r) => r[k]))]))]));
      const texts = new Set(engines.flatMap((e) => runs[e].map((r) => r.text)));
      const ratios = (key) => runs.tessera.map((r, i) => r[key] / runs.tjs[i][key]);
      for (const engine of engines) {
        const r = rows[engine];
        const rtf = r.ms / 1000 / r.seconds;
        const paired = engine === 'tessera' && runs.tjs;
        const vs = paired ? `${median(ratios('ms')).toFixed(2)}× its time (${ratios('ms').map((x) => x.toFixed(2)).join(', ')})` : '';
        const vsCpu = paired ? `${median(ratios('cpuMs')).toFixed(2)}×` : '';
        console.log(`| ${size} | ${format} | ${engine === 'tjs' ? 'transformers.js (ort-web)' : 'tessera'} | ${r.loadMs.toFixed(0)} | ${r.firstMs.toFixed(0)} | ${r.ms.toFixed(0)} | ${r.cpuMs.toFixed(0)} | ${r.seconds.toFixed(1)} | ${rtf.toFixed(3)} | ${(1 / rtf).toFixed(1)} | ${vs} | ${vsCpu} |`);
      }
      if (texts.size > 1) console.log(`| ${size} | ${format} | (the engines' texts differ) |`);
    }
  }
  console.log(`end ${new Date().toISOString()}, load average ${uptime()}`);
}

const c = process.argv.indexOf('--child');
if (c > 0) await child(process.argv[c + 1], process.argv[c + 2], process.argv[c + 3]);
else await main();
