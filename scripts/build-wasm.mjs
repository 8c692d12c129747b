// Compiles the AssemblyScript kernels into two Wasm binaries: a SIMD128 baseline that every
// supported engine runs, and a relaxed-SIMD variant chosen at run time where the engine validates
// it. Both import their memory so that TypeScript owns its size and lifetime. Each also has a
// `-threads` twin importing a *shared* memory (a module's memory import must match the memory's
// sharedness), which the worker pool instantiates once per thread over one session's memory.
// The kernels keep no state in linear memory (the stub runtime has no shadow stack; the only
// data segments are read-only math tables, rewritten with the same bytes by each instance).
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(dirname(createRequire(import.meta.url).resolve('assemblyscript/package.json')), 'bin', 'asc.js');
const common = ['assembly/index.ts', '--runtime', 'stub', '--importMemory', '--noAssert', '-O3', '--enable', 'simd'];
const shared = ['--enable', 'threads', '--sharedMemory', '--maximumMemory', '65536'];
const targets = [
  { out: 'build/kernels.wasm', extra: [] },
  { out: 'build/kernels-relaxed.wasm', extra: ['--enable', 'relaxed-simd'] },
  { out: 'build/kernels-threads.wasm', extra: shared },
  { out: 'build/kernels-relaxed-threads.wasm', extra: ['--enable', 'relaxed-simd', ...shared] },
];

mkdirSync(join(root, 'build'), { recursive: true });
for (const t of targets) {
  execFileSync(process.execPath, [asc, ...common, ...t.extra, '-o', t.out], { cwd: root, stdio: 'inherit' });
  if (!process.argv.includes('--quiet')) console.log(`${t.out}  ${(statSync(join(root, t.out)).size / 1024).toFixed(1)} KiB`);
}
