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
 * Whether input `i` of `n` is the weight of an int8 product that packs it from rows (the B of
 * MatMulInteger; w of tessera's DynamicQuantizeMatMul, and of each product of its Group: inputs
 * 1, 5, 9, …; ops/quant/quant-gemm.ts packedWeightI8).
 */
function int8WeightInput(opType: string, domain: string, i: number): boolean {
  if (opType === 'MatMulInteger') return (domain === '' || domain === 'ai.onnx') && i === 1;
  if (domain !== 'tessera') return false;
  if (opType === 'DynamicQuantizeMatMul') return i === 1;
  return opType === 'DynamicQuantizeMatMulGroup' && i % 4 === 1;
}

/**
 * Names of the initializers of `g` whose reading may wait for their packing (Engine.deferWeight):
 * matrices of DEFERRED_MIN_BYTES or more, still readable from the file, read by one node — float32
 * as the B of a MatMul or Gemm, int8/uint8 as the weight of an integer product. Whatever else
 * happens to read one first (or an op that cannot pack it from rows) reads it whole. `int8Only`:
 * float32 weights are read at create (memory: 'low', whose GEMM reads them as stored).
 */
export function weightsToDefer(g: Graph, outputs: readonly ValueInfo[], int8Only = false): Set<string> {
  const candidates = new Set<string>();
  for (const [name, t] of g.initializers) {
    if (!t.readRange || t.resident || t.dims.length !== 2) continue;
    if ((t.dtype !== 'float32' || int8Only) && t.dtype !== 'int8' && t.dtype !== 'uint8') continue;
    if (shapeSize(t.dims) * bytesPerElement(t.dtype) >= DEFERRED_MIN_BYTES) candidates.add(name);
  }
  if (candidates.size === 0) return candidates;
  for (const o of outputs) candidates.delete(o.name);
  const readers = new Map<string, number>();
  for (const n of g.nodes) {
    n.inputs.forEach((x, i) => {
      if (!candidates.has(x)) return;
      readers.set(x, (readers.get(x) ?? 0) + 1);
      const packs = g.initializers.get(x)!.dtype === 'float32' ? i === 1 && PACKING_READERS.has(n.opType) : int8WeightInput(n.opType, n.domain, i);
      if (!packs) candidates.delete(x);
    });
  }
  for (const name of candidates) if (readers.get(name) !== 1) candidates.delete(name);
  return candidates;
}
