// Profiles pipeline('automatic-speech-recognition') on a Whisper-shaped folder (bench/out/whisper-<size>,
// scripts/make-whisper.mjs): time per op type for the encoder runs and for the decoder steps, one thread.
//   npm run build && node bench/profile-asr.mjs [--size tiny] [--format fp32] [--tokens 96] [--nodes [--top 12]]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const size = arg('size', 'tiny'), format = arg('format', 'fp32'), tokens = Number(arg('tokens', '96'));
const lib = await import('../dist/node/index.js');
const audio = lib.readAudio(readFileSync(`${root}models/whisper/audio/long-8k.wav`), 16000);
const asr = await lib.pipeline('automatic-speech-recognition', `${root}bench/out/whisper-${size}`, { dtype: format, threads: 1 });
const opts = { chunk_length_s: 30, stride_length_s: 5, max_new_tokens: tokens };
await asr(audio, opts); // first call: plans, packing
const profiles = [];
const orig = lib.InferenceSession.prototype.run;
lib.InferenceSession.prototype.run = async function (feeds, fetches, options) {
  // run(feeds, options) or run(feeds, fetches, options) (the Whisper decoder fetches into one buffer).
  const isOptions = fetches == null || (!Array.isArray(fetches) && Object.keys(fetches).every((k) => k === 'profile' || k === 'tag'));
  const t = process.cpuUsage();
  const r = await (isOptions ? orig.call(this, feeds, { ...fetches, profile: true }) : orig.call(this, feeds, fetches, { ...options, profile: true }));
  const u = process.cpuUsage(t);
  profiles.push({ session: this, cpuMs: (u.user + u.system) / 1000, p: this.lastProfile });
  return r;
};
const c0 = process.cpuUsage(), t0 = performance.now();
await asr(audio, opts);
const c1 = process.cpuUsage(c0);
console.log(`${size} ${format}: call ${(performance.now() - t0).toFixed(0)} ms wall, ${((c1.user + c1.system) / 1000).toFixed(0)} ms cpu, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
const sessions = [...new Set(profiles.map((x) => x.session))];
for (const s of sessions) {
  const runs = profiles.filter((x) => x.session === s);
  const by = {};
  let total = 0, over = 0, cpu = 0;
  for (const { p, cpuMs } of runs) {
    total += p.totalMs; over += p.overheadMs; cpu += cpuMs;
    for (const n of p.nodes) by[n.opType] = (by[n.opType] ?? 0) + n.ms;
  }
  console.log(`  session ${sessions.indexOf(s)}: ${runs.length} runs, profile total ${total.toFixed(0)} ms, overhead ${over.toFixed(0)} ms, cpu ${cpu.toFixed(0)} ms`);
  for (const [k, v] of Object.entries(by).sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log(`    ${k.padEnd(28)} ${v.toFixed(1).padStart(8)} ms`);
  if (process.argv.includes('--nodes')) {
    const byNode = {};
    for (const { p } of runs.slice(runs.length > 2 ? 2 : 0)) for (const n of p.nodes) byNode[n.node] = (byNode[n.node] ?? 0) + n.ms;
    for (const [k, v] of Object.entries(byNode).sort((a, b) => b[1] - a[1]).slice(0, Number(arg("top", "12")))) console.log(`      ${k.slice(0, 60).padEnd(60)} ${v.toFixed(1).padStart(8)} ms`);
  }
}
