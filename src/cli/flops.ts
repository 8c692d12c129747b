/** Multiply-add counts from a profile's shapes: what the heavy ops cost, for GFLOP/s figures. */
import type { RunProfile } from '../api/session.js';

const size = (d: readonly number[] | undefined) => (d ?? []).reduce((a, b) => a * b, 1);

/** FLOPs (2 per multiply-add) of one profiled step; 0 for ops not worth counting. */
export function stepFlops(n: RunProfile['nodes'][number]): number {
  const out = n.outputs[0];
  switch (n.opType) {
    case 'Conv': case 'FusedConv': {
      // Every output element is a dot product over Cin/group × kernel.
      const w = n.inputs[1]!;
      return 2 * size(out) * size(w.slice(1));
    }
    case 'ConvTranspose': {
      const w = n.inputs[1]!;
      return 2 * size(n.inputs[0]) * size(w.slice(1));
    }
    case 'Gemm': case 'FusedGemm': case 'MatMul': case 'FusedMatMul': {
      // Gemm's B is K×N or N×K (transB); MatMul's A ends in K.
      const a = n.inputs[0]!;
      const k = n.opType.endsWith('Gemm') ? size(n.inputs[1]) / out![out!.length - 1]! : a[a.length - 1]!;
      return 2 * size(out) * k;
    }
    default:
      return 0;
  }
}

export function totalFlops(p: RunProfile): number {
  return p.nodes.reduce((a, n) => a + stepFlops(n), 0);
}
