/** `tessera run model.onnx --input name=spec …`: run once, summarise every output. */
import { writeFileSync } from 'node:fs';
import { InferenceSession } from '../api/session.js';
import { TesseraError } from '../api/errors.js';
import type { Tensor } from '../api/tensor.js';
import { feedFromSpec } from './feeds.js';
import { writeNpy } from './npy.js';

export interface OutputSummary {
  name: string;
  type: string;
  dims: number[];
  min?: number;
  max?: number;
  mean?: number;
  /** For a logits-like last axis: the largest entries of the first row. */
  top?: { index: number; value: number }[];
}

export function summarize(name: string, t: Tensor, topK = 5): OutputSummary {
  const s: OutputSummary = { name, type: t.type, dims: [...t.dims] };
  if (t.type === 'string' || t.size === 0) return s;
  let min = Infinity, max = -Infinity, sum = 0;
  const data = t.data as ArrayLike<number | bigint>;
  for (let i = 0; i < t.size; i++) {
    const v = Number(data[i]);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  Object.assign(s, { min, max, mean: sum / t.size });
  const last = t.dims[t.dims.length - 1] ?? 1;
  if (t.type.startsWith('float') && last > 1) {
    const row = Array.from({ length: last }, (_, i) => ({ index: i, value: Number(data[i]) }));
    s.top = row.sort((a, b) => b.value - a.value).slice(0, Math.min(topK, last));
  }
  return s;
}

export async function runModel(file: string, specs: Record<string, string>, outputFile?: string) {
  const loadStart = performance.now();
  const session = await InferenceSession.create(file);
  const loadMs = performance.now() - loadStart;
  const unknown = Object.keys(specs).filter((k) => !session.inputNames.includes(k));
  if (unknown.length) throw new TesseraError('INVALID_FEED', `unknown input(s) ${unknown.join(', ')}; the model's inputs are ${session.inputNames.join(', ')}`);
  const feeds = Object.fromEntries(session.inputMetadata.map((v) => [v.name, feedFromSpec(specs[v.name] ?? 'random', { name: v.name, dtype: v.type as never, shape: v.shape })]));
  const t = performance.now();
  const out = await session.run(feeds);
  const runMs = performance.now() - t;
  if (outputFile) {
    if (session.outputNames.length !== 1 && !outputFile.includes('{name}')) {
      throw new TesseraError('INVALID_ARGUMENT', `the model has ${session.outputNames.length} outputs: use --output 'out-{name}.npy'`);
    }
    for (const name of session.outputNames) writeFileSync(outputFile.replace('{name}', name), writeNpy(out[name]!));
  }
  const result = {
    loadMs, runMs,
    inputs: Object.entries(feeds).map(([n, f]) => ({ name: n, type: f.type, dims: [...f.dims], from: specs[n] ?? 'random' })),
    outputs: session.outputNames.map((n) => summarize(n, out[n]!)),
  };
  await session.release();
  return result;
}

export function printRun(r: Awaited<ReturnType<typeof runModel>>): void {
  const f = (x: number | undefined) => (x === undefined ? '-' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4));
  for (const i of r.inputs) console.log(`input  ${i.name}: ${i.type} [${i.dims.join(', ')}] from ${i.from}`);
  for (const o of r.outputs) {
    console.log(`output ${o.name}: ${o.type} [${o.dims.join(', ')}]  min ${f(o.min)}  max ${f(o.max)}  mean ${f(o.mean)}`);
    if (o.top) console.log(`       top ${o.top.length} of the first row: ${o.top.map((e) => `#${e.index} ${f(e.value)}`).join(', ')}`);
  }
  console.log(`load ${r.loadMs.toFixed(1)} ms, run ${r.runMs.toFixed(2)} ms (first run: includes planning for these shapes)`);
}
