/**
 * Typed views of a session's Wasm memory. They go stale when the memory grows, so everything that
 * caches a view also keeps the buffer it came from and re-binds when that changes.
 */
import type { DType } from '../graph/ir.js';
import { TYPED_ARRAY } from '../api/tensor.js';

export type NumericArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

export function viewOf(memory: WebAssembly.Memory, dtype: DType, ptr: number, length: number): NumericArray {
  if (dtype === 'string') throw new Error('string tensors do not live in Wasm memory');
  const Ctor = TYPED_ARRAY[dtype] as unknown as new (b: ArrayBuffer, o: number, n: number) => NumericArray;
  return new Ctor(memory.buffer, ptr, length);
}
