/**
 * Typed views of a session's Wasm memory. They go stale when the memory grows, so everything that
 * caches a view also keeps the buffer it came from and re-binds when that changes.
 */
import type { DType } from '../graph/ir.js';
import { TYPED_ARRAY } from '../api/tensor.js';
import { platform } from '../platform/platform.js';

export type NumericArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

export function viewOf(memory: WebAssembly.Memory, dtype: DType, ptr: number, length: number): NumericArray {
  if (dtype === 'string') throw new Error('string tensors do not live in Wasm memory');
  const Ctor = TYPED_ARRAY[dtype] as unknown as new (b: ArrayBuffer, o: number, n: number) => NumericArray;
  return new Ctor(memory.buffer, ptr, length);
}

/** Outputs at least this large are copied into memory that is not zero-filled first. */
const UNINITIALIZED_MIN_BYTES = 1 << 16;

/**
 * A copy of `length` elements at `ptr` in an ArrayBuffer of its own, which the caller owns (a run's
 * output: later runs reuse the Wasm memory it came from).
 */
export function copyOut(memory: WebAssembly.Memory, dtype: DType, ptr: number, length: number): NumericArray {
  const src = viewOf(memory, dtype, ptr, length);
  if (src.byteLength < UNINITIALIZED_MIN_BYTES) return src.slice();
  const Ctor = TYPED_ARRAY[dtype as Exclude<DType, 'string'>] as unknown as new (b: ArrayBuffer, o: number, n: number) => NumericArray;
  const dst = new Ctor(platform.uninitializedBuffer(src.byteLength), 0, length);
  dst.set(src as never); // every byte: nothing of the uninitialized memory is left
  return dst;
}
