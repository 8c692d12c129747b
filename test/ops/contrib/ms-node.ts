/**
 * One com.microsoft node as a model, run by tessera and by onnxruntime-web on the same bytes and
 * feeds; the outputs compared element by element (decoder contrib ops: GroupQueryAttention,
 * RotaryEmbedding, the simplified norms, GatherBlockQuantized).
 */
import { expect } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { DT, model, node, valueInfo } from '../../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../../helpers/ort.js';

const ELEM: Record<string, number> = { float32: DT.FLOAT, int32: DT.INT32, int64: DT.INT64, uint8: DT.UINT8, int8: DT.INT8, float16: DT.FLOAT16, uint4: 21, int4: 22 };

// ONNX stores int4/uint4 two to a byte, low nibble first; tessera's Tensor holds one a slot.
function rawOf(t: Tensor): Uint8Array {
  const d = t.data as unknown as ArrayLike<number> & ArrayBufferView;
  if (t.type !== 'int4' && t.type !== 'uint4') return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const out = new Uint8Array(Math.ceil(d.length / 2));
  for (let i = 0; i < d.length; i++) out[i >> 1]! |= (d[i]! & 15) << ((i & 1) * 4);
  return out;
}

type Attr = Parameters<typeof node>[3];

/** A node's inputs: a Tensor is a graph input, `{ const }` an initializer, '' an omitted input. */
export type MsInput = Tensor | { const: Tensor } | '';

/**
 * A model of one node (domain com.microsoft unless given) with inputs in0…; of its `outputs`, those
 * in `used` (all by default) are graph outputs out{i} of outTypes (float32 by default), the rest ''.
 */
export function msModel(op: string, inputs: readonly MsInput[], attrs: Attr, outputs: number, outTypes: readonly string[] = [],
  domain = 'com.microsoft', used?: readonly number[], opset = 17): Uint8Array {
  const names = inputs.map((x, i) => (x === '' ? '' : `in${i}`));
  const outs = Array.from({ length: outputs }, (_, i) => (!used || used.includes(i) ? `out${i}` : ''));
  const n = { ...node(op, names, outs, attrs, 'n'), domain };
  return model({
    nodes: [n],
    inputs: inputs.flatMap((x, i) => (x instanceof Tensor ? [valueInfo(names[i]!, ELEM[x.type]!, [...x.dims])] : [])),
    outputs: outs.flatMap((o, i) => (o ? [valueInfo(o, ELEM[outTypes[i] ?? 'float32']!)] : [])),
    initializers: inputs.flatMap((x, i) => {
      if (x === '' || x instanceof Tensor) return [];
      return [{ name: names[i], dims: [...x.const.dims], dataType: ELEM[x.const.type], rawData: rawOf(x.const) }];
    }),
    opset,
    extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
  });
}

/** Runs the node in tessera and onnxruntime-web: [tessera outputs, ort outputs] as Float32/Int arrays with dims. */
export async function runBoth(op: string, inputs: readonly MsInput[], attrs: Attr, outputs: number, outTypes: readonly string[] = [],
  domain = 'com.microsoft', used?: readonly number[], opset = 17): Promise<[Tensor[], { data: ArrayLike<number>; dims: readonly number[] }[]]> {
  const bytes = msModel(op, inputs, attrs, outputs, outTypes, domain, used, opset);
  const feeds: Record<string, Tensor> = {};
  inputs.forEach((x, i) => { if (x instanceof Tensor) feeds[`in${i}`] = x; });
  const s = await InferenceSession.create(bytes);
  let mine: Tensor[];
  try {
    const out = await s.run(feeds);
    mine = s.outputNames.map((n) => out[n]!);
  } finally {
    await s.release();
  }
  const o = await ortSession(bytes);
  const ref = await ortRun(o, feeds);
  await o.release();
  return [mine, o.outputNames.map((n) => ({ data: ref[n]!.data as ArrayLike<number>, dims: ref[n]!.dims }))];
}

/** |a − b| ≤ rtol·|b| + atol everywhere (rows picked by `keep`, when given), same shape. */
export function expectClose(a: Tensor, b: { data: ArrayLike<number>; dims: readonly number[] }, what: string, rtol = 1e-5, atol = 1e-6, keep?: (i: number) => boolean): number {
  expect([...a.dims], `${what} shape`).toEqual([...b.dims]);
  const x = a.data as ArrayLike<number>;
  let worst = 0;
  for (let i = 0; i < b.data.length; i++) {
    if (keep && !keep(i)) continue;
    const e = Math.abs(x[i]! - b.data[i]!), tol = rtol * Math.abs(b.data[i]!) + atol;
    if (!(e <= tol)) expect.fail(`${what}[${i}]: tessera ${x[i]} vs onnxruntime-web ${b.data[i]}`);
    worst = Math.max(worst, e / (Math.abs(b.data[i]!) + atol));
  }
  return worst;
}

/** Deterministic uniform floats in [lo, hi). */
export function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = lo + (hi - lo) * (s / 4294967296);
  }
  return out;
}

/** RoPE caches [maxPos, half]: cos/sin(p · base^(−i/half)). */
export function ropeCaches(maxPos: number, half: number): [Tensor, Tensor] {
  const c = new Float32Array(maxPos * half), s = new Float32Array(maxPos * half);
  for (let p = 0; p < maxPos; p++) {
    for (let i = 0; i < half; i++) {
      const a = p * Math.pow(10000, -i / half);
      c[p * half + i] = Math.cos(a); s[p * half + i] = Math.sin(a);
    }
  }
  return [new Tensor('float32', c, [maxPos, half]), new Tensor('float32', s, [maxPos, half])];
}
