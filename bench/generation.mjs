// Text generation bench: prefill of 128 tokens and decode ms/token at context 128 and 1,024 on the
// Qwen3-0.6B-shaped 8-layer decoder scripts/make-decoder.mjs writes (fp32, q8, q4), tessera
// (GenerationSession, resident KV cache) vs onnxruntime-web driven as transformers.js drives it
// (present → past through JavaScript, attention_mask grown per step), with each format's floor:
// bytes of weights one decode step reads ÷ this machine's single-core read bandwidth
// (bench/bandwidth.mjs). Greedy, seeded random prompt ids. Run after `npm run build`:
//   node bench/generation.mjs [--dir bench/out/qwen3-0.6b-8l] [--formats fp32,q8,q4,q4i8] [--threads 1]
//                             [--contexts 128,1024] [--tokens 8] [--engines tessera,ort] [--reps 3]
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { measureBandwidth } from './bandwidth.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const dir = arg('dir', `${root}bench/out/qwen3-0.6b-8l`);
const formats = arg('formats', 'fp32,q8,q4,q4i8').split(',');
const threadCounts = arg('threads', '1').split(',').map(Number);
const contexts = arg('contexts', '128,1024').split(',').map(Number);
const tokens = Number(arg('tokens', '8'));
const engines = arg('engines', 'tessera,ort').split(',');
// q4i8: the q4 file run with GenerationSession's q4Compute: 'int8' (accuracy_level 4; tessera only).
const FILE = { fp32: 'model.onnx', q8: 'model_quantized.onnx', q4: 'model_q4.onnx', q4i8: 'model_q4.onnx' };

/** Bytes of the weights a decode step reads: initializers read by a matmul (through a Transpose). */
function decodeWeightBytes(path) {
  const m = onnxProto.onnx.ModelProto.decode(readFileSync(path));
  const g = m.graph;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const prod = new Map();
  for (const n of g.node) for (const o of n.output) prod.set(o, n);
  const bytesOf = (t) => (t.rawData?.length ?? 0) || ((t.floatData?.length ?? 0) + (t.int32Data?.length ?? 0)) * 4;
  const seen = new Set();
  let total = 0;
  for (const n of g.node) {
    if (!['MatMul', 'MatMulNBits', 'MatMulInteger', 'Gemm'].includes(n.opType)) continue;
    for (const x of n.input.slice(1)) {
      let name = x;
      const p = prod.get(x);
      if (p && (p.opType === 'Transpose' || p.opType === 'DequantizeLinear')) name = p.input[0];
      const t = inits.get(name);
      if (t && !seen.has(name)) { seen.add(name); total += bytesOf(t); }
    }
  }
  return total;
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
function prompt(n, seed) {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return 1000 + (s % 50000); });
}

async function tessera(path, threads, P, extra = {}) {
  const { GenerationSession } = await import('../dist/node/index.js');
  const t0 = performance.now();
  const gen = await GenerationSession.create(path, { threads, maxLength: Math.max(...contexts) + tokens + 8, ...extra });
  const loadMs = performance.now() - t0;
  const out = {};
  for (const ctx of P) {
    const times = [];
    const streamer = { put: () => times.push(performance.now()), end: () => {} };
    await gen.generate(prompt(ctx, ctx), { max_new_tokens: tokens + 1, min_new_tokens: tokens + 1, streamer });
    const steps = times.slice(2).map((t, i) => t - times[i + 1]);
    out[ctx] = { prefillMs: times[1] - times[0], decodeMs: median(steps) };
  }
  out.path = gen.kvCache;
  await gen.release();
  return { loadMs, ...out };
}

async function ortEngine(path, threads, P) {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  const t0 = performance.now();
  const s = await ort.InferenceSession.create(path, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const loadMs = performance.now() - t0;
  const pasts = s.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const i64 = (v, dims) => new ort.Tensor('int64', BigInt64Array.from(v, BigInt), dims);
  const out = {};
  for (const ctx of P) {
    let feeds = {};
    for (const n of pasts) feeds[n] = new ort.Tensor('float32', new Float32Array(0), [1, 8, 0, 128]);
    let ids = prompt(ctx, ctx), past = 0;
    const times = [];
    for (let step = 0; step <= tokens; step++) {
      const S = ids.length;
      feeds.input_ids = i64(ids, [1, S]);
      feeds.attention_mask = i64(new Array(past + S).fill(1), [1, past + S]);
      feeds.position_ids = i64(Array.from({ length: S }, (_, i) => past + i), [1, S]);
      const t = performance.now();
      const r = await s.run(feeds);
      const logits = r.logits.data, V = r.logits.dims[2];
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[(S - 1) * V + v] > logits[(S - 1) * V + best]) best = v;
      times.push(performance.now() - t);
      const next = {};
      for (const n of pasts) next[n] = r[n.replace('past_key_values', 'present')];
      feeds = next; past += S; ids = [best];
    }
    out[ctx] = { prefillMs: times[0], decodeMs: median(times.slice(1)) };
  }
  await s.release();
  return { loadMs, ...out };
}

// Each (format, engine, threads) is measured in fresh processes (`--child`), `--reps` of them,
// alternating which engine goes first; a cell is the median over processes. One process running
// both engines one after the other let the second inherit the first's heap (GBs for onnxruntime-web)
// and its garbage collections.
if (process.argv[2] === '--child') {
  const [, , , f, e, t] = process.argv;
  const path = `${dir}/onnx/${FILE[f]}`;
  const r = e === 'tessera' ? await tessera(path, Number(t), contexts, f === 'q4i8' ? { q4Compute: 'int8' } : {}) : await ortEngine(path, Number(t), contexts);
  console.log(JSON.stringify(r));
  process.exit(0);
}
const reps = Number(arg('reps', '3'));
const { execFileSync } = await import('node:child_process');
const passOn = process.argv.slice(2);
function measureIn(f, e, threads) {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', f, e, String(threads), ...passOn], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').pop());
}

const bw = await measureBandwidth({ mb: 256, passes: 3 });
const gbs = bw.median;
console.log(`single-core read bandwidth: ${gbs.toFixed(2)} GB/s (median of 8 MB calls; best ${bw.best.toFixed(2)})`);
console.log(`model: ${dir}; ${tokens} decode steps per context; prompts of ${contexts.join(' and ')} tokens; median of ${reps} processes per cell, engines alternating\n`);
console.log('| format | engine | threads | prefill ctx ms | ' + contexts.map((c) => `decode @${c} ms/tok | × floor @${c}`).join(' | ') + ' | floor ms |');
console.log('|---|---|---|---|' + contexts.map(() => '---|---').join('|') + '|---|');
for (const f of formats) {
  const path = `${dir}/onnx/${FILE[f]}`;
  try { statSync(path); } catch { console.log(`| ${f} | (missing ${path}: node scripts/make-decoder.mjs) |`); continue; }
  const floorMs = decodeWeightBytes(path) / (gbs * 1e9) * 1e3;
  for (const threads of threadCounts) {
    const order = engines.filter((e) => !(f === 'q4i8' && e !== 'tessera'));
    const runs = Object.fromEntries(order.map((e) => [e, []]));
    const failed = {};
    for (let r = 0; r < reps; r++) {
      for (const e of r % 2 ? [...order].reverse() : order) {
        if (failed[e]) continue;
        try { runs[e].push(measureIn(f, e, threads)); } catch (err) { failed[e] = String(err.message ?? err).split('\n').find((l) => /Error/.test(l)) ?? 'failed'; }
      }
    }
    for (const e of order) {
      if (failed[e]) { console.log(`| ${f} | ${e} | ${threads} | failed: ${failed[e].slice(0, 120)} |`); continue; }
      const pick = (c, k) => median(runs[e].map((x) => x[c][k]));
      const cells = contexts.map((c) => `${pick(c, 'decodeMs').toFixed(1)} | ${(pick(c, 'decodeMs') / floorMs).toFixed(2)}×`).join(' | ');
      const path0 = runs[e][0].path;
      console.log(`| ${f} | ${e}${path0 ? ` (${path0})` : ''} | ${threads} | ${contexts.map((c) => pick(c, 'prefillMs').toFixed(0)).join(' / ')} | ${cells} | ${floorMs.toFixed(1)} |`);
    }
  }
}
