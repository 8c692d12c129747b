/**
 * Normalisation ops. BatchNormalization (inference) becomes y = x·scale[c] + shift[c] on the
 * channel_affine_f32 kernel; scale/shift are computed once into persistent memory when the four
 * parameters are constant, else per run into scratch (C floats — negligible next to the tensor).
 * InstanceNormalization runs in TypeScript (two passes per channel plane).
 */
import type { DType } from '../../graph/ir.js';
import type { InputInfo, OpContext, OpDef, Prepared } from '../types.js';
import { FLOAT_TYPES, readFloats, writeFloats } from '../float-io.js';
import { broadcastStrides, normalizeAxis, product, requireDtype, stridesOf } from '../util.js';
import { prepareBinary } from '../math/elementwise.js';
import { Binary } from '../../runtime/kernels.js';

type Arr = Float32Array | Float64Array;

function nc(ctx: OpContext): { x: InputInfo; N: number; C: number; hw: number } {
  const x = ctx.input(0);
  if (x.dims.length < 2) ctx.fail(`input must be at least 2-D [N, C, …], got [${x.dims}]`, 'SHAPE_MISMATCH');
  const [N, C] = x.dims as [number, number];
  return { x, N, C, hw: x.dims.slice(2).reduce((a, d) => a * d, 1) };
}

function requireChannels(ctx: OpContext, from: number, to: number, C: number): void {
  for (let i = from; i < to; i++) {
    const p = ctx.input(i);
    if (p.dims.length !== 1 || p.dims[0] !== C) ctx.fail(`input ${i} ('${p.name}') must have shape [${C}], got [${p.dims}]`, 'SHAPE_MISMATCH');
  }
}

const batchNorm: OpDef = {
  opType: 'BatchNormalization', since: 1,
  attributes: ['epsilon', 'momentum', 'training_mode', 'spatial', 'is_test', 'consumed_inputs'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32', 'float64']);
    const { x, N, C, hw } = nc(ctx);
    requireChannels(ctx, 1, 5, C);
    const training = ctx.attrs.int('training_mode', 0);
    if (training !== 0 && training !== 1) throw ctx.attrs.error('training_mode', `must be 0 or 1, got ${training}`);
    if (training) {
      if (ctx.opset < 14) throw ctx.attrs.error('training_mode', 'exists from opset 14');
      return batchNormTraining(ctx, N, C, hw);
    }
    if (ctx.opset < 9 && ctx.attrs.int('spatial', 1) !== 1) throw ctx.attrs.error('spatial', 'only spatial = 1 is supported');
    if (ctx.opset >= 9 && ctx.attrs.has('spatial')) throw ctx.attrs.error('spatial', 'exists only before opset 9');
    if (ctx.opset >= 7 && ctx.attrs.has('is_test')) throw ctx.attrs.error('is_test', 'exists only before opset 7');
    if (ctx.node.outputs.filter((o) => o !== '').length > 1) ctx.fail('training outputs (running mean/var, saved mean/var) are not supported');
    const eps = ctx.attrs.float('epsilon', 1e-5);
    const params = [1, 2, 3, 4].map((i) => ctx.input(i));
    const count = N * C * hw, f32 = x.dtype === 'float32';
    const fill = (vals: ArrayLike<number>[], sc: Float32Array | Float64Array, sh: Float32Array | Float64Array) => {
      const [g, b, m, v] = vals as [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>, ArrayLike<number>];
      for (let c = 0; c < C; c++) { const s = g[c]! / Math.sqrt(v[c]! + eps); sc[c] = s; sh[c] = b[c]! - m[c]! * s; }
    };
    const constant = params.every((p) => p.constant && p.value !== undefined);
    return {
      outputs: [{ dtype: x.dtype, dims: [...x.dims] }],
      scratchBytes: f32 && !constant ? 8 * C : 0,
      build(b) {
        const pv = params.map((p, i) => b.view(p.dtype, b.inputs[i + 1]!, C));
        if (!f32) {
          const xv = b.view(x.dtype, b.inputs[0]!, count), yv = b.view(x.dtype, b.outputs[0]!, count);
          const sc = new Float64Array(C), sh = new Float64Array(C);
          return () => {
            fill(pv.map((v) => v() as Arr), sc, sh);
            const X = xv() as Arr, Y = yv() as Arr;
            for (let n = 0, i = 0; n < N; n++) for (let c = 0; c < C; c++) for (let p = 0; p < hw; p++, i++) Y[i] = X[i]! * sc[c]! + sh[c]!;
          };
        }
        const k = b.k, xp = b.inputs[0]!, yp = b.outputs[0]!;
        if (constant) {
          const key = `bn:${params.map((p) => p.name).join('|')}:${eps}`;
          const ptr = b.persistent(key, 8 * C, (p) => {
            const all = new Float32Array(b.memory.buffer, p, 2 * C);
            fill(params.map((q) => q.value as ArrayLike<number>), all.subarray(0, C), all.subarray(C));
          });
          return () => k.channel_affine_f32(xp, yp, ptr, ptr + 4 * C, N, C, hw, 0, 0, 0);
        }
        const sv = b.view('float32', b.scratch, 2 * C);
        return () => {
          const s = sv() as Float32Array;
          fill(pv.map((v) => v() as Arr), s.subarray(0, C), s.subarray(C));
          k.channel_affine_f32(xp, yp, b.scratch, b.scratch + 4 * C, N, C, hw, 0, 0, 0);
        };
      },
    };
  },
};

/**
 * Training-mode BatchNormalization (opset 14+): normalises with the batch's own mean and (biased)
 * variance per channel; the optional outputs are the running statistics blended by momentum.
 */
function batchNormTraining(ctx: OpContext, N: number, C: number, hw: number): Prepared {
  const x = ctx.input(0);
  const eps = ctx.attrs.float('epsilon', 1e-5), momentum = ctx.attrs.float('momentum', 0.9);
  if (ctx.node.outputs.length > 3) ctx.fail(`has ${ctx.node.outputs.length} outputs; training mode has at most 3 (Y, running_mean, running_var)`, 'INVALID_MODEL');
  const params = [1, 2, 3, 4].map((i) => ctx.input(i));
  const statType = params[2]!.dtype;
  const outputs = [{ dtype: x.dtype, dims: [...x.dims] }, { dtype: statType, dims: [C] }, { dtype: statType, dims: [C] }].slice(0, Math.max(1, ctx.node.outputs.length));
  const wanted = (i: number) => ctx.node.outputs.length > i && ctx.node.outputs[i] !== '';
  const count = N * C * hw;
  return {
    outputs,
    build(b) {
      const xv = b.view(x.dtype, b.inputs[0]!, count), yv = b.view(x.dtype, b.outputs[0]!, count);
      const pv = params.map((p, i) => b.view(p.dtype, b.inputs[i + 1]!, C));
      const mv = wanted(1) ? b.view(statType, b.outputs[1]!, C) : undefined, vv = wanted(2) ? b.view(statType, b.outputs[2]!, C) : undefined;
      const X = new Float64Array(count), P = params.map(() => new Float64Array(C)), mean = new Float64Array(C), vr = new Float64Array(C);
      return () => {
        readFloats(x.dtype, xv(), X);
        for (let i = 0; i < 4; i++) readFloats(params[i]!.dtype, pv[i]!(), P[i]!);
        const m = N * hw;
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let n = 0; n < N; n++) for (let p = 0, o = (n * C + c) * hw; p < hw; p++) s += X[o + p]!;
          const mu = s / m;
          let q = 0;
          for (let n = 0; n < N; n++) for (let p = 0, o = (n * C + c) * hw; p < hw; p++) { const d = X[o + p]! - mu; q += d * d; }
          mean[c] = mu; vr[c] = q / m;
          const sc = P[0]![c]! / Math.sqrt(vr[c]! + eps), sh = P[1]![c]! - mu * sc;
          for (let n = 0; n < N; n++) for (let p = 0, o = (n * C + c) * hw; p < hw; p++) X[o + p] = X[o + p]! * sc + sh;
        }
        writeFloats(x.dtype, X, yv());
        if (mv) { for (let c = 0; c < C; c++) mean[c] = P[2]![c]! * momentum + mean[c]! * (1 - momentum); writeFloats(statType, mean, mv()); }
        if (vv) { for (let c = 0; c < C; c++) vr[c] = P[3]![c]! * momentum + vr[c]! * (1 - momentum); writeFloats(statType, vr, vv()); }
      };
    },
  };
}

const instanceNorm: OpDef = {
  opType: 'InstanceNormalization', since: 1, attributes: ['epsilon', 'consumed_inputs'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32', 'float64']);
    const { x, N, C, hw } = nc(ctx);
    requireChannels(ctx, 1, 3, C);
    const eps = ctx.attrs.float('epsilon', 1e-5), count = N * C * hw;
    return {
      outputs: [{ dtype: x.dtype, dims: [...x.dims] }],
      build(b) {
        const xv = b.view(x.dtype, b.inputs[0]!, count), yv = b.view(x.dtype, b.outputs[0]!, count);
        const gv = b.view(ctx.input(1).dtype, b.inputs[1]!, C), bv = b.view(ctx.input(2).dtype, b.inputs[2]!, C);
        return () => {
          const X = xv() as Arr, Y = yv() as Arr, G = gv() as Arr, B = bv() as Arr;
          for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
            const o = (n * C + c) * hw;
            let mean = 0; for (let p = 0; p < hw; p++) mean += X[o + p]!;
            mean /= hw;
            let v = 0; for (let p = 0; p < hw; p++) { const d = X[o + p]! - mean; v += d * d; }
            const s = G[c]! / Math.sqrt(v / hw + eps), t = B[c]! - mean * s;
            for (let p = 0; p < hw; p++) Y[o + p] = X[o + p]! * s + t;
          }
        };
      },
    };
  },
};


/** rows × cols contiguous, each row normalised to mean 0 / variance 1 then y = x̂·g[j % gs] + b. */
function rowNorm(X: Arr, Y: Arr, rows: number, cols: number, eps: number, G: Arr | undefined, B: Arr | undefined,
  mean?: Arr, inv?: Arr, paramOf: (r: number, j: number) => number = (_r, j) => j): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = 0; for (let j = 0; j < cols; j++) m += X[o + j]!;
    m /= cols;
    let v = 0; for (let j = 0; j < cols; j++) { const d = X[o + j]! - m; v += d * d; }
    const is = 1 / Math.sqrt(v / cols + eps);
    if (mean) mean[r] = m;
    if (inv) inv[r] = is;
    for (let j = 0; j < cols; j++) {
      const q = paramOf(r, j);
      Y[o + j] = (X[o + j]! - m) * is * (G ? G[q]! : 1) + (B ? B[q]! : 0);
    }
  }
}

export const layerNorm: OpDef = {
  opType: 'LayerNormalization', since: 17, attributes: ['axis', 'epsilon', 'stash_type'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32', 'float64']);
    const x = ctx.input(0);
    const axis = normalizeAxis(ctx, ctx.attrs.int('axis', -1), x.dims.length);
    const eps = ctx.attrs.float('epsilon', 1e-5);
    const stash = ctx.attrs.int('stash_type', 1);
    if (stash !== 1 && stash !== 11) throw ctx.attrs.error('stash_type', `must be 1 (float) or 11 (double), got ${stash}`);
    const rows = product(x.dims, 0, axis), cols = product(x.dims, axis);
    const g = ctx.input(1), bias = ctx.inputs[2];
    const gs = product(g.dims), bs = bias ? product(bias.dims) : 0;
    for (const [p, n] of [[g, gs], [bias, bs]] as const) {
      if (p && (n === 0 || cols % n !== 0 || p.dims.length > x.dims.length - axis)) ctx.fail(`'${p.name}' of shape [${p.dims}] does not broadcast to the normalised shape [${x.dims.slice(axis)}]`, 'SHAPE_MISMATCH');
    }
    const statDims = x.dims.map((d, i) => (i < axis ? d : 1));
    const statType: DType = stash === 11 ? 'float64' : 'float32';
    const extra = ctx.node.outputs.slice(1).some((o) => o !== '');
    return {
      outputs: [{ dtype: x.dtype, dims: [...x.dims] }, { dtype: statType, dims: statDims }, { dtype: statType, dims: statDims }].slice(0, Math.max(1, ctx.node.outputs.length)),
      build(b) {
        const k = b.k;
        if (x.dtype === 'float32' && !extra && gs === cols && (!bias || bs === cols) && bias?.dtype !== 'float64' && g.dtype === 'float32') {
          const xp = b.inputs[0]!, yp = b.outputs[0]!, gp = b.inputs[1]!, bp = bias ? b.inputs[2]! : 0;
          return () => k.layernorm_f32(xp, yp, gp, bp, rows, cols, eps);
        }
        const xv = b.view(x.dtype, b.inputs[0]!, rows * cols), yv = b.view(x.dtype, b.outputs[0]!, rows * cols);
        const gv = b.view(g.dtype, b.inputs[1]!, gs), bv = bias ? b.view(bias.dtype, b.inputs[2]!, bs) : undefined;
        const mv = b.outputs[1] !== undefined && ctx.node.outputs[1] ? b.view(statType, b.outputs[1], rows) : undefined;
        const iv = b.outputs[2] !== undefined && ctx.node.outputs[2] ? b.view(statType, b.outputs[2], rows) : undefined;
        return () => {
          const G = gv() as Arr, B = bv?.() as Arr | undefined;
          rowNorm(xv() as Arr, yv() as Arr, rows, cols, eps, G, B, mv?.() as Arr | undefined, iv?.() as Arr | undefined,
            gs === bs || !B ? (_r, j) => j % gs : (_r, j) => j);
          if (B && gs !== bs) {
            // Scale and bias broadcast differently: rowNorm indexed both by j; redo with separate moduli.
            const X = xv() as Arr, Y = yv() as Arr;
            const mean = new Float64Array(rows), inv = new Float64Array(rows);
            rowNorm(X, Y, rows, cols, eps, undefined, undefined, mean, inv);
            for (let r = 0, i = 0; r < rows; r++) for (let j = 0; j < cols; j++, i++) Y[i] = Y[i]! * G[j % gs]! + B[j % bs]!;
          }
        };
      },
    };
  },
};

/**
 * tessera's LayerNormalization: ONNX's, plus an optional input 3 added to X first — the residual
 * Add that the add-layernorm pass folds in (LayerNormalization(Add(x, r)) → LayerNormalization(x,
 * γ, β, r)). Same-shape float32 inputs with the kernel's γ/β run add_layernorm_f32 (one pass over
 * memory fewer, same bits as Add then LayerNormalization); anything else (broadcasting, float64,
 * statistics outputs) runs the Add op's own step into scratch and ONNX's LayerNormalization on it.
 */
export const fusedLayerNorm: OpDef = {
  ...layerNorm, domain: 'tessera', since: 1,
  prepare(ctx) {
    const r = ctx.inputs[3];
    if (!r) return layerNorm.prepare(ctx);
    requireDtype(ctx, 0, ['float32', 'float64']);
    const x = ctx.input(0);
    // The Add as its op plans it (types, broadcasting), on x and r.
    const add = prepareBinary({ ...ctx, inputs: [x, r], input: (i) => (i === 0 ? x : r) }, Binary.add, ['float32', 'float64']);
    const { dtype, dims } = add.outputs[0]!;
    const sum: InputInfo = { name: ctx.node.outputs[0]!, dtype, dims, value: undefined, constant: false };
    const inner = layerNorm.prepare({ ...ctx, inputs: [sum, ctx.inputs[1], ctx.inputs[2]], input: (i) => (i === 0 ? sum : ctx.input(i)) });
    const axis = normalizeAxis(ctx, ctx.attrs.int('axis', -1), dims.length);
    const rows = product(dims, 0, axis), cols = product(dims, axis);
    const g = ctx.input(1), bias = ctx.inputs[2];
    const same = r.dims.length === x.dims.length && r.dims.every((d, i) => d === x.dims[i]);
    const extra = ctx.node.outputs.slice(1).some((o) => o !== '');
    if (same && dtype === 'float32' && !extra && g.dtype === 'float32' && product(g.dims) === cols &&
      (!bias || (bias.dtype === 'float32' && product(bias.dims) === cols))) {
      const eps = ctx.attrs.float('epsilon', 1e-5);
      return {
        outputs: inner.outputs,
        build(b) {
          const k = b.k, ap = b.inputs[0]!, gp = b.inputs[1]!, bp = bias ? b.inputs[2]! : 0, rp = b.inputs[3]!;
          const yp = b.outputs[0]!;
          return () => k.add_layernorm_f32(ap, rp, yp, gp, bp, rows, cols, eps);
        },
      };
    }
    const sumBytes = Math.ceil((rows * cols * (dtype === 'float32' ? 4 : 8)) / 16) * 16;
    return {
      outputs: inner.outputs,
      scratchBytes: sumBytes + (inner.scratchBytes ?? 0),
      build(b) {
        const addStep = add.build!({ ...b, inputs: [b.inputs[0]!, b.inputs[3]!], outputs: [b.scratch] });
        const norm = inner.build!({ ...b, inputs: [b.scratch, b.inputs[1]!, b.inputs[2] ?? 0], scratch: b.scratch + sumBytes });
        return () => { addStep(); norm(); };
      },
    };
  },
};

const groupNorm: OpDef = {
  opType: 'GroupNormalization', since: 18, attributes: ['epsilon', 'num_groups', 'stash_type'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32', 'float64']);
    const { x, N, C, hw } = nc(ctx);
    const G = ctx.attrs.intOpt('num_groups');
    if (G === undefined || G < 1 || C % G !== 0) throw ctx.attrs.error('num_groups', G === undefined ? 'is required' : `must divide the ${C} channels, got ${G}`);
    const stash = ctx.attrs.int('stash_type', 1);
    if (stash !== 1) throw ctx.attrs.error('stash_type', `only 1 (float) is supported, got ${stash}`);
    const eps = ctx.attrs.float('epsilon', 1e-5);
    const s = ctx.input(1), t = ctx.input(2), ps = product(s.dims);
    // Opset 18: scale/bias per group; opset 21: per channel.
    const perChannel = ctx.opset >= 21;
    if (ps !== (perChannel ? C : G!) || product(t.dims) !== ps) ctx.fail(`scale and bias must have ${perChannel ? C : G} elements, got [${s.dims}] and [${t.dims}]`, 'SHAPE_MISMATCH');
    const cg = C / G!, cols = cg * hw, rows = N * G!;
    return {
      outputs: [{ dtype: x.dtype, dims: [...x.dims] }],
      build(b) {
        const xv = b.view(x.dtype, b.inputs[0]!, rows * cols), yv = b.view(x.dtype, b.outputs[0]!, rows * cols);
        const sv = b.view(s.dtype, b.inputs[1]!, ps), tv = b.view(t.dtype, b.inputs[2]!, ps);
        const paramOf = perChannel ? (r: number, j: number) => (r % G!) * cg + Math.floor(j / hw) : (r: number) => r % G!;
        return () => rowNorm(xv() as Arr, yv() as Arr, rows, cols, eps, sv() as Arr, tv() as Arr, undefined, undefined, paramOf);
      },
    };
  },
};

/** Visits every 1-D or N-D slice over `axes`: calls f with the element offsets of each group. */
function groupsOver(dims: readonly number[], axes: readonly number[]): number[][] {
  const st = stridesOf(dims), keep = dims.map((_, i) => i).filter((i) => !axes.includes(i));
  const offsetsOf = (ax: readonly number[]): number[] => {
    let offs = [0];
    for (const a of ax) { const next: number[] = []; for (const o of offs) for (let i = 0; i < dims[a]!; i++) next.push(o + i * st[a]!); offs = next; }
    return offs;
  };
  const inner = offsetsOf(axes);
  return offsetsOf(keep).map((o) => inner.map((i) => o + i));
}

const lpNorm: OpDef = {
  opType: 'LpNormalization', since: 1, attributes: ['axis', 'p'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32', 'float64']);
    const x = ctx.input(0);
    const axis = normalizeAxis(ctx, ctx.attrs.int('axis', -1), x.dims.length);
    const p = ctx.attrs.int('p', 2);
    if (p !== 1 && p !== 2) throw ctx.attrs.error('p', `must be 1 or 2, got ${p}`);
    const groups = groupsOver(x.dims, [axis]), count = product(x.dims);
    return {
      outputs: [{ dtype: x.dtype, dims: [...x.dims] }],
      build(b) {
        const xv = b.view(x.dtype, b.inputs[0]!, count), yv = b.view(x.dtype, b.outputs[0]!, count);
        return () => {
          const X = xv() as Arr, Y = yv() as Arr;
          for (const g of groups) {
            let s = 0; for (const i of g) s += p === 1 ? Math.abs(X[i]!) : X[i]! * X[i]!;
            const n = p === 1 ? s : Math.sqrt(s);
            for (const i of g) Y[i] = n === 0 ? 0 : X[i]! / n;
          }
        };
      },
    };
  },
};

const mvn: OpDef = {
  opType: 'MeanVarianceNormalization', since: 9, attributes: ['axes'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32', 'float64']);
    const x = ctx.input(0);
    const axes = (ctx.attrs.ints('axes') ?? [0, 2, 3]).map((a) => normalizeAxis(ctx, a, x.dims.length, 'axes'));
    const groups = groupsOver(x.dims, axes), count = product(x.dims);
    return {
      outputs: [{ dtype: x.dtype, dims: [...x.dims] }],
      build(b) {
        const xv = b.view(x.dtype, b.inputs[0]!, count), yv = b.view(x.dtype, b.outputs[0]!, count);
        return () => {
          const X = xv() as Arr, Y = yv() as Arr;
          for (const g of groups) {
            let m = 0, q = 0; for (const i of g) { m += X[i]!; q += X[i]! * X[i]!; }
            m /= g.length; q /= g.length;
            const sd = Math.sqrt(Math.max(0, q - m * m)) + 1e-9;
            for (const i of g) Y[i] = (X[i]! - m) / sd;
          }
        };
      },
    };
  },
};

/** RMSNormalization (opset 23): y = x / sqrt(mean(x² over axes ≥ axis) + ε) · scale, scale broadcast numpy-style. */
const rmsNorm: OpDef = {
  opType: 'RMSNormalization', since: 23, attributes: ['axis', 'epsilon', 'stash_type'],
  prepare(ctx) {
    requireDtype(ctx, 0, FLOAT_TYPES);
    const x = ctx.input(0), w = ctx.input(1);
    if (w.dtype !== x.dtype) ctx.fail(`scale (input 1, '${w.name}') has type ${w.dtype}, the input ${x.dtype}`);
    const axis = normalizeAxis(ctx, ctx.attrs.int('axis', -1), x.dims.length);
    const eps = ctx.attrs.float('epsilon', 1e-5);
    const stash = ctx.attrs.int('stash_type', 1);
    if (stash !== 1 && stash !== 11) throw ctx.attrs.error('stash_type', `must be 1 (float) or 11 (double), got ${stash}`);
    const bad = w.dims.length > x.dims.length || w.dims.some((d, i) => d !== 1 && d !== x.dims[x.dims.length - w.dims.length + i]);
    if (bad) ctx.fail(`scale (input 1, '${w.name}') of shape [${w.dims}] does not broadcast to the input [${x.dims}]`, 'SHAPE_MISMATCH');
    const rows = product(x.dims, 0, axis), cols = product(x.dims, axis), n = rows * cols;
    const ws = broadcastStrides(w.dims, x.dims), xs = stridesOf(x.dims), wn = product(w.dims);
    // Scale index of every element, resolved once at plan time.
    const wIndex = new Int32Array(n);
    for (let i = 0; i < n; i++) { let r = i, o = 0; for (let d = 0; d < xs.length; d++) { const q = Math.floor(r / xs[d]!); r -= q * xs[d]!; o += q * ws[d]!; } wIndex[i] = o; }
    return {
      outputs: [{ dtype: x.dtype, dims: [...x.dims] }],
      build(b) {
        const xv = b.view(x.dtype, b.inputs[0]!, n), wv = b.view(w.dtype, b.inputs[1]!, wn), yv = b.view(x.dtype, b.outputs[0]!, n);
        const X = new Float64Array(n), W = new Float64Array(wn);
        return () => {
          readFloats(x.dtype, xv(), X); readFloats(w.dtype, wv(), W);
          for (let r = 0; r < rows; r++) {
            const o = r * cols;
            let q = 0; for (let j = 0; j < cols; j++) q += X[o + j]! * X[o + j]!;
            const inv = 1 / Math.sqrt(q / cols + eps);
            for (let j = 0; j < cols; j++) X[o + j] = X[o + j]! * inv * W[wIndex[o + j]!]!;
          }
          writeFloats(x.dtype, X, yv());
        };
      },
    };
  },
};

export const normOps: readonly OpDef[] = [batchNorm, instanceNorm, layerNorm, groupNorm, lpNorm, mvn, rmsNorm];
