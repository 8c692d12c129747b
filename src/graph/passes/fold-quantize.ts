/**
 * QuantizeLinear of a constant float32 weight → the 8-bit initializer it would compute.
 *
 * onnxruntime's quantize_static with AddQDQPairToWeight (what QNN/TensorRT flows ask for) keeps
 * weights in float and writes Weight → QuantizeLinear → DequantizeLinear. Folding the
 * QuantizeLinear at load gives the layout the QDQ fusion expects (constant int8 weights behind a
 * DequantizeLinear), with the integers the op would produce at run time: float32 x / scale,
 * rounded half to even, plus the zero point, saturated.
 */
import type { ConstTensor, Graph, Node } from '../ir.js';
import { quantizeValue, saturator } from '../../math/quant-math.js';
import { removeNodes } from './uses.js';

const size = (t: ConstTensor) => t.dims.reduce((a, b) => a * b, 1);

function intAttr(n: Node, name: string, fallback: number): number {
  const a = n.attributes.get(name);
  return a && a.type === 'int' ? a.value : fallback;
}

export function foldConstantQuantize(g: Graph): boolean {
  const outputs = new Set(g.outputs.map((o) => o.name));
  const dead = new Set<Node>();
  for (const n of g.nodes) {
    if (n.domain !== '' || n.opType !== 'QuantizeLinear' || n.outputs.length !== 1) continue;
    if (intAttr(n, 'block_size', 0) !== 0 || intAttr(n, 'output_dtype', 0) !== 0) continue;
    const name = n.inputs[0]!, out = n.outputs[0]!;
    // (Initializers are constants in tessera even when also listed as graph inputs: decode drops those.)
    if (outputs.has(out) || g.initializers.has(out)) continue;
    const x = g.initializers.get(name), s = g.initializers.get(n.inputs[1]!);
    const z = n.inputs[2] ? g.initializers.get(n.inputs[2]) : undefined;
    if (!x || x.dtype !== 'float32' || !s || s.dtype !== 'float32' || (n.inputs[2] && !z)) continue;
    const dtype = z ? z.dtype : 'uint8';
    if (dtype !== 'uint8' && dtype !== 'int8') continue;
    const ns = size(s);
    if (z && size(z) !== ns) continue;
    let axis = intAttr(n, 'axis', 1);
    if (axis < 0) axis += x.dims.length;
    // Per tensor, or per `axis` with a 1-D scale as long as that axis.
    if (ns !== 1 && (s.dims.length !== 1 || axis < 0 || axis >= x.dims.length || x.dims[axis] !== ns)) continue;
    const inner = ns === 1 ? 1 : x.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    const X = x.data as ArrayLike<number>, S = s.data as ArrayLike<number>, Z = z?.data as ArrayLike<number> | undefined;
    const count = size(x), q = dtype === 'int8' ? new Int8Array(count) : new Uint8Array(count), sat = saturator(dtype);
    for (let i = 0; i < count; i++) {
      const c = ns === 1 ? 0 : Math.floor(i / inner) % ns;
      q[i] = quantizeValue(X[i]!, S[c]!, Z ? Z[c]! : 0, sat);
    }
    g.initializers.set(out, { dtype, dims: [...x.dims], data: q });
    dead.add(n);
  }
  removeNodes(g, dead);
  return dead.size > 0;
}
