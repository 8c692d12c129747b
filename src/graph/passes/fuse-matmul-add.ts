/**
 * MatMul followed by Add of a constant 1-D bias → FusedMatMul with the bias in the GEMM epilogue
 * (the pattern every PyTorch Linear layer exports as, in transformers).
 */
import type { Graph, Node } from '../ir.js';
import { initializerName, producers } from './match.js';
import { readers, removeNodes, soleReader } from './uses.js';

export function fuseMatMulAdd(g: Graph): boolean {
  const uses = readers(g);
  const prod = producers(g);
  const dead = new Set<Node>();
  for (const n of g.nodes) {
    if (n.domain !== '' || n.opType !== 'MatMul' || n.outputs.length !== 1) continue;
    const w = g.initializers.get(n.inputs[1]!);
    if (!w || w.dtype !== 'float32' || w.dims.length !== 2) continue;
    const add = soleReader(g, uses, n.outputs[0]!);
    if (!add || add.opType !== 'Add' || add.domain !== '') continue;
    // torch shares equal parameters through Identity nodes: look through them.
    const biasName = initializerName(g, prod, add.inputs[0] === n.outputs[0] ? add.inputs[1]! : add.inputs[0]!);
    const bias = biasName === undefined ? undefined : g.initializers.get(biasName);
    // Only a bias that broadcasts along the last axis alone fits the epilogue.
    if (!bias || bias.dtype !== 'float32' || bias.dims.length !== 1 || bias.dims[0] !== w.dims[1]) continue;
    n.opType = 'FusedMatMul';
    n.domain = 'tessera';
    n.inputs = [n.inputs[0]!, n.inputs[1]!, biasName!];
    n.outputs = [add.outputs[0]!];
    dead.add(add);
  }
  removeNodes(g, dead);
  return dead.size > 0;
}
