/**
 * Decomposed LayerNorm → one LayerNormalization over the last axis (domain tessera, any opset):
 *   m = ReduceMean(x, [-1]); s = x − m; v = ReduceMean(s², [-1]); y = s / √(v + ε) · γ + β
 * as torch exports nn.LayerNorm before opset 17 (ReduceMean, Sub, Pow 2, ReduceMean, Add ε, Sqrt,
 * Div, Mul γ, Add β). Every intermediate must be read only inside the pattern.
 */
import type { Graph, Node } from '../ir.js';
import { constantOf, isLastAxisMean, isOp as is, near, otherInput, producers, scalarOf } from './match.js';
import { readers, removeNodes, soleReader } from './uses.js';

export function fuseLayerNorm(g: Graph): boolean {
  const uses = readers(g);
  const prod = producers(g);
  const dead = new Set<Node>();
  const sole = (v: string) => soleReader(g, uses, v);
  for (const mean of g.nodes) {
    if (!isLastAxisMean(g, prod, mean) || dead.has(mean)) continue;
    const x = mean.inputs[0]!;
    const sub = sole(mean.outputs[0]!);
    if (!is(sub, 'Sub') || sub.inputs[0] !== x || sub.inputs[1] !== mean.outputs[0]) continue;
    const s = sub.outputs[0]!;
    const sr = uses.get(s) ?? [];
    if (sr.length !== 2 || g.outputs.some((o) => o.name === s)) continue;
    const pow = sr.find((n) => n.opType === 'Pow'), div = sr.find((n) => n.opType === 'Div');
    if (!is(pow, 'Pow') || pow.inputs[0] !== s || !near(scalarOf(g, prod, pow.inputs[1]), 2)) continue;
    if (!is(div, 'Div') || div.inputs[0] !== s) continue;
    const varMean = sole(pow.outputs[0]!);
    if (!isLastAxisMean(g, prod, varMean) || varMean.inputs[0] !== pow.outputs[0]) continue;
    const addEps = sole(varMean.outputs[0]!);
    if (!is(addEps, 'Add')) continue;
    const epsName = otherInput(addEps, varMean.outputs[0]!);
    const epsT = constantOf(g, prod, epsName);
    if (!epsT || epsT.dtype !== 'float32' || epsT.data.length !== 1) continue;
    const eps = Number(epsT.data[0]);
    const sqrt = sole(addEps.outputs[0]!);
    if (!is(sqrt, 'Sqrt') || sole(sqrt.outputs[0]!) !== div || div.inputs[1] !== sqrt.outputs[0]) continue;
    const mul = sole(div.outputs[0]!);
    if (!is(mul, 'Mul')) continue;
    const gamma = otherInput(mul, div.outputs[0]!);
    const add = sole(mul.outputs[0]!);
    if (!is(add, 'Add')) continue;
    const beta = otherInput(add, mul.outputs[0]!);
    // γ and β must be 1-D float32 constants: then they span exactly the normalised last axis.
    const gt = constantOf(g, prod, gamma), bt = constantOf(g, prod, beta);
    if (!gt || !bt || gt.dtype !== 'float32' || bt.dtype !== 'float32' || gt.dims.length !== 1 || bt.dims.length !== 1 || gt.dims[0] !== bt.dims[0]) continue;
    const ln: Node = {
      name: mean.name || add.name, opType: 'LayerNormalization', domain: 'tessera',
      inputs: [x, gamma!, beta!], outputs: [add.outputs[0]!],
      attributes: new Map([['axis', { type: 'int', value: -1 }], ['epsilon', { type: 'float', value: eps }]]),
    };
    for (const n of [sub, pow, varMean, addEps, sqrt, div, mul]) dead.add(n);
    // The fused node replaces the final Add in place, keeping the topological order.
    Object.assign(add, ln);
    dead.add(mean);
  }
  removeNodes(g, dead);
  return dead.size > 0;
}
