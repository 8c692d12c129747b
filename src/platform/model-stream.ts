/**
 * A model opened for a streamed load: its bytes in order as a ChunkSource, and, for a file, a way
 * to read any range again later (the load step reads each large initializer straight into Wasm
 * memory). Platform-neutral; Node's files are in `node-model-file.ts`, downloads in `fetch-model.ts`.
 */
import type { ChunkSource } from '../onnx/stream-walk.js';

/** A model being read in chunks. */
export interface OpenedModel {
  /** The model's bytes, in order. */
  source: ChunkSource;
  /** Files only: reads `dest.length` bytes at `offset` (synchronous: called while weights are written). */
  readAt?(dest: Uint8Array, offset: number): void;
  /** Called once when the load is over: `ok` commits what a download wrote to the cache. */
  close(ok: boolean): Promise<void>;
}
