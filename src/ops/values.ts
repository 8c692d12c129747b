/**
 * Plain-JavaScript element helpers for the ops that run outside the Wasm kernels: every dtype,
 * including the 64-bit integers (BigInt lanes) and strings (plan-time arrays).
 */
import { TYPED_ARRAY, shapeSize } from '../api/tensor.js';
import type { DType } from '../graph/ir.js';
import type { NumericArray } from '../runtime/memory.js';
import type { OpContext } from './types.js';

export type Values = NumericArray | string[];

export const isBig = (d: DType): boolean => d === 'int64' || d === 'uint64';

/** A zeroed array of `n` elements of `dtype` (a string[] of '' for strings). */
export function allocValues(dtype: DType, n: number): Values {
  if (dtype === 'string') return new Array<string>(n).fill('');
  return new (TYPED_ARRAY[dtype] as unknown as new (n: number) => NumericArray)(n);
}

/** Converts a JS number or bigint into what an array of `dtype` stores. */
export function toElement(dtype: DType, v: number | bigint | string): number | bigint | string {
  if (dtype === 'string') return String(v);
  if (isBig(dtype)) return typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
  if (dtype === 'bool') return Number(v) ? 1 : 0;
  return Number(v);
}

/**
 * Every present input's value when all are known at plan time (constants, folded values or
 * feeds), else undefined. Reading a feed's value keys the plan by it.
 */
export function knownValues(ctx: OpContext): (Values | undefined)[] | undefined {
  const out: (Values | undefined)[] = [];
  for (const x of ctx.inputs) {
    if (!x) { out.push(undefined); continue; }
    const v = x.value;
    if (v === undefined) return undefined;
    out.push(v as Values);
  }
  return out;
}

/** Strings never live in Wasm memory: a string op runs only when its inputs are known at plan time. */
export function requireKnownStrings(ctx: OpContext): (Values | undefined)[] {
  const v = knownValues(ctx);
  if (!v) {
    ctx.fail('string tensors live outside Wasm memory, so tessera runs this op only when its inputs are known ' +
      'before the run (initializers, constants, or graph inputs fed directly)', 'UNSUPPORTED_OP');
  }
  return v!;
}

/** Validates a shape read from a tensor: non-negative safe integers. */
export function checkShape(ctx: OpContext, dims: readonly number[], what: string): number[] {
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) ctx.fail(`${what} [${dims.join(', ')}] has a negative or invalid dimension`, 'SHAPE_MISMATCH');
  }
  if (!Number.isSafeInteger(shapeSize(dims))) ctx.fail(`${what} [${dims.join(', ')}] is too large`, 'SHAPE_MISMATCH');
  return [...dims];
}

/** Refuses attributes that an op had only before `until` (they became inputs or were dropped). */
export function refuseAttrsFrom(ctx: OpContext, until: number, names: readonly string[], became = 'an input'): void {
  if (ctx.opset < until) return;
  for (const n of names) {
    if (ctx.attrs.has(n)) throw ctx.attrs.error(n, `exists only before opset ${until} (it is ${became} since; the model imports opset ${ctx.opset})`);
  }
}
