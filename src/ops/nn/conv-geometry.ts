/** Output sizes and pads for convolution and pooling windows (auto_pad, ceil_mode, dilations). */
import type { OpContext } from '../types.js';

export interface WindowGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Begin pads per spatial axis, then end pads (ONNX order). */
  pads: number[];
  out: number[];
}

export function windowGeometry(ctx: OpContext, spatial: readonly number[], kernel: readonly number[], opts: { ceil?: boolean } = {}): WindowGeometry {
  const r = spatial.length;
  const { attrs } = ctx;
  const strides = attrs.ints('strides') ?? new Array(r).fill(1);
  const dilations = attrs.ints('dilations') ?? new Array(r).fill(1);
  const autoPad = attrs.oneOf('auto_pad', ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'], 'NOTSET');
  let pads = attrs.ints('pads') ?? new Array(2 * r).fill(0);
  if (strides.length !== r || dilations.length !== r || pads.length !== 2 * r) {
    ctx.fail(`strides/dilations/pads must have ${r}/${r}/${2 * r} values for ${r} spatial dims`, 'INVALID_ATTRIBUTE');
  }
  if ([...strides, ...dilations].some((v) => v < 1) || pads.some((p) => p < 0)) {
    ctx.fail('strides and dilations must be ≥ 1 and pads ≥ 0', 'INVALID_ATTRIBUTE');
  }
  const out = new Array<number>(r);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array(2 * r).fill(0);
    for (let i = 0; i < r; i++) {
      out[i] = Math.ceil(spatial[i]! / strides[i]!);
      const total = Math.max(0, (out[i]! - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - spatial[i]!);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + r] = total - pads[i]!;
    }
  } else {
    if (autoPad === 'VALID') pads = new Array(2 * r).fill(0);
    for (let i = 0; i < r; i++) {
      const span = (kernel[i]! - 1) * dilations[i]! + 1;
      const room = spatial[i]! + pads[i]! + pads[i + r]! - span;
      if (room < 0) ctx.fail(`the ${kernel.join('×')} window (dilated to ${span}) is larger than the padded input (${spatial.join('×')})`, 'SHAPE_MISMATCH');
      let o = (opts.ceil ? Math.ceil(room / strides[i]!) : Math.floor(room / strides[i]!)) + 1;
      // ceil_mode must not start a window entirely inside the end padding.
      if (opts.ceil && (o - 1) * strides[i]! >= spatial[i]! + pads[i]!) o--;
      out[i] = o;
    }
  }
  return { kernel: [...kernel], strides, dilations, pads, out };
}
