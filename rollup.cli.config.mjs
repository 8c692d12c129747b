// The `tessera` command line (Node only): dist/cli.js, with the runtime bundled in. It finds the
// kernels in dist/ like the Node build does.
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';

export default {
  input: 'src/cli/main.ts',
  external: [/^node:/, 'onnxruntime-web'],
  plugins: [nodeResolve({ preferBuiltins: true }), commonjs(), esbuild({ target: 'es2022' })],
  output: { file: 'dist/cli/tessera.js', format: 'es', banner: '#!/usr/bin/env node' },
};
