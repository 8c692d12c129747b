import { TesseraError } from './errors.js';
import { packedBits, unpackSubByte } from '../onnx/float-formats.js';

/** The element types of onnxruntime-web's Tensor, with the same names and backing arrays. */
export type TensorType =
  | 'float32' | 'float16' | 'float64'
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'bool' | 'string'
  // ONNX's small formats, held as their bits one element per array slot (int4/uint4 unpacked, as
  // opposed to onnxruntime-web's packed bytes, which the constructor also accepts and unpacks).
  | 'bfloat16' | 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz' | 'float8e8m0' | 'float4e2m1'
  | 'int4' | 'uint4' | 'int2' | 'uint2';

/** The array that holds each element type's data in `Tensor.data`. */
export interface TensorDataTypeMap {
  /** IEEE single precision. */
  float32: Float32Array;
  /** IEEE half precision, as its raw bits (one Uint16 per element), like onnxruntime-web. */
  float16: Uint16Array;
  /** IEEE double precision. */
  float64: Float64Array;
  /** Signed 8-bit integers. */
  int8: Int8Array;
  /** Unsigned 8-bit integers. */
  uint8: Uint8Array;
  /** Signed 16-bit integers. */
  int16: Int16Array;
  /** Unsigned 16-bit integers. */
  uint16: Uint16Array;
  /** Signed 32-bit integers. */
  int32: Int32Array;
  /** Unsigned 32-bit integers. */
  uint32: Uint32Array;
  /** Signed 64-bit integers, as bigint. */
  int64: BigInt64Array;
  /** Unsigned 64-bit integers, as bigint. */
  uint64: BigUint64Array;
  /** One byte per element: 0 is false, 1 is true. */
  bool: Uint8Array;
  /** A plain JavaScript array of strings (never stored in Wasm memory). */
  string: string[];
  /** bfloat16 bits (the top half of a float32), one Uint16 per element. */
  bfloat16: Uint16Array;
  /** float8 E4M3FN bits (no infinities; only 0x7f/0xff are NaN), one byte per element. */
  float8e4m3fn: Uint8Array;
  /** float8 E4M3FNUZ bits (no infinities, no negative zero; 0x80 is NaN), one byte per element. */
  float8e4m3fnuz: Uint8Array;
  /** float8 E5M2 bits (IEEE-like, with infinities and NaNs), one byte per element. */
  float8e5m2: Uint8Array;
  /** float8 E5M2FNUZ bits (no infinities, no negative zero; 0x80 is NaN), one byte per element. */
  float8e5m2fnuz: Uint8Array;
  /** float8 E8M0 bits: an exponent only, value 2^(bits − 127); 0xff is NaN. One byte per element. */
  float8e8m0: Uint8Array;
  /** float4 E2M1 bits in the low 4 bits of each byte, one element per byte (unpacked). */
  float4e2m1: Uint8Array;
  /** Signed 4-bit integers (−8…7), one sign-extended element per byte (unpacked). */
  int4: Int8Array;
  /** Unsigned 4-bit integers (0…15), one element per byte (unpacked). */
  uint4: Uint8Array;
  /** Signed 2-bit integers (−2…1), one sign-extended element per byte (unpacked). */
  int2: Int8Array;
  /** Unsigned 2-bit integers (0…3), one element per byte (unpacked). */
  uint2: Uint8Array;
}
export type TensorData = TensorDataTypeMap[TensorType];

type NumericType = Exclude<TensorType, 'string'>;
type ArrayCtor = { new (n: number): TensorData; new (src: ArrayLike<number> | ArrayLike<bigint>): TensorData; BYTES_PER_ELEMENT: number };

export const TYPED_ARRAY: Record<NumericType, ArrayCtor> = {
  float32: Float32Array as unknown as ArrayCtor, float16: Uint16Array as unknown as ArrayCtor,
  float64: Float64Array as unknown as ArrayCtor, int8: Int8Array as unknown as ArrayCtor,
  uint8: Uint8Array as unknown as ArrayCtor, int16: Int16Array as unknown as ArrayCtor,
  uint16: Uint16Array as unknown as ArrayCtor, int32: Int32Array as unknown as ArrayCtor,
  uint32: Uint32Array as unknown as ArrayCtor, int64: BigInt64Array as unknown as ArrayCtor,
  uint64: BigUint64Array as unknown as ArrayCtor, bool: Uint8Array as unknown as ArrayCtor,
  bfloat16: Uint16Array as unknown as ArrayCtor, float8e4m3fn: Uint8Array as unknown as ArrayCtor,
  float8e4m3fnuz: Uint8Array as unknown as ArrayCtor, float8e5m2: Uint8Array as unknown as ArrayCtor,
  float8e5m2fnuz: Uint8Array as unknown as ArrayCtor, float4e2m1: Uint8Array as unknown as ArrayCtor,
  float8e8m0: Uint8Array as unknown as ArrayCtor,
  int4: Int8Array as unknown as ArrayCtor, uint4: Uint8Array as unknown as ArrayCtor,
  int2: Int8Array as unknown as ArrayCtor, uint2: Uint8Array as unknown as ArrayCtor,
};

/** Bytes per element as stored in Wasm memory; strings never live there. */
export function bytesPerElement(type: TensorType): number {
  return type === 'string' ? 0 : TYPED_ARRAY[type].BYTES_PER_ELEMENT;
}

export function shapeSize(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function checkDims(dims: readonly number[]): void {
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new TesseraError('INVALID_ARGUMENT', `Tensor dims must be non-negative integers, got [${dims.join(', ')}]`);
    }
  }
}

function matchesType(type: TensorType, data: unknown): boolean {
  if (type === 'string') return Array.isArray(data);
  if (type === 'bool' || type === 'int4' || type === 'int2') return data instanceof Uint8Array || data instanceof TYPED_ARRAY[type];
  return data instanceof TYPED_ARRAY[type];
}

/**
 * An n-dimensional array, shaped like onnxruntime-web's Tensor so code can switch by changing an
 * import: `new Tensor('float32', data, [1, 1, 28, 28])`, `.type`, `.data`, `.dims`, `.size`.
 */
export class Tensor<T extends TensorType = TensorType> {
  /** The element type, e.g. 'float32'. */
  readonly type: T;
  /** The elements in row-major order, in the array `TensorDataTypeMap` gives for `type`. */
  readonly data: TensorDataTypeMap[T];
  /** The shape (frozen); `[]` is a scalar. */
  readonly dims: readonly number[];
  /** The number of elements: the product of `dims`. */
  readonly size: number;

  constructor(type: T, data: TensorDataTypeMap[T] | readonly number[] | readonly bigint[] | readonly boolean[] | readonly string[], dims?: readonly number[]);
  /** onnxruntime-web's inferred form: `new Tensor(float32Array, dims)`. */
  constructor(data: TensorDataTypeMap[T], dims?: readonly number[]);
  constructor(a: unknown, b?: unknown, c?: unknown) {
    let type: TensorType;
    let data: unknown;
    let dims: readonly number[] | undefined;
    if (typeof a === 'string') {
      type = a as TensorType;
      data = b;
      dims = c as readonly number[] | undefined;
    } else {
      data = a;
      dims = b as readonly number[] | undefined;
      type = inferType(data);
    }
    if (!(type in TYPED_ARRAY) && type !== 'string') {
      throw new TesseraError('INVALID_ARGUMENT', `Unknown tensor type '${String(type)}'`);
    }
    data = coerceData(type, data);
    if (dims) checkDims(dims);
    data = unpackIfPacked(type, data, dims);
    const length = (data as { length: number }).length;
    dims = dims ? [...dims] : [length];
    const size = shapeSize(dims);
    if (size !== length) {
      throw new TesseraError('INVALID_ARGUMENT',
        `Tensor data has ${length} elements but dims [${dims.join(', ')}] need ${size}`);
    }
    this.type = type as T;
    this.data = data as TensorDataTypeMap[T];
    this.dims = Object.freeze(dims) as readonly number[];
    this.size = size;
  }

  /** onnxruntime-web compatibility: the data is always on the CPU here. */
  getData(): Promise<TensorDataTypeMap[T]> {
    return Promise.resolve(this.data);
  }

  /** onnxruntime-web compatibility: tessera tensors always live on the CPU. */
  get location(): 'cpu' { return 'cpu'; }

  /** A view of the same data with other dims (no copy). */
  reshape(dims: readonly number[]): Tensor<T> {
    return new Tensor(this.type, this.data, dims);
  }

  /** onnxruntime-web compatibility; a no-op, since CPU tensors are garbage-collected. */
  dispose(): void {
    // CPU tensors hold nothing the garbage collector does not already own.
  }
}

/**
 * onnxruntime-web passes int4/uint4 packed two to a byte (ceil(size / 2) bytes); tessera keeps one
 * element per byte, sign-extended for int4, so the rest of the runtime indexes them like int8.
 */
function unpackIfPacked(type: TensorType, data: unknown, dims: readonly number[] | undefined): unknown {
  const bits = packedBits(type);
  if (!bits || !dims) {
    return (type === 'int4' || type === 'int2') && data instanceof Uint8Array ? new Int8Array(data.buffer, data.byteOffset, data.length) : data;
  }
  const size = shapeSize(dims), bytes = data as Uint8Array;
  if (bytes.length === size || bytes.length !== Math.ceil((size * bits) / 8)) {
    return (type === 'int4' || type === 'int2') && data instanceof Uint8Array ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) : data;
  }
  return unpackSubByte(bytes, size, bits, type === 'int4' || type === 'int2');
}

function inferType(data: unknown): TensorType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof BigUint64Array) return 'uint64';
  if (Array.isArray(data) && data.every((s) => typeof s === 'string')) return 'string';
  throw new TesseraError('INVALID_ARGUMENT', 'Cannot infer the tensor type from this data; pass the type explicitly');
}

function coerceData(type: TensorType, data: unknown): unknown {
  if (matchesType(type, data)) return data;
  if (Array.isArray(data)) {
    if (type === 'string') return data.map(String);
    if (type === 'int64' || type === 'uint64') return new TYPED_ARRAY[type](data.map((v) => BigInt(v)));
    if (type === 'bool') return new Uint8Array(data.map((v) => (v ? 1 : 0)));
    return new TYPED_ARRAY[type](data.map(Number));
  }
  const got = data === null ? 'null' : (data as object)?.constructor?.name ?? typeof data;
  throw new TesseraError('INVALID_ARGUMENT', `A '${type}' tensor needs ${type === 'string' ? 'a string[]' : (type === 'bool' ? 'Uint8Array' : TYPED_ARRAY[type].name)} (or a plain array), got ${got}`);
}
