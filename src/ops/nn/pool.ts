/** MaxPool, AveragePool (1-D and 2-D, pads, ceil_mode, dilations) and the global pools. */
import { windowGeometry } from './conv-geometry.js';
import type { OpContext, OpDef, Prepared } from '../types.js';
import { requireDtype } from '../util.js';

const POOL_ATTRS = ['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'pads', 'strides'];

/**
 * Any rank, dilated average, LpPool and MaxPool's Indices in TypeScript: window offsets per output
 * position are computed once per shape, the step only gathers.
 */
function prepareGeneric(ctx: OpContext, kind: 'max' | 'avg' | 'lp'): Prepared {
  const x = ctx.input(0);
  requireDtype(ctx, 0, kind === 'max' ? ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32'] : ['float32', 'float64']);
  const rank = x.dims.length, sd = rank - 2;
  if (rank < 3) ctx.fail(`input must have rank ≥ 3, got [${x.dims}]`, 'SHAPE_MISMATCH');
  const kernel = ctx.attrs.ints('kernel_shape');
  if (!kernel || kernel.length !== sd) throw ctx.attrs.error('kernel_shape', `must list ${sd} sizes`);
  const storage = ctx.attrs.int('storage_order', 0);
  if (storage !== 0 && storage !== 1) throw ctx.attrs.error('storage_order', `must be 0 or 1, got ${storage}`);
  const ceil = ctx.attrs.int('ceil_mode', 0) === 1, incl = ctx.attrs.int('count_include_pad', 0) === 1;
  const P = ctx.attrs.int('p', 2);
  const spatial = x.dims.slice(2), g = windowGeometry(ctx, spatial, kernel!, { ceil });
  const out = g.out, outN = out.reduce((a, d) => a * d, 1), inN = spatial.reduce((a, d) => a * d, 1);
  const NC = x.dims[0]! * x.dims[1]!;
  const st = spatial.map((_, i) => spatial.slice(i + 1).reduce((a, d) => a * d, 1));
  // Column-major strides for storage_order = 1 indices (2-D: h + w·H).
  const stCol = spatial.map((_, i) => spatial.slice(0, i).reduce((a, d) => a * d, 1));
  const offs: Int32Array[] = [], idxs: Int32Array[] = [], counts = new Float64Array(outN);
  const o = new Array<number>(sd).fill(0);
  for (let k = 0; k < outN; k++) {
    let pos: { off: number; col: number }[] = [{ off: 0, col: 0 }], cnt = 1;
    for (let a = 0; a < sd; a++) {
      const next: typeof pos = [];
      let c = 0;
      for (let j = 0; j < kernel![a]!; j++) {
        const p = o[a]! * g.strides[a]! - g.pads[a]! + j * g.dilations[a]!;
        if (p >= -g.pads[a]! && p < spatial[a]! + g.pads[a + sd]!) c++;
        if (p < 0 || p >= spatial[a]!) continue;
        for (const q of pos) next.push({ off: q.off + p * st[a]!, col: q.col + p * stCol[a]! });
      }
      pos = next;
      cnt *= c;
    }
    offs.push(Int32Array.from(pos, (q) => q.off));
    idxs.push(Int32Array.from(pos, (q) => (storage ? q.col : q.off)));
    counts[k] = incl ? cnt : pos.length;
    for (let a = sd - 1; a >= 0; a--) { if (++o[a]! < out[a]!) break; o[a] = 0; }
  }
  const withIdx = kind === 'max' && !!ctx.node.outputs[1];
  const outDims = [x.dims[0]!, x.dims[1]!, ...out];
  return {
    outputs: withIdx ? [{ dtype: x.dtype, dims: outDims }, { dtype: 'int64', dims: outDims }] : [{ dtype: x.dtype, dims: outDims }],
    build(b) {
      const xv = b.view(x.dtype, b.inputs[0]!, NC * inN), yv = b.view(x.dtype, b.outputs[0]!, NC * outN);
      const iv = withIdx ? b.view('int64', b.outputs[1]!, NC * outN) : undefined;
      return () => {
        const X = xv() as Float32Array, Y = yv() as Float32Array, I = iv?.() as BigInt64Array | undefined;
        for (let nc = 0; nc < NC; nc++) {
          const base = nc * inN;
          for (let k = 0; k < outN; k++) {
            const w = offs[k]!;
            let r: number;
            if (kind === 'max') {
              r = -Infinity; let arg = -1;
              for (let j = 0; j < w.length; j++) { const v = X[base + w[j]!]!; if (v > r || arg < 0) { r = v; arg = j; } }
              if (I) I[nc * outN + k] = BigInt(nc * inN + (arg < 0 ? 0 : idxs[k]![arg]!));
            } else if (kind === 'avg') {
              r = 0; for (let j = 0; j < w.length; j++) r += X[base + w[j]!]!;
              r /= counts[k]!;
            } else {
              r = 0; for (let j = 0; j < w.length; j++) r += Math.pow(Math.abs(X[base + w[j]!]!), P);
              r = Math.pow(r, 1 / P);
            }
            Y[nc * outN + k] = r;
          }
        }
      };
    },
  };
}

function preparePool(ctx: OpContext, kind: 'max' | 'avg'): Prepared {
  const x = ctx.input(0);
  const rank = x.dims.length;
  const dilated = ctx.attrs.ints('dilations')?.some((d) => d !== 1) ?? false;
  if (rank > 4 || x.dtype !== 'float32' || (kind === 'avg' && dilated) || (kind === 'max' && !!ctx.node.outputs[1])) return prepareGeneric(ctx, kind);
  requireDtype(ctx, 0, ['float32']);
  if (rank < 3 || rank > 4) ctx.fail(`tessera supports 1-D and 2-D pooling (input rank 3 or 4); got [${x.dims.join(', ')}]`, 'UNSUPPORTED_OP');
  if (ctx.node.outputs.length > 1 && ctx.node.outputs[1]) ctx.fail('the Indices output of MaxPool is not supported', 'UNSUPPORTED_OP');
  const kernel = ctx.attrs.ints('kernel_shape');
  if (!kernel || kernel.length !== rank - 2) ctx.fail(`kernel_shape must list ${rank - 2} sizes`, 'INVALID_ATTRIBUTE');
  if (ctx.attrs.int('storage_order', 0) !== 0) ctx.fail('storage_order=1 is not supported', 'INVALID_ATTRIBUTE');
  const ceil = ctx.attrs.int('ceil_mode', 0) === 1;
  const countIncludePad = ctx.attrs.int('count_include_pad', 0);
  if (kind === 'avg' && ctx.attrs.has('dilations') && ctx.attrs.ints('dilations')!.some((d) => d !== 1)) {
    ctx.fail('dilated AveragePool is not supported', 'UNSUPPORTED_OP');
  }
  const oneD = rank === 3;
  const spatial = oneD ? [x.dims[2]!] : [x.dims[2]!, x.dims[3]!];
  const g = windowGeometry(ctx, spatial, kernel!, { ceil });
  // Lift 1-D onto 2-D with a unit height.
  const [H, W] = oneD ? [1, spatial[0]!] : (spatial as [number, number]);
  const [kh, kw] = oneD ? [1, kernel![0]!] : (kernel as [number, number]);
  const [sh, sw] = oneD ? [1, g.strides[0]!] : (g.strides as [number, number]);
  const [dh, dw] = oneD ? [1, g.dilations[0]!] : (g.dilations as [number, number]);
  const [pt, pl, pb, pr] = oneD ? [0, g.pads[0]!, 0, g.pads[1]!] : (g.pads as [number, number, number, number]);
  const [OH, OW] = oneD ? [1, g.out[0]!] : (g.out as [number, number]);
  const NC = x.dims[0]! * x.dims[1]!;
  const outDims = oneD ? [x.dims[0]!, x.dims[1]!, OW] : [x.dims[0]!, x.dims[1]!, OH, OW];
  return {
    outputs: [{ dtype: 'float32', dims: outDims }],
    build: ({ k, inputs: [X], outputs: [Y] }) => kind === 'max'
      ? () => k.maxpool2d_f32(X!, Y!, NC, H, W, OH, OW, kh, kw, sh, sw, dh, dw, pt, pl)
      : () => k.avgpool2d_f32(X!, Y!, NC, H, W, OH, OW, kh, kw, sh, sw, pt, pl, pb, pr, countIncludePad),
  };
}

function prepareGlobal(ctx: OpContext, kind: 'max' | 'avg'): Prepared {
  const x = ctx.input(0);
  requireDtype(ctx, 0, ['float32']);
  if (x.dims.length < 3) ctx.fail(`input must have rank ≥ 3, got [${x.dims.join(', ')}]`, 'SHAPE_MISMATCH');
  const NC = x.dims[0]! * x.dims[1]!;
  const HW = x.dims.slice(2).reduce((a, b) => a * b, 1);
  return {
    outputs: [{ dtype: 'float32', dims: [x.dims[0]!, x.dims[1]!, ...x.dims.slice(2).map(() => 1)] }],
    build: ({ k, inputs: [X], outputs: [Y] }) => kind === 'max'
      ? () => k.global_maxpool_f32(X!, Y!, NC, HW)
      : () => k.global_avgpool_f32(X!, Y!, NC, HW),
  };
}

function prepareGlobalLp(ctx: OpContext): Prepared {
  const x = ctx.input(0);
  requireDtype(ctx, 0, ['float32', 'float64']);
  if (x.dims.length < 3) ctx.fail(`input must have rank ≥ 3, got [${x.dims.join(', ')}]`, 'SHAPE_MISMATCH');
  const P = ctx.attrs.int('p', 2);
  const NC = x.dims[0]! * x.dims[1]!, HW = x.dims.slice(2).reduce((a, b) => a * b, 1);
  return {
    outputs: [{ dtype: x.dtype, dims: [x.dims[0]!, x.dims[1]!, ...x.dims.slice(2).map(() => 1)] }],
    build(b) {
      const xv = b.view(x.dtype, b.inputs[0]!, NC * HW), yv = b.view(x.dtype, b.outputs[0]!, NC);
      return () => {
        const X = xv() as Float32Array, Y = yv() as Float32Array;
        for (let c = 0; c < NC; c++) { let s = 0; for (let i = 0; i < HW; i++) s += Math.pow(Math.abs(X[c * HW + i]!), P); Y[c] = Math.pow(s, 1 / P); }
      };
    },
  };
}

export const poolOps: OpDef[] = [
  { opType: 'LpPool', since: 1, attributes: [...POOL_ATTRS, 'p'], prepare: (c) => prepareGeneric(c, 'lp') },
  { opType: 'GlobalLpPool', since: 1, attributes: ['p'], prepare: prepareGlobalLp },
  { opType: 'MaxPool', since: 1, attributes: [...POOL_ATTRS, 'storage_order'], prepare: (c) => preparePool(c, 'max') },
  { opType: 'AveragePool', since: 1, attributes: [...POOL_ATTRS, 'count_include_pad'], prepare: (c) => preparePool(c, 'avg') },
  { opType: 'GlobalMaxPool', since: 1, attributes: [], prepare: (c) => prepareGlobal(c, 'max') },
  { opType: 'GlobalAveragePool', since: 1, attributes: [], prepare: (c) => prepareGlobal(c, 'avg') },
];
