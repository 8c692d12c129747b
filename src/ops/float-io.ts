/**
 * Float tensors read into and written from float64 scratch, so the TypeScript ops that compute in
 * double (losses, attention, RMSNorm, rotary) handle float32, float64 and float16 alike.
 */
import type { DType } from '../graph/ir.js';
import type { NumericArray } from '../runtime/memory.js';
import { floatToHalf, halfToFloat } from './math/cast.js';

export const FLOAT_TYPES = ['float32', 'float64', 'float16'];

export function readFloats(dtype: DType, src: NumericArray, dst: Float64Array, n = dst.length): void {
  if (dtype === 'float16') for (let i = 0; i < n; i++) dst[i] = halfToFloat(src[i] as number);
  else for (let i = 0; i < n; i++) dst[i] = src[i] as number;
}

export function writeFloats(dtype: DType, src: Float64Array, dst: NumericArray, n = src.length): void {
  if (dtype === 'float16') for (let i = 0; i < n; i++) dst[i] = floatToHalf(src[i]!);
  else for (let i = 0; i < n; i++) dst[i] = src[i]!;
}
