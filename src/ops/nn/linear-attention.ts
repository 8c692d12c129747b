/**
 * LinearAttention (opset 27): the recurrent form of linear attention for 3-D [B, T, H·D] inputs.
 * A per-head state S [d_k, d_v] is (optionally) decayed by exp(decay_t), (optionally) corrected
 * toward v_t by the delta rule with rate beta_t, then updated with k_t ⊗ v_t; each query reads
 * scale · q_t·S, query heads sharing their group's key/value state. update_rule picks the terms:
 * linear, gated (decay), delta (beta), gated_delta (both). TypeScript, in float64.
 */
import type { OpDef } from '../types.js';
import { FLOAT_TYPES, readFloats, writeFloats } from '../float-io.js';
import { requireDtype } from '../util.js';

const linearAttention: OpDef = {
  opType: 'LinearAttention', since: 27, attributes: ['chunk_size', 'kv_num_heads', 'q_num_heads', 'scale', 'update_rule'],
  prepare(ctx) {
    requireDtype(ctx, 0, FLOAT_TYPES);
    const a = ctx.attrs;
    const rule = a.oneOf('update_rule', ['linear', 'gated', 'delta', 'gated_delta'], 'gated_delta');
    const Hq = a.intOpt('q_num_heads'), Hkv = a.intOpt('kv_num_heads');
    if (Hq === undefined || Hq < 1) throw a.error('q_num_heads', Hq === undefined ? 'is required' : `must be positive, got ${Hq}`);
    if (Hkv === undefined || Hkv < 1 || Hq % Hkv !== 0) throw a.error('kv_num_heads', Hkv === undefined ? 'is required' : `${Hkv} must be positive and divide q_num_heads ${Hq}`);
    const chunk = a.int('chunk_size', 64);
    if (chunk < 1) throw a.error('chunk_size', `must be positive, got ${chunk}`); // a tuning hint: no effect on results
    const q = ctx.input(0), k = ctx.input(1), v = ctx.input(2), past = ctx.inputs[3], decay = ctx.inputs[4], beta = ctx.inputs[5];
    const dtype = q.dtype;
    for (const [i, p] of [[1, k], [2, v], [4, decay], [5, beta]] as const) if (p && p.dtype !== dtype) ctx.fail(`input ${i} ('${p.name}') has type ${p.dtype}, query has ${dtype}`);
    if (past) requireDtype(ctx, 3, FLOAT_TYPES);
    const gating = rule === 'gated' || rule === 'gated_delta', delta = rule === 'delta' || rule === 'gated_delta';
    if (gating !== !!decay) ctx.fail(`update_rule '${rule}' ${gating ? 'requires' : 'forbids'} the decay input (4)`, 'INVALID_MODEL');
    if (delta !== !!beta) ctx.fail(`update_rule '${rule}' ${delta ? 'requires' : 'forbids'} the beta input (5)`, 'INVALID_MODEL');
    for (const [i, p] of [[0, q], [1, k], [2, v]] as const) if (p.dims.length !== 3) ctx.fail(`input ${i} ('${p.name}') must be 3-D [B, T, H·D], got [${p.dims}]`, 'SHAPE_MISMATCH');
    const [B, T] = q.dims as [number, number];
    if (q.dims[2]! % Hq !== 0 || k.dims[2]! % Hkv !== 0 || v.dims[2]! % Hkv !== 0) ctx.fail(`hidden sizes [${q.dims[2]}, ${k.dims[2]}, ${v.dims[2]}] do not divide into ${Hq} / ${Hkv} heads`, 'SHAPE_MISMATCH');
    const dk = q.dims[2]! / Hq, dv = v.dims[2]! / Hkv;
    for (const p of [k, v]) if (p.dims[0] !== B || p.dims[1] !== T) ctx.fail(`'${p.name}' [${p.dims}] disagrees with query [${q.dims}] on batch or length`, 'SHAPE_MISMATCH');
    if (k.dims[2]! / Hkv !== dk) ctx.fail(`key head size ${k.dims[2]! / Hkv} differs from query head size ${dk}`, 'SHAPE_MISMATCH');
    const stateDims = [B, Hkv, dk, dv];
    if (past && (past.dims.length !== 4 || past.dims.some((d, i) => d !== stateDims[i]))) ctx.fail(`past_state (input 3, '${past.name}') must be [${stateDims}], got [${past.dims}]`, 'SHAPE_MISMATCH');
    const decayLast = decay?.dims[2];
    if (decay && (decay.dims.length !== 3 || decay.dims[0] !== B || decay.dims[1] !== T || (decayLast !== Hkv && decayLast !== Hkv * dk))) {
      ctx.fail(`decay (input 4, '${decay.name}') must be [${B}, ${T}, ${Hkv}] or [${B}, ${T}, ${Hkv * dk}], got [${decay.dims}]`, 'SHAPE_MISMATCH');
    }
    const betaLast = beta?.dims[2];
    if (beta && (beta.dims.length !== 3 || beta.dims[0] !== B || beta.dims[1] !== T || (betaLast !== Hkv && betaLast !== 1))) {
      ctx.fail(`beta (input 5, '${beta.name}') must be [${B}, ${T}, ${Hkv}] or [${B}, ${T}, 1], got [${beta.dims}]`, 'SHAPE_MISMATCH');
    }
    const scaleAttr = a.float('scale', 0), scale = scaleAttr === 0 ? 1 / Math.sqrt(dk) : scaleAttr;
    const stateType = past ? past.dtype : dtype;
    if (ctx.node.outputs.length > 2) ctx.fail(`has ${ctx.node.outputs.length} outputs; LinearAttention has at most two`, 'INVALID_MODEL');
    const wantState = ctx.node.outputs.length > 1 && ctx.node.outputs[1] !== '';
    const group = Hq / Hkv;
    return {
      outputs: [{ dtype, dims: [B, T, Hq * dv] }, { dtype: stateType, dims: stateDims }].slice(0, Math.max(1, ctx.node.outputs.length)),
      build(bd) {
        const qn = B * T * Hq * dk, kn = B * T * Hkv * dk, vn = B * T * Hkv * dv, sn = B * Hkv * dk * dv;
        const dn = decay ? B * T * decayLast! : 0, bn = beta ? B * T * betaLast! : 0;
        const views = [qn, kn, vn].map((n, i) => bd.view(dtype, bd.inputs[i]!, n));
        const pv = past ? bd.view(past.dtype, bd.inputs[3]!, sn) : undefined;
        const dvw = decay ? bd.view(dtype, bd.inputs[4]!, dn) : undefined, bvw = beta ? bd.view(dtype, bd.inputs[5]!, bn) : undefined;
        const yv = bd.view(dtype, bd.outputs[0]!, B * T * Hq * dv), sv = wantState ? bd.view(stateType, bd.outputs[1]!, sn) : undefined;
        const Q = new Float64Array(qn), K = new Float64Array(kn), V = new Float64Array(vn), S = new Float64Array(sn);
        const G = new Float64Array(dn), Be = new Float64Array(bn), Y = new Float64Array(B * T * Hq * dv), vt = new Float64Array(dv);
        return () => {
          readFloats(dtype, views[0]!(), Q); readFloats(dtype, views[1]!(), K); readFloats(dtype, views[2]!(), V);
          if (pv) readFloats(past!.dtype, pv(), S); else S.fill(0);
          if (dvw) readFloats(dtype, dvw(), G);
          if (bvw) readFloats(dtype, bvw(), Be);
          for (let b = 0; b < B; b++) {
            for (let t = 0; t < T; t++) {
              for (let h = 0; h < Hkv; h++) {
                const so = (b * Hkv + h) * dk * dv, ko = ((b * T + t) * Hkv + h) * dk, vo = ((b * T + t) * Hkv + h) * dv;
                if (gating) {
                  for (let d = 0; d < dk; d++) {
                    const g = Math.exp(decayLast === Hkv ? G[(b * T + t) * Hkv + h]! : G[ko + d]!);
                    for (let m = 0; m < dv; m++) S[so + d * dv + m] = S[so + d * dv + m]! * g;
                  }
                }
                for (let m = 0; m < dv; m++) vt[m] = V[vo + m]!;
                if (delta) {
                  const rate = Be[(b * T + t) * betaLast! + (betaLast === 1 ? 0 : h)]!;
                  for (let m = 0; m < dv; m++) {
                    let r = 0; for (let d = 0; d < dk; d++) r += S[so + d * dv + m]! * K[ko + d]!;
                    vt[m] = rate * (vt[m]! - r);
                  }
                }
                for (let d = 0; d < dk; d++) { const kd = K[ko + d]!; for (let m = 0; m < dv; m++) S[so + d * dv + m] = S[so + d * dv + m]! + kd * vt[m]!; }
                for (let j = 0; j < group; j++) {
                  const hq = h * group + j, qo = ((b * T + t) * Hq + hq) * dk, yo = ((b * T + t) * Hq + hq) * dv;
                  for (let m = 0; m < dv; m++) {
                    let s = 0; for (let d = 0; d < dk; d++) s += Q[qo + d]! * S[so + d * dv + m]!;
                    Y[yo + m] = scale * s;
                  }
                }
              }
            }
          }
          writeFloats(dtype, Y, yv());
          if (sv) writeFloats(stateType, S, sv());
        };
      },
    };
  },
};

export const linearAttentionOps: readonly OpDef[] = [linearAttention];
