/**
 * External data beside a model file (Node): each tensor is read from disk straight into the bytes
 * it is given (Wasm memory at load), so a large model never has a second copy in JS. Files are
 * opened on first use; beside a model they must resolve — after symlinks — inside its directory.
 * Files named by path in the `externalData` option are read the same way.
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { TesseraError } from '../api/errors.js';
import type { ExternalFiles } from '../onnx/external-data.js';

export interface ClosableFiles extends ExternalFiles {
  close(): void;
}

export function filesBeside(modelPath: string): ClosableFiles {
  const dir = dirname(resolve(modelPath));
  return openedFiles((location) => {
    const real = realpathSync(join(dir, location));
    const root = realpathSync(dir);
    if (!real.startsWith(root + sep)) {
      throw new TesseraError('INVALID_MODEL', `external data location '${location}' resolves outside the model's directory (${real})`);
    }
    return real;
  }, `looked beside ${modelPath}`);
}

/**
 * Files named by path in the `externalData` option (location → path): read by offset straight
 * into Wasm memory like the files beside a model, never whole into JavaScript.
 */
export function filesAtPaths(paths: ReadonlyMap<string, string>): ClosableFiles {
  return openedFiles((location) => {
    const path = paths.get(location);
    if (path === undefined) throw new Error('not given');
    return path;
  }, `externalData names ${[...paths.keys()].map((k) => `'${k}'`).join(', ')}`);
}

function openedFiles(pathOf: (location: string) => string, description: string): ClosableFiles {
  const open = new Map<string, { fd: number; size: number } | undefined>();
  const get = (location: string) => {
    if (open.has(location)) return open.get(location);
    let found: { fd: number; size: number } | undefined;
    try {
      const fd = openSync(pathOf(location), 'r');
      const stat = fstatSync(fd);
      if (stat.isFile()) found = { fd, size: stat.size };
      else closeSync(fd);
    } catch (e) {
      if (e instanceof TesseraError) throw e;
      found = undefined; // reported by the caller as "not found", naming the tensor
    }
    open.set(location, found);
    return found;
  };
  return {
    size: (location) => get(location)?.size,
    slice: (location, offset, length) => (dest: Uint8Array) => {
      const f = get(location)!;
      for (let done = 0; done < length;) {
        const n = readSync(f.fd, dest, done, Math.min(length - done, 1 << 30), offset + done);
        if (n <= 0) throw new TesseraError('INVALID_MODEL', `external data file '${location}' ended early (read ${done} of ${length} bytes at offset ${offset})`);
        done += n;
      }
    },
    describe: () => description,
    close() {
      for (const f of open.values()) if (f) closeSync(f.fd);
      open.clear();
    },
  };
}
