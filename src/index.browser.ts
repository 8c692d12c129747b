/** tessera for browsers: kernels fetched next to this file (override with env.wasm). */
import { installBrowserPlatform } from './platform/browser.js';

installBrowserPlatform();

export * from './public.js';
