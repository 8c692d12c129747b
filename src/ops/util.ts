/** Small shape helpers shared by the op families. */
import type { OpContext } from './types.js';

export function normalizeAxis(ctx: OpContext, axis: number, rank: number, what = 'axis'): number {
  if (axis < -rank || axis >= Math.max(rank, 1)) ctx.fail(`${what} ${axis} is out of range for rank ${rank}`, 'INVALID_ATTRIBUTE');
  return axis < 0 ? axis + rank : axis;
}

export function product(dims: readonly number[], from = 0, to = dims.length): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= dims[i]!;
  return n;
}

export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]!; }
  return s;
}

/** Numpy-style broadcasting of several shapes, or an error naming the node and the shapes. */
export function broadcastShapes(ctx: OpContext, shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (d === out[o]) continue;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1) ctx.fail(`cannot broadcast shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')}`, 'SHAPE_MISMATCH');
    }
  }
  return out;
}

/** Element strides of `dims` viewed in an output of rank `rank` (0 where it broadcasts). */
export function broadcastStrides(dims: readonly number[], out: readonly number[]): number[] {
  const own = stridesOf(dims);
  return out.map((_, o) => {
    const i = o - (out.length - dims.length);
    return i < 0 || dims[i] === 1 ? 0 : own[i]!;
  });
}

/**
 * Merges adjacent output dims wherever every operand walks them contiguously (or broadcasts both),
 * so most broadcasts become one to three flat loops.
 */
export function collapse(out: readonly number[], strides: readonly (readonly number[])[]): { dims: number[]; strides: number[][] } {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 1) continue;
    const last = dims.length - 1;
    const mergeable = last >= 0 && strides.every((s, k) => st[k]![last] === s[i]! * out[i]!);
    if (mergeable) {
      dims[last] = dims[last]! * out[i]!;
      strides.forEach((s, k) => { st[k]![last] = s[i]!; });
    } else {
      dims.push(out[i]!);
      strides.forEach((s, k) => st[k]!.push(s[i]!));
    }
  }
  return { dims, strides: st };
}

/** Reads an int list from a constant input (int32 or int64) as numbers. */
export function constInts(ctx: OpContext, i: number, what: string): number[] | undefined {
  const x = ctx.inputs[i];
  if (!x) return undefined;
  const v = x.value;
  if (v === undefined) ctx.fail(`${what} (input ${i}, '${x.name}') must be a constant or computable from shapes at load time`, 'UNSUPPORTED_OP');
  return Array.from(v as ArrayLike<number | bigint>, (e) => clampToSafe(e));
}

/** Like constInts for an input the op cannot do without: missing → INVALID_MODEL naming it. */
export function requiredInts(ctx: OpContext, i: number, what: string): number[] {
  const v = constInts(ctx, i, what);
  if (v === undefined) ctx.fail(`${what} (input ${i}) is required but missing`, 'INVALID_MODEL');
  return v!;
}

function clampToSafe(e: number | bigint): number {
  if (typeof e === 'number') return e;
  if (e > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (e < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(e);
}

export function requireDtype(ctx: OpContext, i: number, allowed: readonly string[]): void {
  const x = ctx.input(i);
  if (!allowed.includes(x.dtype)) {
    ctx.fail(`input ${i} ('${x.name}') has type ${x.dtype}; tessera's ${ctx.node.opType} supports ${allowed.join(', ')}`, 'UNSUPPORTED_OP');
  }
}
