// Bundles the TypeScript sources into dist/: Node ESM + CJS. The kernels ship beside them as
// dist/kernels.wasm and dist/kernels-relaxed.wasm.
import { copyFileSync, mkdirSync } from 'node:fs';
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';

const plugins = () => [
  nodeResolve({ preferBuiltins: true }),
  commonjs(),
  esbuild({ target: 'es2022', minify: false }),
];

const copyWasm = {
  name: 'copy-wasm',
  writeBundle() {
    mkdirSync('dist', { recursive: true });
    for (const f of ['kernels.wasm', 'kernels-relaxed.wasm']) copyFileSync(`build/${f}`, `dist/${f}`);
  },
};

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
];
