/**
 * Attention (opset 23; opset 24 adds nonpad_kv_seqlen): scaled dot-product attention with multi-head,
 * grouped-query and multi-query heads, 3-D [B, S, H·D] or 4-D [B, H, S, D] inputs, a boolean or
 * additive mask (broadcast, its last axis may be shorter than the keys: padded as masked), causal
 * masking aligned bottom-right, a past key/value cache (present = past ‖ new), softcap and the
 * optional QK output. A TypeScript reference in float64, for the node form; BERT-sized models
 * get a fused Wasm kernel elsewhere.
 */
import type { DType } from '../../graph/ir.js';
import type { InputInfo, OpContext, OpDef, TensorInfo } from '../types.js';
import { FLOAT_TYPES, readFloats, writeFloats } from '../float-io.js';
import { product, requireDtype } from '../util.js';

interface Geometry {
  B: number; Hq: number; Hkv: number; Sq: number; Skv: number; P: number; T: number; D: number; Dv: number;
  threeD: boolean;
}

function geometry(ctx: OpContext): Geometry {
  const q = ctx.input(0), k = ctx.input(1), v = ctx.input(2);
  const rank = q.dims.length;
  if ((rank !== 3 && rank !== 4) || k.dims.length !== rank || v.dims.length !== rank) {
    ctx.fail(`Q, K and V must all be 3-D or all 4-D, got [${q.dims}], [${k.dims}] and [${v.dims}]`, 'SHAPE_MISMATCH');
  }
  const B = q.dims[0]!;
  if (k.dims[0] !== B || v.dims[0] !== B) ctx.fail(`Q, K and V disagree on the batch size: [${q.dims}], [${k.dims}], [${v.dims}]`, 'SHAPE_MISMATCH');
  let Hq: number, Hkv: number, Sq: number, Skv: number, D: number, Dv: number;
  const qHeads = ctx.attrs.intOpt('q_num_heads'), kvHeads = ctx.attrs.intOpt('kv_num_heads');
  if (rank === 3) {
    if (qHeads === undefined || qHeads < 1) throw ctx.attrs.error('q_num_heads', qHeads === undefined ? 'is required for 3-D inputs' : `must be positive, got ${qHeads}`);
    if (kvHeads === undefined || kvHeads < 1) throw ctx.attrs.error('kv_num_heads', kvHeads === undefined ? 'is required for 3-D inputs' : `must be positive, got ${kvHeads}`);
    Hq = qHeads; Hkv = kvHeads; Sq = q.dims[1]!; Skv = k.dims[1]!;
    if (q.dims[2]! % Hq !== 0) throw ctx.attrs.error('q_num_heads', `${Hq} does not divide Q's hidden size ${q.dims[2]}`);
    if (k.dims[2]! % Hkv !== 0 || v.dims[2]! % Hkv !== 0) throw ctx.attrs.error('kv_num_heads', `${Hkv} does not divide the K/V hidden sizes ${k.dims[2]} and ${v.dims[2]}`);
    D = q.dims[2]! / Hq; Dv = v.dims[2]! / Hkv;
    if (k.dims[2]! / Hkv !== D) ctx.fail(`K's head size ${k.dims[2]! / Hkv} differs from Q's ${D}`, 'SHAPE_MISMATCH');
    if (v.dims[1] !== Skv) ctx.fail(`K and V disagree on the sequence length: [${k.dims}] and [${v.dims}]`, 'SHAPE_MISMATCH');
  } else {
    [, Hq, Sq, D] = q.dims as [number, number, number, number];
    Hkv = k.dims[1]!; Skv = k.dims[2]!; Dv = v.dims[3]!;
    if (k.dims[3] !== D) ctx.fail(`K's head size ${k.dims[3]} differs from Q's ${D}`, 'SHAPE_MISMATCH');
    if (v.dims[1] !== Hkv || v.dims[2] !== Skv) ctx.fail(`K [${k.dims}] and V [${v.dims}] disagree on heads or sequence length`, 'SHAPE_MISMATCH');
    if (qHeads !== undefined && qHeads !== Hq) throw ctx.attrs.error('q_num_heads', `is ${qHeads} but Q has ${Hq} heads`);
    if (kvHeads !== undefined && kvHeads !== Hkv) throw ctx.attrs.error('kv_num_heads', `is ${kvHeads} but K has ${Hkv} heads`);
  }
  if (Hq % Hkv !== 0) ctx.fail(`${Hq} query heads are not a multiple of ${Hkv} key/value heads`, 'SHAPE_MISMATCH');
  const pk = ctx.inputs[4], pv = ctx.inputs[5];
  if (!pk !== !pv) ctx.fail('past_key and past_value must be given together', 'INVALID_MODEL');
  let P = 0;
  if (pk && pv) {
    P = pk.dims[2] ?? -1;
    const wantK = [B, Hkv, P, D], wantV = [B, Hkv, P, Dv];
    if (pk.dims.length !== 4 || pk.dims.some((d, i) => d !== wantK[i])) ctx.fail(`past_key (input 4, '${pk.name}') must have shape [${wantK}], got [${pk.dims}]`, 'SHAPE_MISMATCH');
    if (pv.dims.length !== 4 || pv.dims.some((d, i) => d !== wantV[i])) ctx.fail(`past_value (input 5, '${pv.name}') must have shape [${wantV}], got [${pv.dims}]`, 'SHAPE_MISMATCH');
  }
  return { B, Hq, Hkv, Sq, Skv, P, T: P + Skv, D, Dv, threeD: rank === 3 };
}

/** Strides of the attention mask broadcast to [B, Hq, Sq, T] (its last axis may be shorter). */
function maskLayout(ctx: OpContext, m: InputInfo, g: Geometry): { strides: number[]; last: number } {
  const r = m.dims.length;
  if (r < 1 || r > 4) ctx.fail(`attn_mask (input 3, '${m.name}') must have rank 1 to 4, got [${m.dims}]`, 'SHAPE_MISMATCH');
  const full = [g.B, g.Hq, g.Sq, g.T], strides = [0, 0, 0, 0];
  let acc = 1;
  for (let i = r - 1; i >= 0; i--) {
    const o = 4 - r + i, d = m.dims[i]!;
    const ok = o === 3 ? d <= g.T : d === full[o] || d === 1;
    if (!ok) ctx.fail(`attn_mask (input 3, '${m.name}') of shape [${m.dims}] does not broadcast to [${full}]`, 'SHAPE_MISMATCH');
    strides[o] = d === 1 && o !== 3 ? 0 : acc;
    acc *= d;
  }
  return { strides, last: m.dims[r - 1]! };
}

const attention: OpDef = {
  opType: 'Attention', since: 23,
  attributes: ['is_causal', 'kv_num_heads', 'q_num_heads', 'qk_matmul_output_mode', 'scale', 'softcap', 'softmax_precision'],
  prepare(ctx) {
    requireDtype(ctx, 0, FLOAT_TYPES);
    const dtype: DType = ctx.input(0).dtype;
    for (const i of [1, 2, 4, 5]) {
      const x = ctx.inputs[i];
      if (x && x.dtype !== dtype) ctx.fail(`input ${i} ('${x.name}') has type ${x.dtype}, Q has ${dtype}`);
    }
    const g = geometry(ctx);
    const causal = ctx.attrs.int('is_causal', 0);
    if (causal !== 0 && causal !== 1) throw ctx.attrs.error('is_causal', `must be 0 or 1, got ${causal}`);
    const mode = ctx.attrs.int('qk_matmul_output_mode', 0);
    if (mode < 0 || mode > 3) throw ctx.attrs.error('qk_matmul_output_mode', `must be 0, 1, 2 or 3, got ${mode}`);
    const softcap = ctx.attrs.float('softcap', 0);
    if (softcap < 0) throw ctx.attrs.error('softcap', `must be 0 (off) or positive, got ${softcap}`);
    const precision = ctx.attrs.intOpt('softmax_precision');
    // FLOAT, FLOAT16, DOUBLE, BFLOAT16: the softmax runs in float64 here, at least as precise as any.
    if (precision !== undefined && ![1, 10, 11, 16].includes(precision)) throw ctx.attrs.error('softmax_precision', `must be a float type (1, 10, 11 or 16), got ${precision}`);
    const scale = ctx.attrs.floatOpt('scale') ?? 1 / Math.sqrt(g.D);

    const mask = ctx.inputs[3];
    if (mask && mask.dtype !== 'bool' && mask.dtype !== dtype) ctx.fail(`attn_mask (input 3, '${mask.name}') must be bool or ${dtype}, got ${mask.dtype}`);
    const ml = mask ? maskLayout(ctx, mask, g) : undefined;
    const nonpad = ctx.opset >= 24 ? ctx.inputs[6] : undefined;
    if (ctx.opset < 24 && ctx.inputs[6]) ctx.fail('nonpad_kv_seqlen (input 6) exists from opset 24', 'INVALID_MODEL');
    if (nonpad) {
      requireDtype(ctx, 6, ['int64']);
      if (nonpad.dims.length !== 1 || nonpad.dims[0] !== g.B) ctx.fail(`nonpad_kv_seqlen (input 6, '${nonpad.name}') must have shape [${g.B}], got [${nonpad.dims}]`, 'SHAPE_MISMATCH');
    }
    if (ctx.node.outputs.length > 4) ctx.fail(`has ${ctx.node.outputs.length} outputs; Attention has at most four`, 'INVALID_MODEL');

    const { B, Hq, Hkv, Sq, Skv, P, T, D, Dv, threeD } = g;
    const outputs: TensorInfo[] = [
      { dtype, dims: threeD ? [B, Sq, Hq * Dv] : [B, Hq, Sq, Dv] },
      { dtype, dims: [B, Hkv, T, D] },
      { dtype, dims: [B, Hkv, T, Dv] },
      { dtype, dims: [B, Hq, Sq, T] },
    ].slice(0, Math.max(1, ctx.node.outputs.length));
    const wanted = (i: number) => ctx.node.outputs.length > i && ctx.node.outputs[i] !== '';
    const group = Hq / Hkv;
    return {
      outputs,
      build(b) {
        const qn = B * Hq * Sq * D, kn = B * Hkv * Skv * D, vn = B * Hkv * Skv * Dv;
        const qv = b.view(dtype, b.inputs[0]!, qn), kv = b.view(dtype, b.inputs[1]!, kn), vv = b.view(dtype, b.inputs[2]!, vn);
        const pkv = P ? b.view(dtype, b.inputs[4]!, B * Hkv * P * D) : undefined, pvv = P ? b.view(dtype, b.inputs[5]!, B * Hkv * P * Dv) : undefined;
        const mv = mask ? b.view(mask.dtype, b.inputs[3]!, product(mask.dims)) : undefined;
        const npv = nonpad ? b.view('int64', b.inputs[6]!, B) : undefined;
        const yv = b.view(dtype, b.outputs[0]!, B * Hq * Sq * Dv);
        const presK = wanted(1) ? b.view(dtype, b.outputs[1]!, B * Hkv * T * D) : undefined;
        const presV = wanted(2) ? b.view(dtype, b.outputs[2]!, B * Hkv * T * Dv) : undefined;
        const qkv = wanted(3) ? b.view(dtype, b.outputs[3]!, B * Hq * Sq * T) : undefined;
        // Float64 working copies, allocated once per plan: Q, the full K/V caches, scores, outputs.
        const Q = new Float64Array(qn), Kin = new Float64Array(kn), Vin = new Float64Array(vn);
        const K = new Float64Array(B * Hkv * T * D), V = new Float64Array(B * Hkv * T * Dv);
        const pastK = new Float64Array(B * Hkv * P * D), pastV = new Float64Array(B * Hkv * P * Dv);
        const Mk = mask ? new Float64Array(product(mask.dims)) : undefined;
        const Y = new Float64Array(B * Hq * Sq * Dv), QK = qkv ? new Float64Array(B * Hq * Sq * T) : undefined;
        const s = new Float64Array(T), bias = new Float64Array(T), pr = new Float64Array(T);
        return () => {
          readFloats(dtype, qv(), Q); readFloats(dtype, kv(), Kin); readFloats(dtype, vv(), Vin);
          if (P) { readFloats(dtype, pkv!(), pastK); readFloats(dtype, pvv!(), pastV); }
          if (Mk) {
            const m = mv!();
            if (mask!.dtype === 'bool') for (let i = 0; i < Mk.length; i++) Mk[i] = m[i] ? 0 : -Infinity;
            else readFloats(dtype, m, Mk);
          }
          // present = past ‖ new, per (batch, kv head), in [B, Hkv, T, ·] order.
          concatCache(K, pastK, Kin, B, Hkv, P, Skv, D, threeD);
          concatCache(V, pastV, Vin, B, Hkv, P, Skv, Dv, threeD);
          const np = npv?.() as BigInt64Array | undefined;
          for (let bi = 0; bi < B; bi++) {
            const valid = np ? Number(np[bi]!) : T;
            const offset = P ? P : np ? valid - Sq : 0;
            for (let h = 0; h < Hq; h++) {
              const kh = Math.floor(h / group), kBase = (bi * Hkv + kh) * T;
              for (let i = 0; i < Sq; i++) {
                const qo = threeD ? ((bi * Sq + i) * Hq + h) * D : ((bi * Hq + h) * Sq + i) * D;
                for (let j = 0; j < T; j++) {
                  let dot = 0;
                  const ko = (kBase + j) * D;
                  for (let d = 0; d < D; d++) dot += Q[qo + d]! * K[ko + d]!;
                  dot *= scale;
                  s[j] = softcap > 0 ? softcap * Math.tanh(dot / softcap) : dot;
                  let add = 0;
                  if (Mk) {
                    const st = ml!.strides;
                    add = j < ml!.last ? Mk[bi * st[0]! + h * st[1]! + i * st[2]! + j * st[3]!]! : -Infinity;
                  }
                  if (causal && j > i + offset) add = -Infinity;
                  if (j >= valid) add = -Infinity;
                  bias[j] = add;
                }
                softmaxRow(s, bias, pr, T);
                const ro = ((bi * Hq + h) * Sq + i) * T;
                if (QK) for (let j = 0; j < T; j++) QK[ro + j] = mode === 3 ? pr[j]! : mode === 2 ? s[j]! + bias[j]! : s[j]!;
                const yo = threeD ? ((bi * Sq + i) * Hq + h) * Dv : ((bi * Hq + h) * Sq + i) * Dv;
                for (let d = 0; d < Dv; d++) Y[yo + d] = 0;
                for (let j = 0; j < T; j++) {
                  const p = pr[j]!;
                  if (p === 0) continue;
                  const vo = (kBase + j) * Dv;
                  for (let d = 0; d < Dv; d++) Y[yo + d] = Y[yo + d]! + p * V[vo + d]!;
                }
              }
            }
          }
          writeFloats(dtype, Y, yv());
          if (presK) writeFloats(dtype, K, presK());
          if (presV) writeFloats(dtype, V, presV());
          if (qkv) writeFloats(dtype, QK!, qkv());
        };
      },
    };
  },
};

/** dst[b, h, 0:P] = past[b, h]; dst[b, h, P:T] = cur (laid out [B, S, H·D] when 3-D, else [B, H, S, D]). */
function concatCache(dst: Float64Array, past: Float64Array, cur: Float64Array, B: number, H: number, P: number, S: number, D: number, threeD: boolean): void {
  const T = P + S;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const o = (b * H + h) * T * D;
      dst.set(past.subarray((b * H + h) * P * D, (b * H + h + 1) * P * D), o);
      for (let j = 0; j < S; j++) {
        const src = threeD ? ((b * S + j) * H + h) * D : ((b * H + h) * S + j) * D;
        dst.set(cur.subarray(src, src + D), o + (P + j) * D);
      }
    }
  }
}

/** softmax(s + bias); a row with every position masked yields zeros rather than NaN. */
function softmaxRow(s: Float64Array, bias: Float64Array, out: Float64Array, n: number): void {
  let m = -Infinity;
  for (let j = 0; j < n; j++) { const v = s[j]! + bias[j]!; out[j] = v; if (v > m) m = v; }
  if (m === -Infinity) { out.fill(0, 0, n); return; }
  let sum = 0;
  for (let j = 0; j < n; j++) { const e = Math.exp(out[j]! - m); out[j] = e; sum += e; }
  for (let j = 0; j < n; j++) out[j] = out[j]! / sum;
}

export const attentionOps: readonly OpDef[] = [attention];
