/**
 * Finding, compiling and instantiating the kernels. Compilation happens once per process (the
 * Module is cached); every session instantiates it over a memory of its own.
 */
import { TesseraError } from '../api/errors.js';
import type { Kernels } from './kernels.js';

/** The kernel builds: 'simd' (SIMD128, the baseline) and 'relaxed' (adds relaxed-SIMD ops). */
export type WasmVariant = 'simd' | 'relaxed';

/** What a platform or a user can hand us: a compiled module, bytes, or a URL to fetch. */
export type WasmSource = WebAssembly.Module | ArrayBuffer | Uint8Array | URL | string;

/** A kernel binary: a variant, over a private memory or (`-threads`) a shared one. */
export type WasmBinary = WasmVariant | `${WasmVariant}-threads`;

/** The shape of `env`: where the kernels come from and which build is allowed. */
export interface WasmEnv {
  /**
   * Override the kernels per binary, e.g. `{ simd: wasmModule }` in a Cloudflare Worker;
   * `'simd-threads'` / `'relaxed-threads'` are the shared-memory builds used with `threads > 1`.
   */
  wasm: Partial<Record<WasmBinary, WasmSource>>;
  /** Set false to force the SIMD128 baseline even where relaxed SIMD validates. */
  relaxedSimd: boolean;
}

/** Global settings, like onnxruntime-web's `env.wasm`. */
export const env: WasmEnv = { wasm: {}, relaxedSimd: true };

/** Platforms register how to get the default binaries (file next to the bundle, fetch, import). */
export type DefaultWasmLoader = (variant: WasmVariant, shared: boolean) => Promise<WasmSource>;
let defaultLoader: DefaultWasmLoader | undefined;
export function setDefaultWasmLoader(loader: DefaultWasmLoader): void {
  defaultLoader = loader;
}

// Minimal modules from wasm-feature-detect: one v128 op, one relaxed-SIMD op.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11]);

export function detectVariant(): WasmVariant {
  if (typeof WebAssembly === 'undefined') {
    throw new TesseraError('WASM_UNAVAILABLE', 'WebAssembly is not available in this environment');
  }
  if (!WebAssembly.validate(SIMD_PROBE)) {
    throw new TesseraError('WASM_UNAVAILABLE', 'This engine lacks WebAssembly SIMD (Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4, Node ≥ 16.4 have it)');
  }
  return env.relaxedSimd && WebAssembly.validate(RELAXED_PROBE) ? 'relaxed' : 'simd';
}

const modules = new Map<WasmBinary, Promise<WebAssembly.Module>>();

async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || source instanceof Uint8Array) return WebAssembly.compile(source as BufferSource);
  const url = String(source);
  if (typeof fetch !== 'function') throw new TesseraError('WASM_UNAVAILABLE', `Cannot fetch kernels from ${url}: no fetch here`);
  const response = await fetch(url);
  if (!response.ok) throw new TesseraError('WASM_UNAVAILABLE', `Fetching kernels from ${url} failed: HTTP ${response.status}`);
  if (typeof WebAssembly.compileStreaming === 'function' && response.headers.get('content-type')?.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

export function kernelModule(variant: WasmVariant, shared = false): Promise<WebAssembly.Module> {
  const binary: WasmBinary = shared ? `${variant}-threads` : variant;
  let m = modules.get(binary);
  if (!m) {
    m = (async () => {
      const source = env.wasm[binary] ?? (defaultLoader ? await defaultLoader(variant, shared) : undefined);
      if (source === undefined) {
        throw new TesseraError('WASM_UNAVAILABLE', `No kernels for '${binary}': set env.wasm['${binary}'] to a WebAssembly.Module, bytes or a URL`);
      }
      return compile(source);
    })();
    modules.set(binary, m);
    m.catch(() => modules.delete(binary)); // a failed load may be retried with other settings
  }
  return m;
}

export interface KernelInstance {
  kernels: Kernels;
  memory: WebAssembly.Memory;
  variant: WasmVariant;
  /** The compiled module, which worker threads instantiate over the same (shared) memory. */
  module: WebAssembly.Module;
}

/** With `shared`, the memory is a SharedArrayBuffer-backed one and the `-threads` build runs on it. */
export async function instantiateKernels(initialPages: number, variant = detectVariant(), shared = false): Promise<KernelInstance> {
  const module = await kernelModule(variant, shared);
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: 65536, shared } as WebAssembly.MemoryDescriptor);
  const instance = await WebAssembly.instantiate(module, { env: { memory, abort: wasmAbort } });
  return { kernels: instance.exports as unknown as Kernels, memory, variant, module };
}

function wasmAbort(): never {
  throw new TesseraError('INTERNAL', 'A kernel aborted (this is a tessera bug: please report the model)');
}
