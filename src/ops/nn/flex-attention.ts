/**
 * FlexAttention (ai.onnx.preview, v1): attention whose scores and probabilities pass through
 * user graphs (score_mod on [B, H, L, S] scores, prob_mod on the softmax). Expanded at plan time
 * into core ops — MatMul, Mul, Softmax, the two graphs inlined — so every piece runs on the op it
 * already has. Grouped-query heads are repeated by Expand; float16 computes in float32 (as ONNX's
 * reference does) unless softmax_precision asks otherwise.
 */
import type { ConstTensor, DType } from '../../graph/ir.js';
import { Unroller } from '../control/control-flow.js';
import type { OpDef } from '../types.js';
import { FLOAT_TYPES } from '../float-io.js';
import { requireDtype } from '../util.js';

const ONNX_TYPE: Record<string, number> = { float32: 1, float16: 10, float64: 11 };
const PRECISION: Record<number, DType> = { 1: 'float32', 10: 'float16', 11: 'float64' };

const ints = (v: number[]): ConstTensor => ({ dtype: 'int64', dims: [v.length], data: BigInt64Array.from(v, BigInt) });

const flexAttention: OpDef = {
  opType: 'FlexAttention', domain: 'ai.onnx.preview', since: 1, attributes: ['prob_mod', 'scale', 'score_mod', 'softmax_precision'],
  prepare(ctx) {
    requireDtype(ctx, 0, FLOAT_TYPES);
    const q = ctx.input(0), k = ctx.input(1), v = ctx.input(2), dtype = q.dtype;
    for (const [i, p] of [[1, k], [2, v]] as const) if (p.dtype !== dtype) ctx.fail(`input ${i} ('${p.name}') has type ${p.dtype}, Q has ${dtype}`);
    for (const [i, p] of [[0, q], [1, k], [2, v]] as const) if (p.dims.length !== 4) ctx.fail(`input ${i} ('${p.name}') must be 4-D [B, H, L, E], got [${p.dims}]`, 'SHAPE_MISMATCH');
    const [B, Hq, , E] = q.dims as [number, number, number, number];
    const [, Hkv, S] = k.dims as [number, number, number, number];
    if (k.dims[0] !== B || v.dims[0] !== B || k.dims[3] !== E || v.dims[1] !== Hkv || v.dims[2] !== S) {
      ctx.fail(`Q [${q.dims}], K [${k.dims}] and V [${v.dims}] disagree on batch, heads, key length or head size`, 'SHAPE_MISMATCH');
    }
    if (Hq % Hkv !== 0) ctx.fail(`${Hq} query heads are not a multiple of ${Hkv} key/value heads`, 'SHAPE_MISMATCH');
    const a = ctx.attrs;
    const precision = a.intOpt('softmax_precision');
    if (precision !== undefined && !PRECISION[precision]) throw a.error('softmax_precision', `must be 1 (float), 10 (float16) or 11 (double), got ${precision}`);
    const compute: DType = precision !== undefined ? PRECISION[precision]! : dtype === 'float16' ? 'float32' : dtype;
    const scale = a.floatOpt('scale') ?? 1 / Math.sqrt(E);
    const scoreMod = a.graph('score_mod'), probMod = a.graph('prob_mod');
    for (const [name, g] of [['score_mod', scoreMod], ['prob_mod', probMod]] as const) {
      if (g && (g.inputs.length !== 1 || g.outputs.length !== 1)) throw a.error(name, `must take one input and produce one output, got ${g.inputs.length} and ${g.outputs.length}`);
    }
    if (ctx.node.outputs.length !== 1) ctx.fail(`has ${ctx.node.outputs.length} outputs; FlexAttention has one`, 'INVALID_MODEL');

    const u = new Unroller(ctx, ctx.node.outputs[0] || ctx.node.name || 'flex');
    const konst = (t: ConstTensor) => u.add('Constant', [], [['value', { type: 'tensor', value: t }]]);
    const asCompute = (x: string) => (compute === dtype ? x : u.add('Cast', [x], [['to', { type: 'int', value: ONNX_TYPE[compute]! }]]));
    const repeatHeads = (x: string, dims: readonly number[]): string => {
      if (Hq === Hkv) return x;
      const grouped = u.add('Reshape', [x, konst(ints([B, Hkv, 1, dims[2]!, dims[3]!]))]);
      const wide = u.add('Expand', [grouped, konst(ints([B, Hkv, Hq / Hkv, dims[2]!, dims[3]!]))]);
      return u.add('Reshape', [wide, konst(ints([B, Hq, dims[2]!, dims[3]!]))]);
    };
    const Q = asCompute(ctx.node.inputs[0]!), K = repeatHeads(asCompute(ctx.node.inputs[1]!), k.dims), V = repeatHeads(asCompute(ctx.node.inputs[2]!), v.dims);
    const kt = u.add('Transpose', [K], [['perm', { type: 'ints', value: [0, 1, 3, 2] }]]);
    const scaleData = compute === 'float64' ? Float64Array.of(scale) : compute === 'float16' ? undefined : Float32Array.of(scale);
    let scaleName: string;
    if (scaleData) scaleName = konst({ dtype: compute, dims: [], data: scaleData });
    else scaleName = u.add('Cast', [konst({ dtype: 'float32', dims: [], data: Float32Array.of(scale) })], [['to', { type: 'int', value: 10 }]]);
    let scores = u.add('Mul', [u.add('MatMul', [Q, kt]), scaleName]);
    if (scoreMod) scores = u.body(scoreMod, [scores])[0]!;
    let probs = u.add('Softmax', [scores], [['axis', { type: 'int', value: 3 }]]);
    if (probMod) probs = u.body(probMod, [probs])[0]!;
    const out = u.add('MatMul', [probs, V]);
    return { outputs: [], inline: u.graph([compute === dtype ? out : u.add('Cast', [out], [['to', { type: 'int', value: ONNX_TYPE[dtype]! }]])]) };
  },
};

export const flexAttentionOps: readonly OpDef[] = [flexAttention];
