/** `tessera inspect model.onnx`: what a model is, and whether tessera can run it. */
import { readFileSync } from 'node:fs';
import { InferenceSession } from '../api/session.js';
import { bytesPerElement, shapeSize } from '../api/tensor.js';
import type { ValueInfo } from '../graph/ir.js';
import { decodeModel } from '../onnx/decode.js';
import { defaultRegistry } from '../ops/index.js';
import { describeNode } from '../api/errors.js';
import { concreteDims, randomTensor } from './feeds.js';
import { totalFlops } from './flops.js';

export interface InspectReport {
  file: string;
  bytes: number;
  irVersion: number;
  producer: string;
  opsets: Record<string, number>;
  inputs: { name: string; type: string; shape: string }[];
  outputs: { name: string; type: string; shape: string }[];
  ops: Record<string, number>;
  unsupported: string[];
  parameters: { count: number; bytes: number; byType: Record<string, { count: number; bytes: number }> };
  flops?: { inputShapes: Record<string, number[]>; total: number; error?: string };
}

const shapeText = (v: ValueInfo) => (v.shape ? `[${v.shape.map((d) => d ?? '?').join(', ')}]` : 'unknown');

export async function inspect(file: string, shapes: Record<string, number[]>): Promise<InspectReport> {
  const bytes = readFileSync(file);
  const model = decodeModel(bytes);
  const g = model.graph;
  const inits = new Set(g.initializers.keys());
  const inputs = g.inputs.filter((v) => !inits.has(v.name));
  // Maps, not plain objects: op types and input names come from the file and may be '__proto__'.
  const ops = new Map<string, number>();
  const unsupported: string[] = [];
  for (const n of g.nodes) {
    const key = n.domain ? `${n.domain}.${n.opType}` : n.opType;
    ops.set(key, (ops.get(key) ?? 0) + 1);
    const found = defaultRegistry.find(n, model.opsets);
    if (typeof found === 'string') unsupported.push(`${describeNode(n)}: ${found}`);
  }
  const byTypeMap = new Map<string, { count: number; bytes: number }>();
  for (const t of g.initializers.values()) {
    let e = byTypeMap.get(t.dtype);
    if (!e) byTypeMap.set(t.dtype, (e = { count: 0, bytes: 0 }));
    const n = shapeSize(t.dims);
    e.count += n;
    e.bytes += n * (bytesPerElement(t.dtype) || 0);
  }
  const report: InspectReport = {
    file,
    bytes: bytes.length,
    irVersion: model.irVersion,
    producer: model.producer,
    opsets: Object.fromEntries([...model.opsets].map(([d, v]) => [d || 'ai.onnx', v])),
    inputs: inputs.map((v) => ({ name: v.name, type: v.dtype ?? '?', shape: shapeText(v) })),
    outputs: g.outputs.map((v) => ({ name: v.name, type: v.dtype ?? '?', shape: shapeText(v) })),
    ops: Object.fromEntries([...ops].sort((a, b) => b[1] - a[1])),
    unsupported,
    parameters: {
      count: [...byTypeMap.values()].reduce((a, e) => a + e.count, 0),
      bytes: [...byTypeMap.values()].reduce((a, e) => a + e.bytes, 0),
      byType: Object.fromEntries(byTypeMap),
    },
  };
  if (unsupported.length === 0) {
    // FLOPs come from a real plan at concrete shapes: one profiled run on synthetic data.
    const inputShapes = Object.fromEntries(inputs.map((v) => [v.name, concreteDims(v, Object.hasOwn(shapes, v.name) ? shapes[v.name] : undefined)]));
    try {
      const session = await InferenceSession.create(bytes);
      const feeds = Object.fromEntries(inputs.map((v) => [v.name, randomTensor((v.dtype ?? 'float32'), inputShapes[v.name]!)]));
      await session.run(feeds, { profile: true });
      report.flops = { inputShapes, total: totalFlops(session.lastProfile!) };
      await session.release();
    } catch (e) {
      report.flops = { inputShapes, total: 0, error: (e as Error).message };
    }
  }
  return report;
}

const fmt = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : `${n}`);

export function printInspect(r: InspectReport): void {
  const lines = [
    `${r.file} (${fmt(r.bytes)}B, IR ${r.irVersion}${r.producer ? `, from ${r.producer}` : ''})`,
    `opsets: ${Object.entries(r.opsets).map(([d, v]) => `${d} ${v}`).join(', ')}`,
    'inputs:',
    ...r.inputs.map((v) => `  ${v.name}: ${v.type} ${v.shape}`),
    'outputs:',
    ...r.outputs.map((v) => `  ${v.name}: ${v.type} ${v.shape}`),
    `parameters: ${fmt(r.parameters.count)} (${fmt(r.parameters.bytes)}B)${Object.entries(r.parameters.byType).map(([t, e]) => `; ${t} ${fmt(e.count)}`).join('')}`,
    `ops (${Object.values(r.ops).reduce((a, b) => a + b, 0)} nodes): ${Object.entries(r.ops).map(([o, n]) => `${o} ×${n}`).join(', ')}`,
  ];
  if (r.unsupported.length) {
    lines.push(`tessera cannot run ${r.unsupported.length} node(s):`, ...r.unsupported.slice(0, 30).map((u) => `  ${u}`));
  } else {
    lines.push('tessera can run every node.');
  }
  if (r.flops) {
    const shapes = Object.entries(r.flops.inputShapes).map(([n, d]) => `${n}=${d.join('x')}`).join(' ');
    lines.push(r.flops.error ? `FLOPs at ${shapes}: could not plan (${r.flops.error})` : `FLOPs at ${shapes}: ${fmt(r.flops.total)}FLOP (conv/gemm/matmul, 2 per multiply-add)`);
  }
  console.log(lines.join('\n'));
}
