// `npm run bench`: tessera vs onnxruntime-web (wasm, 1 thread), side by side on this machine.
// Every measurement is a fresh process; engines alternate; each number is the median over
// processes of each process's median run time. Flags: --rounds N, --only a,b, --json, --threads N.
// With --threads N (> 1) each engine is also measured at N threads (tessera `threads: N`,
// onnxruntime-web `env.wasm.numThreads = N`) and a second table gives the N-thread / 1-thread
// ratios; such a run is not the README's record.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { replaceSection } from '../scripts/readme-section.mjs';
import { workloads } from './workloads.mjs';
import { measureGemm, measurePeak } from './peak.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const rounds = Number(flag('rounds', 5));
const only = flag('only', '')?.split(',').filter(Boolean);
const json = args.includes('--json');
const threads = Number(flag('threads', 1));
if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads takes a positive integer, got ${flag('threads')}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function measure(engine, name, t = 1) {
  const out = execFileSync(process.execPath, [new URL('./child.mjs', import.meta.url).pathname, engine, name, String(t)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

const results = [];
for (const [name, w] of Object.entries(workloads)) {
  if (only?.length && !only.includes(name)) continue;
  const runs = { tessera: [], ort: [], tesseraN: [], ortN: [] };
  for (let r = 0; r < rounds; r++) {
    // Alternate which engine goes first so neither always gets the warmer machine.
    const order = r % 2 ? ['ort', 'tessera'] : ['tessera', 'ort'];
    for (const e of order) runs[e].push(measure(e, name));
    if (threads > 1) for (const e of order) runs[`${e}N`].push(measure(e, name, threads));
  }
  const pick = (e, k) => median(runs[e].map((x) => x[k]));
  const row = {
    workload: name,
    title: w.title,
    tesseraMs: pick('tessera', 'medianMs'),
    ortMs: pick('ort', 'medianMs'),
    tesseraFirstMs: pick('tessera', 'firstResultMs'),
    ortFirstMs: pick('ort', 'firstResultMs'),
    // Peak RSS over the process (load + runs) where Node reports it, else RSS at the end.
    tesseraRss: pick('tessera', 'peakRssBytes') || pick('tessera', 'rssBytes'),
    ortRss: pick('ort', 'peakRssBytes') || pick('ort', 'rssBytes'),
  };
  row.ratio = row.tesseraMs / row.ortMs;
  if (threads > 1) {
    row.threads = threads;
    row.tesseraThreadsMs = pick('tesseraN', 'medianMs');
    row.ortThreadsMs = pick('ortN', 'medianMs');
  }
  results.push(row);
  if (!json) process.stderr.write(`  ${name}: done\n`);
}

// The arithmetic ceiling of this engine on this machine, and gemm_f32 on layer shapes against it
// (the kernel every Conv/Gemm/MatMul ends in); bench/peak.mjs explains the measurement.
const peak = await measurePeak();
const gemm = measureGemm(false);
const pct = (g, p) => (p ? `${((100 * g) / p).toFixed(0)}%` : 'n/a');
const peakLines = [
  `f32x4 ceiling (12 chains, one core): mul+add ${peak.simd128.toFixed(1)} GFLOP/s${peak.relaxed ? `, relaxed_madd ${peak.relaxed.toFixed(1)} GFLOP/s (not enabled by default in this Node)` : ''}.`,
  '',
  '| gemm_f32 M×N×K (SIMD128 build) | layer | GFLOP/s | of the mul+add ceiling |',
  '|---|---|---:|---:|',
  ...gemm.map((r) => `| ${r.shape} | ${r.what} | ${r.gflops.toFixed(1)} | ${pct(r.gflops, peak.simd128)} |`),
];

const machine = `${os.cpus()[0]?.model ?? 'cpu'} (${os.cpus().length} cores), Node ${process.version}`;
const date = new Date().toISOString().slice(0, 10);
if (json) {
  console.log(JSON.stringify({ date, machine, rounds, results, peak, gemm }, null, 2));
} else {
  const f = (x, d = 2) => x.toFixed(d);
  console.log(`\ntessera vs onnxruntime-web (wasm, 1 thread) — ${date}, ${machine}, median of ${rounds} processes each\n`);
  console.log('| workload | tessera ms | onnxruntime-web ms | ratio | first result (t / ort) ms | peak RSS (t / ort) MB |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.title} | ${f(r.tesseraMs, 3)} | ${f(r.ortMs, 3)} | **${f(r.ratio)}** | ${f(r.tesseraFirstMs, 1)} / ${f(r.ortFirstMs, 1)} | ${f(r.tesseraRss / 2 ** 20, 0)} / ${f(r.ortRss / 2 ** 20, 0)} |`);
  }
  console.log('\nratio = tessera time / onnxruntime-web time (lower is better).');
  const gm = Math.exp(results.reduce((a, r) => a + Math.log(r.ratio), 0) / results.length);
  console.log(`geometric mean of the ratios: ${f(gm)}\n`);
  console.log(peakLines.join('\n'));
  if (threads > 1) {
    console.log(`\nAt ${threads} threads (tessera threads: ${threads}; onnxruntime-web env.wasm.numThreads = ${threads})\n`);
    console.log(`| workload | tessera ${threads}t ms | tessera ${threads}t / 1t | ort ${threads}t ms | ort ${threads}t / 1t | tessera / ort at ${threads}t |`);
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const r of results) {
      console.log(`| ${r.title} | ${f(r.tesseraThreadsMs, 3)} | ${f(r.tesseraThreadsMs / r.tesseraMs)} | ${f(r.ortThreadsMs, 3)} | ${f(r.ortThreadsMs / r.ortMs)} | **${f(r.tesseraThreadsMs / r.ortThreadsMs)}** |`);
    }
  }
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' / ');
  console.log(`\nLoad average at the end (1 / 5 / 15 min): ${load} on ${os.cpus().length} cores; numbers taken under load are noisy, thread speed-ups most of all.`);
}
// A full run is the README's table and the committed record; a partial one (--only) is not.
if (!only?.length && threads === 1) {
  writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify({ date, machine, rounds, results, peak, gemm }, null, 2)}\n`);
  const f = (x, d = 2) => x.toFixed(d);
  replaceSection('bench', [
    `${date}, ${machine}; median of ${rounds} processes per engine (\`bench/results.json\`).`,
    '',
    '| workload | tessera ms | onnxruntime-web ms | tessera / ort | first result ms (tessera / ort) | peak RSS MB (tessera / ort) |',
    '|---|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.title} | ${f(r.tesseraMs, 3)} | ${f(r.ortMs, 3)} | ${f(r.ratio)} | ${f(r.tesseraFirstMs, 1)} / ${f(r.ortFirstMs, 1)} | ${f(r.tesseraRss / 2 ** 20, 0)} / ${f(r.ortRss / 2 ** 20, 0)} |`),
    '',
    `Geometric mean of tessera / ort: ${f(Math.exp(results.reduce((a, r) => a + Math.log(r.ratio), 0) / results.length))}. The machine is shared: run-to-run noise is large when others use the CPU.`,
    '',
    ...peakLines,
  ].join('\n'));
  if (!json) console.log('README.md and bench/results.json updated');
  // Peak RSS from a path, tessera vs onnxruntime-web (bench/memory.mjs): its own README block.
  execFileSync(process.execPath, [new URL('./memory.mjs', import.meta.url).pathname, '--low', '--whole', '--record'], { stdio: 'inherit' });
}
// Thread runs are kept apart: bench/results-threads.json (which workloads it covers is in it).
if (threads > 1) {
  writeFileSync(new URL('./results-threads.json', import.meta.url), `${JSON.stringify({ date, machine, rounds, threads, loadAverage: os.loadavg(), results }, null, 2)}\n`);
}
execFileSync(process.execPath, [new URL('../scripts/performance-doc.mjs', import.meta.url).pathname], { stdio: 'inherit' });
