/**
 * Ops that rearrange elements: DepthToSpace, SpaceToDepth (one strided copy each), CenterCropPad,
 * ReverseSequence, Compress and Unique. Compress and Unique have value-dependent output shapes, so
 * their deciding inputs must be known at plan time (constants, or values computed from graph inputs).
 */
import { shapeSize } from '../../api/tensor.js';
import { copyPrepared } from './tensor.js';
import type { OpContext, OpDef, Prepared } from '../types.js';
import { normalizeAxis, product, requiredInts, stridesOf } from '../util.js';
import { type Values, allocValues, isBig, requireKnownStrings } from '../values.js';

/** A 6-D view of a 4-D tensor, permuted, written out as 4-D. */
function permuted(ctx: OpContext, view: number[], perm: number[], out: number[]): Prepared {
  const st = stridesOf(view);
  const p = copyPrepared(ctx, perm.map((i) => view[i]!), perm.map((i) => st[i]!));
  p.outputs[0]!.dims = out;
  return p;
}

function blocks(ctx: OpContext): { b: number; dims: [number, number, number, number] } {
  const x = ctx.input(0);
  if (x.dims.length !== 4) ctx.fail(`input must be 4-D [N, C, H, W], got [${x.dims}]`, 'SHAPE_MISMATCH');
  const b = ctx.attrs.intOpt('blocksize');
  if (b === undefined || b < 1) throw ctx.attrs.error('blocksize', b === undefined ? 'is required' : `must be positive, got ${b}`);
  return { b: b!, dims: x.dims as [number, number, number, number] };
}

const depthToSpace: OpDef = {
  opType: 'DepthToSpace', since: 1, attributes: ['blocksize', 'mode'],
  prepare(ctx) {
    const { b, dims: [N, C, H, W] } = blocks(ctx);
    if (C % (b * b) !== 0) ctx.fail(`channels ${C} are not a multiple of blocksize² (${b * b})`, 'SHAPE_MISMATCH');
    const mode = ctx.opset >= 11 ? ctx.attrs.oneOf('mode', ['DCR', 'CRD'], 'DCR') : 'DCR';
    if (ctx.opset < 11 && ctx.attrs.has('mode')) throw ctx.attrs.error('mode', 'exists from opset 11');
    const c = C / (b * b), out = [N, c, H * b, W * b];
    return mode === 'DCR'
      ? permuted(ctx, [N, b, b, c, H, W], [0, 3, 4, 1, 5, 2], out)
      : permuted(ctx, [N, c, b, b, H, W], [0, 1, 4, 2, 5, 3], out);
  },
};

const spaceToDepth: OpDef = {
  opType: 'SpaceToDepth', since: 1, attributes: ['blocksize'],
  prepare(ctx) {
    const { b, dims: [N, C, H, W] } = blocks(ctx);
    if (H % b !== 0 || W % b !== 0) ctx.fail(`spatial dims ${H}×${W} are not multiples of blocksize ${b}`, 'SHAPE_MISMATCH');
    return permuted(ctx, [N, C, H / b, b, W / b, b], [0, 3, 5, 1, 2, 4], [N, C * b * b, H / b, W / b]);
  },
};

/** Runs `f(src, dst)` over typed views (numbers) or at plan time (strings). */
function jsOp(ctx: OpContext, outDims: number[], f: (ins: ArrayLike<unknown>[], out: { [i: number]: unknown }) => void): Prepared {
  const x = ctx.input(0);
  const n = shapeSize(outDims);
  if (x.dtype === 'string') {
    const vals = requireKnownStrings(ctx);
    return { outputs: [{ dtype: 'string', dims: outDims }], dataFree: true, evaluate: () => { const o = allocValues('string', n); f(vals as ArrayLike<unknown>[], o); return [o]; } };
  }
  return {
    outputs: [{ dtype: x.dtype, dims: outDims }],
    build: (bd) => {
      const views = ctx.inputs.map((t, i) => (t ? bd.view(t.dtype, bd.inputs[i]!, shapeSize(t.dims)) : undefined));
      const vy = bd.view(x.dtype, bd.outputs[0]!, n);
      return () => f(views.map((v) => (v ? v() : [])) as ArrayLike<unknown>[], vy() as never);
    },
  };
}

const centerCropPad: OpDef = {
  opType: 'CenterCropPad', since: 18, attributes: ['axes'],
  prepare(ctx) {
    const x = ctx.input(0);
    const r = x.dims.length;
    const shape = requiredInts(ctx, 1, 'shape');
    const axes = (ctx.attrs.ints('axes') ?? [...Array(r).keys()]).map((a) => normalizeAxis(ctx, a, r));
    if (shape.length !== axes.length) ctx.fail(`shape has ${shape.length} entries for ${axes.length} axes`, 'SHAPE_MISMATCH');
    const out = [...x.dims], shift = new Array<number>(r).fill(0);
    axes.forEach((a, i) => {
      const t = shape[i]!, d = x.dims[a]!;
      if (t < 0) ctx.fail(`shape [${shape}] has a negative entry`, 'SHAPE_MISMATCH');
      out[a] = t;
      // Source index = output index + shift: crop from the centre, or pad around it.
      shift[a] = d >= t ? Math.floor((d - t) / 2) : -Math.floor((t - d) / 2);
    });
    const xs = stridesOf(x.dims), n = shapeSize(out);
    const zero = isBig(x.dtype) ? 0n : x.dtype === 'string' ? '' : 0;
    return jsOp(ctx, out, ([X], Y) => {
      const idx = new Array<number>(r).fill(0);
      for (let i = 0; i < n; i++) {
        let off = 0, inside = true;
        for (let d = 0; d < r; d++) {
          const s = idx[d]! + shift[d]!;
          if (s < 0 || s >= x.dims[d]!) { inside = false; break; }
          off += s * xs[d]!;
        }
        Y[i] = inside ? X![off] : zero;
        for (let d = r - 1; d >= 0; d--) { if (++idx[d]! < out[d]!) break; idx[d] = 0; }
      }
    });
  },
};

const reverseSequence: OpDef = {
  opType: 'ReverseSequence', since: 10, attributes: ['batch_axis', 'time_axis'],
  prepare(ctx) {
    const x = ctx.input(0), lens = ctx.input(1);
    if (x.dims.length < 2) ctx.fail(`input must have rank ≥ 2, got [${x.dims}]`, 'SHAPE_MISMATCH');
    const ba = ctx.attrs.int('batch_axis', 1), ta = ctx.attrs.int('time_axis', 0);
    if (!((ba === 0 && ta === 1) || (ba === 1 && ta === 0))) throw ctx.attrs.error('batch_axis', `and time_axis must be 0 and 1 in some order, got ${ba} and ${ta}`);
    const B = x.dims[ba]!, T = x.dims[ta]!, inner = product(x.dims, 2);
    if (lens.dims.length !== 1 || lens.dims[0] !== B) ctx.fail(`sequence_lens must be [${B}], got [${lens.dims}]`, 'SHAPE_MISMATCH');
    const sb = ba === 0 ? T * inner : inner, st = ta === 0 ? B * inner : inner;
    const label = `${ctx.node.opType} node '${ctx.node.name}'`;
    return jsOp(ctx, [...x.dims], ([X, L], Y) => {
      for (let b = 0; b < B; b++) {
        const len = Number(L![b]);
        if (!(len >= 0 && len <= T)) throw new Error(`${label}: sequence length ${len} is outside 0..${T}`);
        for (let t = 0; t < T; t++) {
          const src = t < len ? len - 1 - t : t;
          for (let e = 0; e < inner; e++) Y[b * sb + t * st + e] = X![b * sb + src * st + e];
        }
      }
    });
  },
};

const compress: OpDef = {
  opType: 'Compress', since: 9, attributes: ['axis'],
  prepare(ctx) {
    const x = ctx.input(0), cond = ctx.input(1);
    if (cond.dims.length !== 1) ctx.fail(`condition must be 1-D, got [${cond.dims}]`, 'SHAPE_MISMATCH');
    const v = cond.value;
    if (v === undefined) ctx.fail(`condition ('${cond.name}') must be known at plan time: it sets the output shape`, 'UNSUPPORTED_OP');
    const flat = !ctx.attrs.has('axis');
    const dims = flat ? [shapeSize(x.dims)] : x.dims;
    const axis = flat ? 0 : normalizeAxis(ctx, ctx.attrs.int('axis', 0), x.dims.length);
    const keep: number[] = [];
    for (let i = 0; i < Math.min(cond.dims[0]!, dims[axis]!); i++) if (Number((v as ArrayLike<number>)[i])) keep.push(i);
    const outer = product(dims, 0, axis), len = dims[axis]!, inner = product(dims, axis + 1);
    const out = [...dims];
    out[axis] = keep.length;
    return jsOp(ctx, out, ([X], Y) => {
      let o = 0;
      for (let a = 0; a < outer; a++) for (const k of keep) for (let e = 0; e < inner; e++) Y[o++] = X![(a * len + k) * inner + e];
    });
  },
};

const unique: OpDef = {
  opType: 'Unique', since: 11, attributes: ['axis', 'sorted'],
  prepare(ctx) {
    const x = ctx.input(0);
    // Compared and sorted as numbers: float16 / bfloat16 bits would sort negatives last and keep
    // -0 apart from 0, so those run on widened float32 copies (ops/widen.ts).
    if (x.dtype === 'float16' || x.dtype === 'bfloat16') ctx.fail(`Unique compares ${x.dtype} values in float32`, 'UNSUPPORTED_OP');
    const v = x.value as ArrayLike<number | bigint | string> | undefined;
    if (v === undefined) ctx.fail(`the input ('${x.name}') must be known at plan time: Unique's output shape depends on its values`, 'UNSUPPORTED_OP');
    const sorted = ctx.attrs.int('sorted', 1) === 1;
    const flat = !ctx.attrs.has('axis');
    const dims = flat ? [shapeSize(x.dims)] : x.dims;
    const axis = flat ? 0 : normalizeAxis(ctx, ctx.attrs.int('axis', 0), x.dims.length);
    const outer = product(dims, 0, axis), len = dims[axis]!, inner = product(dims, axis + 1);
    // Slice k along the axis, as a list of elements (one element when flattened).
    const slice = (k: number) => {
      const s: (number | bigint | string)[] = [];
      for (let a = 0; a < outer; a++) for (let e = 0; e < inner; e++) s.push(v![(a * len + k) * inner + e]!);
      return s;
    };
    const key = (s: unknown[]) => s.map((e) => (typeof e === 'number' && Number.isNaN(e) ? 'NaN' : String(e))).join('\u0000');
    const firsts: number[] = [], of = new Map<string, number>(), inverse: number[] = [], counts: number[] = [];
    for (let k = 0; k < len; k++) {
      const id = key(slice(k));
      let u = of.get(id);
      if (u === undefined) { u = firsts.length; of.set(id, u); firsts.push(k); counts.push(0); }
      inverse.push(u);
      counts[u]!++;
    }
    let order = firsts.map((_, i) => i);
    if (sorted) {
      const cmp = (p: unknown[], q: unknown[]) => {
        for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return (p[i] as number) < (q[i] as number) ? -1 : 1;
        return 0;
      };
      const slices = firsts.map(slice);
      order.sort((a, b) => cmp(slices[a]!, slices[b]!));
    }
    const rank = new Array<number>(order.length);
    order.forEach((u, i) => { rank[u] = i; });
    const ys = order.map((u) => slice(firsts[u]!));
    const yDims = [...dims];
    yDims[axis] = order.length;
    const y = allocValues(x.dtype, shapeSize(yDims));
    ys.forEach((s, i) => s.forEach((e, j) => { y[(Math.floor(j / inner) * order.length + i) * inner + (j % inner)] = e as never; }));
    const i64 = (a: number[]) => BigInt64Array.from(a, BigInt);
    const outs: Values[] = [y, i64(order.map((u) => firsts[u]!)), i64(inverse.map((u) => rank[u]!)), i64(order.map((u) => counts[u]!))];
    const u = order.length;
    return {
      outputs: [{ dtype: x.dtype, dims: yDims }, { dtype: 'int64', dims: [u] }, { dtype: 'int64', dims: [len] }, { dtype: 'int64', dims: [u] }],
      dataFree: true,
      evaluate: () => outs,
    };
  },
};

export const rearrangeOps: OpDef[] = [depthToSpace, spaceToDepth, centerCropPad, reverseSequence, compress, unique];
