/**
 * Index-driven gathers and scatters: GatherElements, GatherND, ScatterElements, ScatterND (and the
 * legacy Scatter). They run in JavaScript over typed views of Wasm memory, for every dtype; string
 * tensors run the same code at plan time, when their inputs are known then.
 */
import { TesseraError } from '../../api/errors.js';
import { shapeSize } from '../../api/tensor.js';
import type { DType } from '../../graph/ir.js';
import { floatToHalf, halfToFloat } from '../math/cast.js';
import type { Bound, OpContext, OpDef, Prepared, TensorInfo } from '../types.js';
import { normalizeAxis, product, stridesOf } from '../util.js';
import { type Values, allocValues, requireKnownStrings } from '../values.js';

type Arr = { [i: number]: unknown; length: number };
/** Computes output 0 from the input arrays (output already holds a copy of input 0 when `copyFirst`). */
type Kernel = (ins: Arr[], out: Arr) => void;

function label(ctx: OpContext): string {
  return `${ctx.node.opType} node '${ctx.node.name}'`;
}

function indexReader(ctx: OpContext, where: string): (v: unknown, dim: number) => number {
  const l = label(ctx);
  return (v, dim) => {
    let k = Number(v);
    if (k < 0) k += dim;
    if (!(k >= 0 && k < dim)) throw new TesseraError('INVALID_FEED', `${l}: index ${Number(v)} is out of range for ${where} of size ${dim}`);
    return k;
  };
}

function requireIndices(ctx: OpContext, i: number): void {
  const t = ctx.input(i).dtype;
  if (t !== 'int32' && t !== 'int64') ctx.fail(`indices (input ${i}) must be int32 or int64, got ${t}`, 'INVALID_MODEL');
}

/** Wraps a kernel as a plan step (numbers) or a plan-time evaluation (strings). */
function run(ctx: OpContext, out: TensorInfo, kernel: Kernel, copyFirst: boolean): Prepared {
  const ins = ctx.inputs;
  if (out.dtype === 'string') {
    const vals = requireKnownStrings(ctx);
    return {
      outputs: [out], dataFree: true,
      evaluate: () => {
        const o = copyFirst ? [...(vals[0] as string[])] : allocValues('string', shapeSize(out.dims));
        kernel(vals as Arr[], o as Arr);
        return [o as Values];
      },
    };
  }
  return {
    outputs: [out],
    build: (bd: Bound) => {
      // An omitted optional input reaches the kernel as undefined.
      const views = ins.map((x, i) => (x ? bd.view(x.dtype, bd.inputs[i]!, shapeSize(x.dims)) : undefined));
      const vo = bd.view(out.dtype, bd.outputs[0]!, shapeSize(out.dims));
      return () => {
        const arrs = views.map((v) => v?.()), o = vo();
        if (copyFirst) o.set(arrs[0] as never);
        kernel(arrs as Arr[], o as Arr);
      };
    },
  };
}

// ---------------------------------------------------------------- reductions for scatters

type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';

function reducer(dtype: DType, r: Reduction): (old: unknown, v: unknown) => unknown {
  if (r === 'none') return (_, v) => v;
  if (dtype === 'float16') {
    const f = reducer('float32', r) as (a: number, b: number) => number;
    return (a, b) => floatToHalf(f(halfToFloat(a as number), halfToFloat(b as number)));
  }
  if (dtype === 'string') throw new Error('string reduction');
  const big = dtype === 'int64' || dtype === 'uint64';
  switch (r) {
    case 'add': return big ? (a, b) => (a as bigint) + (b as bigint) : (a, b) => (a as number) + (b as number);
    case 'mul': return big ? (a, b) => (a as bigint) * (b as bigint) : (a, b) => (a as number) * (b as number);
    case 'max': return (a, b) => ((a as number) >= (b as number) ? a : b);
    case 'min': return (a, b) => ((a as number) <= (b as number) ? a : b);
  }
}

function reductionOf(ctx: OpContext, dtype: DType): Reduction {
  if (ctx.opset < 16 && ctx.attrs.has('reduction')) throw ctx.attrs.error('reduction', `exists from opset 16 (the model imports opset ${ctx.opset})`);
  const choices: Reduction[] = ctx.opset >= 18 ? ['none', 'add', 'mul', 'max', 'min'] : ['none', 'add', 'mul'];
  const r = ctx.attrs.oneOf('reduction', choices, 'none');
  if (r !== 'none' && (dtype === 'string' || dtype === 'bool')) throw ctx.attrs.error('reduction', `'${r}' does not apply to ${dtype}`);
  return r;
}

// ---------------------------------------------------------------- element-wise index ops

const gatherElements: OpDef = {
  opType: 'GatherElements', since: 11, attributes: ['axis'],
  prepare(ctx) {
    const x = ctx.input(0), ind = ctx.input(1);
    requireIndices(ctx, 1);
    const r = x.dims.length;
    if (ind.dims.length !== r) ctx.fail(`indices have rank ${ind.dims.length}, data has rank ${r}`, 'SHAPE_MISMATCH');
    const axis = normalizeAxis(ctx, ctx.attrs.int('axis', 0), r);
    const xs = stridesOf(x.dims);
    const n = shapeSize(ind.dims);
    const idx = indexReader(ctx, `axis ${axis}`);
    const dims = ind.dims, axisDim = x.dims[axis]!;
    return run(ctx, { dtype: x.dtype, dims: [...dims] }, ([X, I], Y) => {
      const pos = new Array<number>(r).fill(0);
      for (let i = 0; i < n; i++) {
        let off = 0;
        for (let d = 0; d < r; d++) off += (d === axis ? idx(I![i], axisDim) : pos[d]!) * xs[d]!;
        Y[i] = X![off];
        for (let d = r - 1; d >= 0; d--) { if (++pos[d]! < dims[d]!) break; pos[d] = 0; }
      }
    }, false);
  },
};

function scatterElementsPrepare(ctx: OpContext, reduction: Reduction): Prepared {
  const x = ctx.input(0), ind = ctx.input(1), upd = ctx.input(2);
  requireIndices(ctx, 1);
  const r = x.dims.length;
  if (ind.dims.join() !== upd.dims.join() || ind.dims.length !== r) {
    ctx.fail(`indices [${ind.dims}] and updates [${upd.dims}] must have one shape of data's rank ${r}`, 'SHAPE_MISMATCH');
  }
  const axis = normalizeAxis(ctx, ctx.attrs.int('axis', 0), r);
  const xs = stridesOf(x.dims);
  const n = shapeSize(ind.dims);
  const idx = indexReader(ctx, `axis ${axis}`);
  const dims = ind.dims, axisDim = x.dims[axis]!;
  const f = reducer(x.dtype, reduction);
  return run(ctx, { dtype: x.dtype, dims: [...x.dims] }, ([, I, U], Y) => {
    const pos = new Array<number>(r).fill(0);
    for (let i = 0; i < n; i++) {
      let off = 0;
      for (let d = 0; d < r; d++) off += (d === axis ? idx(I![i], axisDim) : pos[d]!) * xs[d]!;
      Y[off] = f(Y[off], U![i]);
      for (let d = r - 1; d >= 0; d--) { if (++pos[d]! < dims[d]!) break; pos[d] = 0; }
    }
  }, true);
}

const scatterElements: OpDef = {
  opType: 'ScatterElements', since: 11, attributes: ['axis', 'reduction'],
  prepare: (ctx) => scatterElementsPrepare(ctx, reductionOf(ctx, ctx.input(0).dtype)),
};

/** Scatter (opsets 9–10) is ScatterElements without reductions. */
const scatterLegacy: OpDef = {
  opType: 'Scatter', since: 9, attributes: ['axis'],
  prepare: (ctx) => scatterElementsPrepare(ctx, 'none'),
};

// ---------------------------------------------------------------- N-dimensional index ops

/** The element offset of each indexed slice: indices [..., k] address the first k dims of data. */
function ndOffsets(ctx: OpContext, dataDims: readonly number[], batchDims: number, k: number) {
  const ds = stridesOf(dataDims);
  const idx = indexReader(ctx, 'an indexed dimension');
  return (I: Arr, tuple: number, batchOffset: number): number => {
    let off = batchOffset;
    for (let j = 0; j < k; j++) off += idx(I[tuple * k + j], dataDims[batchDims + j]!) * ds[batchDims + j]!;
    return off;
  };
}

const gatherND: OpDef = {
  opType: 'GatherND', since: 11, attributes: ['batch_dims'],
  prepare(ctx) {
    const x = ctx.input(0), ind = ctx.input(1);
    if (ind.dtype !== 'int64') ctx.fail(`indices must be int64, got ${ind.dtype}`, 'INVALID_MODEL');
    const b = ctx.opset >= 12 ? ctx.attrs.int('batch_dims', 0) : 0;
    if (ctx.opset < 12 && ctx.attrs.has('batch_dims')) throw ctx.attrs.error('batch_dims', 'exists from opset 12');
    const q = ind.dims.length, r = x.dims.length;
    if (q < 1 || b < 0 || b >= Math.min(q, r)) throw ctx.attrs.error('batch_dims', `${b} does not fit data rank ${r} and indices rank ${q}`);
    const k = ind.dims[q - 1]!;
    if (k < 1 || k > r - b) ctx.fail(`the last indices dim (${k}) must be in 1..${r - b}`, 'SHAPE_MISMATCH');
    for (let i = 0; i < b; i++) if (x.dims[i] !== ind.dims[i]) ctx.fail(`batch dim ${i} differs: data ${x.dims[i]}, indices ${ind.dims[i]}`, 'SHAPE_MISMATCH');
    const outDims = [...ind.dims.slice(0, q - 1), ...x.dims.slice(b + k)];
    const slice = product(x.dims, b + k);
    const batch = product(x.dims, 0, b), perBatch = product(ind.dims, b, q - 1);
    const batchStride = product(x.dims, b);
    const offsetOf = ndOffsets(ctx, x.dims, b, k);
    return run(ctx, { dtype: x.dtype, dims: outDims }, ([X, I], Y) => {
      let o = 0;
      for (let bi = 0; bi < batch; bi++) {
        for (let t = 0; t < perBatch; t++) {
          const off = offsetOf(I!, bi * perBatch + t, bi * batchStride);
          for (let e = 0; e < slice; e++) Y[o++] = X![off + e];
        }
      }
    }, false);
  },
};

const scatterND: OpDef = {
  opType: 'ScatterND', since: 11, attributes: ['reduction'],
  prepare(ctx) {
    const x = ctx.input(0), ind = ctx.input(1), upd = ctx.input(2);
    if (ind.dtype !== 'int64') ctx.fail(`indices must be int64, got ${ind.dtype}`, 'INVALID_MODEL');
    const reduction = reductionOf(ctx, x.dtype);
    const q = ind.dims.length, r = x.dims.length;
    const k = ind.dims[q - 1]!;
    if (q < 1 || k < 1 || k > r) ctx.fail(`the last indices dim (${k}) must be in 1..${r}`, 'SHAPE_MISMATCH');
    const wantUpd = [...ind.dims.slice(0, q - 1), ...x.dims.slice(k)];
    if (upd.dims.join() !== wantUpd.join()) ctx.fail(`updates must have shape [${wantUpd}], got [${upd.dims}]`, 'SHAPE_MISMATCH');
    const tuples = product(ind.dims, 0, q - 1), slice = product(x.dims, k);
    const offsetOf = ndOffsets(ctx, x.dims, 0, k);
    const f = reducer(x.dtype, reduction);
    return run(ctx, { dtype: x.dtype, dims: [...x.dims] }, ([, I, U], Y) => {
      for (let t = 0; t < tuples; t++) {
        const off = offsetOf(I!, t, 0);
        for (let e = 0; e < slice; e++) Y[off + e] = f(Y[off + e], U![t * slice + e]);
      }
    }, true);
  },
};

/**
 * TensorScatter (a KV-cache write): per batch entry b, `update` lands in `past_cache` along `axis`
 * from write_indices[b] (0 when omitted), wrapping around in 'circular' mode.
 */
const tensorScatter: OpDef = {
  opType: 'TensorScatter', since: 24, attributes: ['axis', 'mode'],
  prepare(ctx) {
    const cache = ctx.input(0), upd = ctx.input(1), wi = ctx.inputs[2];
    const r = cache.dims.length;
    const axis = normalizeAxis(ctx, ctx.attrs.int('axis', -2), r);
    if (axis === 0) throw ctx.attrs.error('axis', 'cannot be the batch axis 0');
    const mode = ctx.attrs.oneOf('mode', ['linear', 'circular'], 'linear');
    if (upd.dtype !== cache.dtype) ctx.fail(`update is ${upd.dtype}, past_cache is ${cache.dtype}`);
    if (upd.dims.length !== r || upd.dims.some((d, i) => i !== axis && d !== cache.dims[i])) {
      ctx.fail(`update [${upd.dims}] must match past_cache [${cache.dims}] outside axis ${axis}`, 'SHAPE_MISMATCH');
    }
    if (wi && (wi.dims.length !== 1 || wi.dims[0] !== cache.dims[0])) ctx.fail(`write_indices must be [${cache.dims[0]}], got [${wi.dims}]`, 'SHAPE_MISMATCH');
    const cs = stridesOf(cache.dims), n = shapeSize(upd.dims), max = cache.dims[axis]!, dims = upd.dims;
    const l = label(ctx);
    return run(ctx, { dtype: cache.dtype, dims: [...cache.dims] }, ([, U, W], Y) => {
      const pos = new Array<number>(r).fill(0);
      for (let i = 0; i < n; i++) {
        let t = (W ? Number(W[pos[0]!]) : 0) + pos[axis]!;
        if (mode === 'circular') t = ((t % max) + max) % max;
        else if (t < 0 || t >= max) throw new TesseraError('INVALID_FEED', `${l}: write position ${t} is outside the cache of length ${max}`);
        let off = 0;
        for (let d = 0; d < r; d++) off += (d === axis ? t : pos[d]!) * cs[d]!;
        Y[off] = U![i];
        for (let d = r - 1; d >= 0; d--) { if (++pos[d]! < dims[d]!) break; pos[d] = 0; }
      }
    }, true);
  },
};

export const scatterGatherOps: OpDef[] = [gatherElements, scatterElements, scatterLegacy, gatherND, scatterND, tensorScatter];
