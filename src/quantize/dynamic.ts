/**
 * Dynamic int8 quantization of a model's MatMul/Gemm weights, as onnxruntime's quantize_dynamic
 * does it, emitting only standard ONNX ops so any runtime runs the result:
 *
 *   x ─► DynamicQuantizeLinear ─► MatMulInteger(·, W_q, x_zp, W_zp) ─► Cast(float) ─► Mul(x_scale·W_scale) [─► Add(bias)]
 *
 * Weights are int8, symmetric (zero point 0, range ±127), with one scale per tensor or, with
 * `perChannel`, one per output column. Activations are uint8 with a range measured per run.
 */
import onnxProto from 'onnx-proto';
import { TesseraError } from '../api/errors.js';
import { decodeTensorProto } from '../onnx/tensor-proto.js';
import { decodeModelForRewrite } from './model-proto.js';
import { quantizeValue } from '../math/quant-math.js';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.TensorProto;

/** What `quantizeDynamic` quantizes; by default every MatMul and Gemm with a constant float weight. */
export interface QuantizeDynamicOptions {
  /** One scale per output column of each weight instead of one per tensor. */
  perChannel?: boolean;
  /** Op types to quantize (default both). */
  opTypes?: readonly ('MatMul' | 'Gemm')[];
  /** Weights with fewer elements stay float (default 0: quantize every eligible weight). */
  minElements?: number;
}

/** What `quantizeDynamic` did, node by node, and the model's size before and after. */
export interface QuantizeDynamicReport {
  /** Names of the nodes replaced. */
  quantized: string[];
  /** Nodes of the eligible types left as they were, with the reason. */
  skipped: { node: string; reason: string }[];
  /** Size of the input model, bytes. */
  bytesBefore: number;
  /** Size of the quantized model, bytes. */
  bytesAfter: number;
}

/** Quantized K×N weight (row-major) with per-column or per-tensor scales. */
export function quantizeWeight(w: Float32Array, K: number, N: number, perChannel: boolean): { q: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(perChannel ? N : 1);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      const s = perChannel ? n : 0, a = Math.abs(w[k * N + n]!);
      if (a > scales[s]!) scales[s] = a;
    }
  }
  for (let s = 0; s < scales.length; s++) scales[s] = scales[s]! === 0 ? 1 : Math.fround(scales[s]! / 127);
  const q = new Int8Array(K * N), symmetric = (v: number) => Math.max(-127, Math.min(127, v));
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) q[k * N + n] = quantizeValue(w[k * N + n]!, scales[perChannel ? n : 0]!, 0, symmetric);
  }
  return { q, scales };
}

function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
}

function int8Tensor(name: string, dims: number[], data: Int8Array): TensorProto {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.INT8, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() });
}

function attr(n: NodeProto, name: string): onnxProto.onnx.IAttributeProto | undefined {
  return (n.attribute ?? []).find((a) => a.name === name);
}

function intAttr(n: NodeProto, name: string, fallback: number): number {
  const a = attr(n, name);
  return a ? Number(a.i ?? 0) : fallback;
}

function floatAttr(n: NodeProto, name: string, fallback: number): number {
  const a = attr(n, name);
  return a ? Number(a.f ?? 0) : fallback;
}

/**
 * Rewrites a model's MatMul/Gemm weights to int8 (see above) and returns the new model's bytes with
 * a report. Pure: the input bytes are not modified, and nothing is run.
 * @throws TesseraError INVALID_MODEL when the bytes are not an ONNX model, UNSUPPORTED_OP below opset 11.
 */
export function quantizeDynamic(modelBytes: Uint8Array, options: QuantizeDynamicOptions = {}): { bytes: Uint8Array; report: QuantizeDynamicReport } {
  const { model, graph } = decodeModelForRewrite(modelBytes);
  const opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  const version = opset ? Number(opset.version) : 1;
  if (version < 11) throw new TesseraError('UNSUPPORTED_OP', `quantizeDynamic needs opset ≥ 11 (DynamicQuantizeLinear); the model imports opset ${version}`);
  const types = new Set(options.opTypes ?? ['MatMul', 'Gemm']);
  const perChannel = !!options.perChannel;
  const inits = new Map<string, TensorProto>();
  graph.initializer ??= [];
  graph.node ??= [];
  for (const t of graph.initializer) inits.set(t.name ?? '', t as TensorProto);
  // Weights shared by several nodes are quantized once per orientation.
  const made = new Map<string, { q: string; zp: string; scale: string; N: number }>();
  const report: QuantizeDynamicReport = { quantized: [], skipped: [], bytesBefore: modelBytes.length, bytesAfter: 0 };
  const used = new Set<string>();
  for (const n of graph.node) for (const i of n.input ?? []) used.add(i);
  const taken = new Set<string>([...inits.keys(), ...graph.node.flatMap((n) => n.output ?? [])]);
  const fresh = (base: string) => {
    let name = base, i = 1;
    while (taken.has(name)) name = `${base}_${i++}`;
    taken.add(name);
    return name;
  };
  const out: NodeProto[] = [];
  // One DynamicQuantizeLinear per activation, shared by every consumer.
  const dql = new Map<string, { q: string; scale: string; zp: string }>();
  for (const [idx, n] of graph.node.entries()) {
    const label = n.name || `${n.opType}#${idx}`;
    if (!types.has(n.opType as 'MatMul') || (n.domain && n.domain !== 'ai.onnx')) { out.push(n); continue; }
    const skip = (reason: string) => { report.skipped.push({ node: label, reason }); out.push(n); };
    const [x, wName, bias] = n.input ?? [];
    const w = inits.get(wName ?? '');
    if (!x || !w) { skip('B is not a constant initializer'); continue; }
    if (w.dataType !== onnx.TensorProto.DataType.FLOAT || (w.dims ?? []).length !== 2) { skip('B is not a 2-D float32 initializer'); continue; }
    const transB = n.opType === 'Gemm' && intAttr(n, 'transB', 0) === 1;
    if (n.opType === 'Gemm') {
      if (intAttr(n, 'transA', 0) !== 0 || floatAttr(n, 'alpha', 1) !== 1 || floatAttr(n, 'beta', 1) !== 1) { skip('Gemm with transA, alpha ≠ 1 or beta ≠ 1'); continue; }
      const b = bias ? inits.get(bias) : undefined;
      if (bias && (!b || (b.dims ?? []).length > 1)) { skip('Gemm bias is not a constant 1-D initializer'); continue; }
    }
    const [d0, d1] = (w.dims ?? []).map(Number) as [number, number];
    const [K, N] = transB ? [d1, d0] : [d0, d1];
    if (K * N < (options.minElements ?? 0)) { skip(`B has ${K * N} elements, fewer than minElements`); continue; }
    const key = `${wName}:${transB}`;
    let wq = made.get(key);
    if (!wq) {
      const src = decodeTensorProto(w, `initializer '${wName}'`).data as ArrayLike<number>;
      const kn = new Float32Array(K * N);
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) kn[k * N + j] = transB ? src[j * K + k]! : src[k * N + j]!;
      const { q, scales } = quantizeWeight(kn, K, N, perChannel);
      wq = { q: fresh(`${wName}_quantized`), zp: fresh(`${wName}_zero_point`), scale: fresh(`${wName}_scale`), N };
      graph.initializer.push(int8Tensor(wq.q, [K, N], q));
      graph.initializer.push(int8Tensor(wq.zp, perChannel ? [N] : [], new Int8Array(perChannel ? N : 1)));
      graph.initializer.push(floatTensor(wq.scale, perChannel ? [N] : [], scales));
      made.set(key, wq);
    }
    let a = dql.get(x);
    if (!a) {
      a = { q: fresh(`${x}_quantized`), scale: fresh(`${x}_scale`), zp: fresh(`${x}_zero_point`) };
      out.push(onnx.NodeProto.create({ opType: 'DynamicQuantizeLinear', name: fresh(`${x}_QuantizeLinear`), input: [x], output: [a.q, a.scale, a.zp] }));
      dql.set(x, a);
    }
    const y = n.output![0]!;
    const acc = fresh(`${y}_MatMulInteger`), f = fresh(`${y}_cast`), scale = fresh(`${y}_scale`);
    const scaled = bias ? fresh(`${y}_scaled`) : y;
    out.push(
      onnx.NodeProto.create({ opType: 'MatMulInteger', name: fresh(`${label}_quant`), input: [a.q, wq.q, a.zp, wq.zp], output: [acc] }),
      onnx.NodeProto.create({ opType: 'Cast', name: fresh(`${label}_cast`), input: [acc], output: [f], attribute: [onnx.AttributeProto.create({ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: onnx.TensorProto.DataType.FLOAT })] }),
      onnx.NodeProto.create({ opType: 'Mul', name: fresh(`${label}_scales_mul`), input: [a.scale, wq.scale], output: [scale] }),
      onnx.NodeProto.create({ opType: 'Mul', name: fresh(`${label}_output_scale_mul`), input: [f, scale], output: [scaled] }),
    );
    if (bias) out.push(onnx.NodeProto.create({ opType: 'Add', name: fresh(`${label}_bias_add`), input: [scaled, bias], output: [y] }));
    report.quantized.push(label);
  }
  graph.node = out;
  // Float weights no node reads any more are dropped.
  const read = new Set<string>();
  for (const n of graph.node) for (const i of n.input ?? []) read.add(i);
  for (const o of graph.output) read.add(o.name ?? '');
  graph.initializer = graph.initializer.filter((t) => read.has(t.name ?? ''));
  const bytes = onnx.ModelProto.encode(model).finish();
  report.bytesAfter = bytes.length;
  return { bytes, report };
}
