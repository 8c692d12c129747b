// Profiles decode steps of the bench/generation.mjs decoder per op type (one thread): where a
// decode step's time goes, per format. Run after `npm run build`:
//   node bench/profile-decode.mjs [--formats q4,q4i8,q8,fp32] [--ctx 128] [--tokens 4] [--threads 1]
// (also prints the prefill step's time per op type)
import { fileURLToPath } from 'node:url';
const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const dir = arg('dir', `${root}bench/out/qwen3-0.6b-8l`);
const formats = arg('formats', 'q4,q8,fp32').split(',');
const ctx = Number(arg('ctx', '128'));
const tokens = Number(arg('tokens', '4'));
const FILE = { fp32: 'model.onnx', q8: 'model_quantized.onnx', q4: 'model_q4.onnx', q4i8: 'model_q4.onnx' };
const { GenerationSession } = await import('../dist/node/index.js');
for (const f of formats) {
  const gen = await GenerationSession.create(`${dir}/onnx/${FILE[f]}`, { threads: Number(arg('threads', '1')), maxLength: ctx + tokens + 8, ...(f === 'q4i8' ? { q4Compute: 'int8' } : {}) });
  const s = gen.session;
  const orig = s.run.bind(s);
  const profiles = [];
  const stepMs = [];
  s.run = async (feeds) => { const t = performance.now(); const r = await orig(feeds, { profile: true }); stepMs.push(performance.now() - t); profiles.push(s.lastProfile); return r; };
  let s0 = 1;
  const ids = Array.from({ length: ctx }, () => { s0 = (Math.imul(s0, 1664525) + 1013904223) >>> 0; return 1000 + (s0 % 50000); });
  const times = [];
  await gen.generate(ids, { max_new_tokens: tokens + 1, min_new_tokens: tokens + 1, streamer: { put: () => times.push(performance.now()), end() {} } });
  const decode = profiles.slice(1);
  console.log('  per step total/overhead ms:', profiles.map((p) => `${p.totalMs.toFixed(0)}/${p.overheadMs.toFixed(0)}`).join(' '), 'plans', gen.stats.plans);
  const byType = new Map();
  const top = new Map();
  for (const p of decode) for (const n of p.nodes) {
    byType.set(n.opType, (byType.get(n.opType) ?? 0) + n.ms / decode.length);
    const k = `${n.opType} ${n.node} ${JSON.stringify(n.inputs)}`;
    top.set(k, (top.get(k) ?? 0) + n.ms / decode.length);
  }
  const avg = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  const wall = times.slice(2).map((t, i) => t - times[i + 1]);
  console.log(`\n== ${f}: decode step wall ${avg(wall).toFixed(1)} ms (generate loop), run() ${avg(stepMs.slice(1)).toFixed(1)} ms, profile total ${avg(decode.map((p) => p.totalMs)).toFixed(1)}, overhead ${avg(decode.map((p) => p.overheadMs)).toFixed(1)} ms; prefill ${stepMs[0].toFixed(0)} ms`);
  for (const [t, ms] of [...byType].sort((a, b) => b[1] - a[1])) console.log(`  ${t.padEnd(28)} ${ms.toFixed(2)} ms`);
  console.log('  top nodes:');
  for (const [k, ms] of [...top].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`    ${ms.toFixed(2)} ms  ${k.slice(0, 160)}`);
  // The prefill step (the prompt's ctx tokens; the first run also pays one-time packing).
  const pre = profiles[0];
  const preType = new Map();
  for (const n of pre.nodes) preType.set(n.opType, (preType.get(n.opType) ?? 0) + n.ms);
  console.log(`  prefill (${ctx} tokens) by op type, profile total ${pre.totalMs.toFixed(0)} ms, overhead ${pre.overheadMs.toFixed(0)} ms:`);
  for (const [t, ms] of [...preType].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${t.padEnd(28)} ${ms.toFixed(2)} ms`);
  const preTop = [...pre.nodes].sort((a, b) => b.ms - a.ms).slice(0, 6);
  for (const n of preTop) console.log(`    ${n.ms.toFixed(2)} ms  ${`${n.opType} ${n.node} ${JSON.stringify(n.inputs)}`.slice(0, 160)}`);
  await gen.release();
}
