/**
 * Resize (opsets 10–19) and Upsample (7/9), float32/float64 and other numeric types for nearest.
 * Separable: each axis gets a list of (source index, weight) taps computed once per shape; a step
 * sums the product of taps over all axes. Antialiasing (opset 18) widens the taps when downsampling.
 */
import { bfloat16ToFloat, halfToFloat } from '../../onnx/float-formats.js';
import type { Bound, OpContext, OpDef, Prepared, Step, TensorInfo } from '../types.js';
import { constInts, normalizeAxis, product, stridesOf } from '../util.js';

type Arr = { [i: number]: number; length: number };
interface Opts { mode: string; ctm: string; nearest: string; a: number; exclude: boolean; extrap: number; antialias?: boolean }

function cubicCoeffs(r: number, A: number): number[] {
  return [((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A, ((A + 2) * r - (A + 3)) * r * r + 1,
    ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1, ((A * (2 - r) - 5 * A) * (2 - r) + 8 * A) * (2 - r) - 4 * A];
}

/** Taps of one axis: per output index, source indices and weights (index -1 = extrapolation value). */
function axisTaps(o: Opts, inLen: number, outLen: number, scale: number, roiStart: number, roiEnd: number): { idx: number[]; w: number[] }[] {
  const taps: { idx: number[]; w: number[] }[] = [];
  // ONNX's formulas use the unrounded resized length (scale · input length) where they need one.
  const L = scale * inLen;
  for (let x = 0; x < outLen; x++) {
    let xo: number;
    switch (o.ctm) {
      case 'half_pixel': xo = (x + 0.5) / scale - 0.5; break;
      case 'half_pixel_symmetric': {
        const adj = outLen / (scale * inLen), off = (inLen / 2) * (1 - adj);
        xo = off + (x + 0.5) / scale - 0.5; break;
      }
      case 'pytorch_half_pixel': xo = L > 1 ? (x + 0.5) / scale - 0.5 : 0; break;
      case 'align_corners': xo = L === 1 ? 0 : (x * (inLen - 1)) / (L - 1); break;
      case 'asymmetric': xo = x / scale; break;
      case 'tf_half_pixel_for_nn': xo = (x + 0.5) / scale; break;
      default: // tf_crop_and_resize
        xo = L > 1 ? roiStart * (inLen - 1) + (x * (roiEnd - roiStart) * (inLen - 1)) / (L - 1) : 0.5 * (roiStart + roiEnd) * (inLen - 1);
        if (xo < 0 || xo > inLen - 1) { taps.push({ idx: [-1], w: [1] }); continue; }
    }
    const clamp = (i: number) => Math.min(Math.max(i, 0), inLen - 1);
    if (o.mode === 'nearest') {
      let i: number;
      switch (o.nearest) {
        case 'round_prefer_floor': i = xo === Math.floor(xo) + 0.5 ? Math.floor(xo) : Math.round(xo); break;
        case 'round_prefer_ceil': i = Math.round(xo); break;
        case 'floor': i = Math.floor(xo); break;
        default: i = Math.ceil(xo);
      }
      taps.push({ idx: [clamp(i)], w: [1] });
      continue;
    }
    let idx: number[], w: number[];
    if (o.antialias && scale < 1) ({ idx, w } = antialiasTaps(xo, scale, o));
    else {
      const i0 = Math.floor(xo), r = xo - i0;
      idx = o.mode === 'linear' ? [i0, i0 + 1] : [i0 - 1, i0, i0 + 1, i0 + 2];
      w = o.mode === 'linear' ? [1 - r, r] : cubicCoeffs(r, o.a);
    }
    if (o.exclude) {
      w = w.map((v, k) => (idx[k]! < 0 || idx[k]! >= inLen ? 0 : v));
      const s = w.reduce((p, v) => p + v, 0);
      w = w.map((v) => v / s);
    }
    taps.push({ idx: idx.map(clamp), w });
  }
  return taps;
}

/**
 * Antialiased downsampling (opset 18): the linear or cubic kernel stretched by 1/scale, so every
 * input pixel under the output pixel's footprint contributes; weights normalised to sum to 1.
 * Like ONNX's reference, an integral coordinate counts as ratio 1 from the pixel on its left.
 */
function antialiasTaps(xo: number, scale: number, o: Opts): { idx: number[]; w: number[] } {
  const base = Number.isInteger(xo) ? xo - 1 : Math.floor(xo), ratio = xo - base;
  const cubic = (x: number): number => {
    const A = o.a, t = Math.abs(x), t2 = t * t, t3 = t2 * t;
    if (t <= 1) return (A + 2) * t3 - (A + 3) * t2 + 1;
    return t < 2 ? A * t3 - 5 * A * t2 + 8 * A * t - 4 * A : 0;
  };
  const start = Math.floor((o.mode === 'linear' ? -1 : -2) / scale) + 1, count = 2 - 2 * start;
  const idx: number[] = [], w: number[] = [];
  for (let k = 0; k < count; k++) {
    const arg = (start + k - ratio) * scale;
    idx.push(base + start + k);
    w.push(o.mode === 'linear' ? Math.min(Math.max(1 - Math.abs(arg), 0), 1) : cubic(arg));
  }
  const sum = w.reduce((p, v) => p + v, 0);
  return { idx, w: w.map((v) => v / sum) };
}

function plan(ctx: OpContext, o: Opts, scalesIn: number[] | undefined, sizesIn: number[] | undefined, axes: number[], roi: number[] | undefined, policy: string): Prepared {
  const x = ctx.input(0), r = x.dims.length;
  const scales = new Array<number>(r).fill(1), out = [...x.dims];
  if (sizesIn) {
    if (sizesIn.length !== axes.length) ctx.fail(`sizes must have ${axes.length} entries, got ${sizesIn.length}`, 'SHAPE_MISMATCH');
    if (policy === 'stretch') axes.forEach((a, i) => { out[a] = sizesIn[i]!; scales[a] = sizesIn[i]! / x.dims[a]!; });
    else {
      const ratios = axes.map((a, i) => sizesIn[i]! / x.dims[a]!);
      const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((a) => { scales[a] = s; out[a] = Math.round(s * x.dims[a]!); });
    }
  } else if (scalesIn) {
    if (scalesIn.length !== axes.length) ctx.fail(`scales must have ${axes.length} entries, got ${scalesIn.length}`, 'SHAPE_MISMATCH');
    axes.forEach((a, i) => { if (!(scalesIn[i]! > 0)) ctx.fail(`scales must be positive, got ${scalesIn}`); scales[a] = scalesIn[i]!; out[a] = Math.floor(x.dims[a]! * scalesIn[i]!); });
  } else ctx.fail('one of scales and sizes is required');
  if (o.mode !== 'nearest' && x.dtype !== 'float32' && x.dtype !== 'float64') ctx.fail(`${o.mode} mode needs a float input, got ${x.dtype}`, 'UNSUPPORTED_OP');
  if (x.dtype === 'string' || x.dtype === 'int64' || x.dtype === 'uint64' || x.dtype === 'bool') ctx.fail(`input type ${x.dtype} is not supported`, 'UNSUPPORTED_OP');
  const roiS = new Array<number>(r).fill(0), roiE = new Array<number>(r).fill(1);
  if (o.ctm === 'tf_crop_and_resize') {
    if (!roi || roi.length !== 2 * axes.length) ctx.fail(`tf_crop_and_resize needs roi with ${2 * axes.length} entries`);
    axes.forEach((a, i) => { roiS[a] = roi![i]!; roiE[a] = roi![i + axes.length]!; });
  }
  const taps = x.dims.map((d, a) => (out[a] === d && scales[a] === 1 && o.ctm !== 'tf_crop_and_resize' ? undefined : axisTaps(o, d, out[a]!, scales[a]!, roiS[a]!, roiE[a]!)));
  const ist = stridesOf(x.dims), n = product(out), inN = product(x.dims);
  if (taps.every((t) => !t || t.every((e) => e.idx.length === 1 && e.idx[0]! >= 0 && e.w[0] === 1))) return gather(x.dtype, x.dims, out, taps, ist);
  // Past the pure gather, values are summed and the extrapolation value written: float16 / bfloat16
  // bits cannot be, so the op is retried on widened float32 copies (ops/widen.ts).
  if (x.dtype === 'float16' || x.dtype === 'bfloat16') ctx.fail(`nearest mode with extrapolated samples on ${x.dtype} runs in float32`, 'UNSUPPORTED_OP');
  const flat = r === 4 && !taps[0] && !taps[1] ? flatTaps(taps[2], x.dims[2]!, out[2]!) : undefined;
  const flatW = flat ? flatTaps(taps[3], x.dims[3]!, out[3]!) : undefined;
  if (flat && flatW) {
    return { outputs: [{ dtype: x.dtype, dims: out }], build: (b) => spatialStep(b, x.dtype, x.dims, out, flat, flatW) };
  }
  return {
    outputs: [{ dtype: x.dtype, dims: out }],
    build(b) {
      const xv = b.view(x.dtype, b.inputs[0]!, inN), yv = b.view(x.dtype, b.outputs[0]!, n);
      const idx = new Array<number>(r).fill(0);
      return () => {
        const X = xv() as unknown as Arr, Y = yv() as unknown as Arr;
        idx.fill(0);
        const sum = (a: number, off: number): number => {
          if (a === r) return X[off]!;
          const t = taps[a];
          if (!t) return sum(a + 1, off + idx[a]! * ist[a]!);
          const { idx: is, w } = t[idx[a]!]!;
          let s = 0;
          for (let k = 0; k < is.length; k++) {
            if (is[k]! < 0) return o.extrap;
            if (w[k] !== 0) s += w[k]! * sum(a + 1, off + is[k]! * ist[a]!);
          }
          return s;
        };
        for (let k = 0; k < n; k++) {
          Y[k] = sum(0, 0);
          for (let a = r - 1; a >= 0; a--) { if (++idx[a]! < out[a]!) break; idx[a] = 0; }
        }
      };
    },
  };
}

/** One axis's taps as flat arrays when every output has the same tap count and none extrapolates. */
interface FlatTaps { n: number; idx: Int32Array; w: Float64Array }
function flatTaps(t: { idx: number[]; w: number[] }[] | undefined, inLen: number, outLen: number): FlatTaps | undefined {
  if (!t) return { n: 1, idx: Int32Array.from({ length: outLen }, (_, i) => i), w: new Float64Array(outLen).fill(1) };
  const n = t[0]?.idx.length ?? 0;
  if (n === 0 || t.some((e) => e.idx.length !== n || e.idx.some((i) => i < 0 || i >= inLen))) return undefined;
  return { n, idx: Int32Array.from(t.flatMap((e) => e.idx)), w: Float64Array.from(t.flatMap((e) => e.w)) };
}

/**
 * NCHW resized over H and W only (every detector neck): plain loops over flat tap arrays instead
 * of the general recursive sum, which costs a closure call per tap per output element.
 */
function spatialStep(b: Bound, dtype: TensorInfo['dtype'], dims: number[], out: number[], th: FlatTaps, tw: FlatTaps): Step {
  const [N, C, H, W] = dims as [number, number, number, number], [OH, OW] = [out[2]!, out[3]!];
  const xv = b.view(dtype, b.inputs[0]!, N * C * H * W), yv = b.view(dtype, b.outputs[0]!, N * C * OH * OW);
  return () => {
    const X = xv() as unknown as Arr, Y = yv() as unknown as Arr;
    let o = 0;
    for (let p = 0; p < N * C; p++) {
      const base = p * H * W;
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          let s = 0;
          for (let a = 0; a < th.n; a++) {
            const wy = th.w[oy * th.n + a]!, row = base + th.idx[oy * th.n + a]! * W;
            if (wy === 0) continue;
            let t = 0;
            for (let c = 0; c < tw.n; c++) t += tw.w[ox * tw.n + c]! * X[row + tw.idx[ox * tw.n + c]!]!;
            s += wy * t;
          }
          Y[o++] = s;
        }
      }
    }
  };
}

/**
 * Nearest (one tap of weight 1 per axis, nothing extrapolated): a pure gather. Per axis the source
 * offsets are computed once per shape; a step walks output rows, so the inner loop is one load
 * and one store (FPN-style ×2 upsampling of large maps would take ~100 ms through the taps).
 */
function gather(dtype: Prepared['outputs'][number]['dtype'], inDims: number[], out: number[], taps: ({ idx: number[] }[] | undefined)[], ist: number[]): Prepared {
  const r = out.length, n = product(out), inN = product(inDims);
  if (r >= 2 && FOUR_BYTES.has(dtype) && taps.slice(0, r - 2).every((t) => !t) && n > 0) return gatherPlanes(dtype, inDims, out, taps);
  const offs = out.map((len, a) => Int32Array.from({ length: len }, (_, j) => (taps[a] ? taps[a]![j]!.idx[0]! : j) * ist[a]!));
  const inner = offs[r - 1]!, W = out[r - 1]!, rows = W ? n / W : 0;
  const copyRows = r >= 2 && !!taps[r - 2];
  return {
    outputs: [{ dtype, dims: out }],
    build(b) {
      const xv = b.view(dtype, b.inputs[0]!, inN), yv = b.view(dtype, b.outputs[0]!, n);
      const idx = new Int32Array(Math.max(r - 1, 0));
      return () => {
        const X = xv() as unknown as Arr, Y = yv() as unknown as Arr & { copyWithin(t: number, s: number, e: number): unknown };
        idx.fill(0);
        let base = 0;
        for (let a = 0; a < r - 1; a++) base += offs[a]![0]!;
        for (let row = 0, k = 0, prev = -1; row < rows; row++) {
          // Upsampling repeats source rows: copy the previous output row instead of gathering.
          if (base === prev && copyRows) Y.copyWithin(k, k - W, k);
          else for (let j = 0; j < W; j++) Y[k + j] = X[base + inner[j]!]!;
          prev = base;
          k += W;
          for (let a = r - 2; a >= 0; a--) {
            const o = offs[a]!;
            base -= o[idx[a]!]!;
            if (++idx[a]! < out[a]!) { base += o[idx[a]!]!; break; }
            idx[a] = 0;
            base += o[0]!;
          }
        }
      };
    },
  };
}

const FOUR_BYTES = new Set<string>(['float32', 'int32', 'uint32']);

/**
 * Nearest over the last two axes of 4-byte elements: resize_nearest_32 with per-shape tables of
 * source rows and columns (row repeats become copies, an exact ×2 width a lane shuffle).
 */
function gatherPlanes(dtype: Prepared['outputs'][number]['dtype'], inDims: number[], out: number[], taps: ({ idx: number[] }[] | undefined)[]): Prepared {
  const r = out.length, [H, W, OH, OW] = [inDims[r - 2]!, inDims[r - 1]!, out[r - 2]!, out[r - 1]!];
  const NC = product(out.slice(0, r - 2));
  const table = (t: { idx: number[] }[] | undefined, len: number) => Int32Array.from({ length: len }, (_, j) => (t ? t[j]!.idx[0]! : j));
  const rows = table(taps[r - 2], OH), cols = table(taps[r - 1], OW);
  return {
    outputs: [{ dtype, dims: out }],
    build(b) {
      // Keyed by the tables' values (a hash could collide): nodes with the same tables share one copy.
      const key = `resize_nearest:${rows.join()}:${cols.join()}`;
      const pr = b.persistent(`${key}:rows`, OH * 4, (p) => new Int32Array(b.memory.buffer, p, OH).set(rows));
      const pc = b.persistent(`${key}:cols`, OW * 4, (p) => new Int32Array(b.memory.buffer, p, OW).set(cols));
      const [x, y, k] = [b.inputs[0]!, b.outputs[0]!, b.k];
      return () => k.resize_nearest_32(x, y, NC, H, W, OH, OW, pr, pc);
    },
  };
}

/**
 * A float parameter input (roi, scales) as numbers. roi may be float16 or bfloat16 (it shares X's
 * type from opset 11, and a float16 converter makes it so); scales is float32 only, and a float16
 * one means the model was converted with Resize off the converter's block list.
 */
const floats = (ctx: OpContext, i: number, what: 'roi' | 'scales'): number[] | undefined => {
  const v = ctx.inputs[i];
  if (!v || product(v.dims) === 0) return undefined;
  if (v.value === undefined) ctx.fail(`input ${i} ('${v.name}') must be constant at load time`, 'UNSUPPORTED_OP');
  const narrow = v.dtype === 'float16' ? halfToFloat : v.dtype === 'bfloat16' ? bfloat16ToFloat : undefined;
  if (narrow && what === 'scales') {
    ctx.fail(`scales (input ${i}, '${v.name}') is ${v.dtype}, but ONNX allows only float32 there; a float16 converter `
      + `(onnxconverter-common's convert_float_to_float16) writes this when ${ctx.node.opType} is left off its op_block_list: `
      + `keep ${ctx.node.opType} in the block list (its default), or keep its scales float32`, 'INVALID_MODEL');
  }
  return Array.from(v.value as ArrayLike<number>, narrow ?? Number);
};

const resize: OpDef = {
  opType: 'Resize', since: 10,
  attributes: ['mode', 'coordinate_transformation_mode', 'cubic_coeff_a', 'exclude_outside', 'extrapolation_value', 'nearest_mode', 'antialias', 'axes', 'keep_aspect_ratio_policy'],
  prepare(ctx) {
    const x = ctx.input(0), at = ctx.attrs, v = ctx.opset;
    const mode = at.oneOf('mode', ['nearest', 'linear', 'cubic'], 'nearest');
    if (v < 11 && mode === 'cubic') throw at.error('mode', 'cubic exists from opset 11');
    // tf_half_pixel_for_nn is opset 11 only (tf2onnx emits it for TF's half-pixel nearest); 13 dropped it.
    const ctms = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize',
      ...(v < 13 ? ['tf_half_pixel_for_nn'] : []), ...(v >= 19 ? ['half_pixel_symmetric'] : [])];
    if (v < 11) for (const a of ['coordinate_transformation_mode', 'cubic_coeff_a', 'exclude_outside', 'extrapolation_value', 'nearest_mode']) if (at.has(a)) throw at.error(a, 'exists from opset 11');
    if (v < 18) for (const a of ['antialias', 'axes', 'keep_aspect_ratio_policy']) if (at.has(a)) throw at.error(a, 'exists from opset 18');
    const antialias = at.int('antialias', 0);
    if (antialias !== 0 && antialias !== 1) throw at.error('antialias', `must be 0 or 1, got ${antialias}`);
    if (antialias && mode === 'nearest') throw at.error('antialias', 'applies to linear and cubic modes, not nearest');
    const o: Opts = {
      mode, ctm: v < 11 ? 'asymmetric' : at.oneOf('coordinate_transformation_mode', ctms, 'half_pixel'),
      nearest: v < 11 ? 'floor' : at.oneOf('nearest_mode', ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'], 'round_prefer_floor'),
      a: at.float('cubic_coeff_a', -0.75), exclude: at.int('exclude_outside', 0) !== 0, extrap: at.float('extrapolation_value', 0),
      antialias: antialias === 1,
    };
    const policy = at.oneOf('keep_aspect_ratio_policy', ['stretch', 'not_larger', 'not_smaller'], 'stretch');
    const axes = (at.ints('axes') ?? [...x.dims.keys()]).map((a) => normalizeAxis(ctx, a, x.dims.length, 'axes'));
    if (v < 11) return plan(ctx, o, floats(ctx, 1, 'scales'), undefined, axes, undefined, policy);
    const sizes = ctx.inputs[3] && product(ctx.inputs[3].dims) > 0 ? constInts(ctx, 3, 'sizes') : undefined;
    const scales = floats(ctx, 2, 'scales');
    if (sizes && scales) ctx.fail('only one of scales and sizes may be given');
    return plan(ctx, o, scales, sizes, axes, floats(ctx, 1, 'roi'), policy);
  },
};

const upsample: OpDef = {
  opType: 'Upsample', since: 7, attributes: ['mode', 'scales'],
  prepare(ctx) {
    const x = ctx.input(0);
    const mode = ctx.attrs.oneOf('mode', ['nearest', 'linear', 'bilinear'], 'nearest');
    const o: Opts = { mode: mode === 'bilinear' ? 'linear' : mode, ctm: 'asymmetric', nearest: 'floor', a: -0.75, exclude: false, extrap: 0 };
    let scales: number[] | undefined;
    if (ctx.opset < 9) {
      scales = ctx.attrs.floats('scales');
      if (!scales) throw ctx.attrs.error('scales', 'is required');
    } else {
      if (ctx.attrs.has('scales')) throw ctx.attrs.error('scales', 'is an input from opset 9');
      scales = floats(ctx, 1, 'scales');
    }
    // Upsample only grows: the spec requires every scale ≥ 1 (onnxruntime refuses the model too);
    // downsampling was added with Resize at opset 10.
    if (scales?.some((v) => !(v >= 1))) ctx.fail(`scales [${scales.join(', ')}] must all be ≥ 1: Upsample cannot shrink (use Resize)`, 'INVALID_MODEL');
    return plan(ctx, o, scales, undefined, [...x.dims.keys()], undefined, 'stretch');
  },
};

export const resizeOps: readonly OpDef[] = [resize, upsample];
