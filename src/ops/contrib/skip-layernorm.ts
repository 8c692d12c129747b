/**
 * `com.microsoft` SkipLayerNormalization: LayerNorm(input + skip + bias) over the last axis, the
 * residual block onnxruntime's BERT optimizer writes. With the sum not wanted it is one
 * add_layernorm_f32 pass (the kernel tessera's own add-layernorm fusion uses), after a bias add when
 * there is a bias (graph/passes/fuse-contrib-bias.ts usually moves it into the MatMul before); else the sum is
 * formed in the input_skip_bias_sum output (or scratch) with binary_f32 and normalised with
 * layernorm_f32. mean and inv_std_var (training outputs) are computed from that sum in float64.
 */
import { shapeSize } from '../../api/tensor.js';
import { Binary } from '../../runtime/kernels.js';
import type { OpDef } from '../types.js';
import { requireDtype } from '../util.js';
import { addRowBias } from './gelu.js';

const skipLayerNorm: OpDef = {
  opType: 'SkipLayerNormalization', domain: 'com.microsoft', since: 1, attributes: ['epsilon'], optionalOutputs: true,
  prepare(ctx) {
    for (const i of [0, 1, 2]) requireDtype(ctx, i, ['float32']);
    const x = ctx.input(0), skip = ctx.input(1), gamma = ctx.input(2);
    const beta = ctx.inputs[3], bias = ctx.inputs[4];
    const eps = ctx.attrs.float('epsilon', 1e-12);
    if (!(eps >= 0) || !Number.isFinite(eps)) throw ctx.attrs.error('epsilon', `must be a finite number ≥ 0, got ${eps}`);
    const rank = x.dims.length;
    if (rank !== 2 && rank !== 3) ctx.fail(`input '${x.name}' must be 3-D [batch, sequence, hidden] or 2-D [tokens, hidden], got [${x.dims}]`, 'SHAPE_MISMATCH');
    const H = x.dims[rank - 1]!, rows = shapeSize(x.dims.slice(0, -1));
    // skip: the input's shape, or one batch entry ([1, S, H] / [S, H]) repeated over the batch.
    const same = skip.dims.length === rank && skip.dims.every((d, i) => d === x.dims[i]);
    const perBatch = rank === 3 && !same && shapeSize(skip.dims) === x.dims[1]! * H && skip.dims[skip.dims.length - 1] === H &&
      ((skip.dims.length === 3 && skip.dims[0] === 1 && skip.dims[1] === x.dims[1]) || (skip.dims.length === 2 && skip.dims[0] === x.dims[1]));
    if (!same && !perBatch) ctx.fail(`skip '${skip.name}' [${skip.dims}] must be [${x.dims}], [1, ${x.dims.slice(1)}] or [${x.dims.slice(1)}]`, 'SHAPE_MISMATCH');
    for (const [t, i] of [[gamma, 2], [beta, 3], [bias, 4]] as const) {
      if (!t) continue;
      requireDtype(ctx, i, ['float32']);
      if (t.dims.length !== 1 || t.dims[0] !== H) ctx.fail(`input ${i} ('${t.name}') must be 1-D [${H}], got [${t.dims}]`, 'SHAPE_MISMATCH');
    }
    const wanted = (i: number) => (ctx.node.outputs[i] ?? '') !== '';
    const statDims = [...x.dims.slice(0, -1), 1];
    const outputs = [
      { dtype: 'float32' as const, dims: [...x.dims] },
      { dtype: 'float32' as const, dims: statDims },
      { dtype: 'float32' as const, dims: statDims },
      { dtype: 'float32' as const, dims: [...x.dims] },
    ].slice(0, Math.max(1, ctx.node.outputs.length));
    const n = rows * H;
    if (same && !wanted(1) && !wanted(2) && !wanted(3)) {
      // With a bias: input + bias into the output first, then the add + layernorm pass in place
      // (add_layernorm_f32 reads every element before writing it).
      return {
        outputs,
        build(b) {
          const k = b.k, [X, S, G] = b.inputs as [number, number, number], Bt = beta ? b.inputs[3]! : 0, Y = b.outputs[0]!;
          if (!bias) return () => k.add_layernorm_f32(X, S, Y, G, Bt, rows, H, eps);
          const bp = b.inputs[4]!;
          return () => { addRowBias(k, X, bp, Y, rows, H); k.add_layernorm_f32(Y, S, Y, G, Bt, rows, H, eps); };
        },
      };
    }
    const sumBytes = wanted(3) ? 0 : Math.ceil(n * 4 / 16) * 16;
    return {
      outputs,
      scratchBytes: sumBytes || undefined,
      build(b) {
        const k = b.k, [X, S, G] = b.inputs as [number, number, number];
        const Bt = beta ? b.inputs[3]! : 0, bp = bias ? b.inputs[4]! : 0, Y = b.outputs[0]!;
        const sum = wanted(3) ? b.outputs[3]! : b.scratch;
        const B = rank === 3 ? x.dims[0]! : 1, SH = rows / B * H;
        const sumView = b.view('float32', sum, n);
        const meanView = wanted(1) ? b.view('float32', b.outputs[1]!, rows) : undefined;
        const invView = wanted(2) ? b.view('float32', b.outputs[2]!, rows) : undefined;
        return () => {
          // input + skip (skip repeated over the batch when it has one entry), then + bias.
          if (same) k.binary_f32(X, S, sum, Binary.add, 1, 1, 1, n, 0, 0, 0, 1, 0, 0, 0, 1);
          else k.binary_f32(X, S, sum, Binary.add, 1, 1, B, SH, 0, 0, SH, 1, 0, 0, 0, 1);
          if (bias) addRowBias(k, sum, bp, sum, rows, H);
          k.layernorm_f32(sum, Y, G, Bt, rows, H, eps);
          if (meanView || invView) statistics(sumView() as Float32Array, rows, H, eps, meanView?.() as Float32Array | undefined, invView?.() as Float32Array | undefined);
        };
      },
    };
  },
};

/** Per-row mean and 1/√(var + ε) of the normalised sums (two passes in float64). */
function statistics(s: Float32Array, rows: number, H: number, eps: number, mean: Float32Array | undefined, inv: Float32Array | undefined): void {
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let i = r * H; i < (r + 1) * H; i++) m += s[i]!;
    m /= H;
    let v = 0;
    for (let i = r * H; i < (r + 1) * H; i++) { const d = s[i]! - m; v += d * d; }
    if (mean) mean[r] = m;
    if (inv) inv[r] = 1 / Math.sqrt(v / H + eps);
  }
}

/** SkipLayerNormalization, for src/ops/contrib/index.ts. */
export const contribSkipLayerNormOps: readonly OpDef[] = [skipLayerNorm];
