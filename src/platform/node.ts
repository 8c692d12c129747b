/** Node: models by path (or URL), kernels read from the file next to the bundle. */
import { Buffer } from 'node:buffer';
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { TesseraError } from '../api/errors.js';
import { setDefaultWasmLoader } from '../runtime/wasm.js';
import { setThreadHost } from '../runtime/threads/host.js';
import { workerSource } from '../runtime/threads/worker-main.js';
import { directoryCache } from './node-cache.js';
import { filesAtPaths, filesBeside } from './node-external.js';
import { openModelFile } from './node-model-file.js';
import { platform, setPlatform } from './platform.js';

const fetchModel = platform.readModel;
const openDownload = platform.openModel;

/** dist/node/index.js finds dist/*.wasm; the sources (tests) find build/*.wasm. */
const CANDIDATES = ['../', '../../build/', './'];

async function readWasm(variant: 'simd' | 'relaxed', shared: boolean): Promise<Uint8Array> {
  const file = `kernels${variant === 'relaxed' ? '-relaxed' : ''}${shared ? '-threads' : ''}.wasm`;
  for (const dir of CANDIDATES) {
    try {
      return await readFile(fileURLToPath(new URL(dir + file, import.meta.url)));
    } catch { /* try the next place */ }
  }
  throw new TesseraError('WASM_UNAVAILABLE', `Cannot find ${file} next to tessera's bundle; set env.wasm.${variant}`);
}

export function installNodePlatform(): void {
  setDefaultWasmLoader(readWasm);
  setThreadHost({
    unavailable: () => undefined,
    cores: () => (typeof availableParallelism === 'function' ? availableParallelism() : cpus().length),
    spawn() {
      // A data: URL is always an ES module, whatever the parent's --input-type (an eval'd worker
      // inherits it and would lose `require`); the port reaches the shared body as a global.
      const program = `import { parentPort } from 'node:worker_threads'; globalThis.__tesseraParentPort = parentPort;\n${workerSource}`;
      const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(program)}`));
      // Referenced until its first message (the start-up ack someone awaits), then never again:
      // a pool thread must not keep the process alive. Adding a listener refs the worker, so the
      // unref comes after every registration too.
      let started = false;
      w.once('message', () => { started = true; w.unref(); });
      return {
        postMessage: (m) => w.postMessage(m),
        onMessage: (f) => { w.on('message', f); if (started) w.unref(); },
        onError: (f) => { w.once('error', f); if (started) w.unref(); },
        onExit: (f) => { w.once('exit', f); if (started) w.unref(); },
        terminate: () => { void w.terminate(); },
      };
    },
  });
  setPlatform({
    defaultCache: () => directoryCache(),
    filesBeside,
    filesAt: filesAtPaths,
    isDirectory: (path) => stat(path).then((s) => s.isDirectory(), () => false),
    // allocUnsafeSlow: a buffer of its own (never a slice of Node's shared pool), not zero-filled.
    uninitializedBuffer: (bytes) => Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer,
    // By path: opened by handle and streamed (onnx/stream-walk.ts); URLs as everywhere else.
    async openModel(location, options) {
      const text = String(location);
      if (/^(https?|data|blob):/.test(text)) return openDownload(location, options);
      return openModelFile(text.startsWith('file:') ? fileURLToPath(text) : text, options?.onProgress);
    },
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
