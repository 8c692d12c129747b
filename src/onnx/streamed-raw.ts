/**
 * A large raw_data field that a streamed load took out of the model: its size, how to read its
 * bytes again (from the file by offset, or from the Wasm block it was streamed into), and, for the
 * latter, the block itself, which the load step adopts as the initializer's home instead of copying.
 * In the skeleton ModelProto the field holds a 12-byte stub: a per-process random tag and the
 * entry's index.
 */

/** Bytes of a tensor that are not in the skeleton. */
export interface StreamedRaw {
  /** Length of the raw_data field. */
  length: number;
  /** Copies the bytes into `dest` (dest.length === length). */
  readInto(dest: Uint8Array): void;
  /** From a file: copies `dest.length` of the bytes from byte `at` of them (a row of a table). */
  readRange?(dest: Uint8Array, at: number): void;
  /** Set when the bytes already sit in a Wasm heap block of `owner` (an Engine), at `ptr`. */
  resident?: ResidentBlock;
}

/** A Wasm heap block holding a tensor's bytes, which the load step may take over. */
export interface ResidentBlock {
  /** The engine whose heap holds the block. */
  owner: unknown;
  ptr: number;
  bytes: number;
  /** Set once an initializer took the block over (so it is neither freed nor taken twice). */
  adopted?: boolean;
}

// Random per process: a crafted model cannot name another tensor's stream entry by accident.
const TAG = Uint8Array.from({ length: 8 }, () => Math.floor(Math.random() * 256));

/** The 12 bytes that stand in the skeleton for the `index`th sunk raw_data field. */
export function stubBytes(index: number): Uint8Array {
  const out = new Uint8Array(12);
  out.set(TAG);
  new DataView(out.buffer).setUint32(8, index, true);
  return out;
}

/** The entry a raw_data field stands for, or undefined when it holds real bytes. */
export function streamedEntry(raw: Uint8Array, raws: readonly StreamedRaw[] | undefined): StreamedRaw | undefined {
  if (!raws || raw.length !== 12) return undefined;
  for (let i = 0; i < 8; i++) if (raw[i] !== TAG[i]) return undefined;
  return raws[new DataView(raw.buffer, raw.byteOffset, 12).getUint32(8, true)];
}
