/**
 * Runs one ONNX node through the public API: a model built in the test (no Python at test time),
 * its inputs fed as graph inputs unless listed as initializers.
 */
import onnxProto from 'onnx-proto';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { model, node, valueInfo } from '../../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../../helpers/ort.js';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const ELEM: Record<string, number> = {
  float32: DT.FLOAT, float64: DT.DOUBLE, float16: DT.FLOAT16, int8: DT.INT8, uint8: DT.UINT8, int16: DT.INT16,
  uint16: DT.UINT16, int32: DT.INT32, uint32: DT.UINT32, int64: DT.INT64, uint64: DT.UINT64, bool: DT.BOOL,
};

type Attr = Parameters<typeof node>[3];

export interface NodeSpec {
  op: string;
  /** Graph inputs in order; '' leaves an optional input out; `const` makes it an initializer. */
  inputs: (Tensor | { const: Tensor } | '')[];
  attrs?: Attr;
  outputs?: number;
  opset?: number;
  name?: string;
  /** Declared output types (left unknown by default: tessera infers them). */
  outTypes?: string[];
}

function initializer(name: string, t: Tensor): onnxProto.onnx.ITensorProto {
  const data = t.data as ArrayLike<number | bigint> & { buffer: ArrayBuffer; byteOffset: number; byteLength: number };
  return { name, dims: [...t.dims], dataType: ELEM[t.type], rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function nodeModel(spec: NodeSpec): Uint8Array {
  const names = spec.inputs.map((x, i) => (x === '' ? '' : `in${i}`));
  const outs = Array.from({ length: spec.outputs ?? 1 }, (_, i) => `out${i}`);
  const feeds = spec.inputs.flatMap((x, i) => (x === '' || !(x instanceof Tensor) ? [] : [valueInfo(names[i]!, ELEM[x.type]!, [...x.dims])]));
  const inits = spec.inputs.flatMap((x, i) => (x !== '' && !(x instanceof Tensor) ? [initializer(names[i]!, x.const)] : []));
  return model({
    nodes: [node(spec.op, names, outs, spec.attrs ?? {}, spec.name ?? 'n')],
    inputs: feeds,
    outputs: outs.map((o, i) => valueInfo(o, spec.outTypes?.[i] ? ELEM[spec.outTypes[i]!]! : 0)),
    initializers: inits,
    opset: spec.opset ?? 18,
  });
}

/** Creates the session, runs it once, returns the outputs in order. */
export async function runNode(spec: NodeSpec): Promise<Tensor[]> {
  const s = await InferenceSession.create(nodeModel(spec));
  try {
    const feeds: Record<string, Tensor> = {};
    spec.inputs.forEach((x, i) => { if (x instanceof Tensor) feeds[`in${i}`] = x; });
    const out = await s.run(feeds);
    return s.outputNames.map((n) => out[n]!);
  } finally {
    await s.release();
  }
}

export const f32 = (data: number[], dims: number[]) => new Tensor('float32', Float32Array.from(data), dims);
export const i64 = (data: number[], dims: number[]) => new Tensor('int64', BigInt64Array.from(data, BigInt), dims);

/**
 * Runs a one-node model (nodeModel) in tessera and in onnxruntime-web with the same feeds: the
 * output dims must agree; returns the largest |tessera − onnxruntime-web| over out0.
 */
export async function worstVsOrt(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<number> {
  const s = await InferenceSession.create(bytes);
  const ort = await ortSession(bytes);
  try {
    const ours = (await s.run(feeds)).out0!;
    const theirs = (await ortRun(ort, feeds)).out0!;
    if (ours.dims.join() !== theirs.dims.join()) throw new Error(`out0 dims [${ours.dims}] vs onnxruntime-web's [${theirs.dims}]`);
    const a = ours.data as Float32Array, e = theirs.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - e[i]!));
    return worst;
  } finally {
    await s.release();
    await ort.release();
  }
}

/** A deterministic pseudo-random float array. */
export function rand(n: number, seed = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  });
}
