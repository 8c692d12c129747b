/**
 * Ops that generate or replicate tensors: ConstantOfShape, Range, Expand, Tile, Split. Shapes that
 * come from tensor values (a target shape, repeats, Range's bounds) must be known at plan time: a
 * constant, a value folded from shapes, or a graph input (the plan is then keyed by its value).
 */
import { shapeSize } from '../../api/tensor.js';
import type { DType } from '../../graph/ir.js';
import { dtypeFromOnnx } from '../../onnx/dtype.js';
import { floatToHalf, halfToFloat } from '../math/cast.js';
import { stridedCopy } from './copy.js';
import type { OpContext, OpDef, Prepared } from '../types.js';
import { broadcastShapes, broadcastStrides, constInts, normalizeAxis, requiredInts, stridesOf } from '../util.js';
import { type Values, allocValues, checkShape, refuseAttrsFrom, requireKnownStrings, toElement } from '../values.js';

const constantOfShape: OpDef = {
  opType: 'ConstantOfShape', since: 9, attributes: ['value'],
  prepare(ctx) {
    const s = ctx.input(0);
    if (s.dtype !== 'int64') ctx.fail(`the shape input must be int64, got ${s.dtype}`, 'INVALID_MODEL');
    if (s.dims.length !== 1) ctx.fail(`the shape input must be 1-D, got [${s.dims}]`, 'SHAPE_MISMATCH');
    const dims = checkShape(ctx, requiredInts(ctx, 0, 'the shape'), 'shape');
    const t = ctx.attrs.tensor('value');
    if (t && shapeSize(t.dims) !== 1) throw ctx.attrs.error('value', `must hold exactly one element, got dims [${t.dims}]`);
    const dtype: DType = t?.dtype ?? 'float32';
    const v = t ? (t.data as ArrayLike<number | bigint | string>)[0]! : 0;
    const n = shapeSize(dims);
    return {
      outputs: [{ dtype, dims }],
      dataFree: true,
      evaluate: () => [fill(dtype, n, v)],
    };
  },
};

function fill(dtype: DType, n: number, v: number | bigint | string): Values {
  const out = allocValues(dtype, n);
  const e = toElement(dtype, v);
  if (e !== 0 && e !== 0n && e !== '') (out as { fill(x: unknown): void }).fill(e);
  return out;
}


// Shared by the ops below: a strided copy for numbers, a plan-time gather for strings.
export function copyPrepared(ctx: OpContext, outDims: number[], srcStrides: number[], offset = 0): Prepared {
  const x = ctx.input(0);
  const n = shapeSize(x.dims);
  if (x.dtype === 'string') {
    const [v] = requireKnownStrings(ctx);
    return { outputs: [{ dtype: 'string', dims: outDims }], dataFree: true, evaluate: () => [gatherStrided(v as string[], offset, outDims, srcStrides)] };
  }
  return {
    outputs: [{ dtype: x.dtype, dims: outDims }],
    build: (bd) => stridedCopy(bd, x.dtype, bd.inputs[0]!, n, offset, bd.outputs[0]!, outDims, srcStrides),
  };
}

/** The strided copy of stridedCopy, in JavaScript over any array. */
export function gatherStrided<T>(src: ArrayLike<T>, offset: number, dims: readonly number[], strides: readonly number[]): T[] {
  const n = shapeSize(dims);
  const out = new Array<T>(n);
  const idx = new Array<number>(dims.length).fill(0);
  let p = offset;
  for (let i = 0; i < n; i++) {
    out[i] = src[p]!;
    for (let k = dims.length - 1; k >= 0; k--) {
      p += strides[k]!;
      if (++idx[k]! < dims[k]!) break;
      p -= strides[k]! * dims[k]!;
      idx[k] = 0;
    }
  }
  return out;
}

/** A scalar (or one-element) input whose value must be known at plan time. */
function scalarOf(ctx: OpContext, i: number, what: string): number | bigint {
  const x = ctx.input(i);
  if (shapeSize(x.dims) !== 1) ctx.fail(`${what} (input ${i}) must be a scalar, got dims [${x.dims}]`, 'SHAPE_MISMATCH');
  const v = x.value;
  if (v === undefined) ctx.fail(`${what} (input ${i}, '${x.name}') must be known at plan time: its value sets the output shape`, 'UNSUPPORTED_OP');
  return (v as ArrayLike<number | bigint>)[0]!;
}

const range: OpDef = {
  opType: 'Range', since: 11, attributes: [],
  prepare(ctx) {
    const dtype = ctx.input(0).dtype;
    if (!['float32', 'float64', 'float16', 'int16', 'int32', 'int64'].includes(dtype)) ctx.fail(`Range does not take ${dtype}`, 'UNSUPPORTED_OP');
    const half = dtype === 'float16';
    for (const i of [1, 2]) if (ctx.input(i).dtype !== dtype) ctx.fail(`start, limit and delta must share one type (${dtype}, got ${ctx.input(i).dtype})`);
    const [start, limit, delta] = [0, 1, 2].map((i) => {
      const v = scalarOf(ctx, i, ['start', 'limit', 'delta'][i]!);
      return half ? halfToFloat(v as number) : v;
    });
    if (Number(delta) === 0) ctx.fail('delta is 0', 'INVALID_MODEL');
    let n: number;
    if (typeof start === 'bigint') {
      const [s, l, d] = [start, limit as bigint, delta as bigint];
      const span = l - s;
      n = Number(span / d + (span % d !== 0n && (span > 0n) === (d > 0n) ? 1n : 0n));
    } else {
      n = Math.ceil((Number(limit) - (start as number)) / Number(delta));
    }
    n = Math.max(0, n);
    if (!Number.isSafeInteger(n)) ctx.fail(`Range of ${n} elements is too large`, 'SHAPE_MISMATCH');
    return {
      outputs: [{ dtype, dims: [n] }],
      dataFree: true,
      evaluate: () => {
        const out = allocValues(dtype, n);
        for (let i = 0; i < n; i++) {
          const v = typeof start === 'bigint' ? start + BigInt(i) * (delta as bigint) : (start as number) + i * Number(delta);
          out[i] = (half ? floatToHalf(v as number) : v) as never;
        }
        return [out];
      },
    };
  },
};

const expand: OpDef = {
  opType: 'Expand', since: 8, attributes: [],
  prepare(ctx) {
    const x = ctx.input(0);
    const shape = checkShape(ctx, requiredInts(ctx, 1, 'the shape'), 'shape');
    const out = broadcastShapes(ctx, [x.dims, shape]);
    return copyPrepared(ctx, out, broadcastStrides(x.dims, out));
  },
};

const tile: OpDef = {
  opType: 'Tile', since: 6, attributes: [],
  prepare(ctx) {
    const x = ctx.input(0);
    const reps = requiredInts(ctx, 1, 'repeats');
    if (reps.length !== x.dims.length) ctx.fail(`repeats has ${reps.length} entries for an input of rank ${x.dims.length}`, 'SHAPE_MISMATCH');
    if (reps.some((r) => r < 0)) ctx.fail(`repeats [${reps}] has a negative entry`, 'INVALID_MODEL');
    // The output seen as [r0, d0, r1, d1, …]: the repeat axes read with stride 0.
    const st = stridesOf(x.dims);
    const dims = x.dims.flatMap((d, i) => [reps[i]!, d]);
    const strides = x.dims.flatMap((_, i) => [0, st[i]!]);
    const p = copyPrepared(ctx, dims, strides);
    p.outputs[0]!.dims = x.dims.map((d, i) => d * reps[i]!);
    return p;
  },
};

/** Split sizes: the `split` attribute (< 13) or input (≥ 13), `num_outputs` (≥ 18), or equal parts. */
function splitSizes(ctx: OpContext, dim: number, outputs: number): number[] {
  refuseAttrsFrom(ctx, 13, ['split']);
  const given = ctx.opset < 13 ? ctx.attrs.ints('split') : constInts(ctx, 1, 'split');
  const numOutputs = ctx.attrs.intOpt('num_outputs');
  if (ctx.opset < 18 && numOutputs !== undefined) throw ctx.attrs.error('num_outputs', `exists from opset 18 (the model imports opset ${ctx.opset})`);
  if (given && numOutputs !== undefined) throw ctx.attrs.error('num_outputs', 'cannot be given together with the split input');
  if (given) {
    if (given.length !== outputs) ctx.fail(`split has ${given.length} entries for ${outputs} outputs`, 'INVALID_MODEL');
    if (given.some((g) => g < 0) || given.reduce((a, b) => a + b, 0) !== dim) {
      ctx.fail(`split [${given}] does not add up to the axis size ${dim}`, 'SHAPE_MISMATCH');
    }
    return given;
  }
  if (numOutputs !== undefined) {
    if (numOutputs !== outputs) throw ctx.attrs.error('num_outputs', `is ${numOutputs} but the node has ${outputs} outputs`);
    const chunk = Math.ceil(dim / numOutputs);
    return Array.from({ length: numOutputs }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
  }
  if (dim % outputs !== 0) ctx.fail(`axis size ${dim} does not split into ${outputs} equal parts`, 'SHAPE_MISMATCH');
  return new Array<number>(outputs).fill(dim / outputs);
}

const split: OpDef = {
  opType: 'Split', since: 2, attributes: ['axis', 'split', 'num_outputs'],
  prepare(ctx) {
    const x = ctx.input(0);
    const axis = normalizeAxis(ctx, ctx.attrs.int('axis', 0), x.dims.length);
    const sizes = splitSizes(ctx, x.dims[axis]!, ctx.node.outputs.length);
    const st = stridesOf(x.dims);
    const n = shapeSize(x.dims);
    let at = 0;
    const parts = sizes.map((sz) => {
      const dims = [...x.dims];
      dims[axis] = sz;
      const part = { dims, offset: at * st[axis]! };
      at += sz;
      return part;
    });
    const outputs = parts.map((p) => ({ dtype: x.dtype, dims: p.dims }));
    if (x.dtype === 'string') {
      const [v] = requireKnownStrings(ctx);
      return { outputs, dataFree: true, evaluate: () => parts.map((p) => gatherStrided(v as string[], p.offset, p.dims, st)) };
    }
    return {
      outputs,
      build: (bd) => {
        const steps = parts.flatMap((p, i) => (bd.outputs[i] ? [stridedCopy(bd, x.dtype, bd.inputs[0]!, n, p.offset, bd.outputs[i]!, p.dims, st)] : []));
        return () => { for (const s of steps) s(); };
      },
    };
  },
};

/** Hann, Hamming and Blackman windows: cosine sums over n / N (N = size, or size − 1 if symmetric). */
const window = (opType: string, coeffs: number[]): OpDef => ({
  opType, since: 17, attributes: ['output_datatype', 'periodic'],
  prepare(ctx) {
    const size = Number(scalarOf(ctx, 0, 'size'));
    if (!Number.isSafeInteger(size) || size < 0) ctx.fail(`size must be a non-negative integer, got ${size}`);
    const code = ctx.attrs.int('output_datatype', 1);
    const dtype = dtypeFromOnnx(code);
    if (!dtype || dtype === 'string' || dtype === 'bool') throw ctx.attrs.error('output_datatype', `type ${code} is not supported`);
    const periodic = ctx.attrs.int('periodic', 1) === 1;
    const N = periodic ? size : size - 1;
    return {
      outputs: [{ dtype: dtype!, dims: [size] }],
      dataFree: true,
      evaluate: () => {
        const out = allocValues(dtype!, size);
        for (let n = 0; n < size; n++) {
          const w = coeffs.reduce((acc, c, k) => acc + (k % 2 ? -c : c) * (k === 0 ? 1 : Math.cos((2 * Math.PI * k * n) / N)), 0);
          out[n] = toElement(dtype!, dtype === 'float16' ? floatToHalf(w) : w) as never;
        }
        return [out];
      },
    };
  },
});

/** AffineGrid: sampling grids [N, (D,) H, W, 2|3] = θ · (x, y, (z,) 1) over normalised coordinates. */
const affineGrid: OpDef = {
  opType: 'AffineGrid', since: 20, attributes: ['align_corners'],
  prepare(ctx) {
    const theta = ctx.input(0);
    if (!['float32', 'float64'].includes(theta.dtype)) ctx.fail(`theta must be float32 or float64, got ${theta.dtype}`, 'UNSUPPORTED_OP');
    const size = requiredInts(ctx, 1, 'size');
    const sp = size.length - 2;
    if (sp !== 2 && sp !== 3) ctx.fail(`size must be [N, C, H, W] or [N, C, D, H, W], got [${size}]`, 'SHAPE_MISMATCH');
    const N = size[0]!;
    if (theta.dims.join() !== [N, sp, sp + 1].join()) ctx.fail(`theta must be [${N}, ${sp}, ${sp + 1}], got [${theta.dims}]`, 'SHAPE_MISMATCH');
    const align = ctx.attrs.int('align_corners', 0) === 1;
    const spatial = size.slice(2); // (D,) H, W
    const coord = (i: number, L: number) => (align ? (L <= 1 ? 0 : -1 + (2 * i) / (L - 1)) : (2 * i + 1) / L - 1);
    const points = shapeSize(spatial);
    // Base coordinates in (x, y, (z)) order: x runs along W, the last spatial axis.
    const base = new Float64Array(points * sp);
    for (let p = 0; p < points; p++) {
      let rem = p;
      for (let d = sp - 1; d >= 0; d--) {
        const L = spatial[d]!, i = rem % L;
        rem = (rem - i) / L;
        base[p * sp + (sp - 1 - d)] = coord(i, L);
      }
    }
    const outDims = [N, ...spatial, sp];
    return {
      outputs: [{ dtype: theta.dtype, dims: outDims }],
      build: (bd) => {
        const vt = bd.view(theta.dtype, bd.inputs[0]!, N * sp * (sp + 1)), vy = bd.view(theta.dtype, bd.outputs[0]!, shapeSize(outDims));
        return () => {
          const T = vt() as Float32Array, Y = vy() as Float32Array;
          for (let n = 0; n < N; n++) {
            const t = n * sp * (sp + 1);
            for (let p = 0; p < points; p++) {
              for (let r = 0; r < sp; r++) {
                let acc = T[t + r * (sp + 1) + sp]!;
                for (let c = 0; c < sp; c++) acc += T[t + r * (sp + 1) + c]! * base[p * sp + c]!;
                Y[(n * points + p) * sp + r] = acc;
              }
            }
          }
        };
      },
    };
  },
};

/** MelWeightMatrix: triangular filters over mel-spaced bins, [dft_length/2 + 1, num_mel_bins]. */
const melWeightMatrix: OpDef = {
  opType: 'MelWeightMatrix', since: 17, attributes: ['output_datatype'],
  prepare(ctx) {
    const [mels, dftLen, rate] = [0, 1, 2].map((i) => Number(scalarOf(ctx, i, ['num_mel_bins', 'dft_length', 'sample_rate'][i]!)));
    const [lo, hi] = [3, 4].map((i) => Number(scalarOf(ctx, i, i === 3 ? 'lower_edge_hertz' : 'upper_edge_hertz')));
    const code = ctx.attrs.int('output_datatype', 1);
    const dtype = dtypeFromOnnx(code);
    if (!dtype || dtype === 'string' || dtype === 'bool') throw ctx.attrs.error('output_datatype', `type ${code} is not supported`);
    if (!(mels > 0 && dftLen > 0 && rate > 0)) ctx.fail('num_mel_bins, dft_length and sample_rate must be positive');
    const bins = Math.floor(dftLen / 2) + 1;
    // As ONNX's reference computes it (float32 edges, integer bin edges by floor division).
    const f32 = Math.fround;
    const toMel = (hz: number) => f32(2595 * Math.log10(1 + f32(hz / 700)));
    const loMel = toMel(lo), hiMel = toMel(hi), step = f32((hiMel - loMel) / (mels + 2));
    const edges = Array.from({ length: mels + 2 }, (_, i) => {
      const hz = f32(700 * (10 ** f32(f32(i * step + loMel) / 2595) - 1));
      return Math.floor(f32((dftLen + 1) * hz) / rate);
    });
    const w = new Float64Array(bins * mels);
    for (let i = 0; i < mels; i++) {
      const [l, c, h] = [edges[i]!, edges[i + 1]!, edges[i + 2]!];
      if (c === l) { if (c >= 0 && c < bins) w[c * mels + i] = 1; } else for (let j = l; j <= c; j++) if (j >= 0 && j < bins) w[j * mels + i] = (j - l) / (c - l);
      if (h > c) for (let j = c; j < h; j++) if (j >= 0 && j < bins) w[j * mels + i] = (h - j) / (h - c);
    }
    return {
      outputs: [{ dtype: dtype!, dims: [bins, mels] }],
      dataFree: true,
      evaluate: () => {
        const out = allocValues(dtype!, bins * mels);
        w.forEach((v, i) => { out[i] = toElement(dtype!, dtype === 'float16' ? floatToHalf(v) : v) as never; });
        return [out];
      },
    };
  },
};

export const tensorOps: OpDef[] = [
  affineGrid, melWeightMatrix,
  constantOfShape, range, expand, tile, split,
  window('HannWindow', [0.5, 0.5]),
  window('HammingWindow', [25 / 46, 21 / 46]),
  window('BlackmanWindow', [0.42, 0.5, 0.08]),
];
