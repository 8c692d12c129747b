/**
 * RNN, GRU and LSTM (opset 7+; `layout` from 14): the recurrences stepped in TypeScript, in
 * float64, forward, reverse or both, with per-batch sequence_lens (outputs past a sequence's end
 * are zero, Y_h/Y_c hold its last valid step), initial states, clip and the activation list.
 * Gate order follows ONNX: GRU z, r, h; LSTM i, o, f, c (peepholes i, o, f).
 */
import type { InputInfo, OpContext, OpDef, Prepared, TensorInfo } from '../types.js';
import { FLOAT_TYPES, readFloats, writeFloats } from '../float-io.js';
import { product, requireDtype } from '../util.js';

type Act = (x: number) => number;
type Kind = 'RNN' | 'GRU' | 'LSTM';

/** ONNX's recurrent activations; `p` takes alpha/beta from the attribute lists in order. */
const ACTIVATIONS: Record<string, { params: number; defaults: number[]; make: (a: number, b: number) => Act }> = {
  relu: { params: 0, defaults: [], make: () => (x) => Math.max(0, x) },
  tanh: { params: 0, defaults: [], make: () => Math.tanh },
  sigmoid: { params: 0, defaults: [], make: () => (x) => 1 / (1 + Math.exp(-x)) },
  softsign: { params: 0, defaults: [], make: () => (x) => x / (1 + Math.abs(x)) },
  softplus: { params: 0, defaults: [], make: () => (x) => Math.log1p(Math.exp(x)) },
  affine: { params: 2, defaults: [1, 0], make: (a, b) => (x) => a * x + b },
  leakyrelu: { params: 1, defaults: [0.01], make: (a) => (x) => (x >= 0 ? x : a * x) },
  thresholdedrelu: { params: 1, defaults: [1], make: (a) => (x) => (x > a ? x : 0) },
  scaledtanh: { params: 2, defaults: [1, 1], make: (a, b) => (x) => a * Math.tanh(b * x) },
  hardsigmoid: { params: 2, defaults: [0.2, 0.5], make: (a, b) => (x) => Math.max(0, Math.min(1, a * x + b)) },
  elu: { params: 1, defaults: [1], make: (a) => (x) => (x >= 0 ? x : a * (Math.exp(x) - 1)) },
};

const GATES: Record<Kind, { gates: number; acts: string[] }> = {
  RNN: { gates: 1, acts: ['Tanh'] },
  GRU: { gates: 3, acts: ['Sigmoid', 'Tanh'] },
  LSTM: { gates: 4, acts: ['Sigmoid', 'Tanh', 'Tanh'] },
};

function activations(ctx: OpContext, kind: Kind, dirs: number): Act[] {
  const per = GATES[kind].acts.length;
  const names = ctx.attrs.strings('activations') ?? Array.from({ length: dirs }, () => GATES[kind].acts).flat();
  if (names.length !== per * dirs) throw ctx.attrs.error('activations', `must list ${per * dirs} functions (${per} per direction), got ${names.length}`);
  const alphas = ctx.attrs.floats('activation_alpha') ?? [], betas = ctx.attrs.floats('activation_beta') ?? [];
  let ai = 0, bi = 0;
  return names.map((n) => {
    const def = ACTIVATIONS[n.toLowerCase()];
    if (!def) throw ctx.attrs.error('activations', `function '${n}' is not supported (expected one of ${Object.keys(ACTIVATIONS).join(', ')})`);
    const a = def.params >= 1 ? (alphas[ai++] ?? def.defaults[0]!) : 0;
    const b = def.params >= 2 ? (betas[bi++] ?? def.defaults[1]!) : 0;
    return def.make(a, b);
  });
}

function expectDims(ctx: OpContext, i: number, what: string, want: number[]): InputInfo | undefined {
  const x = ctx.inputs[i];
  if (x && (x.dims.length !== want.length || x.dims.some((d, k) => d !== want[k]))) {
    ctx.fail(`${what} (input ${i}, '${x.name}') must have shape [${want}], got [${x.dims}]`, 'SHAPE_MISMATCH');
  }
  return x;
}

function prepareRecurrent(ctx: OpContext, kind: Kind): Prepared {
  requireDtype(ctx, 0, FLOAT_TYPES);
  const x = ctx.input(0), dtype = x.dtype;
  const a = ctx.attrs;
  const direction = a.oneOf('direction', ['forward', 'reverse', 'bidirectional'], 'forward');
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const H = a.intOpt('hidden_size');
  if (H === undefined || H < 1) throw a.error('hidden_size', H === undefined ? 'is required' : `must be positive, got ${H}`);
  const layout = a.int('layout', 0);
  if (layout !== 0 && layout !== 1) throw a.error('layout', `must be 0 or 1, got ${layout}`);
  if (ctx.opset < 14 && a.has('layout')) throw a.error('layout', 'exists from opset 14');
  const clip = a.floatOpt('clip');
  if (clip !== undefined && !(clip > 0)) throw a.error('clip', `must be positive, got ${clip}`);
  const lbr = kind === 'GRU' ? a.int('linear_before_reset', 0) : 0;
  if (lbr !== 0 && lbr !== 1) throw a.error('linear_before_reset', `must be 0 or 1, got ${lbr}`);
  const inputForget = kind === 'LSTM' ? a.int('input_forget', 0) : 0;
  if (inputForget !== 0 && inputForget !== 1) throw a.error('input_forget', `must be 0 or 1, got ${inputForget}`);
  const acts = activations(ctx, kind, dirs);
  if (x.dims.length !== 3) ctx.fail(`X must be 3-D, got [${x.dims}]`, 'SHAPE_MISMATCH');
  const [S, Bt, I] = (layout ? [x.dims[1], x.dims[0], x.dims[2]] : x.dims) as [number, number, number];
  const G = GATES[kind].gates;
  for (const i of [1, 2, 3, 5, 6, 7]) { const p = ctx.inputs[i]; if (p && p.dtype !== dtype) ctx.fail(`input ${i} ('${p.name}') has type ${p.dtype}, X has ${dtype}`); }
  ctx.input(1); ctx.input(2);
  expectDims(ctx, 1, 'W', [dirs, G * H, I]);
  expectDims(ctx, 2, 'R', [dirs, G * H, H]);
  const bias = expectDims(ctx, 3, 'B', [dirs, 2 * G * H]);
  const lens = ctx.inputs[4];
  if (lens) { requireDtype(ctx, 4, ['int32', 'int64']); expectDims(ctx, 4, 'sequence_lens', [Bt]); }
  const stateDims = layout ? [Bt, dirs, H] : [dirs, Bt, H];
  const h0 = expectDims(ctx, 5, 'initial_h', stateDims);
  const c0 = kind === 'LSTM' ? expectDims(ctx, 6, 'initial_c', stateDims) : undefined;
  const peep = kind === 'LSTM' ? expectDims(ctx, 7, 'P', [dirs, 3 * H]) : undefined;
  const maxOut = kind === 'LSTM' ? 3 : 2;
  if (ctx.node.outputs.length > maxOut) ctx.fail(`has ${ctx.node.outputs.length} outputs; ${kind} has at most ${maxOut}`, 'INVALID_MODEL');
  const outputs: TensorInfo[] = [
    { dtype, dims: layout ? [Bt, S, dirs, H] : [S, dirs, Bt, H] },
    { dtype, dims: stateDims },
    { dtype, dims: stateDims },
  ].slice(0, Math.max(1, ctx.node.outputs.length));
  const wanted = (i: number) => ctx.node.outputs.length > i && ctx.node.outputs[i] !== '';
  // Element offsets: X[t, b, :], state[d, b, :], Y[t, d, b, :] in either layout.
  const xAt = (t: number, b: number) => (layout ? (b * S + t) : (t * Bt + b)) * I;
  const stAt = (d: number, b: number) => (layout ? (b * dirs + d) : (d * Bt + b)) * H;
  const yAt = (t: number, d: number, b: number) => (layout ? ((b * S + t) * dirs + d) : ((t * dirs + d) * Bt + b)) * H;
  const cl = clip === undefined ? (v: number) => v : (v: number) => Math.min(clip, Math.max(-clip, v));
  return {
    outputs,
    build(bd) {
      const xn = product(x.dims), wn = dirs * G * H * I, rn = dirs * G * H * H, sn = dirs * Bt * H;
      const xv = bd.view(dtype, bd.inputs[0]!, xn), wv = bd.view(dtype, bd.inputs[1]!, wn), rv = bd.view(dtype, bd.inputs[2]!, rn);
      const bv = bias ? bd.view(dtype, bd.inputs[3]!, dirs * 2 * G * H) : undefined;
      const lv = lens ? bd.view(lens.dtype, bd.inputs[4]!, Bt) : undefined;
      const h0v = h0 ? bd.view(dtype, bd.inputs[5]!, sn) : undefined, c0v = c0 ? bd.view(dtype, bd.inputs[6]!, sn) : undefined;
      const pv = peep ? bd.view(dtype, bd.inputs[7]!, dirs * 3 * H) : undefined;
      const yv = wanted(0) ? bd.view(dtype, bd.outputs[0]!, S * dirs * Bt * H) : undefined;
      const yhv = wanted(1) ? bd.view(dtype, bd.outputs[1]!, sn) : undefined, ycv = wanted(2) ? bd.view(dtype, bd.outputs[2]!, sn) : undefined;
      const X = new Float64Array(xn), W = new Float64Array(wn), R = new Float64Array(rn), Bs = new Float64Array(dirs * 2 * G * H);
      const P = new Float64Array(dirs * 3 * H), Hs = new Float64Array(sn), Cs = new Float64Array(sn), Y = new Float64Array(S * dirs * Bt * H);
      const xg = new Float64Array(G * H), hg = new Float64Array(G * H), hNew = new Float64Array(H);
      const zg = new Float64Array(H), rg = new Float64Array(H);
      // Weights fixed for the session are widened once, on the first run (a one-step LSTM such as
      // Silero VAD's otherwise spends most of its time re-reading W and R).
      const fixed = [1, 2, 3, 7].every((i) => !ctx.inputs[i] || ctx.inputs[i]!.constant);
      let weightsRead = false;
      return () => {
        readFloats(dtype, xv(), X);
        if (!weightsRead) {
          readFloats(dtype, wv(), W); readFloats(dtype, rv(), R);
          if (bv) readFloats(dtype, bv(), Bs); else Bs.fill(0);
          if (pv) readFloats(dtype, pv(), P); else P.fill(0);
          weightsRead = fixed;
        }
        if (h0v) readFloats(dtype, h0v(), Hs); else Hs.fill(0);
        if (c0v) readFloats(dtype, c0v(), Cs); else Cs.fill(0);
        Y.fill(0);
        const L = lv?.();
        for (let d = 0; d < dirs; d++) {
          const reverse = direction === 'reverse' || d === 1;
          const per = GATES[kind].acts.length, f = acts[d * per]!, g = acts[d * per + 1]!, h = acts[d * per + 2]!;
          const wo = d * G * H * I, ro = d * G * H * H, bo = d * 2 * G * H, po = d * 3 * H;
          for (let b = 0; b < Bt; b++) {
            const len = L ? Math.min(S, Math.max(0, Number(L[b]!))) : S;
            const so = stAt(d, b);
            for (let step = 0; step < len; step++) {
              const t = reverse ? len - 1 - step : step, xo = xAt(t, b);
              // xg = W·x + Wb; hg = R·h + Rb, per gate row.
              for (let r = 0; r < G * H; r++) {
                let sx = Bs[bo + r]!, sh = Bs[bo + G * H + r]!;
                for (let k = 0; k < I; k++) sx += W[wo + r * I + k]! * X[xo + k]!;
                for (let k = 0; k < H; k++) sh += R[ro + r * H + k]! * Hs[so + k]!;
                xg[r] = sx; hg[r] = sh;
              }
              if (kind === 'RNN') {
                for (let j = 0; j < H; j++) hNew[j] = f(cl(xg[j]! + hg[j]!));
              } else if (kind === 'GRU') {
                for (let j = 0; j < H; j++) { zg[j] = f(cl(xg[j]! + hg[j]!)); rg[j] = f(cl(xg[H + j]! + hg[H + j]!)); }
                for (let j = 0; j < H; j++) {
                  let pre: number;
                  if (lbr) pre = xg[2 * H + j]! + rg[j]! * hg[2 * H + j]!;
                  else {
                    // (r ⊙ h)·Rhᵀ + Rbh: the candidate row again, with the reset-gated state.
                    let s = Bs[bo + G * H + 2 * H + j]!;
                    for (let k = 0; k < H; k++) s += R[ro + (2 * H + j) * H + k]! * rg[k]! * Hs[so + k]!;
                    pre = xg[2 * H + j]! + s;
                  }
                  hNew[j] = (1 - zg[j]!) * g(cl(pre)) + zg[j]! * Hs[so + j]!;
                }
              } else {
                for (let j = 0; j < H; j++) {
                  const cPrev = Cs[so + j]!;
                  const ig = f(cl(xg[j]! + hg[j]! + P[po + j]! * cPrev));
                  const fg = inputForget ? 1 - ig : f(cl(xg[2 * H + j]! + hg[2 * H + j]! + P[po + 2 * H + j]! * cPrev));
                  const cc = g(cl(xg[3 * H + j]! + hg[3 * H + j]!));
                  const c = fg * cPrev + ig * cc;
                  const og = f(cl(xg[H + j]! + hg[H + j]! + P[po + H + j]! * c));
                  Cs[so + j] = c;
                  hNew[j] = og * h(c);
                }
              }
              Hs.set(hNew, so);
              Y.set(hNew, yAt(t, d, b));
            }
          }
        }
        if (yv) writeFloats(dtype, Y, yv());
        if (yhv) writeFloats(dtype, Hs, yhv());
        if (ycv) writeFloats(dtype, Cs, ycv());
      };
    },
  };
}

const COMMON = ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout'];

export const rnnOps: readonly OpDef[] = [
  { opType: 'RNN', since: 7, attributes: COMMON, prepare: (ctx) => prepareRecurrent(ctx, 'RNN') },
  { opType: 'GRU', since: 7, attributes: [...COMMON, 'linear_before_reset'], prepare: (ctx) => prepareRecurrent(ctx, 'GRU') },
  { opType: 'LSTM', since: 7, attributes: [...COMMON, 'input_forget'], prepare: (ctx) => prepareRecurrent(ctx, 'LSTM') },
];
