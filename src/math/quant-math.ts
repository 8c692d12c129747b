/**
 * Arithmetic shared by the quantized ops and the quantizer: ONNX rounds half to even and saturates
 * to the target type; scales are float32 (or float16 bits); zero points are 8/16-bit integers.
 */
import type { DType } from '../graph/ir.js';
import type { NumericArray } from '../runtime/memory.js';
import { type MiniFloatType, bfloat16ToFloat, halfToFloat, miniFloatToFloat } from '../onnx/float-formats.js';

export const QUANT_RANGE: Partial<Record<DType, [number, number]>> = {
  uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767], int32: [-2147483648, 2147483647],
  int4: [-8, 7], uint4: [0, 15], int2: [-2, 1], uint2: [0, 3],
};

/** Quantized float formats (stored as their bits): values are not rounded to integers. */
export const MINI_FLOATS: readonly DType[] = ['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float4e2m1'];

/** numpy's rint: ties go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x), d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export function saturate(v: number, dtype: DType): number {
  const r = QUANT_RANGE[dtype]!;
  return v < r[0] ? r[0] : v > r[1] ? r[1] : v;
}

/**
 * QuantizeLinear's integer for one value: float32 x / scale, rounded half to even, plus the zero
 * point, through `sat` (saturator of the target type).
 */
export function quantizeValue(x: number, scale: number, zeroPoint: number, sat: (v: number) => number): number {
  return sat(roundHalfEven(Math.fround(x / scale)) + zeroPoint);
}

/** saturate() with the range looked up once, for hot loops. */
export function saturator(dtype: DType): (v: number) => number {
  const [lo, hi] = QUANT_RANGE[dtype]!;
  return (v) => (v < lo ? lo : v > hi ? hi : v);
}

/** Reads element i of a float tensor as a number (float16 is stored as its bits). */
export function floatReader(dtype: DType): (a: NumericArray, i: number) => number {
  if (dtype === 'float16') return (a, i) => halfToFloat(a[i] as number);
  if (dtype === 'bfloat16') return (a, i) => bfloat16ToFloat(a[i] as number);
  if (MINI_FLOATS.includes(dtype)) return (a, i) => miniFloatToFloat(dtype as MiniFloatType, a[i] as number);
  return (a, i) => a[i] as number;
}
