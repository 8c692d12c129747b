/**
 * fp16 storage, fp32 compute. An op whose kernels take float32 runs on float16 / bfloat16 inputs
 * by widening them into scratch, running the float32 op, and narrowing its float outputs back:
 * a model exported with `model.half()` runs on the same kernels as its float32 original. Constant
 * inputs (weights) are widened once per session, not per run — only those constant for the session
 * (`InputInfo.constant`): a value the planner folded for one plan's shapes is widened per run, since
 * the next plan may give the same name another value (the cache is keyed by name). Ops that handle a narrow type
 * themselves (data movement, Cast, comparisons) keep doing so, except the heavy compute ops below,
 * which always widen so they reach the SIMD kernels instead of a JavaScript loop. float16 is
 * widened and narrowed in Wasm (assembly/half.ts, the same bits as widenHalf / narrowHalf below,
 * which plan-time folding still uses); bfloat16 in JavaScript.
 */
import { TesseraError } from '../api/errors.js';
import { shapeSize } from '../api/tensor.js';
import type { DType } from '../graph/ir.js';
import { bfloat16ToFloat, floatToBfloat16, floatToHalf } from '../onnx/float-formats.js';
import type { NumericArray } from '../runtime/memory.js';
import type { InputInfo, OpContext, OpDef, Prepared } from './types.js';

type Narrow = 'float16' | 'bfloat16';
const isNarrow = (d: DType | undefined): d is Narrow => d === 'float16' || d === 'bfloat16';

/**
 * Ops that reach Wasm kernels only in float32: widen even where a JS path takes float16. The
 * element-wise ones matter as much as the GEMMs: on an fp16 Whisper encoder their per-element JS
 * loops (half → float → half per value) were most of the run time.
 */
const ALWAYS_WIDEN = new Set([
  'MatMul', 'Gemm', 'FusedMatMul', 'FusedGemm', 'Conv', 'FusedConv', 'ConvTranspose', 'Softmax', 'LogSoftmax',
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sum', 'Mean', 'ReduceMean', 'ReduceSum',
  'Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Gelu', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Erf', 'Sin', 'Cos', 'Softsign',
]);

let halfTable: Float32Array | undefined;

/** float16 bits → float32 for a whole array: one table lookup per element. */
export function widenHalf(src: ArrayLike<number>, dst: Float32Array, n = src.length): void {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    const u = new Uint32Array(halfTable.buffer);
    for (let h = 0; h < 65536; h++) u[h] = halfBitsToFloatBits(h);
  }
  for (let i = 0; i < n; i++) dst[i] = halfTable[src[i]!]!;
}

function halfBitsToFloatBits(h: number): number {
  const s = (h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 31) return s | 0x7f800000 | (m << 13);
  if (e !== 0) return s | ((e + 112) << 23) | (m << 13);
  if (m === 0) return s;
  // Subnormal half: normalise into a float32 exponent.
  let exp = 113, mant = m;
  while ((mant & 0x400) === 0) { mant <<= 1; exp--; }
  return s | (exp << 23) | ((mant & 0x3ff) << 13);
}

export function widen(type: Narrow, src: ArrayLike<number>, dst: Float32Array, n = src.length): void {
  if (type === 'float16') return widenHalf(src, dst, n);
  for (let i = 0; i < n; i++) dst[i] = bfloat16ToFloat(src[i]!);
}

export function narrow(type: Narrow, src: ArrayLike<number>, dst: Uint16Array, n = src.length): void {
  if (type === 'float16' && src instanceof Float32Array) return narrowHalf(src, dst, n);
  const f = type === 'float16' ? floatToHalf : floatToBfloat16;
  for (let i = 0; i < n; i++) dst[i] = f(src[i]!);
}

/**
 * float32 → float16 bits, round to nearest even, for a whole array: floatToHalf's arithmetic on the
 * float bits read through one Uint32Array view (not a store and load per element), which matters
 * for every narrowed output of a widened op.
 */
export function narrowHalf(src: Float32Array, dst: Uint16Array, n = src.length): void {
  const u = new Uint32Array(src.buffer, src.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const x = u[i]!;
    const sign = (x >>> 16) & 0x8000, exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) { dst[i] = sign | 0x7c00 | (mant ? 0x200 : 0); continue; }
    const e = exp - 112;
    if (e >= 31) { dst[i] = sign | 0x7c00; continue; }
    if (e <= 0) {
      if (e < -10) { dst[i] = sign; continue; }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >> shift;
      const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
      if (rem > half || (rem === half && (h & 1))) h++;
      dst[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
    dst[i] = sign | h;
  }
}

const cache = new WeakMap<OpDef, OpDef>();

/** The same op, running narrow float inputs through its float32 implementation when it must. */
export function withWidening(def: OpDef): OpDef {
  let w = cache.get(def);
  if (!w) {
    w = { ...def, prepare: (ctx) => prepareWidened(def, ctx) };
    cache.set(def, w);
  }
  return w;
}

function prepareWidened(def: OpDef, ctx: OpContext): Prepared {
  const type = ctx.inputs.find((x) => isNarrow(x?.dtype))?.dtype as Narrow | undefined;
  if (!type) return def.prepare(ctx);
  if (!ALWAYS_WIDEN.has(ctx.node.opType)) {
    try {
      return def.prepare(ctx);
    } catch (e) {
      // Only "this op does not take float16" is worth a second try in float32.
      if (!(e instanceof TesseraError && e.code === 'UNSUPPORTED_OP' && e.message.includes(type))) throw e;
    }
  }
  const wide = ctx.inputs.map((x) => (x && isNarrow(x.dtype) ? x : undefined));
  // Which widened inputs the op read the values of: those must stay readable for later plans.
  const valueRead = ctx.inputs.map(() => false);
  const inputs = ctx.inputs.map((x, i) => (wide[i] ? widenedInfo(x!, () => { valueRead[i] = true; }) : x));
  const inner = def.prepare({ ...ctx, inputs, input: (i) => inputs[i] ?? ctx.input(i) });
  if (inner.inline || inner.sequences || inner.aliasOf !== undefined) {
    throw new TesseraError('UNSUPPORTED_OP', `${ctx.node.opType}: tessera cannot run it on ${type} inputs`);
  }
  const outputs = inner.outputs.map((o) => (o.dtype === 'float32' ? { dtype: type as DType, dims: o.dims } : o));
  const narrowed = inner.outputs.map((o) => o.dtype === 'float32');
  if (inner.evaluate) {
    const evaluate = inner.evaluate;
    return {
      outputs,
      dataFree: inner.dataFree,
      evaluate: (values) => evaluate(values.map((v, i) => (wide[i] && v ? toFloat32(type, v as Uint16Array) : v)))
        .map((v, j) => (narrowed[j] ? toNarrow(type, v as Float32Array) : v)),
    };
  }
  // Scratch: the op's own, then a float32 copy of every widened input and narrowed output.
  const align = (n: number) => Math.ceil(n / 64) * 64;
  let offset = align(inner.scratchBytes ?? 0);
  const inOffsets = inputs.map((x, i) => {
    if (!wide[i] || x!.constant) return -1;
    const at = offset;
    offset += align(shapeSize(x!.dims) * 4);
    return at;
  });
  const outOffsets = inner.outputs.map((o, j) => {
    if (!narrowed[j]) return -1;
    const at = offset;
    offset += align(shapeSize(o.dims) * 4);
    return at;
  });
  return {
    outputs,
    scratchBytes: offset,
    build: (b) => {
      const ins = b.inputs.map((ptr, i) => {
        const x = inputs[i];
        if (!wide[i] || !x) return ptr;
        const n = shapeSize(x.dims);
        if (x.constant) {
          // Weights: widened once per session, shared by every plan; the narrow original is freed
          // when this op is its only reader and never needs its value at plan time.
          return b.persistent(`widened:${x.name}`, n * 4, (to) => {
            if (type === 'float16') b.k.widen_f16_f32(ptr, to, n);
            else widen(type, b.view(type, ptr, n)() as Uint16Array, b.view('float32', to, n)() as Float32Array, n);
          }, valueRead[i] ? undefined : ptr, !valueRead[i]);
        }
        return b.scratch + inOffsets[i]!;
      });
      const outs = b.outputs.map((ptr, j) => (narrowed[j] ? b.scratch + outOffsets[j]! : ptr));
      const step = inner.build!({ ...b, inputs: ins, outputs: outs });
      const copyIn = ins.flatMap((to, i) => {
        if (!wide[i] || inputs[i]!.constant) return [];
        const n = shapeSize(inputs[i]!.dims), from = b.inputs[i]!;
        if (type === 'float16') return [() => b.k.widen_f16_f32(from, to, n)];
        const src = b.view(type, from, n), dst = b.view('float32', to, n);
        return [() => widen(type, src() as Uint16Array, dst() as Float32Array, n)];
      });
      const copyOut = outs.flatMap((from, j) => {
        if (!narrowed[j]) return [];
        const n = shapeSize(inner.outputs[j]!.dims), to = b.outputs[j]!;
        if (type === 'float16') return [() => b.k.narrow_f32_f16(from, to, n)];
        const src = b.view('float32', from, n), dst = b.view(type, to, n);
        return [() => narrow(type, src() as Float32Array, dst() as Uint16Array, n)];
      });
      return () => {
        for (const c of copyIn) c();
        step();
        for (const c of copyOut) c();
      };
    },
  };
}

function widenedInfo(x: InputInfo, onRead: () => void): InputInfo {
  const type = x.dtype as Narrow;
  let cached: Float32Array | undefined;
  return {
    name: x.name,
    dtype: 'float32',
    dims: x.dims,
    constant: x.constant,
    get value() {
      onRead();
      const v = x.value;
      return v === undefined ? undefined : (cached ??= toFloat32(type, v as Uint16Array));
    },
  };
}

function toFloat32(type: Narrow, v: ArrayLike<number>): Float32Array {
  const out = new Float32Array(v.length);
  widen(type, v, out);
  return out;
}

function toNarrow(type: Narrow, v: NumericArray | string[]): Uint16Array {
  const out = new Uint16Array((v as Float32Array).length);
  narrow(type, v as Float32Array, out);
  return out;
}
