/**
 * Peak memory loading a large model: makes a ~512 MiB MatMul chain (32 float32 weights of
 * 2048 × 2048), once with its weights inline and once as external data, then loads and runs each
 * in a fresh Node process and prints the peak RSS. Nothing is committed: the models go to a
 * scratch directory (default: $TMPDIR/tessera-large).
 *
 *   node scripts/large-model.mjs [dist entry, default dist/node/index.js] [scratch dir]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const K = 2048, LAYERS = 32;
const entry = resolve(process.argv[2] ?? 'dist/node/index.js');
const dir = process.argv[3] ?? join(tmpdir(), 'tessera-large');

function weights(layer) {
  // A deterministic fill around ±1/√K so activations stay in range through 32 layers.
  const w = new Float32Array(K * K);
  let s = 12345 + layer;
  for (let i = 0; i < w.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    w[i] = ((s >>> 8) / 2 ** 24 - 0.5) * (3.4 / Math.sqrt(K));
  }
  return new Uint8Array(w.buffer);
}

function graph(initializers) {
  const nodes = [];
  for (let l = 0; l < LAYERS; l++) nodes.push({ opType: 'MatMul', input: [l ? `h${l}` : 'x', `w${l}`], output: [l === LAYERS - 1 ? 'y' : `h${l + 1}`] });
  const vi = (name) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: K }] } } } });
  return { irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph: { name: 'chain', node: nodes, input: [vi('x')], output: [vi('y')], initializer: initializers } };
}

function make() {
  mkdirSync(dir, { recursive: true });
  const inline = join(dir, 'chain.onnx'), external = join(dir, 'chain-ext.onnx'), data = join(dir, 'chain-ext.onnx_data');
  if (!existsSync(inline)) {
    const inits = [];
    for (let l = 0; l < LAYERS; l++) inits.push({ name: `w${l}`, dims: [K, K], dataType: 1, rawData: weights(l) });
    writeFileSync(inline, onnx.ModelProto.encode(graph(inits)).finish());
  }
  if (!existsSync(external)) {
    const fd = openSync(data, 'w');
    const inits = [];
    for (let l = 0; l < LAYERS; l++) {
      const bytes = weights(l);
      writeSync(fd, bytes);
      const kv = (key, value) => ({ key, value: String(value) });
      inits.push({ name: `w${l}`, dims: [K, K], dataType: 1, dataLocation: 1, externalData: [kv('location', 'chain-ext.onnx_data'), kv('offset', l * bytes.length), kv('length', bytes.length)] });
    }
    closeSync(fd);
    writeFileSync(external, onnx.ModelProto.encode(graph(inits)).finish());
  }
  return { inline, external };
}

const child = `
  const { InferenceSession, Tensor } = await import(process.argv[1]);
  const t0 = performance.now();
  const s = await InferenceSession.create(process.argv[2]);
  const t1 = performance.now();
  const y = (await s.run({ x: new Tensor('float32', new Float32Array(${K}).fill(1), [1, ${K}]) })).y;
  console.log(JSON.stringify({ loadMs: Math.round(t1 - t0), maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), y0: y.data[0] }));
`;

const { inline, external } = make();
const weightsMiB = (LAYERS * K * K * 4) / 2 ** 20;
console.log(`weights: ${weightsMiB} MiB in ${LAYERS} MatMul layers; entry ${entry}`);
for (const [what, path] of [['inline', inline], ['external data', external]]) {
  try {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', child, entry, path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    console.log(`${what.padEnd(14)} ${out.trim()}`);
  } catch (e) {
    // An older build may not load external data at all: say so and go on.
    const why = String(e.stderr ?? e.message).split('\n').find((l) => /Error/.test(l)) ?? 'failed';
    console.log(`${what.padEnd(14)} failed: ${why.trim()}`);
  }
}
