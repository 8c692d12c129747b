/**
 * One-node com.microsoft models for the encoder contrib op tests: built here (no Python), run in
 * tessera and in onnxruntime-web (whose wasm build registers these contrib kernels) on the same
 * bytes and feeds, compared output by output.
 */
import onnxProto from 'onnx-proto';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { model, node, valueInfo } from '../../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../../helpers/ort.js';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const ELEM: Record<string, number> = { float32: DT.FLOAT, int32: DT.INT32, int64: DT.INT64 };

type Attr = Parameters<typeof node>[3];

/** A node's inputs in order: a Tensor is a graph input, `{ const }` an initializer, '' absent. */
export type In = Tensor | { const: Tensor } | '';

export interface MsSpec {
  op: string;
  inputs: In[];
  attrs?: Attr;
  /** Output slots: a name for a wanted output, '' for one left out. Default: one output. */
  outputs?: string[];
  name?: string;
  /** Element types of outputs that are not float32, by name. */
  outTypes?: Record<string, 'int32'>;
}

function initializer(name: string, t: Tensor): onnxProto.onnx.ITensorProto {
  const data = t.data as ArrayLike<number> & { buffer: ArrayBuffer; byteOffset: number; byteLength: number };
  return { name, dims: [...t.dims], dataType: ELEM[t.type], rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() };
}

/** The model bytes of one com.microsoft node. */
export function msModel(spec: MsSpec): Uint8Array {
  const names = spec.inputs.map((x, i) => (x === '' ? '' : `in${i}`));
  // Trailing absent inputs are dropped, as exporters do.
  while (names.length && names[names.length - 1] === '') names.pop();
  const outs = spec.outputs ?? ['out0'];
  const feeds = spec.inputs.flatMap((x, i) => (x instanceof Tensor ? [valueInfo(names[i]!, ELEM[x.type]!, [...x.dims])] : []));
  const inits = spec.inputs.flatMap((x, i) => (x !== '' && !(x instanceof Tensor) ? [initializer(names[i]!, x.const)] : []));
  const n = node(spec.op, names, outs, spec.attrs ?? {}, spec.name ?? 'n');
  n.domain = 'com.microsoft';
  return model({
    nodes: [n], inputs: feeds, initializers: inits, opset: 17,
    outputs: outs.filter((o) => o !== '').map((o) => valueInfo(o, ELEM[spec.outTypes?.[o] ?? 'float32']!)),
    extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
  });
}

/** The graph-input feeds of a spec. */
export function feedsOf(spec: MsSpec): Record<string, Tensor> {
  const f: Record<string, Tensor> = {};
  spec.inputs.forEach((x, i) => { if (x instanceof Tensor) f[`in${i}`] = x; });
  return f;
}

/** Runs the node in tessera; outputs by name. */
export async function runTessera(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const s = await InferenceSession.create(bytes);
  try { return await s.run(feeds); } finally { await s.release(); }
}

/**
 * Runs the node in tessera and onnxruntime-web; for each wanted output, checks the dims agree and
 * returns the largest |difference| (integers compared exactly: their worst difference too).
 */
export async function worstVsOrt(spec: MsSpec): Promise<Record<string, number>> {
  const bytes = msModel(spec), feeds = feedsOf(spec);
  const ours = await runTessera(bytes, feeds);
  const ort = await ortSession(bytes);
  try {
    const theirs = await ortRun(ort, feeds);
    const out: Record<string, number> = {};
    for (const name of (spec.outputs ?? ['out0']).filter((o) => o !== '')) {
      const a = ours[name]!, e = theirs[name]!;
      if (a.dims.join() !== e.dims.join()) throw new Error(`${name}: dims [${a.dims}] vs onnxruntime-web's [${e.dims}]`);
      out[name] = worst(a.data as ArrayLike<number>, e.data as ArrayLike<number>);
    }
    return out;
  } finally {
    await ort.release();
  }
}

/**
 * For a layout onnxruntime-web's CPU kernels do not run (packed QKV/KV attention): tessera on
 * `ours`, onnxruntime-web on `theirs`, an equivalent model in a layout it runs; worst |diff| of out0.
 */
export async function worstAcross(ours: MsSpec, theirs: MsSpec): Promise<number> {
  const a = (await runTessera(msModel(ours), feedsOf(ours))).out0!;
  const ort = await ortSession(msModel(theirs));
  try {
    const e = (await ortRun(ort, feedsOf(theirs))).out0!;
    if (a.dims.join() !== e.dims.join()) throw new Error(`out0: dims [${a.dims}] vs onnxruntime-web's [${e.dims}]`);
    return worst(a.data as ArrayLike<number>, e.data as ArrayLike<number>);
  } finally {
    await ort.release();
  }
}

/** Largest |a − e| (Infinity where one is NaN and the other not). */
export function worst(a: ArrayLike<number>, e: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]), y = Number(e[i]);
    if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
    if (!Number.isNaN(x)) w = Math.max(w, Math.abs(x - y));
  }
  return w;
}

/** A deterministic pseudo-random array in [lo, hi). */
export function rand(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return lo + (hi - lo) * (s / 2 ** 32); });
}

export const f32 = (dims: number[], seed: number, lo = -1, hi = 1) => new Tensor('float32', Float32Array.from(rand(dims.reduce((a, b) => a * b, 1), seed, lo, hi)), dims);
export const i32 = (dims: number[], data: number[]) => new Tensor('int32', Int32Array.from(data), dims);
export const konst = (t: Tensor) => ({ const: t });
