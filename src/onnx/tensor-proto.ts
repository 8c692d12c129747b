/** onnx.TensorProto → ConstTensor. Raw bytes stay views on the model buffer when aligned. */
import { TesseraError } from '../api/errors.js';
import { TYPED_ARRAY, shapeSize } from '../api/tensor.js';
import type { ConstTensor, DType } from '../graph/ir.js';
import { dtypeFromOnnx, onnxTypeName } from './dtype.js';
import { type LongLike, toBigInt, toSafeNumber } from './long.js';

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

export function decodeTensorProto(t: TensorProtoLike, where: string): ConstTensor {
  const code = t.dataType ?? 0;
  const dtype = dtypeFromOnnx(code);
  const label = `${where}${t.name ? ` '${t.name}'` : ''}`;
  if (!dtype) throw new TesseraError('UNSUPPORTED_OP', `${label}: element type ${onnxTypeName(code)} is not supported`);
  const dims = readDims(t.dims, label);
  const size = shapeSize(dims);
  if (!Number.isSafeInteger(size)) throw new TesseraError('INVALID_MODEL', `${label}: dims [${dims.join(', ')}] overflow`);
  if (t.dataLocation === 1) {
    throw new TesseraError('UNSUPPORTED_OP', `${label}: external data is not supported yet (the tensor's data lives in another file)`);
  }
  if (dtype !== 'string' && size * TYPED_ARRAY[dtype].BYTES_PER_ELEMENT > MAX_TENSOR_BYTES) {
    throw new TesseraError('OUT_OF_MEMORY', `${label}: ${size} elements do not fit in Wasm memory`);
  }
  const data = readData(t, dtype, size, label);
  return { dtype, dims, data };
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
  const bpe = Ctor.BYTES_PER_ELEMENT;
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== size * bpe) throw mismatch(label, dtype, size, raw.length, 'bytes of raw_data');
    // A view needs an aligned offset; misaligned raw_data is copied once.
    const bytes = raw.byteOffset % bpe === 0 ? raw : new Uint8Array(raw); // (Buffer#slice would not copy)
    return new (Ctor as unknown as new (b: ArrayBufferLike, o: number, n: number) => ArrayLike<number>)(bytes.buffer, bytes.byteOffset, size);
  }
  const fromField = typedField(t, dtype);
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
    default: return t.int32Data ?? []; // int32, int16, int8, uint16, uint8, bool, float16 bits
  }
}
