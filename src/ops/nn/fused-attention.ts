/**
 * Ops that exist only in fused graphs (domain `tessera`, made by graph/passes): scaled dot-product
 * attention over [B, S, heads·d] projections, and the tessera-domain twins of LayerNormalization
 * and Gelu so that a fused graph runs whatever opset the model imports (BERT exports are opset 14).
 */
import type { Kernels } from '../../runtime/kernels.js';
import { unaryOps } from '../math/elementwise.js';
import { fusedLayerNorm } from './norm.js';
import type { OpDef } from '../types.js';
import { requireDtype } from '../util.js';

/**
 * Bytes of scratch one `attention_f32` call needs (a multiple of 64); keep in step with
 * assembly/attention.ts (test/unit/checks/attention.ts compares them).
 */
export function attentionScratchBytes(Sk: number, d: number): number {
  const skp = Math.ceil(Sk / 8) * 8, d4 = Math.ceil(d / 4) * 4, dp = Math.ceil(d / 8) * 8;
  const groups = 4; // 4-row query groups per block (GROUPS there)
  return Math.ceil((skp * d4 + dp * skp + groups * 4 * (d4 + skp + 2)) * 4 / 64) * 64;
}

/**
 * FusedAttention(q, k, v, mask?) → softmax(scale · q_h · k_hᵀ + mask) · v_h per batch and head h, the
 * heads laid side by side in the last axis (what HF's transpose_for_scores splits and merges).
 * mask broadcasts to [B, heads, Sq, Sk].
 */
const attention: OpDef = {
  opType: 'FusedAttention', domain: 'tessera', since: 1, attributes: ['num_heads', 'scale'],
  prepare(ctx) {
    for (let i = 0; i < 3; i++) requireDtype(ctx, i, ['float32']);
    const q = ctx.input(0), k = ctx.input(1), v = ctx.input(2), mask = ctx.inputs[3];
    const heads = ctx.attrs.int('num_heads', 0);
    const scale = ctx.attrs.float('scale', NaN);
    if (!(heads > 0)) throw ctx.attrs.error('num_heads', `must be positive, got ${heads}`);
    if (!Number.isFinite(scale)) throw ctx.attrs.error('scale', 'must be a finite number');
    for (const t of [q, k, v]) {
      if (t.dims.length !== 3 || t.dims[2]! % heads !== 0) ctx.fail(`'${t.name}' must be [batch, sequence, ${heads}·head_size], got [${t.dims}]`, 'SHAPE_MISMATCH');
    }
    const [B, Sq, HD] = q.dims as [number, number, number];
    const Sk = k.dims[1]!, d = HD / heads;
    if (k.dims[0] !== B || v.dims[0] !== B || k.dims[2] !== HD || v.dims[2] !== HD || v.dims[1] !== Sk) {
      ctx.fail(`q [${q.dims}], k [${k.dims}] and v [${v.dims}] do not agree`, 'SHAPE_MISMATCH');
    }
    // Mask strides over [B, heads, Sq, Sk], right-aligned, 0 where it broadcasts.
    const strides = [0, 0, 0, 0];
    if (mask) {
      requireDtype(ctx, 3, ['float32']);
      const md = mask.dims;
      const full = [B, heads, Sq, Sk];
      if (md.length > 4) ctx.fail(`mask '${mask.name}' has rank ${md.length} > 4`, 'SHAPE_MISMATCH');
      let s = 1;
      for (let i = md.length - 1, a = 3; i >= 0; i--, a--) {
        if (md[i] !== 1 && md[i] !== full[a]) ctx.fail(`mask '${mask.name}' [${md}] does not broadcast to [${full}]`, 'SHAPE_MISMATCH');
        strides[a] = md[i] === 1 ? 0 : s;
        s *= md[i]!;
      }
    }
    return {
      outputs: [{ dtype: 'float32', dims: [B, Sq, HD] }],
      // One block per thread: a split call gives each part its own (src/runtime/threads/parallel.ts).
      scratchBytes: attentionScratchBytes(Sk, d) * (ctx.threads ?? 1),
      build(b) {
        const k: Kernels = b.k;
        const [qp, kp, vp] = b.inputs as [number, number, number];
        const mp = mask ? b.inputs[3]! : 0, out = b.outputs[0]!, scratch = b.scratch;
        const [mb, mh, mq, mk] = strides as [number, number, number, number];
        return () => k.attention_f32(qp, kp, vp, mp, out, scratch, B, heads, Sq, Sk, d, HD, HD, HD, HD, mb, mh, mq, mk, scale);
      },
    };
  },
};

const gelu = unaryOps.find((d) => d.opType === 'Gelu')!;

export const fusedOps: readonly OpDef[] = [
  attention,
  fusedLayerNorm,
  { ...gelu, domain: 'tessera', since: 1 },
];
