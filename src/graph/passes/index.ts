/** The graph passes run at load, in order. Each is a function over the IR with its own tests. */
import type { Model } from '../ir.js';
import { fuseActivations } from './fuse-activation.js';
import { fuseMatMulAdd } from './fuse-matmul-add.js';
import { fuseQuantized } from './fuse-qdq.js';

export function optimize(model: Model): void {
  const g = model.graph;
  const opset = model.opsets.get('') ?? 1;
  let changed = fuseQuantized(g);
  changed = fuseMatMulAdd(g) || changed;
  changed = fuseActivations(g, opset) || changed;
  if (changed) model.opsets.set('tessera', 1);
}
