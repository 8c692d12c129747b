/**
 * CausalConvWithState (opset 27): a depthwise 1-D convolution over [past_state ‖ input] (zeros when
 * no state is given), optionally followed by SiLU, returning the last k−1 positions as the next
 * step's state — the short convolution of Mamba-style models, decoded one token at a time.
 */
import type { OpDef } from '../types.js';
import { floatToHalf, halfToFloat } from '../math/cast.js';
import { FLOAT_TYPES, readFloats, writeFloats } from '../float-io.js';
import { requireDtype } from '../util.js';

const causalConv: OpDef = {
  opType: 'CausalConvWithState', since: 27, attributes: ['activation'],
  prepare(ctx) {
    requireDtype(ctx, 0, FLOAT_TYPES);
    const x = ctx.input(0), w = ctx.input(1), bias = ctx.inputs[2], past = ctx.inputs[3];
    for (const [i, p] of [[1, w], [2, bias], [3, past]] as const) if (p && p.dtype !== x.dtype) ctx.fail(`input ${i} ('${p.name}') has type ${p.dtype}, the input ${x.dtype}`);
    const act = ctx.attrs.oneOf('activation', ['none', 'silu', 'swish'], 'none');
    if (x.dims.length !== 3) ctx.fail(`input must be 3-D [B, C, L], got [${x.dims}]`, 'SHAPE_MISMATCH');
    const [B, C, L] = x.dims as [number, number, number];
    if (w.dims.length !== 3 || w.dims[0] !== C || w.dims[1] !== 1 || w.dims[2]! < 1) ctx.fail(`weight (input 1, '${w.name}') must be [${C}, 1, k], got [${w.dims}]`, 'SHAPE_MISMATCH');
    const K = w.dims[2]!, S = K - 1, T = S + L;
    if (bias && (bias.dims.length !== 1 || bias.dims[0] !== C)) ctx.fail(`bias (input 2, '${bias.name}') must be [${C}], got [${bias.dims}]`, 'SHAPE_MISMATCH');
    if (past && (past.dims.length !== 3 || past.dims[0] !== B || past.dims[1] !== C || past.dims[2] !== S)) {
      ctx.fail(`past_state (input 3, '${past.name}') must be [${B}, ${C}, ${S}], got [${past.dims}]`, 'SHAPE_MISMATCH');
    }
    if (ctx.node.outputs.length > 2) ctx.fail(`has ${ctx.node.outputs.length} outputs; CausalConvWithState has at most two`, 'INVALID_MODEL');
    const wantState = ctx.node.outputs.length > 1 && ctx.node.outputs[1] !== '';
    const half = x.dtype === 'float16';
    return {
      outputs: [{ dtype: x.dtype, dims: [B, C, L] }, { dtype: x.dtype, dims: [B, C, S] }].slice(0, Math.max(1, ctx.node.outputs.length)),
      build(b) {
        const xv = b.view(x.dtype, b.inputs[0]!, B * C * L), wv = b.view(x.dtype, b.inputs[1]!, C * K);
        const bv = bias ? b.view(x.dtype, b.inputs[2]!, C) : undefined, pv = past ? b.view(x.dtype, b.inputs[3]!, B * C * S) : undefined;
        const yv = b.view(x.dtype, b.outputs[0]!, B * C * L), sv = wantState ? b.view(x.dtype, b.outputs[1]!, B * C * S) : undefined;
        const X = new Float64Array(B * C * L), W = new Float64Array(C * K), Bs = new Float64Array(C), P = new Float64Array(B * C * S);
        const padded = new Float64Array(B * C * T), Y = new Float64Array(B * C * L);
        return () => {
          readFloats(x.dtype, xv(), X); readFloats(x.dtype, wv(), W);
          if (bv) readFloats(x.dtype, bv(), Bs);
          if (pv) readFloats(x.dtype, pv(), P); else P.fill(0);
          for (let r = 0; r < B * C; r++) {
            padded.set(P.subarray(r * S, (r + 1) * S), r * T);
            padded.set(X.subarray(r * L, (r + 1) * L), r * T + S);
            const c = r % C;
            for (let t = 0; t < L; t++) {
              let s = Bs[c]!;
              for (let k = 0; k < K; k++) s += W[c * K + k]! * padded[r * T + t + k]!;
              if (half) s = halfToFloat(floatToHalf(s)); // the reference rounds the convolution before SiLU
              Y[r * L + t] = act === 'none' ? s : s / (1 + Math.exp(-s));
            }
            if (sv) P.set(padded.subarray(r * T + L, (r + 1) * T), r * S);
          }
          writeFloats(x.dtype, Y, yv());
          if (sv) writeFloats(x.dtype, P, sv());
        };
      },
    };
  },
};

export const causalConvOps: readonly OpDef[] = [causalConv];
