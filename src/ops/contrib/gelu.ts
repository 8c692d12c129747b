/**
 * The `com.microsoft` elementwise ops of onnxruntime's BERT/GPT fusions: Gelu (erf), BiasGelu
 * (Gelu of x + bias), FastGelu (tanh approximation, optional bias), QuickGelu (x·σ(αx)) and BiasAdd
 * (x + bias + skip). They run on the same SIMD kernels as ONNX's Gelu and Add: a broadcast add of
 * the 1-D bias over rows (binary_f32), then the activation in place (unary_f32).
 */
import { shapeSize } from '../../api/tensor.js';
import { Act, Binary, Unary, type Kernels } from '../../runtime/kernels.js';
import type { InputInfo, OpContext, OpDef, Prepared } from '../types.js';
import { requireDtype } from '../util.js';

/** y = a + b with b a row of `cols` floats repeated over `rows` rows (the 1-D bias of these ops). */
export function addRowBias(k: Kernels, a: number, bias: number, y: number, rows: number, cols: number): void {
  k.binary_f32(a, bias, y, Binary.add, 1, 1, rows, cols, 0, 0, cols, 1, 0, 0, 0, 1);
}

/** y = a + b over n contiguous floats. */
export function addSame(k: Kernels, a: number, b: number, y: number, n: number): void {
  k.binary_f32(a, b, y, Binary.add, 1, 1, 1, n, 0, 0, 0, 1, 0, 0, 0, 1);
}

/** Checks that input i is a 1-D bias matching x's last axis; returns its length. */
function requireBias(ctx: OpContext, i: number, x: InputInfo): number {
  requireDtype(ctx, i, ['float32']);
  const b = ctx.input(i), cols = x.dims[x.dims.length - 1];
  if (x.dims.length === 0) ctx.fail(`input '${x.name}' must have rank ≥ 1`, 'SHAPE_MISMATCH');
  if (b.dims.length !== 1 || b.dims[0] !== cols) ctx.fail(`bias '${b.name}' must be 1-D [${cols}] (the last axis of '${x.name}'), got [${b.dims}]`, 'SHAPE_MISMATCH');
  return cols!;
}

/** Activation `act` of x (+ the optional 1-D bias at input `biasAt`). */
function biasActivation(ctx: OpContext, act: number, biasAt: number | undefined, biasRequired: boolean): Prepared {
  requireDtype(ctx, 0, ['float32']);
  const x = ctx.input(0);
  const hasBias = biasAt !== undefined && (biasRequired || ctx.inputs[biasAt] !== undefined);
  const cols = hasBias ? requireBias(ctx, biasAt!, x) : 0;
  const n = shapeSize(x.dims);
  return {
    outputs: [{ dtype: 'float32', dims: [...x.dims] }],
    build(b) {
      const k = b.k, X = b.inputs[0]!, Y = b.outputs[0]!;
      if (!hasBias) return () => k.unary_f32(X, Y, n, act, 0, 0);
      const bias = b.inputs[biasAt!]!, rows = cols ? n / cols : 0;
      return () => { addRowBias(k, X, bias, Y, rows, cols); k.unary_f32(Y, Y, n, act, 0, 0); };
    },
  };
}

const gelu: OpDef = {
  opType: 'Gelu', domain: 'com.microsoft', since: 1, attributes: [],
  prepare: (ctx) => biasActivation(ctx, Act.geluErf, undefined, false),
};

const biasGelu: OpDef = {
  opType: 'BiasGelu', domain: 'com.microsoft', since: 1, attributes: [],
  prepare: (ctx) => biasActivation(ctx, Act.geluErf, 1, true),
};

/** 0.5·x·(1 + tanh(0.797885·x + 0.035677·x³)) is the tanh GELU, the kernel's geluTanh. */
const fastGelu: OpDef = {
  opType: 'FastGelu', domain: 'com.microsoft', since: 1, attributes: [],
  prepare: (ctx) => biasActivation(ctx, Act.geluTanh, 1, false),
};

/** x·σ(αx): αx into y, σ in place, then y·x (three passes of the SIMD kernels). */
const quickGelu: OpDef = {
  opType: 'QuickGelu', domain: 'com.microsoft', since: 1, attributes: ['alpha'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32']);
    const x = ctx.input(0);
    const alpha = ctx.attrs.float('alpha', 1.702);
    if (!Number.isFinite(alpha)) throw ctx.attrs.error('alpha', `must be a finite number, got ${alpha}`);
    const n = shapeSize(x.dims);
    return {
      outputs: [{ dtype: 'float32', dims: [...x.dims] }],
      build(b) {
        const k = b.k, X = b.inputs[0]!, Y = b.outputs[0]!;
        return () => {
          k.unary_f32(X, Y, n, Unary.affine, alpha, 0);
          k.unary_f32(Y, Y, n, Act.sigmoid, 0, 0);
          k.binary_f32(X, Y, Y, Binary.mul, 1, 1, 1, n, 0, 0, 0, 1, 0, 0, 0, 1);
        };
      },
    };
  },
};

/** BiasAdd(x [B, S, C], bias [C], skip [B, S, C]) = x + bias + skip (onnxruntime's diffusion fusion). */
const biasAdd: OpDef = {
  opType: 'BiasAdd', domain: 'com.microsoft', since: 1, attributes: [],
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32']);
    requireDtype(ctx, 2, ['float32']);
    const x = ctx.input(0), skip = ctx.input(2);
    if (x.dims.length !== 3) ctx.fail(`input '${x.name}' must be 3-D [batch, sequence, channels], got [${x.dims}]`, 'SHAPE_MISMATCH');
    const cols = requireBias(ctx, 1, x);
    if (skip.dims.length !== 3 || skip.dims.some((d, i) => d !== x.dims[i])) ctx.fail(`skip '${skip.name}' must have the input's shape [${x.dims}], got [${skip.dims}]`, 'SHAPE_MISMATCH');
    const n = shapeSize(x.dims);
    return {
      outputs: [{ dtype: 'float32', dims: [...x.dims] }],
      build(b) {
        const k = b.k, [X, bias, S] = b.inputs as [number, number, number], Y = b.outputs[0]!;
        return () => { addRowBias(k, X, bias, Y, cols ? n / cols : 0, cols); addSame(k, Y, S, Y, n); };
      },
    };
  },
};

/** The activation and bias ops, for src/ops/contrib/index.ts. */
export const contribGeluOps: readonly OpDef[] = [gelu, biasGelu, fastGelu, quickGelu, biasAdd];
