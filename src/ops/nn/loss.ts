/**
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (inference-side evaluation of training
 * losses). Both gather −input[n, target[n, d], d] weighted by weight[target]; SoftmaxCrossEntropy
 * first takes a log-softmax over the class axis 1 (its optional second output). `mean` divides by
 * the summed weights of the targets that are not `ignore_index`, as ONNX's reference does.
 */
import { TesseraError, describeNode } from '../../api/errors.js';
import type { InputInfo, OpContext, OpDef, Prepared } from '../types.js';
import { FLOAT_TYPES, readFloats, writeFloats } from '../float-io.js';
import { product, requireDtype } from '../util.js';

type Reduction = 'none' | 'sum' | 'mean';

interface LossShape { x: InputInfo; target: InputInfo; weight: InputInfo | undefined; N: number; C: number; D: number }

function lossShape(ctx: OpContext): LossShape {
  requireDtype(ctx, 0, FLOAT_TYPES);
  requireDtype(ctx, 1, ['int32', 'int64']);
  const x = ctx.input(0), target = ctx.input(1), weight = ctx.inputs[2];
  if (x.dims.length < 2) ctx.fail(`input 0 ('${x.name}') must be at least 2-D [N, C, …], got [${x.dims}]`, 'SHAPE_MISMATCH');
  const [N, C] = x.dims as [number, number];
  const want = [N, ...x.dims.slice(2)];
  if (target.dims.length !== want.length || target.dims.some((d, i) => d !== want[i])) {
    ctx.fail(`target (input 1, '${target.name}') must have shape [${want}] for input shape [${x.dims}], got [${target.dims}]`, 'SHAPE_MISMATCH');
  }
  if (weight) {
    if (weight.dtype !== x.dtype) ctx.fail(`weight (input 2, '${weight.name}') has type ${weight.dtype}, the input ${x.dtype}`);
    if (weight.dims.length !== 1 || weight.dims[0] !== C) ctx.fail(`weight (input 2, '${weight.name}') must have shape [${C}], got [${weight.dims}]`, 'SHAPE_MISMATCH');
  }
  return { x, target, weight, N, C, D: product(x.dims, 2) };
}

/** Loss per element of `target` (or its reduction) from log-probabilities `lp` laid out [N, C, D]. */
function nll(ctx: OpContext, lp: Float64Array, T: ArrayLike<number | bigint>, W: Float64Array | undefined,
  s: LossShape, ignore: number | undefined, red: Reduction, out: Float64Array): void {
  const { N, C, D } = s;
  let sum = 0, wsum = 0;
  for (let n = 0, i = 0; n < N; n++) {
    for (let d = 0; d < D; d++, i++) {
      const t = Number(T[i]!);
      if (t === ignore) { if (red === 'none') out[i] = 0; continue; }
      if (!(t >= 0 && t < C)) {
        throw new TesseraError('INVALID_FEED', `${describeNode(ctx.node)}: target ${t} at position ${i} is outside the ${C} classes (ignore_index ${ignore ?? 'unset'})`);
      }
      const w = W ? W[t]! : 1, l = -lp[(n * C + t) * D + d]! * w;
      if (red === 'none') out[i] = l;
      sum += l; wsum += w;
    }
  }
  if (red === 'sum') out[0] = sum;
  else if (red === 'mean') out[0] = sum / wsum;
}

function prepareLoss(ctx: OpContext, softmax: boolean): Prepared {
  const s = lossShape(ctx);
  const red = ctx.attrs.oneOf<Reduction>('reduction', ['none', 'sum', 'mean'], 'mean');
  const ignore = ctx.attrs.intOpt('ignore_index');
  const { x, target, weight, N, C, D } = s;
  const count = N * C * D, tcount = N * D, outCount = red === 'none' ? tcount : 1;
  const wantLogProb = softmax && ctx.node.outputs.length > 1 && ctx.node.outputs[1] !== '';
  if (!softmax && ctx.node.outputs.length > 1) ctx.fail(`has ${ctx.node.outputs.length} outputs; NegativeLogLikelihoodLoss has one`, 'INVALID_MODEL');
  if (ctx.node.outputs.length > 2) ctx.fail(`has ${ctx.node.outputs.length} outputs; SoftmaxCrossEntropyLoss has at most two`, 'INVALID_MODEL');
  const outputs = [{ dtype: x.dtype, dims: red === 'none' ? [...target.dims] : [] }];
  if (softmax && ctx.node.outputs.length > 1) outputs.push({ dtype: x.dtype, dims: [...x.dims] });
  return {
    outputs,
    build(b) {
      const xv = b.view(x.dtype, b.inputs[0]!, count), tv = b.view(target.dtype, b.inputs[1]!, tcount);
      const wv = weight ? b.view(weight.dtype, b.inputs[2]!, C) : undefined;
      const yv = b.view(x.dtype, b.outputs[0]!, outCount), lv = wantLogProb ? b.view(x.dtype, b.outputs[1]!, count) : undefined;
      const lp = new Float64Array(count), W = weight ? new Float64Array(C) : undefined, out = new Float64Array(outCount);
      return () => {
        readFloats(x.dtype, xv(), lp);
        if (W) readFloats(weight!.dtype, wv!(), W);
        if (softmax) logSoftmaxAxis1(lp, N, C, D);
        nll(ctx, lp, tv() as ArrayLike<number | bigint>, W, s, ignore, red, out);
        writeFloats(x.dtype, out, yv());
        if (lv) writeFloats(x.dtype, lp, lv());
      };
    },
  };
}

/** In place, over the class axis of an [N, C, D] array. */
function logSoftmaxAxis1(a: Float64Array, N: number, C: number, D: number): void {
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) {
      const o = n * C * D + d;
      let m = -Infinity; for (let c = 0; c < C; c++) m = Math.max(m, a[o + c * D]!);
      let s = 0; for (let c = 0; c < C; c++) s += Math.exp(a[o + c * D]! - m);
      const lse = m + Math.log(s);
      for (let c = 0; c < C; c++) a[o + c * D] = a[o + c * D]! - lse;
    }
  }
}

export const lossOps: readonly OpDef[] = [
  { opType: 'NegativeLogLikelihoodLoss', since: 12, attributes: ['ignore_index', 'reduction'], prepare: (ctx) => prepareLoss(ctx, false) },
  { opType: 'SoftmaxCrossEntropyLoss', since: 12, attributes: ['ignore_index', 'reduction'], prepare: (ctx) => prepareLoss(ctx, true) },
];
