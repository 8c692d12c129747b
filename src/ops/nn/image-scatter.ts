/**
 * Ops that scatter values back into an image: Col2Im (opset 18, the inverse of im2col: columns of
 * N-D blocks summed into place, with strides, dilations and pads) and MaxUnpool (opset 9+, each value
 * written at the flat index MaxPool recorded, zeros elsewhere). TypeScript loops in float64.
 */
import { TesseraError, describeNode } from '../../api/errors.js';
import type { OpContext, OpDef } from '../types.js';
import { FLOAT_TYPES, readFloats, writeFloats } from '../float-io.js';
import { product, requireDtype, requiredInts, stridesOf } from '../util.js';

/** An int-list attribute of `r` entries (default `fill`), each at least `min`. */
function spatialInts(ctx: OpContext, name: string, r: number, fill: number, min: number): number[] {
  const v = ctx.attrs.ints(name) ?? new Array<number>(r).fill(fill);
  if (v.length !== r) throw ctx.attrs.error(name, `must have ${r} entries, got ${v.length}`);
  if (v.some((x) => x < min)) throw ctx.attrs.error(name, `entries must be at least ${min}, got [${v}]`);
  return v;
}

/** Calls f(multi-index) for every index of `dims`, last axis fastest. */
function forEachIndex(dims: readonly number[], f: (idx: number[]) => void): void {
  if (dims.some((d) => d === 0)) return;
  const idx = new Array<number>(dims.length).fill(0);
  for (;;) {
    f(idx);
    let k = dims.length - 1;
    while (k >= 0 && ++idx[k]! === dims[k]) idx[k--] = 0;
    if (k < 0) return;
  }
}

const col2im: OpDef = {
  opType: 'Col2Im', since: 18, attributes: ['dilations', 'pads', 'strides'],
  prepare(ctx) {
    requireDtype(ctx, 0, FLOAT_TYPES);
    const x = ctx.input(0);
    const image = requiredInts(ctx, 1, 'image_shape'), block = requiredInts(ctx, 2, 'block_shape');
    const r = image.length;
    if (r < 1 || block.length !== r) ctx.fail(`image_shape [${image}] and block_shape [${block}] must have the same length (at least 1)`, 'SHAPE_MISMATCH');
    if (image.some((d) => d < 1) || block.some((d) => d < 1)) ctx.fail(`image_shape [${image}] and block_shape [${block}] must be positive`, 'INVALID_MODEL');
    const dil = spatialInts(ctx, 'dilations', r, 1, 1), strides = spatialInts(ctx, 'strides', r, 1, 1), pads = spatialInts(ctx, 'pads', 2 * r, 0, 0);
    const blocks = image.map((d, i) => Math.floor((d + pads[i]! + pads[r + i]! - dil[i]! * (block[i]! - 1) - 1) / strides[i]!) + 1);
    const K = product(block), L = product(blocks);
    if (x.dims.length !== 3 || x.dims[1]! % K !== 0 || x.dims[2] !== L || blocks.some((b) => b < 1)) {
      ctx.fail(`input (input 0, '${x.name}') must be [N, C·${K}, ${L}] for image [${image}] and block [${block}], got [${x.dims}]`, 'SHAPE_MISMATCH');
    }
    const [N, CK] = x.dims as [number, number], C = CK / K, plane = product(image), is = stridesOf(image);
    // Plan time: for each (block offset, block position) pair, the image offset it lands on (−1 in the pads).
    const target = new Int32Array(K * L);
    let q = 0;
    forEachIndex(block, (k) => forEachIndex(blocks, (l) => {
      let off = 0;
      for (let i = 0; i < r && off >= 0; i++) {
        const p = l[i]! * strides[i]! - pads[i]! + k[i]! * dil[i]!;
        off = p >= 0 && p < image[i]! ? off + p * is[i]! : -1;
      }
      target[q++] = off;
    }));
    return {
      outputs: [{ dtype: x.dtype, dims: [N, C, ...image] }],
      build(b) {
        const n = N * CK * L, yn = N * C * plane;
        const xv = b.view(x.dtype, b.inputs[0]!, n), yv = b.view(x.dtype, b.outputs[0]!, yn);
        const X = new Float64Array(n), Y = new Float64Array(yn);
        return () => {
          readFloats(x.dtype, xv(), X);
          Y.fill(0);
          for (let nc = 0; nc < N * C; nc++) {
            const xo = nc * K * L, yo = nc * plane;
            for (let j = 0; j < K * L; j++) { const t = target[j]!; if (t >= 0) Y[yo + t] = Y[yo + t]! + X[xo + j]!; }
          }
          writeFloats(x.dtype, Y, yv());
        };
      },
    };
  },
};

const maxUnpool: OpDef = {
  opType: 'MaxUnpool', since: 9, attributes: ['kernel_shape', 'pads', 'strides'],
  prepare(ctx) {
    requireDtype(ctx, 0, FLOAT_TYPES);
    requireDtype(ctx, 1, ['int64']);
    const x = ctx.input(0), idx = ctx.input(1);
    const r = x.dims.length - 2;
    if (r < 1) ctx.fail(`input must be at least 3-D [N, C, …], got [${x.dims}]`, 'SHAPE_MISMATCH');
    if (idx.dims.length !== x.dims.length || idx.dims.some((d, i) => d !== x.dims[i])) ctx.fail(`indices (input 1, '${idx.name}') must have the input's shape [${x.dims}], got [${idx.dims}]`, 'SHAPE_MISMATCH');
    const kernel = ctx.attrs.ints('kernel_shape');
    if (!kernel || kernel.length !== r || kernel.some((k) => k < 1)) throw ctx.attrs.error('kernel_shape', `is required with ${r} positive entries`);
    const strides = spatialInts(ctx, 'strides', r, 1, 1), pads = spatialInts(ctx, 'pads', 2 * r, 0, 0);
    const inferred = [x.dims[0]!, x.dims[1]!, ...x.dims.slice(2).map((d, i) => (d - 1) * strides[i]! + kernel[i]! - pads[i]! - pads[r + i]!)];
    const given = ctx.inputs[2] ? requiredInts(ctx, 2, 'output_shape') : undefined;
    if (given && (given.length !== x.dims.length || given[0] !== x.dims[0] || given[1] !== x.dims[1] || given.some((d) => d < 0))) {
      ctx.fail(`output_shape [${given}] must be [${x.dims[0]}, ${x.dims[1]}, …${r} spatial dims]`, 'SHAPE_MISMATCH');
    }
    const out = given ?? inferred;
    const n = product(x.dims), yn = product(out), inferredCount = product(inferred);
    // Indices count positions in the inferred shape; a larger output_shape re-places them by coordinates.
    const inStrides = stridesOf(inferred), outStrides = stridesOf(out);
    const place = (t: number): number => {
      let o = 0;
      for (let d = 0; d < inferred.length; d++) {
        const q = Math.floor(t / inStrides[d]!); t -= q * inStrides[d]!;
        if (q >= out[d]!) return -1;
        o += q * outStrides[d]!;
      }
      return o;
    };
    return {
      outputs: [{ dtype: x.dtype, dims: out }],
      build(b) {
        const xv = b.view(x.dtype, b.inputs[0]!, n), iv = b.view('int64', b.inputs[1]!, n), yv = b.view(x.dtype, b.outputs[0]!, yn);
        const X = new Float64Array(n), Y = new Float64Array(yn);
        return () => {
          readFloats(x.dtype, xv(), X);
          const I = iv() as BigInt64Array;
          Y.fill(0);
          for (let i = 0; i < n; i++) {
            const t = Number(I[i]!), o = t >= 0 && t < inferredCount ? (given ? place(t) : t) : -1;
            if (o < 0) throw new TesseraError('INVALID_FEED', `${describeNode(ctx.node)}: index ${t} at position ${i} is outside the unpooled output [${out}]`);
            Y[o] = X[i]!;
          }
          writeFloats(x.dtype, Y, yv());
        };
      },
    };
  },
};

export const imageScatterOps: readonly OpDef[] = [col2im, maxUnpool];
