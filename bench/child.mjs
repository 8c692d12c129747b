// One measurement in a fresh process: load a model in one engine, warm up, time repeated runs.
// Prints one JSON line. Usage: node bench/child.mjs <engine> <workload> [threads]
import { workloads } from './workloads.mjs';

const [engine, name, threadArg] = process.argv.slice(2);
const threads = Number(threadArg ?? 1);
const w = workloads[name];
if (!w) throw new Error(`unknown workload ${name}`);
// Whole-pipeline workloads (bench/pipeline.mjs): 'ort' there is transformers.js on onnxruntime-web.
if (w.pipeline) {
  const { measurePipeline } = await import('./pipeline.mjs');
  console.log(JSON.stringify(await measurePipeline(engine, name, w, threads)));
  process.exit(0);
}

const lib = engine === 'tessera' ? await import('../dist/node/index.js') : await import('onnxruntime-web');
if (engine === 'ort') {
  lib.env.wasm.numThreads = threads;
  lib.env.logLevel = 'error';
}
const raw = w.feeds();
const feeds = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, new lib.Tensor(v.type, v.data, v.dims)]));

const model = typeof w.model === 'function' ? await w.model() : w.model;
const t0 = performance.now();
const session = await lib.InferenceSession.create(model, engine === 'ort' ? { executionProviders: ['wasm'] } : { threads });
await session.run(feeds);
const firstResultMs = performance.now() - t0;
for (let i = 0; i < (w.warmup ?? Math.min(10, w.reps)); i++) await session.run(feeds);
if (process.env.BENCH_PROFILE && engine === 'tessera') {
  await session.run(feeds, { profile: true });
  const by = {};
  for (const n of session.lastProfile.nodes) by[n.opType] = (by[n.opType] ?? 0) + n.ms;
  console.error(JSON.stringify(Object.entries(by).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, +v.toFixed(2)])));
}
const times = [];
for (let i = 0; i < w.reps; i++) {
  const t = performance.now();
  await session.run(feeds);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const rss = process.memoryUsage().rss;
// Peak RSS of the whole process (create + runs), where Node reports it (resourceUsage maxRSS is in KiB).
const peakRss = (process.resourceUsage?.().maxRSS ?? 0) * 1024;
console.log(JSON.stringify({ engine, workload: name, threads, medianMs: times[times.length >> 1], firstResultMs, rssBytes: rss, peakRssBytes: peakRss }));
