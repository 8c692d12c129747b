#!/usr/bin/env node
/**
 * Fuzz campaign runner. Bundles src/ with esbuild into a temp dir (so it never races with
 * `npm run build`), then runs cases in child processes (test/fuzz/child.mjs) that report each
 * case. A case that outlives its timeout is a hang, a child that dies is a crash; either is
 * recorded with its seed and id and the campaign goes on past it.
 *   node scripts/fuzz.mjs [--iterations 20000] [--seed 1] [--workers 4] [--timeout 10000]
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function defaultCorpus() {
  const shared = resolve(root, '../shared/onnx-tests');
  const files = [join(root, 'models/mnist/mnist-cnn.onnx')];
  for (const t of ['test_add_bcast', 'test_conv_with_strides_padding', 'test_gemm_default_no_bias', 'test_matmul_2d', 'test_softmax_axis_1',
    'test_reshape_reordered_all_dims', 'test_maxpool_2d_pads', 'test_concat_2d_axis_0', 'test_slice', 'test_gather_0', 'test_if', 'test_loop11', 'test_cast_FLOAT_to_FLOAT16']) {
    files.push(join(shared, 'node', t, 'model.onnx'));
  }
  files.push(join(shared, 'light/light_squeezenet/model.onnx'));
  return files.filter((f) => existsSync(f));
}

/** Bundles src/index.ts for Node into a fresh temp dir, with the kernels beside it. */
export async function bundle() {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'tessera-fuzz-'));
  const out = join(dir, 'index.mjs');
  await build({
    entryPoints: [join(root, 'src/index.ts')], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error',
    // protobufjs reaches for optional modules through a require shim; keep it a real require.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  for (const f of readdirSync(join(root, 'build'))) if (f.endsWith('.wasm')) copyFileSync(join(root, 'build', f), join(dir, f));
  return pathToFileURL(out).href;
}

function runChild(cfg, from, to, timeoutMs, onCase) {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--stack-size=984', join(root, 'test/fuzz/child.mjs'), JSON.stringify({ ...cfg, from, to })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let current = from - 1, buf = '', stderr = '', timer;
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => { child.kill('SIGKILL'); }, timeoutMs); };
    arm();
    let hung = false;
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
        let msg; try { msg = JSON.parse(line); } catch { continue; }
        if ('start' in msg) { current = msg.start; arm(); }
        else if ('end' in msg) { onCase(msg.end, msg); current = msg.end; }
      }
    });
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-2000); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') hung = true;
      done({ last: current, code, signal, hung, stderr });
    });
  });
}

/** Runs cases [0, iterations) and returns counts by outcome and the failures. */
export async function runCampaign({ seed = 1, iterations = 2000, workers = Math.min(4, availableParallelism()), timeoutMs = 10000, corpus = defaultCorpus(), bundleUrl, simulate, log = () => {} } = {}) {
  const cfg = { seed, corpus, bundle: bundleUrl ?? await bundle(), simulate };
  const counts = {};
  const failures = [];
  const record = (id, r) => {
    counts[r.kind] = (counts[r.kind] ?? 0) + 1;
    if (r.kind === 'bug' || r.kind === 'internal' || r.kind === 'hang' || r.kind === 'crash') { failures.push({ seed, id, ...r }); log(`case ${id} (seed ${seed}): ${r.kind} ${r.what ?? ''} ${r.error ?? ''}`); }
  };
  const per = Math.ceil(iterations / workers);
  const started = Date.now();
  await Promise.all(Array.from({ length: workers }, async (_, w) => {
    let from = w * per;
    const to = Math.min(iterations, from + per);
    while (from < to) {
      const res = await runChild(cfg, from, to, timeoutMs, record);
      if (res.code === 0 && !res.hung) break;
      // The case after the last one that ended is the one that hung or crashed.
      const bad = res.last + 1 > from ? res.last : from;
      const { makeCase } = await import('../test/fuzz/cases.mjs');
      const { readFileSync } = await import('node:fs');
      const c = makeCase(seed, bad, corpus.map((f) => ({ file: f, bytes: new Uint8Array(readFileSync(f)) })));
      record(bad, { kind: res.hung ? 'hang' : 'crash', what: c.what, error: res.hung ? `no result in ${timeoutMs} ms` : `exit ${res.code} ${res.signal ?? ''} ${res.stderr.slice(-500)}` });
      from = bad + 1;
    }
  }));
  return { seed, iterations, counts, failures, ms: Date.now() - started };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
  const result = await runCampaign({
    seed: arg('seed', 1), iterations: arg('iterations', 20000), workers: arg('workers', Math.min(8, availableParallelism())), timeoutMs: arg('timeout', 20000),
    log: (s) => console.log(s),
  });
  console.log(JSON.stringify({ seed: result.seed, iterations: result.iterations, counts: result.counts, ms: result.ms }, null, 2));
  process.exit(result.failures.some((f) => f.kind !== 'internal') ? 1 : 0);
}
