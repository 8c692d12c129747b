/**
 * A model file opened by handle (Node): read in 64 KiB chunks for the walk over its small messages,
 * large initializers skipped by seeking, then read by offset straight into Wasm memory. The whole
 * file is never in a JavaScript buffer.
 */
import { fstatSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { TesseraError } from '../api/errors.js';
import type { OpenedModel } from './model-stream.js';

const CHUNK = 1 << 16;
// After a seek past a weight, what follows is usually the next tensor's few header bytes and then
// its own weight, skipped again: read a small chunk first.
const CHUNK_AFTER_SEEK = 1 << 12;

/** Opens a model file for a streamed load; `onProgress` hears the position as the walk moves. */
export async function openModelFile(path: string, onProgress?: (loaded: number, total: number) => void): Promise<OpenedModel> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new TesseraError('INVALID_ARGUMENT', `Cannot read the model file '${path}': ${(e as Error).message}`, { cause: e });
  }
  const fh = handle;
  let size: number, mtimeMs: number;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
    mtimeMs = st.mtimeMs;
  } catch (e) {
    await fh.close();
    throw new TesseraError('INVALID_ARGUMENT', `Cannot read the model file '${path}': ${(e as Error).message}`, { cause: e });
  }
  let position = 0, closed = false, sought = false;
  const readAt = (dest: Uint8Array, offset: number) => {
    if (closed) throw new TesseraError('INTERNAL', `The model file '${path}' was closed once the session was created; its weights are in Wasm memory`);
    // A session reading tables on demand keeps reading after create: the file must be the same one.
    const st = fstatSync(fh.fd);
    if (st.size !== size || st.mtimeMs !== mtimeMs) {
      throw new TesseraError('INVALID_MODEL', `The model file '${path}' changed since the session opened it (size ${size} → ${st.size}); ` +
        'a session reading tables on demand (tablesOnDemand) needs it unchanged: create the session again, or pass tablesOnDemand: false');
    }
    for (let done = 0; done < dest.length;) {
      const n = readSync(fh.fd, dest, done, Math.min(dest.length - done, 1 << 30), offset + done);
      if (n <= 0) throw new TesseraError('INVALID_MODEL', `The model file '${path}' ended early (read ${done} of ${dest.length} bytes at byte ${offset}); was it changed while loading?`);
      done += n;
    }
  };
  return {
    source: {
      size,
      async next() {
        if (position >= size) return undefined;
        const buf = new Uint8Array(Math.min(sought ? CHUNK_AFTER_SEEK : CHUNK, size - position));
        sought = false;
        // Read in place, like the weights: a few KiB from the page cache take microseconds, where
        // each of the walk's ~150 reads through the thread pool (FileHandle.read) cost a round trip.
        const bytesRead = readSync(fh.fd, buf, 0, buf.length, position);
        if (bytesRead <= 0) return undefined;
        position += bytesRead;
        onProgress?.(position, size);
        return bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
      },
      seek(p: number) { position = p; sought = true; },
    },
    readAt,
    async close() {
      if (closed) return;
      closed = true;
      onProgress?.(size, size);
      await fh.close();
    },
  };
}
