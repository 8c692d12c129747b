// Compiles the AssemblyScript kernels into two Wasm binaries: a SIMD128 baseline that every
// supported engine runs, and a relaxed-SIMD variant chosen at run time where the engine validates
// it. Both import their memory so that TypeScript owns its size and lifetime.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(dirname(createRequire(import.meta.url).resolve('assemblyscript/package.json')), 'bin', 'asc.js');
const common = ['assembly/index.ts', '--runtime', 'stub', '--importMemory', '--noAssert', '-O3', '--enable', 'simd'];
const targets = [
  { out: 'build/kernels.wasm', extra: [] },
  { out: 'build/kernels-relaxed.wasm', extra: ['--enable', 'relaxed-simd'] },
];

mkdirSync(join(root, 'build'), { recursive: true });
for (const t of targets) {
  execFileSync(process.execPath, [asc, ...common, ...t.extra, '-o', t.out], { cwd: root, stdio: 'inherit' });
  if (!process.argv.includes('--quiet')) console.log(`${t.out}  ${(statSync(join(root, t.out)).size / 1024).toFixed(1)} KiB`);
}
