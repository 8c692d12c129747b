// transformers.js v4 on onnxruntime-web (wasm) in Node, for the benches that time it: the runtime is
// injected before transformers.js loads (its backends/onnx.js takes
// globalThis[Symbol.for('onnxruntime')]), with the wasm files from node_modules. Call this before
// the first import of '@huggingface/transformers' in the process.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Injects onnxruntime-web with `threads` threads; returns the onnxruntime-web module. */
export async function useOrtWebForTransformersJs(threads = 1) {
  const ort = await import('onnxruntime-web');
  const require = createRequire(import.meta.url);
  ort.env.wasm.wasmPaths = `${pathToFileURL(dirname(require.resolve('onnxruntime-web'))).href}/`;
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  globalThis[Symbol.for('onnxruntime')] = ort;
  return ort;
}
