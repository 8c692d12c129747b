import type { DType } from '../graph/ir.js';

/** ONNX TensorProto.DataType numbers → tessera dtypes (undefined: not supported). */
const BY_CODE: Record<number, DType> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64',
  8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64',
  16: 'bfloat16', 17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz',
  21: 'uint4', 22: 'int4', 23: 'float4e2m1', 24: 'float8e8m0', 25: 'uint2', 26: 'int2',
};

const NAMES: Record<number, string> = {
  0: 'UNDEFINED', 14: 'COMPLEX64', 15: 'COMPLEX128',
};

export function dtypeFromOnnx(code: number): DType | undefined {
  return BY_CODE[code];
}

export function onnxCodeOf(dtype: DType): number {
  for (const [code, t] of Object.entries(BY_CODE)) if (t === dtype) return Number(code);
  throw new Error(`no ONNX code for ${dtype}`);
}

/** A readable name for an ONNX type code, for error messages. */
export function onnxTypeName(code: number): string {
  const t = BY_CODE[code];
  return t ?? NAMES[code] ?? `type ${code}`;
}
