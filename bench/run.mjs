// `npm run bench`: tessera vs onnxruntime-web (wasm, 1 thread), side by side on this machine.
// Every measurement is a fresh process; engines alternate; each number is the median over
// processes of each process's median run time. Flags: --rounds N, --only a,b, --json.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { replaceSection } from '../scripts/readme-section.mjs';
import { workloads } from './workloads.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const rounds = Number(flag('rounds', 5));
const only = flag('only', '')?.split(',').filter(Boolean);
const json = args.includes('--json');
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function measure(engine, name) {
  const out = execFileSync(process.execPath, [new URL('./child.mjs', import.meta.url).pathname, engine, name], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

const results = [];
for (const [name, w] of Object.entries(workloads)) {
  if (only?.length && !only.includes(name)) continue;
  const runs = { tessera: [], ort: [] };
  for (let r = 0; r < rounds; r++) {
    // Alternate which engine goes first so neither always gets the warmer machine.
    const order = r % 2 ? ['ort', 'tessera'] : ['tessera', 'ort'];
    for (const e of order) runs[e].push(measure(e, name));
  }
  const pick = (e, k) => median(runs[e].map((x) => x[k]));
  const row = {
    workload: name,
    title: w.title,
    tesseraMs: pick('tessera', 'medianMs'),
    ortMs: pick('ort', 'medianMs'),
    tesseraFirstMs: pick('tessera', 'firstResultMs'),
    ortFirstMs: pick('ort', 'firstResultMs'),
    tesseraRss: pick('tessera', 'rssBytes'),
    ortRss: pick('ort', 'rssBytes'),
  };
  row.ratio = row.tesseraMs / row.ortMs;
  results.push(row);
  if (!json) process.stderr.write(`  ${name}: done\n`);
}

const machine = `${os.cpus()[0]?.model ?? 'cpu'} (${os.cpus().length} cores), Node ${process.version}`;
const date = new Date().toISOString().slice(0, 10);
if (json) {
  console.log(JSON.stringify({ date, machine, rounds, results }, null, 2));
} else {
  const f = (x, d = 2) => x.toFixed(d);
  console.log(`\ntessera vs onnxruntime-web (wasm, 1 thread) — ${date}, ${machine}, median of ${rounds} processes each\n`);
  console.log('| workload | tessera ms | onnxruntime-web ms | ratio | first result (t / ort) ms | RSS (t / ort) MB |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.title} | ${f(r.tesseraMs, 3)} | ${f(r.ortMs, 3)} | **${f(r.ratio)}** | ${f(r.tesseraFirstMs, 1)} / ${f(r.ortFirstMs, 1)} | ${f(r.tesseraRss / 2 ** 20, 0)} / ${f(r.ortRss / 2 ** 20, 0)} |`);
  }
  console.log('\nratio = tessera time / onnxruntime-web time (lower is better).');
}
// A full run is the README's table and the committed record; a partial one (--only) is not.
if (!only?.length) {
  writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify({ date, machine, rounds, results }, null, 2)}\n`);
  const f = (x, d = 2) => x.toFixed(d);
  replaceSection('bench', [
    `${date}, ${machine}; median of ${rounds} processes per engine (\`bench/results.json\`).`,
    '',
    '| workload | tessera ms | onnxruntime-web ms | tessera / ort | first result ms (tessera / ort) |',
    '|---|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.title} | ${f(r.tesseraMs, 3)} | ${f(r.ortMs, 3)} | ${f(r.ratio)} | ${f(r.tesseraFirstMs, 1)} / ${f(r.ortFirstMs, 1)} |`),
  ].join('\n'));
  if (!json) console.log('README.md and bench/results.json updated');
}
