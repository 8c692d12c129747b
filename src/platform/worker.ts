/**
 * Cloudflare Workers (workerd): the kernels are imported as `.wasm` modules, which wrangler and
 * workerd hand over already compiled. Workers forbid compiling Wasm from bytes at run time, and
 * eval, blob URLs and dynamic import, so nothing here does any of that.
 */
import simd from '../../build/kernels.wasm';
import relaxed from '../../build/kernels-relaxed.wasm';
import { setDefaultWasmLoader } from '../runtime/wasm.js';

export function installWorkerPlatform(): void {
  setDefaultWasmLoader(async (variant) => variant === 'relaxed' ? relaxed : simd);
}
