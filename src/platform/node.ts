/** Node: models by path (or URL), kernels read from the file next to the bundle. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { TesseraError } from '../api/errors.js';
import { setDefaultWasmLoader } from '../runtime/wasm.js';
import { directoryCache } from './node-cache.js';
import { filesBeside } from './node-external.js';
import { platform, setPlatform } from './platform.js';

const fetchModel = platform.readModel;

/** dist/node/index.js finds dist/*.wasm; the sources (tests) find build/*.wasm. */
const CANDIDATES = ['../', '../../build/', './'];

async function readWasm(variant: 'simd' | 'relaxed'): Promise<Uint8Array> {
  const file = variant === 'relaxed' ? 'kernels-relaxed.wasm' : 'kernels.wasm';
  for (const dir of CANDIDATES) {
    try {
      return await readFile(fileURLToPath(new URL(dir + file, import.meta.url)));
    } catch { /* try the next place */ }
  }
  throw new TesseraError('WASM_UNAVAILABLE', `Cannot find ${file} next to tessera's bundle; set env.wasm.${variant}`);
}

export function installNodePlatform(): void {
  setDefaultWasmLoader(readWasm);
  setPlatform({
    defaultCache: () => directoryCache(),
    filesBeside,
    async readModel(location, options) {
      const text = String(location);
      if (/^(https?|data|blob):/.test(text)) return fetchModel(location, options);
      const path = text.startsWith('file:') ? fileURLToPath(text) : text;
      try {
        const bytes = await readFile(path);
        options?.onProgress?.(bytes.length, bytes.length);
        return bytes;
      } catch (e) {
        throw new TesseraError('INVALID_ARGUMENT', `Cannot read the model file '${path}': ${(e as Error).message}`, { cause: e });
      }
    },
  });
}
