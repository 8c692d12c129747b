/**
 * Ops that move or reinterpret data without arithmetic. Reshape-like ops alias their input (no
 * copy, no step); Shape and Size are known at plan time; the rest are strided copies.
 */
import { TesseraError } from '../../api/errors.js';
import { bytesPerElement, shapeSize } from '../../api/tensor.js';
import type { DType } from '../../graph/ir.js';
import type { NumericArray } from '../../runtime/memory.js';
import { copyBytes, stridedCopy } from './copy.js';
import { gatherStrided } from './tensor.js';
import type { OpContext, OpDef, Prepared } from '../types.js';
import { constInts, normalizeAxis, product, requiredInts, stridesOf } from '../util.js';
import { refuseAttrsFrom } from '../values.js';

const alias = (ctx: OpContext, dims: number[]): Prepared => {
  const x = ctx.input(0);
  if (shapeSize(dims) !== shapeSize(x.dims)) {
    ctx.fail(`cannot reshape [${x.dims.join(', ')}] (${shapeSize(x.dims)} elements) to [${dims.join(', ')}]`, 'SHAPE_MISMATCH');
  }
  // Strings live in JavaScript: the same array, known at plan time, stands for the output.
  if (x.dtype === 'string') return { outputs: [{ dtype: 'string', dims }], evaluate: (v) => [v[0]!] };
  return { outputs: [{ dtype: x.dtype, dims }], aliasOf: 0 };
};

function reshapeDims(ctx: OpContext, input: readonly number[], target: number[], allowZero: boolean): number[] {
  const out = target.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= input.length) ctx.fail(`shape [${target}] copies dim ${i} (0) but the input has rank ${input.length}`, 'SHAPE_MISMATCH');
      return input[i]!;
    }
    return d;
  });
  const unknown = out.filter((d) => d === -1).length;
  if (unknown > 1) ctx.fail(`shape [${target}] has more than one -1`, 'SHAPE_MISMATCH');
  if (out.some((d) => d < -1)) ctx.fail(`shape [${target}] has a negative dimension`, 'SHAPE_MISMATCH');
  if (unknown === 1) {
    const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const total = shapeSize(input);
    if (known === 0 || total % known !== 0) ctx.fail(`cannot reshape [${input}] to [${target}]`, 'SHAPE_MISMATCH');
    out[out.indexOf(-1)] = total / known;
  }
  return out;
}

const reshape: OpDef = {
  opType: 'Reshape', since: 5, attributes: ['allowzero'],
  prepare(ctx) {
    const x = ctx.input(0);
    const target = requiredInts(ctx, 1, 'the target shape');
    return alias(ctx, reshapeDims(ctx, x.dims, target, ctx.attrs.int('allowzero', 0) === 1));
  },
};

const flatten: OpDef = {
  opType: 'Flatten', since: 1, attributes: ['axis'],
  prepare(ctx) {
    const x = ctx.input(0);
    // axis ranges over [-r, r]: a negative axis counts from the rank, not from rank + 1.
    const r = x.dims.length, raw = ctx.attrs.int('axis', 1);
    if (raw < -r || raw > r) throw ctx.attrs.error('axis', `${raw} is out of range for rank ${r}`);
    const axis = raw < 0 ? raw + r : raw;
    return alias(ctx, [product(x.dims, 0, axis), product(x.dims, axis)]);
  },
};

/** Squeeze/Unsqueeze axes: an attribute before opset 13, an input since. */
function axesOf(ctx: OpContext): number[] | undefined {
  refuseAttrsFrom(ctx, 13, ['axes']);
  return ctx.opset >= 13 ? constInts(ctx, 1, 'axes') : ctx.attrs.ints('axes');
}

const squeeze: OpDef = {
  opType: 'Squeeze', since: 1, attributes: ['axes'],
  prepare(ctx) {
    const x = ctx.input(0);
    const axes = axesOf(ctx)?.map((a) => normalizeAxis(ctx, a, x.dims.length));
    if (axes) for (const a of axes) if (x.dims[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${x.dims[a]}`, 'SHAPE_MISMATCH');
    return alias(ctx, x.dims.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)));
  },
};

const unsqueeze: OpDef = {
  opType: 'Unsqueeze', since: 1, attributes: ['axes'],
  prepare(ctx) {
    const x = ctx.input(0);
    const raw = axesOf(ctx);
    if (!raw) ctx.fail('axes are required', 'INVALID_ATTRIBUTE');
    const rank = x.dims.length + raw!.length;
    const axes = raw!.map((a) => normalizeAxis(ctx, a, rank)).sort((a, b) => a - b);
    if (new Set(axes).size !== axes.length) ctx.fail(`axes [${raw}] repeat an axis`, 'INVALID_ATTRIBUTE');
    const out: number[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x.dims[j++]!);
    return alias(ctx, out);
  },
};

const identity: OpDef = {
  opType: 'Identity', since: 1, attributes: [],
  prepare: (ctx) => alias(ctx, [...ctx.input(0).dims]),
};

/**
 * Dropout at inference is the identity (its mask all true). A training_mode input must be known at
 * plan time: false, or true with a ratio of 0, are deterministic; anything else is random.
 */
const dropout: OpDef = {
  opType: 'Dropout', since: 1, attributes: ['ratio', 'seed', 'is_test'], optionalOutputs: true,
  prepare(ctx) {
    const x = ctx.input(0);
    const training = ctx.inputs[2];
    if (training) {
      const t = training.value;
      if (t === undefined) ctx.fail(`training_mode ('${training.name}') must be known at plan time: tessera runs inference`, 'UNSUPPORTED_OP');
      const ratio = ctx.inputs[1]?.value;
      const r = ratio === undefined ? (ctx.inputs[1] ? NaN : 0.5) : Number((ratio as ArrayLike<number>)[0]);
      if (Number(t![0]) !== 0 && r !== 0) ctx.fail('training_mode is true with a non-zero ratio: random dropout is not supported (tessera runs inference)', 'UNSUPPORTED_OP');
    }
    refuseAttrsFrom(ctx, 7, ['is_test'], 'gone: Dropout is the identity at inference');
    refuseAttrsFrom(ctx, 12, ['ratio']);
    if (ctx.opset < 7 && ctx.attrs.int('is_test', 0) === 0 && ctx.attrs.float('ratio', 0.5) !== 0) {
      throw ctx.attrs.error('is_test', 'is 0 (training) with a non-zero ratio: random dropout is not supported');
    }
    if (!ctx.node.outputs[1]) return alias(ctx, [...x.dims]);
    const n = shapeSize(x.dims), bytes = n * bytesPerElement(x.dtype);
    // Opsets 7–11 type the mask like the input; 12 and later make it bool.
    const maskType: DType = ctx.opset >= 12 || ctx.opset < 7 ? 'bool' : x.dtype;
    return {
      outputs: [{ dtype: x.dtype, dims: [...x.dims] }, { dtype: maskType, dims: [...x.dims] }],
      build: (bd) => {
        const copy = copyBytes(bd, bd.inputs[0]!, bd.outputs[0]!, bytes);
        const mask = bd.view(maskType, bd.outputs[1]!, n);
        const one = maskType === 'bool' ? 1 : maskType === 'float16' ? 0x3c00 : 1;
        return () => { copy(); mask().fill(one as never); };
      },
    };
  },
};

const shapeOp: OpDef = {
  opType: 'Shape', since: 1, attributes: ['start', 'end'],
  prepare(ctx) {
    const dims = ctx.input(0).dims;
    const r = dims.length;
    const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
    const start = clamp(ctx.attrs.int('start', 0));
    const end = clamp(ctx.attrs.int('end', r));
    const out = dims.slice(start, Math.max(start, end));
    return {
      outputs: [{ dtype: 'int64', dims: [out.length] }],
      dataFree: true,
      evaluate: () => [BigInt64Array.from(out, BigInt)],
    };
  },
};

const sizeOp: OpDef = {
  opType: 'Size', since: 1, attributes: [],
  prepare(ctx) {
    const n = shapeSize(ctx.input(0).dims);
    return { outputs: [{ dtype: 'int64', dims: [] }], dataFree: true, evaluate: () => [BigInt64Array.of(BigInt(n))] };
  },
};

const constant: OpDef = {
  opType: 'Constant', since: 1,
  attributes: ['value', 'value_float', 'value_floats', 'value_int', 'value_ints', 'value_string', 'value_strings', 'sparse_value'],
  prepare(ctx) {
    const a = ctx.attrs;
    let dtype: DType, dims: number[], data: NumericArray | string[];
    const t = a.tensor('value');
    if (t) { dtype = t.dtype; dims = t.dims; data = t.data as NumericArray | string[]; }
    else if (a.has('value_float')) { dtype = 'float32'; dims = []; data = Float32Array.of(a.float('value_float', 0)); }
    else if (a.has('value_floats')) { const v = a.floats('value_floats')!; dtype = 'float32'; dims = [v.length]; data = Float32Array.from(v); }
    else if (a.has('value_int')) { dtype = 'int64'; dims = []; data = BigInt64Array.of(BigInt(a.int('value_int', 0))); }
    else if (a.has('value_ints')) { const v = a.ints('value_ints')!; dtype = 'int64'; dims = [v.length]; data = BigInt64Array.from(v, BigInt); }
    else if (a.has('value_string')) { dtype = 'string'; dims = []; data = [a.string('value_string', '')]; }
    else if (a.has('value_strings')) { const v = a.strings('value_strings')!; dtype = 'string'; dims = [v.length]; data = v; }
    else return ctx.fail('has no value (sparse_value is not supported)', 'UNSUPPORTED_OP');
    return { outputs: [{ dtype, dims }], evaluate: () => [data] };
  },
};

const gather: OpDef = {
  opType: 'Gather', since: 1, attributes: ['axis'],
  prepare(ctx) {
    const x = ctx.input(0), ind = ctx.input(1);
    if (ind.dtype !== 'int32' && ind.dtype !== 'int64') ctx.fail(`indices must be int32 or int64, got ${ind.dtype}`, 'INVALID_MODEL');
    const axis = normalizeAxis(ctx, ctx.attrs.int('axis', 0), x.dims.length);
    const outer = product(x.dims, 0, axis), axisDim = x.dims[axis]!, inner = product(x.dims, axis + 1);
    const outDims = [...x.dims.slice(0, axis), ...ind.dims, ...x.dims.slice(axis + 1)];
    const count = shapeSize(ind.dims);
    const bpe = bytesPerElement(x.dtype);
    const label = `${ctx.node.opType} node '${ctx.node.name}'`;
    const at = (v: number | bigint) => {
      let k = Number(v);
      if (k < 0) k += axisDim;
      if (!(k >= 0 && k < axisDim)) throw new TesseraError('INVALID_FEED', `${label}: index ${Number(v)} is out of range for axis ${axis} of size ${axisDim}`);
      return k;
    };
    if (x.dtype === 'string') {
      return {
        outputs: [{ dtype: 'string', dims: outDims }],
        evaluate: ([xs, is]) => {
          const src = xs as string[], idx = is as ArrayLike<number | bigint>, out: string[] = [];
          for (let o = 0; o < outer; o++) for (let j = 0; j < count; j++) for (let e = 0; e < inner; e++) out.push(src[(o * axisDim + at(idx[j]!)) * inner + e]!);
          return [out];
        },
      };
    }
    return {
      outputs: [{ dtype: x.dtype, dims: outDims }],
      build: (bd) => {
        const [X, I, Y] = [bd.inputs[0]!, bd.inputs[1]!, bd.outputs[0]!];
        const vi = bd.view(ind.dtype, I, count);
        const rowBytes = inner * bpe;
        // A table left in the model file (only ever at axis 0, so outer = 1): rows read on first use.
        const table = bd.tableAt?.(X);
        let whole: Uint8Array | undefined;
        return () => {
          const idx = vi();
          for (let o = 0; o < outer; o++) {
            for (let j = 0; j < count; j++) {
              let k = Number(idx[j]);
              if (k < 0) k += axisDim;
              if (!(k >= 0 && k < axisDim)) {
                throw new TesseraError('INVALID_FEED', `${label}: index ${Number(idx[j])} is out of range for axis ${axis} of size ${axisDim}`);
              }
              table?.ensure(o * axisDim + k);
              if (whole?.buffer !== bd.memory.buffer) whole = new Uint8Array(bd.memory.buffer);
              const src = X + ((o * axisDim + k) * inner) * bpe;
              whole.copyWithin(Y + ((o * count + j) * inner) * bpe, src, src + rowBytes);
            }
          }
        };
      },
    };
  },
};

const concat: OpDef = {
  opType: 'Concat', since: 4, attributes: ['axis'],
  prepare(ctx) {
    const ins = ctx.inputs.filter((x) => x !== undefined);
    if (ins.length === 0) ctx.fail('needs at least one input');
    const first = ins[0]!;
    const rank = first.dims.length;
    const axis = normalizeAxis(ctx, ctx.attrs.int('axis', 0), rank);
    for (const x of ins) {
      if (x.dtype !== first.dtype) ctx.fail(`inputs mix ${first.dtype} and ${x.dtype}`);
      if (x.dims.length !== rank || x.dims.some((d, i) => i !== axis && d !== first.dims[i])) {
        ctx.fail(`input shapes [${first.dims}] and [${x.dims}] differ outside axis ${axis}`, 'SHAPE_MISMATCH');
      }
    }
    const outDims = [...first.dims];
    outDims[axis] = ins.reduce((s, x) => s + x.dims[axis]!, 0);
    const outer = product(first.dims, 0, axis);
    const bpe = bytesPerElement(first.dtype);
    const chunks = ins.map((x) => product(x.dims, axis) * bpe);
    const total = chunks.reduce((a, b) => a + b, 0);
    if (first.dtype === 'string') {
      return { outputs: [{ dtype: 'string', dims: outDims }], evaluate: (v) => [(v as string[][]).flat()] };
    }
    return {
      outputs: [{ dtype: first.dtype, dims: outDims }],
      evaluate: undefined,
      build: (bd) => {
        const present = ctx.inputs.map((x, i) => (x ? bd.inputs[i]! : -1)).filter((p) => p >= 0);
        const Y = bd.outputs[0]!;
        const k = bd.k;
        // Per input, its `outer` runs into every output row at its offset: one Wasm call each.
        const offsets = chunks.map((_, i) => chunks.slice(0, i).reduce((a, b) => a + b, 0));
        return () => {
          for (let i = 0; i < present.length; i++) if (chunks[i]) k.copy_rows(present[i]!, Y + offsets[i]!, chunks[i]!, 1, 0, 1, 0, outer, chunks[i]!, total);
        };
      },
    };
  },
};

const transpose: OpDef = {
  opType: 'Transpose', since: 1, attributes: ['perm'],
  prepare(ctx) {
    const x = ctx.input(0);
    const r = x.dims.length;
    const perm = ctx.attrs.ints('perm') ?? [...Array(r).keys()].reverse();
    if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
      ctx.fail(`perm [${perm}] is not a permutation of ${r} axes`, 'INVALID_ATTRIBUTE');
    }
    const outDims = perm.map((p) => x.dims[p]!);
    const st = stridesOf(x.dims);
    const n = shapeSize(x.dims);
    if (x.dtype === 'string') {
      const strides = perm.map((p) => st[p]!);
      return { outputs: [{ dtype: 'string', dims: outDims }], evaluate: (v) => [gatherStrided(v[0] as string[], 0, outDims, strides)] };
    }
    return {
      outputs: [{ dtype: x.dtype, dims: outDims }],
      build: (bd) => {
        if (r === 2 && bytesPerElement(x.dtype) === 4 && perm[0] === 1) {
          return () => bd.k.transpose2d_32(bd.inputs[0]!, bd.outputs[0]!, x.dims[0]!, x.dims[1]!);
        }
        return stridedCopy(bd, x.dtype, bd.inputs[0]!, n, 0, bd.outputs[0]!, outDims, perm.map((p) => st[p]!));
      },
    };
  },
};

const slice: OpDef = {
  opType: 'Slice', since: 1, attributes: ['starts', 'ends', 'axes'],
  prepare(ctx) {
    const x = ctx.input(0);
    const r = x.dims.length;
    const legacy = ctx.opset < 10;
    refuseAttrsFrom(ctx, 10, ['starts', 'ends', 'axes'], 'inputs');
    const starts = legacy ? ctx.attrs.ints('starts') : constInts(ctx, 1, 'starts');
    const ends = legacy ? ctx.attrs.ints('ends') : constInts(ctx, 2, 'ends');
    if (!starts || !ends || starts.length !== ends.length) ctx.fail('starts and ends must be given with the same length', 'INVALID_ATTRIBUTE');
    const axes = (legacy ? ctx.attrs.ints('axes') : constInts(ctx, 3, 'axes')) ?? starts!.map((_, i) => i);
    const steps = (legacy ? undefined : constInts(ctx, 4, 'steps')) ?? starts!.map(() => 1);
    const begin = new Array<number>(r).fill(0), step = new Array<number>(r).fill(1), outDims = [...x.dims];
    axes.forEach((a0, i) => {
      const a = normalizeAxis(ctx, a0, r, 'slice axis');
      const d = x.dims[a]!, s = steps[i]!;
      if (s === 0) ctx.fail('a slice step is 0', 'INVALID_MODEL');
      let b = starts![i]!, e = ends![i]!;
      if (b < 0) b += d;
      if (e < 0) e += d;
      if (s > 0) { b = Math.min(Math.max(b, 0), d); e = Math.min(Math.max(e, 0), d); }
      else { b = Math.min(Math.max(b, -1), d - 1); e = Math.min(Math.max(e, -1), d - 1); }
      begin[a] = b; step[a] = s;
      outDims[a] = Math.max(0, Math.ceil((e - b) / s));
    });
    const st = stridesOf(x.dims);
    const offset = begin.reduce((acc, b, i) => acc + b * st[i]!, 0);
    const n = shapeSize(x.dims);
    const strides = step.map((s, i) => s * st[i]!);
    if (x.dtype === 'string') {
      return { outputs: [{ dtype: 'string', dims: outDims }], evaluate: (v) => [gatherStrided(v[0] as string[], offset, outDims, strides)] };
    }
    return {
      outputs: [{ dtype: x.dtype, dims: outDims }],
      build: (bd) => stridedCopy(bd, x.dtype, bd.inputs[0]!, n, offset, bd.outputs[0]!, outDims, strides),
    };
  },
};

export const shapeOps: OpDef[] = [reshape, flatten, squeeze, unsqueeze, identity, dropout, shapeOp, sizeOp, constant, gather, concat, transpose, slice];

