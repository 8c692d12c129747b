/**
 * onnx.TensorProto → ConstTensor. Raw bytes stay views on the model buffer (or the external data
 * file) and are copied into Wasm memory once; a typed array is made only when something reads
 * `data`. Sub-byte types (int4, float4e2m1, …) are unpacked to one element per byte.
 */
import { TesseraError } from '../api/errors.js';
import { TYPED_ARRAY, shapeSize } from '../api/tensor.js';
import type { ConstTensor, DType } from '../graph/ir.js';
import { dtypeFromOnnx, onnxTypeName } from './dtype.js';
import { type ExternalFiles, resolveExternal } from './external-data.js';
import { packedBits, unpackSubByte } from './float-formats.js';
import { type LongLike, toBigInt, toSafeNumber } from './long.js';
import { type StreamedRaw, streamedEntry } from './streamed-raw.js';

export interface TensorProtoLike {
  name?: string | null;
  dims?: LongLike[] | null;
  dataType?: number | null;
  rawData?: Uint8Array | null;
  floatData?: number[] | null;
  int32Data?: number[] | null;
  int64Data?: LongLike[] | null;
  doubleData?: number[] | null;
  uint64Data?: LongLike[] | null;
  stringData?: Uint8Array[] | null;
  dataLocation?: number | null;
  externalData?: { key?: string | null; value?: string | null }[] | null;
  segment?: unknown;
}

/** Largest tensor tessera will materialise: Wasm memory is 4 GiB at most. */
const MAX_TENSOR_BYTES = 2 ** 32;

export function readDims(raw: LongLike[] | null | undefined, where: string): number[] {
  const dims = (raw ?? []).map((d) => toSafeNumber(d, where));
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw new TesseraError('INVALID_MODEL', `${where}: invalid dimension ${d} in [${dims.join(', ')}]`);
  }
  return dims;
}

export function decodeTensorProto(t: TensorProtoLike, where: string, files?: ExternalFiles, streamed?: readonly StreamedRaw[]): ConstTensor {
  const code = t.dataType ?? 0;
  const dtype = dtypeFromOnnx(code);
  const label = `${where}${t.name ? ` '${t.name}'` : ''}`;
  if (!dtype) throw new TesseraError('UNSUPPORTED_OP', `${label}: element type ${onnxTypeName(code)} is not supported`);
  const dims = readDims(t.dims, label);
  const size = shapeSize(dims);
  if (!Number.isSafeInteger(size)) throw new TesseraError('INVALID_MODEL', `${label}: dims [${dims.join(', ')}] overflow`);
  if (dtype !== 'string' && size * TYPED_ARRAY[dtype].BYTES_PER_ELEMENT > MAX_TENSOR_BYTES) {
    throw new TesseraError('OUT_OF_MEMORY', `${label}: ${size} elements do not fit in Wasm memory`);
  }
  if (t.dataLocation === 1) {
    if (dtype === 'string') throw new TesseraError('INVALID_MODEL', `${label}: string tensors cannot have external data`);
    const found = resolveExternal(t.externalData ?? [], storedBytes(dtype, size), files, label);
    if (typeof found !== 'function') return fromRaw(dtype, dims, size, found);
    if (packedBits(dtype)) {
      const bytes = new Uint8Array(storedBytes(dtype, size));
      found(bytes);
      return fromRaw(dtype, dims, size, bytes);
    }
    // Read on demand, straight into wherever the caller wants the bytes (Wasm memory at load).
    return lazyData({ dtype, dims, readInto: found }, () => {
      const bytes = new Uint8Array(size * TYPED_ARRAY[dtype].BYTES_PER_ELEMENT);
      found(bytes);
      return typedFrom(dtype, bytes, size);
    });
  }
  const raw = t.rawData;
  const entry = raw && dtype !== 'string' ? streamedEntry(raw, streamed) : undefined;
  if (entry && dtype !== 'string') {
    if (entry.length !== storedBytes(dtype, size)) throw mismatch(label, dtype, size, entry.length, 'bytes of raw_data');
    if (packedBits(dtype)) {
      const bytes = new Uint8Array(entry.length);
      entry.readInto(bytes);
      return fromRaw(dtype, dims, size, bytes);
    }
    // Streamed past: read again from the file, or taken over where it already is in Wasm memory.
    return lazyData({ dtype, dims, readInto: entry.readInto, readRange: entry.readRange, resident: entry.resident }, () => {
      const bytes = new Uint8Array(entry.length);
      entry.readInto(bytes);
      return typedFrom(dtype, bytes, size);
    });
  }
  if (dtype !== 'string' && raw && raw.length > 0) {
    if (raw.length !== storedBytes(dtype, size)) throw mismatch(label, dtype, size, raw.length, 'bytes of raw_data');
    return fromRaw(dtype, dims, size, raw);
  }
  return { dtype, dims, data: readData(t, dtype, size, label) };
}

/** Bytes a tensor's values take in an ONNX file (sub-byte types packed). */
function storedBytes(dtype: Exclude<DType, 'string'>, size: number): number {
  const bits = packedBits(dtype);
  return bits ? Math.ceil((size * bits) / 8) : size * TYPED_ARRAY[dtype].BYTES_PER_ELEMENT;
}

function fromRaw(dtype: Exclude<DType, 'string'>, dims: number[], size: number, raw: Uint8Array): ConstTensor {
  const bits = packedBits(dtype);
  if (bits) return { dtype, dims, data: unpackSubByte(raw, size, bits, dtype === 'int4' || dtype === 'int2') };
  return lazyData({ dtype, dims, raw }, () => typedFrom(dtype, raw, size));
}

/** A typed array over `bytes`: a view when aligned, else one copy (Buffer#slice would not copy). */
function typedFrom(dtype: Exclude<DType, 'string'>, bytes: Uint8Array, size: number): ArrayLike<number> {
  const Ctor = TYPED_ARRAY[dtype];
  const src = bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? bytes : new Uint8Array(bytes);
  return new (Ctor as unknown as new (b: ArrayBufferLike, o: number, n: number) => ArrayLike<number>)(src.buffer, src.byteOffset, size);
}

/** `data` made on first read: most weights go to Wasm memory as bytes and are never read in JS. */
function lazyData(t: Omit<ConstTensor, 'data'>, make: () => ConstTensor['data']): ConstTensor {
  let cached: ConstTensor['data'] | undefined;
  return Object.defineProperty(t, 'data', {
    enumerable: true,
    get: () => (cached ??= make()),
    set: (v: ConstTensor['data']) => { cached = v; },
  }) as ConstTensor;
}

function mismatch(label: string, dtype: DType, size: number, got: number, unit: string): TesseraError {
  return new TesseraError('INVALID_MODEL', `${label}: ${dtype} tensor needs ${size} elements but its data has ${got} ${unit}`);
}

function readData(t: TensorProtoLike, dtype: DType, size: number, label: string): ConstTensor['data'] {
  if (dtype === 'string') {
    const s = t.stringData ?? [];
    if (s.length !== size) throw mismatch(label, dtype, size, s.length, 'strings');
    const dec = new TextDecoder();
    return s.map((b) => dec.decode(b));
  }
  const Ctor = TYPED_ARRAY[dtype];
  const fromField = typedField(t, dtype);
  const bits = packedBits(dtype);
  if (bits) {
    // int32_data holds the packed bytes, one per entry.
    const want = storedBytes(dtype, size);
    if (fromField.length !== want) throw mismatch(label, dtype, size, fromField.length, `packed bytes (${want} expected)`);
    return unpackSubByte(Array.from(fromField as ArrayLike<number>, (v) => Number(v) & 0xff), size, bits, dtype === 'int4' || dtype === 'int2');
  }
  if (fromField.length !== size) {
    // An empty tensor may carry no field at all.
    if (size === 0 && fromField.length === 0) return new Ctor(0) as ArrayLike<number>;
    throw mismatch(label, dtype, size, fromField.length, 'values');
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    const out = new Ctor(size) as unknown as BigInt64Array;
    const src = fromField as LongLike[];
    for (let i = 0; i < size; i++) out[i] = dtype === 'uint64' ? BigInt.asUintN(64, toBigInt(src[i]!)) : toBigInt(src[i]!);
    return out as unknown as ArrayLike<bigint>;
  }
  const out = new Ctor(size) as unknown as Float64Array;
  const src = fromField as ArrayLike<number | LongLike>;
  for (let i = 0; i < size; i++) {
    const v = src[i]!;
    out[i] = typeof v === 'number' ? v : Number(toBigInt(v));
  }
  return out;
}

/** Which typed field of TensorProto holds a dtype's values, per onnx.proto's comments. */
function typedField(t: TensorProtoLike, dtype: DType): ArrayLike<number | LongLike> {
  switch (dtype) {
    case 'float32': return t.floatData ?? [];
    case 'float64': return t.doubleData ?? [];
    case 'int64': return t.int64Data ?? [];
    case 'uint32': case 'uint64': return t.uint64Data ?? [];
    default: return t.int32Data ?? []; // int32, int16, int8, uint16, uint8, bool, float16/bfloat16/float8 bits
  }
}
