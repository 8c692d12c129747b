// The graph post-processing of models/whisper/export.py and formats.py, ported to Node so
// scripts/make-whisper.mjs can write tiny/base/small folders without Python. Each function edits
// an onnx-proto ModelProto the way its Python twin edits an onnx ModelProto, so the files have
// the same nodes, names and weight bytes (test/models/whisper-folder.test.ts compares the two on
// the micro folder):
//   untie          export.py untie(): proj_out's MatMul reads Transpose(embed_tokens)
//   mergeDecoders  merge.py (optimum's merge_decoders, strict=False): one If on use_cache_branch
//   toFloat16      ../fp16-tools/convert.py convert_float_to_float16(keep_io_types=True)
//   quantizeQ8     ../int8-tools/make.py quantize_dynamic(weight_type, per tensor, MatMul+Conv+Gather,
//                  MatMulConstBOnly): int8 symmetric weights, or uint8 asymmetric for a graph with a
//                  Conv (transformers.js's quantize.py: onnxruntime-web has no int8 ConvInteger)
//   quantizeQ4     scripts/make-decoder.mjs (MatMul4BitsQuantizer, block 32, symmetric)
//   withCrossAttentions  export.py export_all(attentions=True): the decoders return each layer's
//                  cross-attention probabilities as cross_attentions.{i} after the presents
import onnxProto from 'onnx-proto';
import { quantizeQ4 } from './make-decoder.mjs';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

export { quantizeQ4 };

const bytesOf = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const f32 = (t) => (t.rawData.byteOffset % 4 === 0
  ? new Float32Array(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength / 4)
  : new Float32Array(new Uint8Array(t.rawData).buffer));
const attr = (name, v) => (typeof v === 'number' ? { name, type: AT.INT, i: v } : { name, type: AT.INTS, ints: v });
const node = (opType, input, output, name, attrs = {}) =>
  onnx.NodeProto.create({ opType, input, output, name, domain: '', attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) });
/** A deep copy (encode + decode), since every transform edits its model in place. */
export const copyModel = (m) => onnx.ModelProto.decode(onnx.ModelProto.encode(m).finish());

/** export.py untie(): drops torch's folded transposed table for Transpose(embed_tokens). */
export function untie(model, emb = 'model.decoder.embed_tokens.weight', folded) {
  const g = model.graph;
  const i = g.node.findIndex((n) => n.opType === 'MatMul' && n.input[1] === folded);
  if (i < 0) throw new Error(`untie: no MatMul reads ${folded}`);
  g.node[i].input[1] = 'proj_out.weight_transposed';
  g.node.splice(i, 0, node('Transpose', [emb], ['proj_out.weight_transposed'], '/proj_out/Transpose', { perm: [1, 0] }));
  g.initializer = g.initializer.filter((t) => t.name !== folded);
  return model;
}

/**
 * A torch decoder export (decoder_model or decoder_with_past_model, before untie) as torch exports
 * it with output_attentions: each layer's cross-attention Softmax — the one whose P·V MatMul reads
 * present.{i}.encoder.value (first step) or past_key_values.{i}.encoder.value — writes
 * `cross_attentions.{i}`, a graph output [batch_size, heads, decoder_sequence_length,
 * encoder_sequence_length_out] after the presents (torch names the value after the output; the
 * graph is otherwise the same, node for node).
 */
export function withCrossAttentions(model) {
  const g = model.graph;
  const V = /^(?:present|past_key_values)\.(\d+)\.encoder\.value$/;
  const declared = [...g.output, ...g.input];
  const found = [];
  for (const sm of g.node.filter((n) => n.opType === 'Softmax')) {
    const pv = g.node.filter((n) => n.input.includes(sm.output[0]));
    const m = pv.length === 1 && pv[0].opType === 'MatMul' && pv[0].input[0] === sm.output[0] ? V.exec(pv[0].input[1]) : null;
    if (!m) continue;
    const name = `cross_attentions.${m[1]}`, old = sm.output[0];
    for (const n of g.node) n.input = n.input.map((x) => (x === old ? name : x));
    sm.output[0] = name;
    const heads = shapeOf(declared.find((x) => x.name === pv[0].input[1]))[1];
    found.push([Number(m[1]), valueInfo(name, DT.FLOAT, ['batch_size', heads, 'decoder_sequence_length', 'encoder_sequence_length_out'])]);
  }
  if (!found.length) throw new Error('withCrossAttentions: no cross-attention Softmax found');
  g.output.push(...found.sort((a, b) => a[0] - b[0]).map(([, vi]) => vi));
  return model;
}

// ------------------------------------------------------------------------------------ merge

const keptInBranch = (t) => t.dims.length === 0 || (t.dims.length === 1 && (t.dataType === DT.INT32 || t.dataType === DT.INT64));

function toposort(g) {
  const ready = new Set(['', ...g.input.map((x) => x.name), ...g.initializer.map((t) => t.name)]);
  let todo = g.node;
  const done = [];
  while (todo.length) {
    const rest = [];
    for (const n of todo) {
      if (n.input.every((x) => ready.has(x))) { done.push(n); n.output.forEach((o) => ready.add(o)); } else rest.push(n);
    }
    if (rest.length === todo.length) throw new Error(`toposort: cycle or missing input at ${rest[0].name}`);
    todo = rest;
  }
  g.node = done;
}

const shapeOf = (vi) => vi.type.tensorType.shape.dim.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
function valueInfo(name, elemType, shape) {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
}

function unifyOutputs(dec, past) {
  const have = new Set(past.graph.output.map((o) => o.name));
  const outs = [];
  for (const o of dec.graph.output) {
    const et = o.type.tensorType.elemType, shape = shapeOf(o);
    if (!have.has(o.name)) {
      let first = true;
      const dims = shape.map((d) => (typeof d === 'string' ? (first ? ((first = false), 0) : 1) : d));
      const value = onnx.TensorProto.create({ name: 'const_tensor', dataType: et, dims });
      past.graph.node.push(onnx.NodeProto.create({
        opType: 'Constant', input: [], output: [o.name], name: `Constant_${past.graph.node.length + 1}`, domain: '',
        attribute: [{ name: 'value', type: AT.TENSOR, t: value }],
      }));
    }
    outs.push(valueInfo(o.name, et, shape));
  }
  past.graph.output = outs;
}

function fnv(bytes) {
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i += 1) h = Math.imul(h ^ bytes[i], 16777619);
  return h >>> 0;
}

/** Equal initializers across both graphs stored once, as `{name}_merged_{k}` (merge.py _dedup). */
function dedup(models) {
  const groups = new Map(); // key → { bytes, members: [[name, i]] }
  const buckets = new Map();
  models.forEach((m, i) => {
    for (const t of m.graph.initializer) {
      if (keptInBranch(t)) continue;
      const bytes = t.rawData;
      const key = `${t.dataType}|${t.dims.join(',')}|${bytes.length}|${fnv(bytes)}`;
      let list = buckets.get(key);
      if (!list) buckets.set(key, (list = []));
      let grp = list.find((x) => Buffer.compare(Buffer.from(x.bytes), Buffer.from(bytes)) === 0);
      if (!grp) { grp = { bytes, members: [] }; list.push(grp); groups.set(`${key}#${list.length}`, grp); }
      grp.members.push([t.name, i]);
    }
  });
  const rename = new Map(), used = new Map();
  for (const { members } of groups.values()) {
    const common = members[members.length - 1][0];
    const k = used.get(common) ?? 0;
    used.set(common, k + 1);
    for (const [name, i] of members) rename.set(`${i}\u0000${name}`, `${common}_merged_${k}`);
  }
  models.forEach((m, i) => {
    for (const n of m.graph.node) n.input = n.input.map((x) => rename.get(`${i}\u0000${x}`) ?? x);
  });
  const shared = [], seen = new Set();
  models.forEach((m, i) => {
    for (const t of m.graph.initializer) {
      const to = rename.get(`${i}\u0000${t.name}`);
      if (to !== undefined && !seen.has(to)) { seen.add(to); shared.push(onnx.TensorProto.create({ ...t, name: to })); }
    }
  });
  return shared;
}

/** merge.py merge_decoders(decoder, decoder_with_past): the two graphs under If(use_cache_branch). */
export function mergeDecoders(decoder, decoderWithPast) {
  const dec = copyModel(decoder), past = copyModel(decoderWithPast);
  toposort(dec.graph);
  toposort(past.graph);
  unifyOutputs(dec, past);
  const inputs = [], names = new Set();
  for (const m of [dec, past]) for (const x of m.graph.input) if (!names.has(x.name)) { names.add(x.name); inputs.push(x); }
  const shared = dedup([dec, past]);
  const branch = (m, name) => onnx.GraphProto.create({ node: m.graph.node, name, input: [], output: m.graph.output, initializer: m.graph.initializer.filter(keptInBranch) });
  const noPast = branch(dec, 'no_past'), withPast = branch(past, 'with_past');
  const useCache = valueInfo('use_cache_branch', DT.BOOL, [1]);
  const ifNode = onnx.NodeProto.create({
    opType: 'If', input: ['use_cache_branch'], output: noPast.output.map((o) => o.name), name: 'optimum::if', domain: '',
    attribute: [{ name: 'else_branch', type: AT.GRAPH, g: noPast }, { name: 'then_branch', type: AT.GRAPH, g: withPast }],
  });
  const opsets = [], domains = new Set();
  for (const o of [...dec.opsetImport, ...past.opsetImport]) if (!domains.has(o.domain)) { domains.add(o.domain); opsets.push(o); }
  return onnx.ModelProto.create({
    irVersion: 8, producerName: 'optimum-onnx', opsetImport: opsets,
    graph: { node: [ifNode], name: 'merged', input: [...inputs, useCache], output: noPast.output, initializer: shared },
  });
}

// ------------------------------------------------------------------------------------ fp16

const fh = new Float32Array(1), uh = new Uint32Array(fh.buffer);
/** numpy's float32 → float16 (round to nearest even). */
function half(v) {
  fh[0] = v;
  const x = uh[0], sign = (x >>> 16) & 0x8000, exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e, rem = mant & ((1 << shift) - 1), mid = 1 << (shift - 1);
    let h = mant >> shift;
    if (rem > mid || (rem === mid && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** convert.py tensor_to_half: clamp to ±[1e-7, 1e4], then float16 (raw data only: our exports). */
function tensorToHalf(t, lo = 1e-7, hi = 1e4) {
  if (t.dataType !== DT.FLOAT) return;
  if (t.floatData?.length) throw new Error(`toFloat16: ${t.name} stores float_data (not written by torch)`);
  const a = t.rawData && t.rawData.length ? f32(t) : new Float32Array(0);
  const h = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) {
    let v = a[i];
    if (v > 0 && v < lo) v = lo; else if (v < 0 && v > -lo) v = -lo;
    else if (v > hi && v < Infinity) v = hi; else if (v < -hi && v > -Infinity) v = -hi;
    h[i] = half(Math.fround(v));
  }
  t.dataType = DT.FLOAT16;
  t.rawData = bytesOf(h);
}

const BLOCKED_WITH_FLOAT = new Set(['TopK', 'RoiAlign', 'Resize', 'CumSum', 'Min', 'Max', 'Upsample', 'NonMaxSuppression']);

/**
 * convert_float_to_float16(keep_io_types=True) for these graphs: a Cast to float16 after each float
 * input and a Cast to float before each float output (appended, named as the tool names them),
 * every float initializer and tensor attribute to float16, Cast(to=FLOAT) retargeted. The tool's
 * value_info (from onnx shape inference) is not written. Blocked ops with float I/O would need
 * Casts: none occur in Whisper's graphs (Range there is int64), so meeting one is an error.
 */
export function toFloat16(model) {
  const g = model.graph;
  const rename = new Map(), tail = [];
  const edge = (kind, values) => values.forEach((vi, i) => {
    if (vi.type.tensorType.elemType !== DT.FLOAT) return;
    const twin = `graph_${kind}_cast_${i}`;
    rename.set(vi.name, twin);
    tail.push(kind === 'input'
      ? node('Cast', [vi.name], [twin], `graph_input_cast${i}`, { to: DT.FLOAT16 })
      : node('Cast', [twin], [vi.name], `graph_output_cast${i}`, { to: DT.FLOAT }));
  });
  edge('input', g.input);
  edge('output', g.output);
  const queue = [g];
  while (queue.length) {
    const sg = queue.shift();
    for (const n of sg.node) {
      if (BLOCKED_WITH_FLOAT.has(n.opType)) throw new Error(`toFloat16: ${n.opType} (${n.name}) would need the tool's Casts`);
      n.input = n.input.map((x) => rename.get(x) ?? x);
      n.output = n.output.map((x) => rename.get(x) ?? x);
      if (n.opType === 'Cast') for (const a of n.attribute) if (a.name === 'to' && Number(a.i) === DT.FLOAT) a.i = DT.FLOAT16;
      for (const a of n.attribute) {
        if (a.g) queue.push(a.g);
        for (const sub of a.graphs ?? []) queue.push(sub);
        if (a.t) tensorToHalf(a.t);
        for (const t of a.tensors ?? []) tensorToHalf(t);
      }
    }
    for (const t of sg.initializer) tensorToHalf(t);
  }
  g.node.push(...tail);
  return model;
}

// ------------------------------------------------------------------------------------ q8

const roundEven = (x) => { const r = Math.round(x); return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r; };

/** make.py quantize_weight(per tensor): int8 symmetric or uint8 asymmetric. */
function quantizeTensor(w, type) {
  let lo = 0, hi = 0;
  for (const v of w) { if (v < lo) lo = v; if (v > hi) hi = v; }
  lo = Math.fround(lo); hi = Math.fround(hi);
  let scale, zp, qmin, qmax;
  if (type === 'int8') {
    const a = Math.max(-lo, hi);
    scale = Math.fround((a + a) / 254); qmin = -127; qmax = 127;
    if (scale < 1.1754943508222875e-38) scale = 1;
    zp = 0;
  } else {
    scale = Math.fround((hi - lo) / 255); qmin = 0; qmax = 255;
    if (scale < 1.1754943508222875e-38) scale = 1;
    zp = roundEven(0 - Math.fround(lo / scale));
  }
  const q = type === 'int8' ? new Int8Array(w.length) : new Uint8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(qmin, Math.min(qmax, roundEven(Math.fround(w[i] / scale)) + zp));
  return { q, scale, zp };
}

/** make.py quantize_dynamic(model, weightType, per_channel=False, reduce_range=False, MatMul+Conv+Gather, MatMulConstBOnly). */
export function quantizeQ8(model, weightType = model.graph.node.some((n) => n.opType === 'Conv') ? 'uint8' : 'int8') {
  const g = model.graph;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const isFloat = (name) => inits.get(name)?.dataType === DT.FLOAT;
  const out = [], dql = new Map(), wq = new Map();
  let n = 0;
  const add = (op, input, output, attrs = {}) => { n++; const nd = node(op, input, output, `${output[0]}_${op}_${n}`, attrs); out.push(nd); return nd; };
  const addInit = (t) => { g.initializer.push(t); inits.set(t.name, t); return t.name; };
  const scalar = (name, type, v) => addInit(onnx.TensorProto.create({
    name, dims: [], dataType: type === 'float' ? DT.FLOAT : type === 'int8' ? DT.INT8 : DT.UINT8,
    rawData: type === 'float' ? bytesOf(Float32Array.of(v)) : type === 'int8' ? bytesOf(Int8Array.of(v)) : Uint8Array.of(v),
  }));
  const activation = (name) => {
    if (!dql.has(name)) { add('DynamicQuantizeLinear', [name], [`${name}_quantized`, `${name}_scale`, `${name}_zero_point`]); dql.set(name, [`${name}_quantized`, `${name}_scale`, `${name}_zero_point`]); }
    return dql.get(name);
  };
  const weight = (name, type = weightType) => {
    if (!wq.has(name)) {
      const t = inits.get(name);
      const { q, scale, zp } = quantizeTensor(f32(t), type);
      addInit(onnx.TensorProto.create({ name: `${name}_quantized`, dims: t.dims, dataType: type === 'int8' ? DT.INT8 : DT.UINT8, rawData: bytesOf(q) }));
      scalar(`${name}_scale`, 'float', scale);
      scalar(`${name}_zero_point`, type, zp);
      wq.set(name, [`${name}_quantized`, `${name}_scale`, `${name}_zero_point`]);
    }
    return wq.get(name);
  };
  for (const nd of g.node) {
    const o = nd.output[0];
    if (nd.opType === 'MatMul' && isFloat(nd.input[1])) {
      const [xq, xs, xz] = activation(nd.input[0]);
      const [w, ws, wz] = weight(nd.input[1]);
      add('MatMulInteger', [xq, w, xz, wz], [`${o}_output_quantized`]);
      add('Cast', [`${o}_output_quantized`], [`${o}_output_quantized_cast_output`], { to: DT.FLOAT });
      add('Mul', [xs, ws], [`${o}_scales_mul`]);
      add('Mul', [`${o}_output_quantized_cast_output`, `${o}_scales_mul`], [o]);
    } else if (nd.opType === 'Conv' && isFloat(nd.input[1])) {
      const [xq, xs, xz] = activation(nd.input[0]);
      const [w, ws, wz] = weight(nd.input[1]);
      const bias = nd.input.length > 2 && nd.input[2];
      const scaled = bias ? `${o}_scaled` : o;
      add('ConvInteger', [xq, w, xz, wz], [`${o}_output_quantized`]).attribute.push(...nd.attribute);
      add('Cast', [`${o}_output_quantized`], [`${o}_output_quantized_cast_output`], { to: DT.FLOAT });
      add('Mul', [xs, ws], [`${o}_scales_mul`]);
      add('Mul', [`${o}_output_quantized_cast_output`, `${o}_scales_mul`], [scaled]);
      if (bias) {
        const rank = inits.get(nd.input[1]).dims.length;
        const shape = addInit(onnx.TensorProto.create({ name: `${o}_bias_reshape_shape`, dims: [rank], dataType: DT.INT64, rawData: bytesOf(BigInt64Array.from([1n, -1n, ...Array(rank - 2).fill(1n)])) }));
        add('Reshape', [nd.input[2], shape], [`${o}_bias_reshape_output`]);
        add('Add', [scaled, `${o}_bias_reshape_output`], [o]);
      }
    } else if (nd.opType === 'Gather' && isFloat(nd.input[0])) {
      const [tq, ts, tz] = weight(nd.input[0], 'uint8'); // the activation type, asymmetric
      n++; out.push(onnx.NodeProto.create({ opType: 'Gather', input: [tq, nd.input[1]], output: [`${o}_quantized`], name: `${o}_quantized_Gather_${n}`, domain: '', attribute: nd.attribute }));
      add('DequantizeLinear', [`${o}_quantized`, ts, tz], [o]);
    } else out.push(nd);
  }
  g.node = out;
  const used = new Set(out.flatMap((x) => x.input));
  g.initializer = g.initializer.filter((t) => used.has(t.name));
  return model;
}
