/** MaxPool, AveragePool (1-D and 2-D, pads, ceil_mode, dilations) and the global pools. */
import { windowGeometry } from './conv-geometry.js';
import type { OpContext, OpDef, Prepared } from './types.js';
import { requireDtype } from './util.js';

const POOL_ATTRS = ['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'pads', 'strides'];

function preparePool(ctx: OpContext, kind: 'max' | 'avg'): Prepared {
  const x = ctx.input(0);
  requireDtype(ctx, 0, ['float32']);
  const rank = x.dims.length;
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

export const poolOps: OpDef[] = [
  { opType: 'MaxPool', since: 1, attributes: [...POOL_ATTRS, 'storage_order'], prepare: (c) => preparePool(c, 'max') },
  { opType: 'AveragePool', since: 1, attributes: [...POOL_ATTRS, 'count_include_pad'], prepare: (c) => preparePool(c, 'avg') },
  { opType: 'GlobalMaxPool', since: 1, attributes: [], prepare: (c) => prepareGlobal(c, 'max') },
  { opType: 'GlobalAveragePool', since: 1, attributes: [], prepare: (c) => prepareGlobal(c, 'avg') },
];
