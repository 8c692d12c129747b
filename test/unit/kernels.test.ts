// Every kernel in kernel-table.ts against its scalar reference, on the SIMD128 build in process,
// and on the relaxed-SIMD build (in process if this Node validates it, otherwise in a child
// `node --experimental-wasm-relaxed-simd` running the very same checks).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { allCases } from './checks';
import { ensureBuilt, Heap, loadModule, ROOT, WASM } from './harness';

beforeAll(() => ensureBuilt());

function suite(build: 'simd' | 'relaxed') {
  for (const { kernel, cases } of allCases()) {
    describe(`${kernel.name} [${build}]`, () => {
      let heap: Heap;
      beforeAll(() => { heap = new Heap(loadModule(WASM[build])); });
      for (const c of cases)
        it(c.name, () => {
          heap.reset();
          expect(c.run(heap)).toBeNull();
        });
    });
  }
}

suite('simd');

ensureBuilt();
const relaxedInProcess = WebAssembly.validate(readFileSync(WASM.relaxed));
if (relaxedInProcess) suite('relaxed');
else
  describe('relaxed build (child process with --experimental-wasm-relaxed-simd)', () => {
    it('passes every kernel check', () => {
      const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', join(ROOT, 'test', 'unit', 'run-relaxed.mjs')],
        { cwd: ROOT, encoding: 'utf8' });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    });
  });
