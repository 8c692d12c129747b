/**
 * Which initializers may stay in the model file, read a row at a time by the Gathers that use
 * them (runtime/table-on-demand.ts): large tables whose every reader is a Gather over axis 0 that
 * takes them as its data, that no graph output names, and whose bytes a session can read again
 * later (a model file loaded by path keeps them on disk: `ConstTensor.readRange`). An embedding
 * table is the case: a run reads as many of its rows as it has tokens.
 */
import type { Graph, ValueInfo } from '../graph/ir.js';
import { DEFERRED_MIN_BYTES } from '../runtime/engine.js';
import { bytesPerElement, shapeSize } from '../api/tensor.js';

/** Tables from this size on are read on demand; smaller ones are not worth the open file. */
export const TABLE_ON_DEMAND_MIN_BYTES = 16 * 2 ** 20;

/** Names of the initializers of `g` to leave in the file (after the passes, before loading). */
export function tablesOnDemand(g: Graph, outputs: readonly ValueInfo[]): Set<string> {
  const candidates = new Set<string>();
  for (const [name, t] of g.initializers) {
    if (!t.readRange || t.resident || t.dtype === 'string' || t.dims.length === 0 || !(t.dims[0]! > 0)) continue;
    if (shapeSize(t.dims) * bytesPerElement(t.dtype) >= TABLE_ON_DEMAND_MIN_BYTES) candidates.add(name);
  }
  if (candidates.size === 0) return candidates;
  for (const o of outputs) candidates.delete(o.name);
  for (const n of g.nodes) {
    n.inputs.forEach((x, i) => {
      if (!candidates.has(x)) return;
      const rank = g.initializers.get(x)!.dims.length;
      const a = n.attributes.get('axis');
      const axis = a?.type === 'int' ? a.value : 0;
      const gatherData = n.opType === 'Gather' && (n.domain === '' || n.domain === 'ai.onnx') && i === 0 && (axis === 0 || axis === -rank);
      if (!gatherData || n.inputs.lastIndexOf(x) !== 0) candidates.delete(x);
    });
  }
  return candidates;
}

const PACKING_READERS = new Set(['MatMul', 'Gemm', 'FusedMatMul', 'FusedGemm']);

/**
 * Names of the initializers of `g` whose reading may wait for their packing (Engine.deferWeight):
 * float32 matrices of DEFERRED_MIN_BYTES or more, still readable from the file, read by one node,
 * as the B of a MatMul or Gemm. Whatever else happens to read one first reads it whole.
 */
export function weightsToDefer(g: Graph, outputs: readonly ValueInfo[]): Set<string> {
  const candidates = new Set<string>();
  for (const [name, t] of g.initializers) {
    if (!t.readRange || t.resident || t.dtype !== 'float32' || t.dims.length !== 2) continue;
    if (shapeSize(t.dims) * 4 >= DEFERRED_MIN_BYTES) candidates.add(name);
  }
  if (candidates.size === 0) return candidates;
  for (const o of outputs) candidates.delete(o.name);
  const readers = new Map<string, number>();
  for (const n of g.nodes) {
    n.inputs.forEach((x, i) => {
      if (!candidates.has(x)) return;
      readers.set(x, (readers.get(x) ?? 0) + 1);
      if (i !== 1 || !PACKING_READERS.has(n.opType)) candidates.delete(x);
    });
  }
  for (const name of candidates) if (readers.get(name) !== 1) candidates.delete(name);
  return candidates;
}
