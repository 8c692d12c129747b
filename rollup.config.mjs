// Bundles the TypeScript sources into dist/: Node (ESM + CJS), browsers (ESM, minified) and
// Cloudflare Workers (ESM, minified, importing the kernels as .wasm modules). The kernels ship
// once, beside the bundles, as dist/kernels.wasm and dist/kernels-relaxed.wasm, with their
// shared-memory twins dist/kernels-threads.wasm and dist/kernels-relaxed-threads.wasm (threads > 1).
import { copyFileSync, mkdirSync } from 'node:fs';
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';

// protobufjs's optional-require helper (`util.inquire`) is eval in older releases and a require
// probe in newer ones; browsers and Workers have neither, and Workers forbid eval. Every caller
// handles a null answer, so the web bundles get a stub that always says "not here".
const INQUIRE_STUB = '\0tessera-inquire-stub';
const noInquire = {
  name: 'no-inquire',
  resolveId: (id) => (id === '@protobufjs/inquire' ? INQUIRE_STUB : null),
  load: (id) => (id === INQUIRE_STUB ? 'export default function inquire() { return null; }' : null),
};

const plugins = ({ web = false, minify = false, browser = false } = {}) => [
  ...(web ? [noInquire] : []),
  nodeResolve({ preferBuiltins: !web, browser }),
  commonjs(),
  esbuild({ target: 'es2022', minify }),
];

const copyWasm = {
  name: 'copy-wasm',
  writeBundle() {
    mkdirSync('dist', { recursive: true });
    for (const f of ['kernels.wasm', 'kernels-relaxed.wasm', 'kernels-threads.wasm', 'kernels-relaxed-threads.wasm']) copyFileSync(`build/${f}`, `dist/${f}`);
  },
};

// The Workers bundle keeps `import … from '../kernels.wasm'` as a real import: wrangler, workerd
// and miniflare turn it into a compiled WebAssembly.Module.
const wasmExternal = (id) => /\.wasm$/.test(id);
const wasmPath = (id) => `../${id.split('/').pop()}`;

export default [
  {
    input: 'src/index.ts',
    external: [/^node:/],
    plugins: [...plugins(), copyWasm],
    output: [
      { file: 'dist/node/index.js', format: 'es', sourcemap: true },
      { file: 'dist/node/index.cjs', format: 'cjs', sourcemap: true, exports: 'named' },
    ],
  },
  {
    input: 'src/index.browser.ts',
    plugins: plugins({ web: true, minify: true, browser: true }),
    output: { file: 'dist/browser/index.js', format: 'es', sourcemap: true },
  },
  {
    // The pool thread for browsers, next to the bundle that starts it: a real file keeps blob URLs
    // out of the bundle (strict CSPs refuse them) and bundlers follow `new Worker(new URL(…))`.
    input: 'src/runtime/threads/pool-worker.ts',
    plugins: plugins({ web: true, minify: true, browser: true }),
    output: { file: 'dist/browser/pool-worker.js', format: 'es' },
  },
  {
    input: 'src/index.worker.ts',
    external: wasmExternal,
    plugins: plugins({ web: true, minify: true, browser: true }),
    output: { file: 'dist/worker/index.js', format: 'es', sourcemap: true, paths: wasmPath },
  },
];
