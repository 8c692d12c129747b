#!/usr/bin/env node
// Writes a Whisper-shaped model folder (tiny, base or small shapes; seeded random weights) in the
// optimum / transformers.js layout, all formats — what models/whisper/export.py writes for the
// committed micro folder, made in Node so tests and the bench never need Python:
//   config.json, generation_config.json, preprocessor_config.json, tokenizer.json, tokenizer_config.json
//   onnx/encoder_model.onnx, decoder_model.onnx, decoder_with_past_model.onnx, decoder_model_merged.onnx
//   onnx/encoder_model{_fp16,_quantized,_q4}.onnx, decoder_model_merged{_fp16,_quantized,_q4}.onnx
//
// The graphs are not rebuilt here but read from models/whisper/templates/<size>-{encoder,decoder,
// decoder_with_past}.onnx: the graphs export.py's torch export writes for that size, weights'
// data removed (models/whisper/templates.py); <size>.json maps each weight initializer to its
// torch parameter and carries the three config files. This script fills the weights (uniform,
// with the spread arch.randomize + export.shape_logits give: linears 1/√fan_in, decoder fc2 and
// out_proj × 3, norms 1 ± 0.1, biases 0.02, embedding 2/√d with control-token rows × 0.05,
// timestamp rows × 0.7 and non-ASCII byte rows × 0.3, decoder positions 0.5, encoder positions
// Whisper's sinusoids), rebuilds the tokenizer by models/whisper/tokenizer.py's rule, and applies
// scripts/whisper-formats.mjs (the ports of export.py / merge.py / formats.py).
//
//   node scripts/make-whisper.mjs --size tiny|base|small [--out bench/out/whisper-tiny] [--formats fp32,fp16,q8,q4] [--seed 0] [--timestamped]
//
// --timestamped: decoders with cross_attentions.{i} (export.py timestamped; onnx-community's
// `whisper-*_timestamped` folders), for return_timestamps: 'word'; default out bench/out/whisper-<size>-timestamped.
import onnxProto from 'onnx-proto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from './rng.mjs';
import { copyModel, mergeDecoders, quantizeQ4, quantizeQ8, toFloat16, untie, withCrossAttentions } from './whisper-formats.mjs';

const { onnx } = onnxProto;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TEMPLATES = join(ROOT, 'models/whisper/templates');
const MERGES = join(ROOT, 'models/decoders/tokenizer-merges-1500.json');
const EMBED = 'model.decoder.embed_tokens.weight';
const PARTS = ['encoder', 'decoder', 'decoder_with_past'];
const SUFFIX = { fp32: '', fp16: '_fp16', q8: '_quantized', q4: '_q4' };

// ------------------------------------------------------------------------------------ tokenizer

const LANGUAGES = ('en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr '
  + 'bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km '
  + 'sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha '
  + 'ba jw su').split(' ');
const TASKS = ['<|translate|>', '<|transcribe|>', '<|startoflm|>', '<|startofprev|>', '<|nospeech|>', '<|notimestamps|>'];

function bytesToUnicode() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  return new Map(bs.map((b, i) => [b, String.fromCharCode(cs[i])]));
}

/** Whisper's specials after the text vocabulary: eot, sot, 99 languages, 6 task/control tokens, 1,501 timestamps. */
export function specialTokens() {
  const ts = Array.from({ length: 1501 }, (_, i) => `<|${(i * 0.02).toFixed(2)}|>`);
  return ['<|endoftext|>', '<|startoftranscript|>', ...LANGUAGES.map((c) => `<|${c}|>`), ...TASKS, ...ts];
}

/** tokenizer.py tokenizer_files(textVocab, learned): [tokenizer.json, tokenizer_config.json] objects. */
export function whisperTokenizer(textVocab, learned) {
  const merges = JSON.parse(readFileSync(MERGES, 'utf8')).slice(0, learned);
  const byteSyms = [...bytesToUnicode().values()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const tokens = new Set([...byteSyms, ...merges.map(([a, b]) => a + b)]);
  const learnt = merges.map(([a, b]) => a + b);
  const need = textVocab - 256 - merges.length;
  const filler = [];
  for (const b of byteSyms) {
    if (filler.length >= need) break;
    for (const a of learnt) {
      if (filler.length >= need) break;
      if (!tokens.has(a + b)) { tokens.add(a + b); filler.push([a, b]); }
    }
  }
  if (filler.length !== need) throw new Error(`not enough filler merges (${filler.length} < ${need})`);
  const all = [...merges, ...filler];
  const vocab = {};
  byteSyms.forEach((s, i) => { vocab[s] = i; });
  all.forEach(([a, b], i) => { vocab[a + b] = 256 + i; });
  const ids = {}, added = [];
  const isTs = (s) => s[2] >= '0' && s[2] <= '9';
  for (const s of specialTokens()) {
    ids[s] = textVocab + added.length;
    added.push({ id: ids[s], content: s, single_word: false, lstrip: false, rstrip: false, normalized: false, special: !isTs(s) });
  }
  const sot = '<|startoftranscript|>', eot = '<|endoftext|>', nots = '<|notimestamps|>';
  const sp = (id, type_id = 0) => ({ SpecialToken: { id, type_id } });
  const tok = {
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [sp(sot), sp(nots), { Sequence: { id: 'A', type_id: 0 } }, sp(eot)],
      pair: [sp(sot), sp(nots), { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, sp(eot, 1)],
      special_tokens: Object.fromEntries([sot, nots, eot].map((s) => [s, { id: s, ids: [ids[s]], tokens: [s] }])),
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false,
      byte_fallback: false, ignore_merges: false, vocab, merges: all.map(([a, b]) => `${a} ${b}`),
    },
  };
  const decoder = Object.fromEntries(added.map((t) => [String(t.id), { content: t.content, lstrip: t.lstrip, normalized: t.normalized, rstrip: t.rstrip, single_word: t.single_word, special: t.special }]));
  const cfg = {
    add_bos_token: false, add_prefix_space: false, added_tokens_decoder: decoder,
    additional_special_tokens: specialTokens().slice(1).filter((s) => !isTs(s)),
    bos_token: eot, clean_up_tokenization_spaces: true, eos_token: eot, errors: 'replace', model_max_length: 1024,
    pad_token: eot, processor_class: 'WhisperProcessor', return_attention_mask: false, tokenizer_class: 'WhisperTokenizer', unk_token: eot,
  };
  return [tok, cfg];
}

// ------------------------------------------------------------------------------------ weights

function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Whisper's sinusoidal encoder positions (arch.sinusoids), in float32 steps as torch computes them. */
function sinusoids(length, channels) {
  const half = channels / 2, inc = Math.log(10000) / (half - 1);
  const inv = Float32Array.from({ length: half }, (_, i) => Math.fround(Math.exp(Math.fround(-inc * i))));
  const w = new Float32Array(length * channels);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < half; i++) {
      const x = Math.fround(t * inv[i]);
      w[t * channels + i] = Math.sin(x);
      w[t * channels + half + i] = Math.cos(x);
    }
  }
  return w;
}

/** A torch parameter's seeded values (uniform with the std arch.randomize uses; see the header). */
function parameter(name, shape, seed, textVocab) {
  const n = shape.reduce((a, b) => a * b, 1);
  if (name === 'model.encoder.embed_positions.weight') return sinusoids(shape[0], shape[1]);
  const r = rng(hash(name) ^ seed), w = new Float32Array(n);
  const uniform = (std) => { const h = std * Math.sqrt(3); for (let i = 0; i < n; i++) w[i] = (r() * 2 - 1) * h; };
  if (name.includes('layer_norm')) { uniform(0.1); if (name.endsWith('weight')) for (let i = 0; i < n; i++) w[i] += 1; }
  else if (name.endsWith('bias')) uniform(0.02);
  else if (name === EMBED) {
    uniform(2 / Math.sqrt(shape[1]));
    const d = shape[1], sot = textVocab + 1, ts = textVocab + 107;
    const scaleRows = (from, to, s) => { for (let i = from * d; i < to * d; i++) w[i] *= s; };
    scaleRows(sot, ts, 0.05); scaleRows(ts, shape[0], 0.7); scaleRows(94, 220, 0.3); scaleRows(221, 256, 0.3);
  } else if (name === 'model.decoder.embed_positions.weight') uniform(0.5);
  else {
    const gain = name.startsWith('model.decoder.layers') && (name.includes('fc2') || name.includes('out_proj')) ? 3 : 1;
    uniform(gain / Math.sqrt(n / shape[0]));
  }
  return w;
}

function transpose(w, rows, cols) {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
  return t;
}

const bytesOf = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * The template's three graphs with every weight filled: { meta, graphs: {encoder, decoder, decoder_with_past} };
 * `timestamped`: the decoders also return cross_attentions.{i}.
 */
export function loadTemplate(size, { seed = 0, weights, timestamped = false } = {}) {
  const meta = JSON.parse(readFileSync(join(TEMPLATES, `${size}.json`), 'utf8'));
  const cache = new Map();
  const value = (param, shape) => {
    if (!cache.has(param)) cache.set(param, weights ? weights(param, shape) : parameter(param, shape, seed, meta.text_vocab));
    return cache.get(param);
  };
  const graphs = {};
  for (const part of PARTS) {
    const model = onnx.ModelProto.decode(readFileSync(join(TEMPLATES, `${size}-${part}.onnx`)));
    const byName = new Map(meta.graphs[part].map((e) => [e.name, e]));
    for (const t of model.graph.initializer) {
      const e = byName.get(t.name);
      if (!e) continue;
      const shape = e.transposed ? [e.dims[1], e.dims[0]] : e.dims;
      const w = value(e.param, shape);
      t.rawData = bytesOf(e.transposed ? transpose(w, shape[0], shape[1]) : w);
    }
    graphs[part] = timestamped && part !== 'encoder' ? withCrossAttentions(model) : model;
  }
  return { meta, graphs };
}

/** The folded name of proj_out's transposed table in a decoder graph. */
const foldedProjOut = (meta, part) => meta.graphs[part].find((e) => e.param === EMBED && e.transposed).name;

/** Every ONNX file of a folder from the three filled (folded) graphs: { 'encoder_model.onnx': ModelProto, … }. */
export function buildOnnx(meta, graphs, formats = ['fp32', 'fp16', 'q8', 'q4']) {
  const files = {};
  const dec = () => copyModel(graphs.decoder), past = () => copyModel(graphs.decoder_with_past), enc = () => copyModel(graphs.encoder);
  const untied = () => [untie(dec(), EMBED, foldedProjOut(meta, 'decoder')), untie(past(), EMBED, foldedProjOut(meta, 'decoder_with_past'))];
  for (const f of formats) {
    const s = SUFFIX[f];
    if (f === 'fp32') {
      const [d, p] = untied();
      Object.assign(files, { 'encoder_model.onnx': enc(), 'decoder_model.onnx': d, 'decoder_with_past_model.onnx': p, 'decoder_model_merged.onnx': mergeDecoders(d, p) });
    } else if (f === 'fp16') {
      const [d, p] = untied();
      files[`encoder_model${s}.onnx`] = toFloat16(enc());
      files[`decoder_model_merged${s}.onnx`] = mergeDecoders(toFloat16(d), toFloat16(p));
    } else {
      const q = f === 'q8' ? (m) => quantizeQ8(m) : (m) => quantizeQ4(m, 32);
      files[`encoder_model${s}.onnx`] = q(enc());
      files[`decoder_model_merged${s}.onnx`] = mergeDecoders(q(dec()), q(past()));
    }
  }
  return files;
}

/** Writes the folder; returns the files written. */
export function makeWhisper(size = 'tiny', outDir = join(ROOT, `bench/out/whisper-${size}`), { formats = ['fp32', 'fp16', 'q8', 'q4'], seed = 0, log = console.log, timestamped = false } = {}) {
  mkdirSync(join(outDir, 'onnx'), { recursive: true });
  const written = [];
  const write = (file, data) => { writeFileSync(join(outDir, file), data); written.push(file); };
  const { meta, graphs } = loadTemplate(size, { seed, timestamped });
  write('config.json', JSON.stringify(meta.config, null, 2) + '\n');
  write('generation_config.json', JSON.stringify(meta.generation_config, null, 2) + '\n');
  write('preprocessor_config.json', JSON.stringify(meta.preprocessor_config, null, 2) + '\n');
  const [tok, tokCfg] = whisperTokenizer(meta.text_vocab, meta.learned_merges);
  write('tokenizer.json', JSON.stringify(tok) + '\n');
  write('tokenizer_config.json', JSON.stringify(tokCfg) + '\n');
  for (const f of formats) {
    for (const [file, model] of Object.entries(buildOnnx(meta, graphs, [f]))) {
      const bytes = onnx.ModelProto.encode(model).finish();
      write(`onnx/${file}`, bytes);
      log(`${size} ${f}: onnx/${file} ${(bytes.length / 2 ** 20).toFixed(1)} MiB`);
    }
  }
  return written;
}

/** True when `outDir` already holds the tokenizer and every requested format's files. */
export function haveWhisper(outDir, formats = ['fp32', 'fp16', 'q8', 'q4']) {
  const need = formats.flatMap((f) => [`encoder_model${SUFFIX[f]}.onnx`, `decoder_model_merged${SUFFIX[f]}.onnx`]);
  return existsSync(join(outDir, 'tokenizer.json')) && need.every((f) => existsSync(join(outDir, 'onnx', f)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (k, d) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args.splice(i, 2)[1] : d; };
  const size = opt('size', 'tiny');
  const ts = args.indexOf('--timestamped');
  const timestamped = ts >= 0 && args.splice(ts, 1).length > 0;
  const out = opt('out', join(ROOT, `bench/out/whisper-${size}${timestamped ? '-timestamped' : ''}`));
  const formats = opt('formats', 'fp32,fp16,q8,q4').split(',');
  const seed = Number(opt('seed', '0'));
  if (!existsSync(join(TEMPLATES, `${size}.json`))) {
    console.error(`no template for '${size}' in models/whisper/templates/ (have: micro, tiny, base, small): /usr/bin/python3 models/whisper/export.py template ${size}`);
    process.exit(1);
  }
  const t0 = Date.now();
  makeWhisper(size, out, { formats, seed, timestamped });
  console.log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s → ${out}`);
}
