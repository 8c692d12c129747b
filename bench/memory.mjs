// Memory bench (issue 19): peak resident memory of a fresh Node process that creates a session
// from a model's path and runs it once, tessera vs onnxruntime-web (wasm, one thread), as a ratio
// to the model file's size (plus the KV cache for decoders), and the time to that first result.
// Each measurement is its own process (`--child`); rows are medians over `--rounds` processes.
// RSS is what the OS reports (resourceUsage().maxRSS): it does not depend on the machine's load,
// the times do.
//
//   node bench/memory.mjs [--only bert-fp32,bert-int8,qwen3-q4] [--rounds 3] [--engines tessera,ort]
//                         [--low] [--whole] [--record]    (--record writes bench/memory.json and the README rows)
//   --low: tessera rows again with `memory: 'low'`; --whole: again with `tablesOnDemand: false` (every
//   weight read into memory at create, none left in the file).
//
// Models: BERT-base MLM fp32 / dynamic int8 (bench/workloads.mjs makes them into bench/out/) and
// the Qwen3-0.6B-shaped 8-layer q4 decoder (`node scripts/make-decoder.mjs`, bench/out/qwen3-0.6b-8l,
// made on first use; or DECODER_DIR). The decoder runs a 16-token prompt and 4 greedy tokens: tessera through
// GenerationSession (resident KV cache), onnxruntime-web step by step as transformers.js drives it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name, fallback) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const decoderDir = () => {
  for (const d of [process.env.DECODER_DIR, `${root}bench/out/qwen3-0.6b-8l`]) {
    if (d && existsSync(`${d}/onnx/model_q4.onnx`)) return d;
  }
  if (process.env.DECODER_DIR) throw new Error(`DECODER_DIR=${process.env.DECODER_DIR} has no onnx/model_q4.onnx`);
  // Made on first use, like the bench's other large models (~1 minute); its progress goes to
  // stderr, since the `--path` child's stdout is the path.
  execFileSync(process.execPath, [`${root}scripts/make-decoder.mjs`], { stdio: ['ignore', 2, 'inherit'] });
  return `${root}bench/out/qwen3-0.6b-8l`;
};

const PROMPT = 16, NEW_TOKENS = 4;

export const memoryWorkloads = {
  'bert-fp32': { title: 'BERT-base MLM fp32, 1×128', model: async () => (await import('./workloads.mjs')).workloads['bert-base'].model() },
  'bert-int8': { title: 'BERT-base MLM dynamic int8, 1×128', model: async () => (await import('./workloads.mjs')).workloads['bert-base-int8'].model() },
  'qwen3-q4': { title: `Qwen3-0.6B-shaped, 8 layers, q4 (${PROMPT}-token prompt + ${NEW_TOKENS} tokens)`, decoder: true, model: async () => `${decoderDir()}/onnx/model_q4.onnx` },
};

/** KV cache bytes of the decoder at `positions`: layers × (K, V) × kv heads × head dim × float32. */
function kvCacheBytes(dir, positions) {
  const c = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8'));
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  return c.num_hidden_layers * 2 * (c.num_key_value_heads ?? c.num_attention_heads) * headDim * 4 * positions;
}

function bertFeeds(lib) {
  const n = 128, ids = new BigInt64Array(n), mask = new BigInt64Array(n).fill(1n), types = new BigInt64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(1000 + ((i * 7919) % 29000));
  return { input_ids: new lib.Tensor('int64', ids, [1, n]), attention_mask: new lib.Tensor('int64', mask, [1, n]), token_type_ids: new lib.Tensor('int64', types, [1, n]) };
}

function prompt(n) {
  let s = 7;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return 1000 + (s % 50000); });
}

/** The process's own floor: Node with the engine imported and a tiny model (MNIST) run once. */
async function baseline(engine) {
  const lib = engine === 'tessera' ? await import('../dist/node/index.js') : await import('onnxruntime-web');
  if (engine === 'ort') { lib.env.wasm.numThreads = 1; lib.env.logLevel = 'error'; }
  const s = await lib.InferenceSession.create(`${root}models/mnist/mnist-cnn.onnx`, engine === 'ort' ? { executionProviders: ['wasm'] } : {});
  await s.run({ input: new lib.Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) });
  return { engine, workload: 'baseline', peakRssBytes: (process.resourceUsage?.().maxRSS ?? 0) * 1024 };
}

/**
 * The example models (README status: what tessera needs to run each), through the API each
 * example uses, from their paths: the session's Wasm memory used (high-water mark) and the peak
 * RSS of the process.
 */
export const exampleModels = {
  'mnist': { title: 'MNIST CNN (examples/node, web, worker `POST /`)', path: 'models/mnist/mnist-cnn.onnx' },
  'minilm-worker': { title: 'MiniLM-shaped int8 embeddings (examples/worker `POST /embed`)', path: 'models/hf/minilm-worker/onnx/model_quantized.onnx' },
  'bert-fortunes': { title: 'toy BERT fill-mask (`npm start`)', path: 'models/bert/bert-fortunes.onnx' },
  'toy-lm': { title: 'toy LM (examples/worker-generate, `npm start`)', path: 'models/decoders/toy-lm/onnx/model.onnx' },
};

async function exampleChild(name, low) {
  const lib = await import('../dist/node/index.js');
  const opts = low ? { memory: 'low' } : {};
  let usage;
  if (name === 'mnist') {
    const s = await lib.InferenceSession.create(`${root}${exampleModels.mnist.path}`, opts);
    await s.run({ input: new lib.Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) });
    usage = s.memoryUsage();
  } else if (name === 'minilm-worker') {
    const p = await lib.pipeline('feature-extraction', `${root}models/hf/minilm-worker`, { dtype: 'q8', ...opts });
    await p(['How do I reset my password?'], { pooling: 'mean', normalize: true });
    usage = p.session.memoryUsage();
  } else if (name === 'bert-fortunes') {
    const p = await lib.pipeline('fill-mask', { model: `${root}${exampleModels['bert-fortunes'].path}`, vocab: readFileSync(`${root}models/bert/vocab.txt`, 'utf8'), sessionOptions: opts });
    await p('Hello, my dog is [MASK].');
    usage = p.session.memoryUsage();
  } else {
    const p = await lib.pipeline('text-generation', `${root}models/decoders/toy-lm`, opts);
    await p('Once upon a time', { max_new_tokens: 32 });
    usage = p.model.session.memoryUsage();
  }
  return { workload: name, fileBytes: statSync(`${root}${exampleModels[name].path}`).size, ...usage, peakRssBytes: (process.resourceUsage?.().maxRSS ?? 0) * 1024 };
}

/** One measurement in this process; returns the JSON line's object. */
async function child(engine, name, profile) {
  const low = profile === 'low';
  if (name === 'baseline') return baseline(engine);
  if (exampleModels[name]) return exampleChild(name, low);
  const w = memoryWorkloads[name];
  const path = await w.model();
  const options = engine === 'tessera' ? PROFILES[profile ?? 'default'] : { executionProviders: ['wasm'] };
  const t0 = performance.now();
  let wasmBytes = 0, firstResultMs = 0;
  if (engine === 'tessera' && w.decoder) {
    const { GenerationSession } = await import('../dist/node/index.js');
    const gen = await GenerationSession.create(path, { ...options, maxLength: PROMPT + NEW_TOKENS });
    let first = 0;
    await gen.generate(prompt(PROMPT), { max_new_tokens: NEW_TOKENS, min_new_tokens: NEW_TOKENS, streamer: { put: () => { first ||= performance.now(); }, end: () => {} } });
    wasmBytes = gen.session.wasmMemoryBytes ?? 0;
    firstResultMs = first - t0;
  } else if (engine === 'tessera') {
    const lib = await import('../dist/node/index.js');
    const s = await lib.InferenceSession.create(path, options);
    await s.run(bertFeeds(lib));
    firstResultMs = performance.now() - t0;
    wasmBytes = s.wasmMemoryBytes ?? 0;
  } else {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    const s = await ort.InferenceSession.create(path, options);
    if (!w.decoder) {
      await s.run(bertFeeds(ort));
      firstResultMs = performance.now() - t0;
    } else {
      // As transformers.js drives it: present → past through JavaScript, the mask grown per step.
      const pasts = s.inputNames.filter((n) => n.startsWith('past_key_values.'));
      const i64 = (v, dims) => new ort.Tensor('int64', BigInt64Array.from(v, BigInt), dims);
      const c = JSON.parse(readFileSync(`${decoderDir()}/config.json`, 'utf8'));
      const hd = c.head_dim ?? c.hidden_size / c.num_attention_heads;
      let feeds = {};
      for (const n of pasts) feeds[n] = new ort.Tensor('float32', new Float32Array(0), [1, c.num_key_value_heads, 0, hd]);
      let ids = prompt(PROMPT), past = 0;
      for (let step = 0; step < NEW_TOKENS; step++) {
        const S = ids.length;
        feeds.input_ids = i64(ids, [1, S]);
        feeds.attention_mask = i64(new Array(past + S).fill(1), [1, past + S]);
        feeds.position_ids = i64(Array.from({ length: S }, (_, i) => past + i), [1, S]);
        const r = await s.run(feeds);
        if (step === 0) firstResultMs = performance.now() - t0;
        const logits = r.logits.data, V = r.logits.dims[2];
        let best = 0;
        for (let v = 1; v < V; v++) if (logits[(S - 1) * V + v] > logits[(S - 1) * V + best]) best = v;
        const next = {};
        for (const n of pasts) next[n] = r[n.replace('past_key_values', 'present')];
        feeds = next; past += S; ids = [best];
      }
    }
  }
  const peakRssBytes = (process.resourceUsage?.().maxRSS ?? 0) * 1024;
  return { engine, workload: name, low, fileBytes: statSync(path).size, peakRssBytes, firstResultMs, wasmBytes };
}

/**
 * A model's path, made if needed (quantizing BERT-base holds ~900 MB) in a child process: Linux
 * carries a process's peak RSS over fork + exec into its children's maxRSS, so the parent must
 * stay small for the children's numbers to be theirs.
 */
function modelPath(name) {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--path', name], { encoding: 'utf8' });
  return out.trim().split('\n').pop();
}

/** tessera's session options per profile row. */
const PROFILES = { default: {}, low: { memory: 'low' }, whole: { tablesOnDemand: false } };
const PROFILE_TITLES = { low: ", `memory: 'low'`", whole: ', every weight read at create (`tablesOnDemand: false`)' };

function measure(engine, name, profile) {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', engine, name, ...(profile ? ['--profile', profile] : [])],
    { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').pop());
}

const baselines = {};

/** Median rows over `rounds` processes per engine (alternating which goes first). */
export async function measureMemory({ only = Object.keys(memoryWorkloads), rounds = 3, engines = ['tessera', 'ort'], profile = undefined } = {}) {
  const rows = [];
  for (const name of only) {
    const w = memoryWorkloads[name];
    const path = modelPath(name);
    const kv = w.decoder ? kvCacheBytes(path.replace(/\/onnx\/[^/]+$/, ''), PROMPT + NEW_TOKENS) : 0;
    const runs = Object.fromEntries(engines.map((e) => [e, []]));
    for (let r = 0; r < rounds; r++) {
      for (const e of r % 2 ? [...engines].reverse() : engines) runs[e].push(measure(e, name, e === 'tessera' ? profile : undefined));
    }
    const row = { workload: name, title: w.title, fileBytes: statSync(path).size, kvBytes: kv, profile, low: profile === 'low', loadAverage: os.loadavg()[0] };
    for (const e of engines) {
      baselines[e] ??= median([0, 1, 2].map(() => measure(e, 'baseline').peakRssBytes));
      row[e] = {
        baselineRssBytes: baselines[e],
        aboveBaseline: (median(runs[e].map((x) => x.peakRssBytes)) - baselines[e]) / (row.fileBytes + kv),
        peakRssBytes: median(runs[e].map((x) => x.peakRssBytes)),
        firstResultMs: median(runs[e].map((x) => x.firstResultMs)),
        wasmBytes: median(runs[e].map((x) => x.wasmBytes)),
        ratio: median(runs[e].map((x) => x.peakRssBytes)) / (row.fileBytes + kv),
      };
    }
    rows.push(row);
    process.stderr.write(`  ${name}: ${engines.map((e) => `${e} ${(row[e].peakRssBytes / 2 ** 20).toFixed(0)} MB (${row[e].ratio.toFixed(2)}×), first ${row[e].firstResultMs.toFixed(0)} ms`).join('; ')}\n`);
  }
  return rows;
}

export function memoryTable(rows) {
  const mb = (b) => (b / 2 ** 20).toFixed(0);
  const lines = [
    '| model | file MB (+ KV) | tessera peak RSS MB (× file; above Node\'s floor) | onnxruntime-web peak RSS MB (× file; above floor) | first result ms (tessera / ort) | first result tessera / ort |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  const cell = (x) => (x ? `${mb(x.peakRssBytes)} (**${x.ratio.toFixed(2)}×**; ${x.aboveBaseline.toFixed(2)}×)` : '—');
  for (const r of rows) {
    const t = r.tessera, o = r.ort;
    lines.push(`| ${r.title}${PROFILE_TITLES[r.profile ?? (r.low ? 'low' : '')] ?? ''} | ${mb(r.fileBytes)}${r.kvBytes ? ` (+ ${(r.kvBytes / 2 ** 20).toFixed(1)})` : ''} | ${cell(t)} | ${cell(o)} | ${t ? t.firstResultMs.toFixed(0) : '—'} / ${o ? o.firstResultMs.toFixed(0) : '—'} | ${t && o ? (t.firstResultMs / o.firstResultMs).toFixed(2) : '—'} |`);
  }
  const floors = Object.entries(baselines).map(([e, b]) => `${e === 'ort' ? 'onnxruntime-web' : e} ${mb(b)} MB`).join(', ');
  if (floors) lines.push('', `Node's floor (the engine imported, MNIST run once): ${floors}. MB = 2^20 bytes.`);
  return lines.join('\n');
}

if (args[0] === '--path') {
  console.log(await memoryWorkloads[args[1]].model());
  process.exit(0);
} else if (args[0] === '--child') {
  console.log(JSON.stringify(await child(args[1], args[2], flag('profile', undefined))));
  process.exit(0);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (args.includes('--examples')) {
    const mb = (b) => (b / 2 ** 20).toFixed(1);
    const lines = ['| example model | file MB | Wasm memory used MB (`memory: \'low\'`) | process peak RSS MB |', '|---|---:|---:|---:|'];
    for (const name of Object.keys(exampleModels)) {
      const r = measure('tessera', name), l = measure('tessera', name, 'low');
      lines.push(`| ${exampleModels[name].title} | ${mb(r.fileBytes)} | ${mb(r.heapHighWaterBytes)} (${mb(l.heapHighWaterBytes)}) | ${mb(r.peakRssBytes)} |`);
    }
    console.log(lines.join('\n'));
    if (args.includes('--record')) {
      const { replaceSection } = await import('../scripts/readme-section.mjs');
      replaceSection('memory-examples', lines.join('\n'));
    }
    process.exit(0);
  }
  const only = flag('only', '')?.split(',').filter(Boolean);
  const rounds = Number(flag('rounds', 3));
  const engines = flag('engines', 'tessera,ort').split(',');
  const rows = await measureMemory({ only: only?.length ? only : undefined, rounds, engines });
  for (const profile of ['low', 'whole']) {
    if (args.includes(`--${profile}`)) rows.push(...(await measureMemory({ only: only?.length ? only : undefined, rounds, engines: ['tessera'], profile })));
  }
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const header = `${date} UTC, ${os.cpus()[0]?.model ?? 'cpu'} (${os.cpus().length} cores), Node ${process.version}; median of ${rounds} processes per engine; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')}`;
  console.log(`\n${header}\n\n${memoryTable(rows)}`);
  if (args.includes('--record')) {
    writeFileSync(`${root}bench/memory.json`, `${JSON.stringify({ date, machine: `${os.cpus()[0]?.model} (${os.cpus().length} cores)`, node: process.version, rounds, rows }, null, 2)}\n`);
    const { replaceSection } = await import('../scripts/readme-section.mjs');
    replaceSection('memory', [header + ' (`node bench/memory.mjs --record`, `bench/memory.json`).', '', memoryTable(rows)].join('\n'));
  }
}
