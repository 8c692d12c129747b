/**
 * onnxruntime's optimizer leaves each Linear's bias in the op after its MatMul: BiasGelu /
 * FastGelu(x, bias) in the MLP, SkipLayerNormalization's `bias` input after the output projections.
 * Moved into the MatMul (tessera FusedMatMul with the bias in its GEMM epilogue), the GELU becomes a
 * tessera Gelu that fuse-activation then folds into the same epilogue, and the SkipLayerNormalization
 * runs its one-pass add + layernorm: two passes over the activations fewer per Linear. A plain
 * com.microsoft Gelu (or FastGelu) after a MatMul, or after the FusedMatMul that fuse-matmul-add made
 * of MatMul + Add (optimum's O1 exports), joins that GEMM's epilogue the same way.
 */
import type { Graph, Node } from '../ir.js';
import { producers } from './match.js';
import { readers, soleReader } from './uses.js';

const MS = 'com.microsoft';

export function fuseContribBias(g: Graph): boolean {
  const uses = readers(g);
  const prod = producers(g);
  let changed = false;
  /**
   * The MatMul (constant 2-D float32 weights) whose output only `n` reads, or undefined; also a
   * FusedMatMul that fuse-matmul-add made (bias, no activation yet) when `withBias` is allowed.
   */
  const matmulInto = (n: Node, value: string, withBias: boolean): Node | undefined => {
    const m = prod.get(value);
    if (!m || m.outputs.length !== 1) return undefined;
    const plain = m.domain === '' && m.opType === 'MatMul';
    const fused = withBias && m.domain === 'tessera' && m.opType === 'FusedMatMul' && m.attributes.size === 0;
    if (!plain && !fused) return undefined;
    const w = g.initializers.get(m.inputs[1]!);
    if (!w || w.dtype !== 'float32' || w.dims.length !== 2) return undefined;
    return soleReader(g, uses, value) === n ? m : undefined;
  };
  /** A constant 1-D float32 bias of `cols` entries named `name`. */
  const isBias = (name: string | undefined, cols: number) => {
    const b = name ? g.initializers.get(name) : undefined;
    return !!b && b.dtype === 'float32' && b.dims.length === 1 && b.dims[0] === cols;
  };
  const intoGemm = (m: Node, bias: string) => {
    m.opType = 'FusedMatMul';
    m.domain = 'tessera';
    m.inputs = [m.inputs[0]!, m.inputs[1]!, bias];
  };
  for (const n of g.nodes) {
    if (n.domain !== MS) continue;
    const isGelu = n.opType === 'BiasGelu' || n.opType === 'FastGelu' || n.opType === 'Gelu';
    if (isGelu && n.attributes.size === 0 && n.outputs.length === 1) {
      const bias = n.opType === 'Gelu' ? undefined : n.inputs[1] || undefined;
      const m = matmulInto(n, n.inputs[0]!, bias === undefined);
      if (!m) continue;
      if (bias === undefined ? n.opType === 'BiasGelu' : !isBias(bias, g.initializers.get(m.inputs[1]!)!.dims[1]!)) continue;
      if (bias !== undefined) intoGemm(m, bias);
      // FastGelu is the tanh approximation (0.035677 = 0.044715 · 0.797885), the others erf.
      n.attributes.set('approximate', { type: 'string', value: n.opType === 'FastGelu' ? 'tanh' : 'none' });
      n.opType = 'Gelu';
      n.domain = 'tessera';
      n.inputs = [m.outputs[0]!];
      changed = true;
      continue;
    }
    if (n.opType === 'SkipLayerNormalization' && n.inputs.length === 5 && n.inputs[4]) {
      // The sum output (3) holds input + skip + bias: moving the bias keeps it the same sum.
      const m = matmulInto(n, n.inputs[0]!, false);
      if (!m || !isBias(n.inputs[4], g.initializers.get(m.inputs[1]!)!.dims[1]!)) continue;
      intoGemm(m, n.inputs[4]!);
      n.inputs = n.inputs.slice(0, 4);
      changed = true;
    }
  }
  return changed;
}
