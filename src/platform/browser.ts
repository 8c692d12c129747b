/**
 * Browsers (and Web Workers): kernels fetched relative to this bundle's URL with
 * compileStreaming, models fetched and kept in the Cache API (the default platform).
 */
import { setDefaultWasmLoader } from '../runtime/wasm.js';
import { setThreadHost } from '../runtime/threads/host.js';

export function installBrowserPlatform(): void {
  setThreadHost({
    // SharedArrayBuffer is checked before this; a page may still lack isolation (Chrome keeps
    // SharedArrayBuffer for some origins) or live where Worker does not exist.
    unavailable: () => typeof Worker === 'undefined' ? 'Web Workers are not available here'
      : (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false
        ? 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)' : undefined,
    cores: () => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1,
    spawn() {
      // A module worker from the file beside this bundle; the pattern bundlers rewrite.
      const w = new Worker(new URL('./pool-worker.js', import.meta.url), { type: 'module' });
      return {
        postMessage: (m) => w.postMessage(m),
        onMessage: (f) => w.addEventListener('message', (e) => f(e.data)),
        onError: (f) => w.addEventListener('error', (e) => f(e.message ?? e), { once: true }),
        terminate: () => w.terminate(),
      };
    },
  });
  // `new URL('…', import.meta.url)` is the pattern every bundler (Vite, webpack 5, rollup, esbuild
  // with a loader) recognises and rewrites to the emitted asset, so no bundler needs configuration.
  setDefaultWasmLoader(async (variant, shared) => {
    if (shared) {
      return variant === 'relaxed'
        ? new URL('../kernels-relaxed-threads.wasm', import.meta.url)
        : new URL('../kernels-threads.wasm', import.meta.url);
    }
    return variant === 'relaxed'
      ? new URL('../kernels-relaxed.wasm', import.meta.url)
      : new URL('../kernels.wasm', import.meta.url);
  });
}
