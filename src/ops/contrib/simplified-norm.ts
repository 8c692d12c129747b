/**
 * RMS norms as onnxruntime-genai writes them: SimplifiedLayerNormalization (onnxruntime registers
 * it in the default domain; accepted in com.microsoft too) and com.microsoft
 * SkipSimplifiedLayerNormalization (the residual add folded in: input + skip (+ bias), normalised,
 * the sum optionally returned for the next residual). Both run `rmsnorm_f32` (assembly/rmsnorm.ts).
 */
import type { OpDef, OpContext } from '../types.js';
import { normalizeAxis, product, requireDtype } from '../util.js';

function epsilonOf(ctx: OpContext): number {
  const eps = ctx.attrs.float('epsilon', 1e-5);
  if (!(eps >= 0) || !Number.isFinite(eps)) throw ctx.attrs.error('epsilon', `must be a finite number ≥ 0, got ${eps}`);
  return eps;
}

const simplified: OpDef = {
  opType: 'SimplifiedLayerNormalization', since: 1, attributes: ['axis', 'epsilon', 'stash_type'], optionalOutputs: true,
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32']); requireDtype(ctx, 1, ['float32']);
    const x = ctx.input(0), g = ctx.input(1);
    if (ctx.inputs[2]) ctx.fail(`a bias (input 2, '${ctx.inputs[2].name}') is not supported by SimplifiedLayerNormalization`, 'UNSUPPORTED_OP');
    const axis = normalizeAxis(ctx, ctx.attrs.int('axis', -1), x.dims.length);
    const stash = ctx.attrs.int('stash_type', 1);
    if (stash !== 1) throw ctx.attrs.error('stash_type', `is supported only as 1 (float), got ${stash}`);
    const eps = epsilonOf(ctx);
    const rows = product(x.dims, 0, axis), cols = product(x.dims, axis);
    if (product(g.dims) !== cols || g.dims.length > x.dims.length - axis) {
      ctx.fail(`scale '${g.name}' [${g.dims}] must hold the normalised dimensions [${x.dims.slice(axis)}]`, 'SHAPE_MISMATCH');
    }
    const wantInv = !!ctx.node.outputs[1];
    return {
      outputs: [{ dtype: 'float32', dims: [...x.dims] }, { dtype: 'float32', dims: x.dims.map((d, i) => (i < axis ? d : 1)) }],
      build(bd) {
        const [xp, gp] = bd.inputs as [number, number], yp = bd.outputs[0]!, inv = wantInv ? bd.outputs[1]! : 0;
        return () => bd.k.rmsnorm_f32(xp, 0, 0, 0, yp, gp, inv, rows, cols, eps);
      },
    };
  },
};

const skipSimplified: OpDef = {
  opType: 'SkipSimplifiedLayerNormalization', domain: 'com.microsoft', since: 1, attributes: ['epsilon'], optionalOutputs: true,
  prepare(ctx) {
    for (const i of [0, 1, 2]) requireDtype(ctx, i, ['float32']);
    const x = ctx.input(0), skip = ctx.input(1), g = ctx.input(2), bias = ctx.inputs[3];
    const eps = epsilonOf(ctx);
    if (x.dims.length < 2 || x.dims.length > 3) ctx.fail(`input '${x.name}' must be [batch, sequence, hidden] or [tokens, hidden], got [${x.dims}]`, 'SHAPE_MISMATCH');
    const cols = x.dims[x.dims.length - 1]!, rows = product(x.dims) / Math.max(cols, 1);
    if (skip.dims.length !== x.dims.length || skip.dims.some((d, i) => d !== x.dims[i])) {
      ctx.fail(`skip '${skip.name}' [${skip.dims}] must have the input's shape [${x.dims}]`, 'SHAPE_MISMATCH');
    }
    for (const [t, what] of [[g, 'gamma'], [bias, 'bias']] as const) {
      if (t && (t.dims.length !== 1 || t.dims[0] !== cols)) ctx.fail(`${what} '${t.name}' must be [${cols}], got [${t.dims}]`, 'SHAPE_MISMATCH');
    }
    if (bias) requireDtype(ctx, 3, ['float32']);
    if (ctx.node.outputs[1]) ctx.fail(`output 1 (mean, '${ctx.node.outputs[1]}') is not defined for the simplified (RMS) norm`, 'UNSUPPORTED_OP');
    const wantInv = !!ctx.node.outputs[2], wantSum = !!ctx.node.outputs[3];
    const statDims = [...x.dims.slice(0, -1), 1];
    return {
      outputs: [
        { dtype: 'float32', dims: [...x.dims] }, { dtype: 'float32', dims: statDims },
        { dtype: 'float32', dims: [...statDims] }, { dtype: 'float32', dims: [...x.dims] },
      ],
      build(bd) {
        const [xp, sp, gp] = bd.inputs as [number, number, number], bp = bias ? bd.inputs[3]! : 0;
        const yp = bd.outputs[0]!, inv = wantInv ? bd.outputs[2]! : 0, sum = wantSum ? bd.outputs[3]! : 0;
        return () => bd.k.rmsnorm_f32(xp, sp, bp, sum, yp, gp, inv, rows, cols, eps);
      },
    };
  },
};

/** SimplifiedLayerNormalization (default domain and com.microsoft), SkipSimplifiedLayerNormalization. */
// domain tessera: what the RMS norm fusion (graph/passes/fuse-rmsnorm.ts) writes.
export const simplifiedNormOps: readonly OpDef[] = [simplified, { ...simplified, domain: 'com.microsoft' }, { ...simplified, domain: 'tessera' }, skipSimplified];
