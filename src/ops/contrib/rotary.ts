/**
 * com.microsoft RotaryEmbedding (onnxruntime-genai's and the ORT transformer optimizer's RoPE):
 * inputs (input, position_ids, cos_cache, sin_cache) — a different order from the ONNX opset-23 op
 * (src/ops/nn/rotary.ts), same rotation. Input [B, S, H·D] or [B, H, S, D]; position_ids [B, S]
 * or one value (position of token s = that value + s); caches [max_position, r/2]. The rotation
 * runs in the `rotary_rows_f32` kernel (assembly/gqa.ts), which GroupQueryAttention's do_rotary
 * uses too.
 */
import { TesseraError, describeNode } from '../../api/errors.js';
import type { OpDef } from '../types.js';
import { product, requireDtype } from '../util.js';

const rotary: OpDef = {
  opType: 'RotaryEmbedding', domain: 'com.microsoft', since: 1,
  attributes: ['interleaved', 'is_packed_batching', 'num_heads', 'rotary_embedding_dim', 'scale'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32']); requireDtype(ctx, 2, ['float32']); requireDtype(ctx, 3, ['float32']);
    requireDtype(ctx, 1, ['int64', 'int32']);
    const x = ctx.input(0), pid = ctx.input(1), cos = ctx.input(2), sin = ctx.input(3);
    const interleaved = ctx.attrs.int('interleaved', 0);
    if (interleaved !== 0 && interleaved !== 1) throw ctx.attrs.error('interleaved', `must be 0 or 1, got ${interleaved}`);
    if (ctx.attrs.int('is_packed_batching', 0) !== 0) throw ctx.attrs.error('is_packed_batching', 'is not supported (only 0)');
    const scale = ctx.attrs.float('scale', 1);
    if (scale !== 1) throw ctx.attrs.error('scale', `is not supported other than 1, got ${scale}`);
    const heads = ctx.attrs.int('num_heads', 0), rdimAttr = ctx.attrs.int('rotary_embedding_dim', 0);
    if (heads < 0) throw ctx.attrs.error('num_heads', `must be ≥ 0, got ${heads}`);
    if (rdimAttr < 0 || rdimAttr % 2 !== 0) throw ctx.attrs.error('rotary_embedding_dim', `must be an even number ≥ 0, got ${rdimAttr}`);
    if (rdimAttr > 0 && heads === 0) throw ctx.attrs.error('num_heads', 'is required when rotary_embedding_dim is given');
    if (cos.dims.length !== 2 || sin.dims.length !== 2 || cos.dims[0] !== sin.dims[0] || cos.dims[1] !== sin.dims[1]) {
      ctx.fail(`cos_cache [${cos.dims}] and sin_cache [${sin.dims}] must be the same [max_position, r/2]`, 'SHAPE_MISMATCH');
    }
    const [maxPos, half] = cos.dims as [number, number];
    const rank = x.dims.length;
    if (rank !== 3 && rank !== 4) ctx.fail(`input must be [B, S, H·D] or [B, H, S, D], got [${x.dims}]`, 'SHAPE_MISMATCH');
    const B = x.dims[0]!, S = rank === 4 ? x.dims[2]! : x.dims[1]!;
    const hidden = rank === 4 ? x.dims[1]! * x.dims[3]! : x.dims[2]!;
    const D = rdimAttr === 0 ? 2 * half : hidden / heads;
    const H = heads > 0 ? heads : hidden / D;
    const r = rdimAttr > 0 ? rdimAttr : D;
    if (!Number.isInteger(D) || !Number.isInteger(H) || H * D !== hidden || (rank === 4 && (x.dims[1] !== H || x.dims[3] !== D))) {
      ctx.fail(`input [${x.dims}] is not ${heads > 0 ? `num_heads ${heads}` : 'some number of heads'} × head size ${D}`, 'SHAPE_MISMATCH');
    }
    if (r > D || r / 2 !== half) ctx.fail(`cos_cache [${cos.dims}] must have r/2 = ${r / 2} columns (r = ${r} ≤ head size ${D})`, 'SHAPE_MISMATCH');
    const onePos = product(pid.dims) === 1 && pid.dims.length <= 1;
    if (!onePos && (pid.dims.length !== 2 || pid.dims[0] !== B || pid.dims[1] !== S)) {
      ctx.fail(`position_ids '${pid.name}' must be one value or [${B}, ${S}], got [${pid.dims}]`, 'SHAPE_MISMATCH');
    }
    const n = product(x.dims), posBytes = Math.ceil((B * S * 4) / 64) * 64;
    const where = describeNode(ctx.node);
    return {
      outputs: [{ dtype: 'float32', dims: [...x.dims] }],
      scratchBytes: posBytes,
      build(bd) {
        const k = bd.k, xp = bd.inputs[0]!, yp = bd.outputs[0]!, posP = bd.scratch;
        const cosP = bd.inputs[2]!, sinP = bd.inputs[3]!;
        const pidV = bd.view(pid.dtype, bd.inputs[1]!, onePos ? 1 : B * S), posV = bd.view('int32', posP, B * S);
        return () => {
          const src = pidV(), pos = posV() as Int32Array;
          for (let i = 0; i < B * S; i++) {
            const p = onePos ? Number(src[0]!) + (i % S) : Number(src[i]!);
            if (!(p >= 0 && p < maxPos)) throw new TesseraError('INVALID_FEED', `${where}: position ${p} is outside the cos/sin caches of ${maxPos} positions`);
            pos[i] = p;
          }
          if (rank === 3) {
            k.rotary_rows_f32(xp, H * D, D, yp, H * D, D, B * S, H, D, cosP, sinP, posP, r, interleaved);
          } else {
            for (let b = 0; b < B; b++) {
              const o = b * H * S * D * 4;
              k.rotary_rows_f32(xp + o, D, S * D, yp + o, D, S * D, S, H, D, cosP, sinP, posP + b * S * 4, r, interleaved);
            }
          }
        };
      },
    };
  },
};

/** RotaryEmbedding (com.microsoft). */
export const contribRotaryOps: readonly OpDef[] = [rotary];
