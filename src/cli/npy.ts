/**
 * NumPy .npy files (format versions 1–3): little-endian, C order. Fortran order and object arrays
 * are refused with a message saying so, rather than read wrongly.
 */
import { TesseraError } from '../api/errors.js';
import { TYPED_ARRAY, Tensor, type TensorType } from '../api/tensor.js';

const DESCR: Record<string, Exclude<TensorType, 'string'>> = {
  '<f4': 'float32', '<f8': 'float64', '<f2': 'float16', '|i1': 'int8', '|u1': 'uint8', '<i2': 'int16', '<u2': 'uint16',
  '<i4': 'int32', '<u4': 'uint32', '<i8': 'int64', '<u8': 'uint64', '|b1': 'bool',
};
const BY_TYPE = Object.fromEntries(Object.entries(DESCR).map(([d, t]) => [t, d])) as Record<string, string>;

export function readNpy(bytes: Uint8Array, what = 'the .npy file'): Tensor {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw new TesseraError('INVALID_ARGUMENT', `${what} is not a .npy file (bad magic)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new TesseraError('INVALID_ARGUMENT', `${what}: cannot parse the header ${header.trim()}`);
  if (fortran === 'True') throw new TesseraError('INVALID_ARGUMENT', `${what} is in Fortran order; save it with np.ascontiguousarray(a) first`);
  const type = DESCR[descr.replace(/^=/, '<')];
  if (!type) throw new TesseraError('INVALID_ARGUMENT', `${what}: dtype '${descr}' is not supported (big-endian and object arrays are not)`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const size = dims.reduce((a, b) => a * b, 1);
  const data = bytes.slice(start + headerLen);
  const ctor = TYPED_ARRAY[type] as unknown as { BYTES_PER_ELEMENT: number; new (b: ArrayBufferLike, o: number, n: number): never };
  const bpe = ctor.BYTES_PER_ELEMENT;
  if (data.length < size * bpe) throw new TesseraError('INVALID_ARGUMENT', `${what}: shape (${dims}) needs ${size * bpe} bytes of data, the file has ${data.length}`);
  return new Tensor(type, new ctor(data.buffer, data.byteOffset, size), dims);
}

export function writeNpy(t: Tensor): Uint8Array {
  if (t.type === 'string') throw new TesseraError('INVALID_ARGUMENT', 'string tensors cannot be written as .npy');
  const descr = BY_TYPE[t.type]!;
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // The header is padded with spaces so the data starts on a 64-byte boundary.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1) + '\n';
  const data = t.data as unknown as ArrayBufferView;
  const out = new Uint8Array(total + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}
