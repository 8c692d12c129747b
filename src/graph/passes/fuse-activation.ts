/**
 * Conv / Gemm / MatMul followed by an activation → one fused node whose kernel applies the
 * activation in its epilogue, while the output tile is still in registers.
 */
import type { Graph, Node } from '../ir.js';
import { readers, removeNodes, soleReader } from './uses.js';

const FUSABLE: Record<string, string> = {
  Conv: 'FusedConv', FusedConv: 'FusedConv', Gemm: 'FusedGemm', FusedGemm: 'FusedGemm', MatMul: 'FusedMatMul', FusedMatMul: 'FusedMatMul',
  // The int8 dynamic-quantization step (fuse-qdq.ts) dequantizes in its GEMM epilogue too.
  DynamicQuantizeMatMul: 'DynamicQuantizeMatMul',
};

/** The kernel activation an ONNX activation node maps to, or undefined if it cannot be fused. */
function activationOf(node: Node, g: Graph, opset: number): { name: string; params: number[] } | undefined {
  const f = (n: string, d: number) => {
    const a = node.attributes.get(n);
    return a && (a.type === 'float' || a.type === 'int') ? a.value : d;
  };
  if (node.opType === 'Gelu' && (node.domain === 'tessera' || (node.domain === '' && opset >= 20))) {
    const a = node.attributes.get('approximate');
    if (node.attributes.size > 1 || (a && a.type !== 'string')) return undefined;
    const approx = a?.type === 'string' ? a.value : 'none';
    return approx === 'none' ? { name: 'geluErf', params: [] } : approx === 'tanh' ? { name: 'geluTanh', params: [] } : undefined;
  }
  if (node.domain !== '' || node.attributes.size > 2) return undefined;
  switch (node.opType) {
    case 'Relu': return node.attributes.size === 0 ? { name: 'relu', params: [] } : undefined;
    case 'Sigmoid': return { name: 'sigmoid', params: [] };
    case 'Tanh': return { name: 'tanh', params: [] };
    case 'HardSwish': return { name: 'hardSwish', params: [] };
    case 'LeakyRelu': return { name: 'leakyRelu', params: [f('alpha', 0.01)] };
    case 'HardSigmoid': return { name: 'hardSigmoid', params: [f('alpha', 0.2), f('beta', 0.5)] };
    case 'Clip': {
      if (opset < 11) return { name: 'clip', params: [f('min', -3.4028234663852886e38), f('max', 3.4028234663852886e38)] };
      const bound = (i: number, d: number): number | undefined => {
        const name = node.inputs[i];
        if (!name) return d;
        const t = g.initializers.get(name);
        return t && t.dtype === 'float32' && t.data.length === 1 ? Number(t.data[0]) : undefined;
      };
      const lo = bound(1, -Infinity), hi = bound(2, Infinity);
      return lo === undefined || hi === undefined ? undefined : { name: 'clip', params: [lo, hi] };
    }
    default: return undefined;
  }
}

export function fuseActivations(g: Graph, opset: number): boolean {
  const uses = readers(g);
  const dead = new Set<Node>();
  for (const n of g.nodes) {
    if (n.domain !== '' && n.domain !== 'tessera') continue;
    const fused = FUSABLE[n.opType];
    if (!fused || n.attributes.has('activation') || n.outputs.length !== 1) continue;
    if (n.domain === '' && fused === n.opType) continue;
    const next = soleReader(g, uses, n.outputs[0]!);
    if (!next || next.inputs[0] !== n.outputs[0]) continue;
    const act = activationOf(next, g, opset);
    if (!act) continue;
    // GELU joins GEMM epilogues only (BERT's MLP); the N-D convolution path has no GELU epilogue.
    if (act.name.startsWith('gelu') && fused === 'FusedConv') continue;
    n.opType = fused;
    n.domain = 'tessera';
    n.attributes.set('activation', { type: 'string', value: act.name });
    n.attributes.set('activation_params', { type: 'floats', value: act.params });
    n.outputs = [next.outputs[0]!];
    if (!n.name) n.name = next.name;
    dead.add(next);
  }
  removeNodes(g, dead);
  return dead.size > 0;
}
