// Runs every check of test/unit/checks against build/kernels-relaxed.wasm in plain Node (started
// with --experimental-wasm-relaxed-simd where the engine needs it). The TypeScript checks are
// bundled in memory with esbuild so both builds share one source of truth. Exit 1 on any failure.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const out = await build({
  stdin: {
    contents: `export { allCases } from './checks/index.ts'; export { Heap, loadModule, WASM, ensureBuilt } from './harness.ts';`,
    resolveDir: here, loader: 'ts',
  },
  bundle: true, write: false, format: 'esm', platform: 'node', target: 'node20',
  // harness.ts locates the repo root from its own URL: keep that URL pointing into test/unit.
  define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(here, 'harness.ts')).href) },
});
const dir = mkdtempSync(join(tmpdir(), 'tessera-relaxed-'));
const file = join(dir, 'checks.mjs');
writeFileSync(file, out.outputFiles[0].text);
const { allCases, Heap, loadModule, WASM, ensureBuilt } = await import(pathToFileURL(file).href);
rmSync(dir, { recursive: true, force: true });

ensureBuilt();
const target = process.argv[2] === 'simd' ? WASM.simd : WASM.relaxed;
let failed = 0, passed = 0;
for (const { kernel, cases } of allCases()) {
  const heap = new Heap(loadModule(target));
  for (const c of cases) {
    heap.reset();
    let err;
    try { err = c.run(heap); } catch (e) { err = String(e); }
    if (err) { failed++; console.error(`FAIL ${kernel.name} / ${c.name}: ${err}`); } else passed++;
  }
}
console.log(`${target}: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
