/**
 * Pad (constant / reflect / edge / wrap; negative pads crop). Pads come from the attribute before
 * opset 11 and from a constant input after. Runs in TypeScript as an index map computed once per
 * shape: out[i] = in[src[i]], or the constant where src[i] = -1.
 */
import type { OpDef } from '../types.js';
import { constInts, normalizeAxis, product, stridesOf } from '../util.js';

type AnyArr = { [i: number]: number | bigint | boolean; length: number };

const pad: OpDef = {
  opType: 'Pad', since: 1, attributes: ['mode', 'pads', 'paddings', 'value'],
  prepare(ctx) {
    const x = ctx.input(0), r = x.dims.length;
    if (x.dtype === 'string') ctx.fail('string tensors are not supported', 'UNSUPPORTED_OP');
    const mode = ctx.attrs.oneOf('mode', ctx.opset >= 19 ? ['constant', 'reflect', 'edge', 'wrap'] : ['constant', 'reflect', 'edge'], 'constant');
    let pads: number[] | undefined;
    if (ctx.opset < 11) {
      const name = ctx.opset < 2 ? 'paddings' : 'pads';
      pads = ctx.attrs.ints(name);
      if (!pads) throw ctx.attrs.error(name, 'is required');
    } else {
      for (const a of ['pads', 'paddings', 'value']) if (ctx.attrs.has(a)) throw ctx.attrs.error(a, 'is an input from opset 11');
      pads = constInts(ctx, 1, 'pads');
      if (!pads) ctx.fail('the pads input is required');
    }
    let axes = [...Array(r).keys()];
    const ax = ctx.opset >= 18 ? constInts(ctx, 3, 'axes') : undefined;
    if (ax) axes = ax.map((a) => normalizeAxis(ctx, a, r, 'axes'));
    if (pads!.length !== 2 * axes.length) ctx.fail(`pads must have ${2 * axes.length} entries, got ${pads!.length}`, 'SHAPE_MISMATCH');
    const begin = new Array<number>(r).fill(0), end = new Array<number>(r).fill(0);
    axes.forEach((a, i) => { begin[a] = pads![i]!; end[a] = pads![i + axes.length]!; });
    const out = x.dims.map((d, i) => d + begin[i]! + end[i]!);
    if (out.some((d) => d < 0)) ctx.fail(`pads [${pads}] crop more than the input [${x.dims}] holds`, 'SHAPE_MISMATCH');
    const n = product(out), inN = product(x.dims), ist = stridesOf(x.dims);
    for (let a = 0; a < r; a++) {
      if (out[a]! > 0 && x.dims[a] === 0 && mode !== 'constant') ctx.fail(`${mode} padding of the empty axis ${a}`, 'SHAPE_MISMATCH');
      if (mode === 'reflect' && x.dims[a] === 1 && (begin[a]! > 0 || end[a]! > 0)) ctx.fail(`reflect padding of axis ${a} of size 1`, 'SHAPE_MISMATCH');
    }
    const mapAxis = (o: number, a: number): number => {
      const d = x.dims[a]!;
      let i = o - begin[a]!;
      if (i >= 0 && i < d) return i;
      if (mode === 'constant') return -1;
      if (mode === 'edge') return i < 0 ? 0 : d - 1;
      if (mode === 'wrap') return ((i % d) + d) % d;
      const period = 2 * (d - 1);
      i = ((i % period) + period) % period;
      return i < d ? i : period - i;
    };
    const src = new Int32Array(n);
    const idx = new Array<number>(r).fill(0);
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let a = 0; a < r; a++) { const m = mapAxis(idx[a]!, a); if (m < 0) { s = -1; break; } s += m * ist[a]!; }
      src[k] = s;
      for (let a = r - 1; a >= 0; a--) { if (++idx[a]! < out[a]!) break; idx[a] = 0; }
    }
    const attrValue = ctx.opset < 11 ? ctx.attrs.float('value', 0) : 0;
    const cv = ctx.opset >= 11 ? ctx.inputs[2] : undefined;
    return {
      outputs: [{ dtype: x.dtype, dims: out }],
      build(b) {
        const xv = b.view(x.dtype, b.inputs[0]!, inN), yv = b.view(x.dtype, b.outputs[0]!, n);
        const cvv = cv && product(cv.dims) > 0 ? b.view(cv.dtype, b.inputs[2]!, 1) : undefined;
        return () => {
          const X = xv() as unknown as AnyArr, Y = yv() as unknown as AnyArr;
          let c: number | bigint | boolean = cvv ? (cvv() as unknown as AnyArr)[0]! : attrValue;
          if (typeof Y[0] === 'bigint' || Y instanceof BigInt64Array || Y instanceof BigUint64Array) c = BigInt(c as number);
          for (let k = 0; k < n; k++) { const s = src[k]!; Y[k] = s < 0 ? c : X[s]!; }
        };
      },
    };
  },
};

export const padOps: readonly OpDef[] = [pad];
