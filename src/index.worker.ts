/** tessera for Cloudflare Workers: kernels imported as compiled WebAssembly.Modules. */
import { installWorkerPlatform } from './platform/worker.js';

installWorkerPlatform();

export * from './public.js';
