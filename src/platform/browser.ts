/**
 * Browsers (and Web Workers): kernels fetched relative to this bundle's URL with
 * compileStreaming, models fetched and kept in the Cache API (the default platform).
 */
import { setDefaultWasmLoader } from '../runtime/wasm.js';

export function installBrowserPlatform(): void {
  // `new URL('…', import.meta.url)` is the pattern every bundler (Vite, webpack 5, rollup, esbuild
  // with a loader) recognises and rewrites to the emitted asset, so no bundler needs configuration.
  setDefaultWasmLoader(async (variant) => variant === 'relaxed'
    ? new URL('../kernels-relaxed.wasm', import.meta.url)
    : new URL('../kernels.wasm', import.meta.url));
}
