import { TesseraError } from '../api/errors.js';

/** protobufjs hands out int64 fields as numbers or Long-like {low, high} objects. */
export type LongLike = number | { low: number; high: number; unsigned?: boolean } | string;

export function toBigInt(v: LongLike): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string') return BigInt(v);
  const hi = BigInt(v.high | 0) << 32n;
  const lo = BigInt(v.low >>> 0);
  const x = hi | lo;
  return v.unsigned ? BigInt.asUintN(64, x) : BigInt.asIntN(64, x);
}

/** An int64 field that must fit in a JS number (dims, attribute ints, versions). */
export function toSafeNumber(v: LongLike, what: string): number {
  if (typeof v === 'number') return v;
  const b = toBigInt(v);
  // ONNX uses INT64_MAX/MIN as "to the end" in Slice; clamp those instead of failing.
  if (b > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (b < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  const n = Number(b);
  if (!Number.isFinite(n)) throw new TesseraError('INVALID_MODEL', `${what}: ${b} is not a finite integer`);
  return n;
}
