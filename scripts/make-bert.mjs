#!/usr/bin/env node
// Writes a BertForMaskedLM ONNX graph with seeded random weights, at any size, with the op pattern
// torch 1.13 emits at opset 14 for Hugging Face's BERT (models/bert/export.py): decomposed
// LayerNorm (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add), erf GELU (Mul 0.5, Div √2,
// Erf, Add 1, Mul), Linear as MatMul + Add(bias, ·), attention as Shape/Gather/Unsqueeze/Concat →
// Reshape → Transpose, MatMul Q·Kᵀ → Div √d → Add (1 − mask)·finfo.min → Softmax → MatMul V.
// Node only (no Python), so the bench and tests can make BERT-base on demand.
//
//   node scripts/make-bert.mjs out.onnx [--layers 12 --hidden 768 --heads 12 --intermediate 3072
//                                        --vocab 30522 --max-position 512 --seed 0]
import onnxProto from 'onnx-proto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rng } from './rng.mjs';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

export const BERT_BASE = { layers: 12, hidden: 768, heads: 12, intermediate: 3072, vocab: 30522, maxPosition: 512 };


/** @returns {Uint8Array} the encoded ModelProto (options.head: 'mlm' (default) or 'none' for BertModel) */
export function makeBert(options = {}) {
  const c = { ...BERT_BASE, seed: 0, ...options };
  const { layers, hidden: H, heads, intermediate: I, vocab: V, maxPosition: P } = c;
  if (H % heads) throw new Error(`hidden (${H}) must be a multiple of heads (${heads})`);
  const d = H / heads;
  const rand = rng(c.seed);
  const nodes = [], inits = [];
  let counter = 0;
  const uniq = (p) => `${p}_${counter++}`;

  // Weights: uniform with std 0.02 like HF's init (√3·0.02 half-width); biases and LayerNorm
  // parameters random too (not 0/1) so a fusion that drops them is caught.
  const tensor = (name, dims, fill) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = fill();
    inits.push({ name, dims, dataType: DT.FLOAT, rawData: new Uint8Array(f.buffer) });
    return { name, data: f };
  };
  const weight = (name, dims) => tensor(name, dims, () => (rand() * 2 - 1) * 0.0346);
  const small = (name, dims, base = 0) => tensor(name, dims, () => base + (rand() * 2 - 1) * 0.05);

  const attr = (name, v) => {
    if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name, type: AT.INTS, ints: v };
    if (typeof v === 'number') return { name, type: AT.INT, i: v };
    return { name, type: AT.TENSOR, t: v };
  };
  const op = (opType, inputs, attrs = {}, name = uniq(`/${opType}`)) => {
    const out = `${name}_output_0`;
    nodes.push({ opType, name, input: inputs, output: [out], attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) });
    return out;
  };
  // torch emits every scalar as a Constant node, not an initializer.
  const constF = (v) => op('Constant', [], { value: { dims: [], dataType: DT.FLOAT, floatData: [v] } });
  const constI = (vals, dims = [vals.length]) => op('Constant', [], { value: { dims, dataType: DT.INT64, int64Data: vals } });

  const layerNorm = (x, prefix) => {
    const g = small(`${prefix}.weight`, [H], 1), b = small(`${prefix}.bias`, [H]);
    const mean = op('ReduceMean', [x], { axes: [-1] });
    const sub = op('Sub', [x, mean]);
    const pow = op('Pow', [sub, constF(2)]);
    const v = op('ReduceMean', [pow], { axes: [-1] });
    const add = op('Add', [v, constF(1e-12)]);
    const sd = op('Sqrt', [add]);
    const div = op('Div', [sub, sd]);
    return op('Add', [op('Mul', [div, g.name]), b.name]);
  };
  const linear = (x, prefix, nin, nout) => {
    const w = weight(`onnx::MatMul_${prefix}`, [nin, nout]);
    const b = small(`${prefix}.bias`, [nout]);
    return op('Add', [b.name, op('MatMul', [x, w.name])]);
  };
  const gelu = (x) => {
    const half = op('Mul', [x, constF(0.5)]);
    const erf = op('Erf', [op('Div', [x, constF(Math.SQRT2)])]);
    return op('Mul', [half, op('Add', [erf, constF(1)])]);
  };
  const dim = (x, i) => op('Unsqueeze', [op('Gather', [op('Shape', [x]), constI([i], [])], { axis: 0 }), constI([0])]);
  const splitHeads = (x, perm) => {
    const shape = op('Concat', [dim(x, 0), dim(x, 1), constI([heads]), constI([d])], { axis: 0 });
    return op('Transpose', [op('Reshape', [x, shape], { allowzero: 0 })], { perm });
  };

  // Extended mask: [B, S] → [B, 1, 1, S], (1 − mask) · finfo(float32).min.
  const m4 = op('Unsqueeze', [op('Unsqueeze', ['attention_mask', constI([1])]), constI([2])]);
  const mask = op('Mul', [op('Sub', [constF(1), op('Cast', [m4], { to: DT.FLOAT })]), constF(-3.4028234663852886e38)]);

  // Embeddings.
  const word = weight('bert.embeddings.word_embeddings.weight', [V, H]);
  const pos = weight('bert.embeddings.position_embeddings.weight', [P, H]);
  const type = weight('bert.embeddings.token_type_embeddings.weight', [2, H]);
  const seqLen = op('Gather', [op('Shape', ['input_ids']), constI([1], [])], { axis: 0 });
  const posIds = op('Constant', [], { value: { dims: [1, P], dataType: DT.INT64, int64Data: Array.from({ length: P }, (_, i) => i) } });
  const positions = op('Slice', [posIds, constI([0]), op('Unsqueeze', [seqLen, constI([0])]), constI([1]), constI([1])]);
  let x = op('Add', [op('Gather', [word.name, 'input_ids']), op('Gather', [type.name, 'token_type_ids'])]);
  x = op('Add', [x, op('Gather', [pos.name, positions])]);
  x = layerNorm(x, 'bert.embeddings.LayerNorm');

  for (let l = 0; l < layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    const q = splitHeads(linear(x, `${p}.attention.self.query`, H, H), [0, 2, 1, 3]);
    const k = linear(x, `${p}.attention.self.key`, H, H);
    const v = splitHeads(linear(x, `${p}.attention.self.value`, H, H), [0, 2, 1, 3]);
    const kt = splitHeads(k, [0, 2, 3, 1]);
    const scores = op('Add', [op('Div', [op('MatMul', [q, kt]), constF(Math.sqrt(d))]), mask]);
    const probs = op('Softmax', [scores], { axis: -1 });
    const ctx = op('Transpose', [op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] });
    const merged = op('Reshape', [ctx, op('Concat', [dim(ctx, 0), dim(ctx, 1), constI([H])], { axis: 0 })], { allowzero: 0 });
    const attnOut = layerNorm(op('Add', [linear(merged, `${p}.attention.output.dense`, H, H), x]), `${p}.attention.output.LayerNorm`);
    const inter = gelu(linear(attnOut, `${p}.intermediate.dense`, H, I));
    x = layerNorm(op('Add', [linear(inter, `${p}.output.dense`, I, H), attnOut]), `${p}.output.LayerNorm`);
  }

  // head: 'none' is BertModel as exported for feature-extraction (sentence-transformers, MiniLM):
  // the last LayerNorm's output is the graph output last_hidden_state.
  if (c.head === 'none') {
    nodes.find((n) => n.output[0] === x).output[0] = 'last_hidden_state';
    x = 'last_hidden_state';
  } else {
  // MLM head; the decoder is tied to the word embeddings (torch folds the transpose into a constant).
  x = layerNorm(gelu(linear(x, 'cls.predictions.transform.dense', H, H)), 'cls.predictions.transform.LayerNorm');
  const dec = new Float32Array(H * V);
  for (let i = 0; i < V; i++) for (let j = 0; j < H; j++) dec[j * V + i] = word.data[i * H + j];
  inits.push({ name: 'onnx::MatMul_decoder', dims: [H, V], dataType: DT.FLOAT, rawData: new Uint8Array(dec.buffer) });
  const bias = small('cls.predictions.bias', [V]);
  const last = op('MatMul', [x, 'onnx::MatMul_decoder']);
  nodes.push({ opType: 'Add', name: '/cls/predictions/decoder/Add', input: [bias.name, last], output: ['logits'], attribute: [] });
  }

  const io = (name, elemType, dims) => ({
    name, type: { tensorType: { elemType, shape: { dim: dims.map((x) => (typeof x === 'number' ? { dimValue: x } : { dimParam: x })) } } },
  });
  const seq = ['batch_size', 'sequence_length'];
  return onnx.ModelProto.encode({
    irVersion: 7,
    producerName: 'pytorch',
    producerVersion: '1.13.1',
    opsetImport: [{ domain: '', version: 14 }],
    graph: {
      name: 'torch_jit',
      node: nodes,
      input: ['input_ids', 'attention_mask', 'token_type_ids'].map((n) => io(n, DT.INT64, seq)),
      output: [c.head === 'none' ? io('last_hidden_state', DT.FLOAT, [...seq, H]) : io('logits', DT.FLOAT, [...seq, V])],
      initializer: inits,
    },
  }).finish();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const out = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  if (!out) {
    console.error('usage: node scripts/make-bert.mjs out.onnx [--layers N --hidden N --heads N --intermediate N --vocab N --max-position N --seed N]');
    process.exit(1);
  }
  const num = (name) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const opts = Object.fromEntries(Object.entries({
    layers: num('layers'), hidden: num('hidden'), heads: num('heads'), intermediate: num('intermediate'),
    vocab: num('vocab'), maxPosition: num('max-position'), seed: num('seed'),
  }).filter(([, v]) => v !== undefined));
  const bytes = makeBert(opts);
  writeFileSync(out, bytes);
  console.log(`${out}: ${(bytes.length / 2 ** 20).toFixed(1)} MB`);
}
