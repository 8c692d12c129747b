// The harness guards the kernel tests, so it is tested too: an overrun must trip a canary, and the
// generated micro-kernels must match their generator.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, Heap, loadModule, ROOT, WASM } from './harness';

beforeAll(() => ensureBuilt());

describe('harness', () => {
  it('detects a write one element past an output', () => {
    const h = new Heap(loadModule(WASM.simd), 64);
    const x = h.put(new Float32Array(8).fill(1));
    const y = h.alloc(5);
    expect(h.checkCanaries()).toBeNull();
    h.k.unary_f32(x, y, 6, 23, 0, 0); // n = 6 into a 5-element buffer
    expect(h.checkCanaries()).toMatch(/canary/);
  });

  it('gemm_microkernels.ts is up to date with scripts/gen-gemm.mjs', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-gemm.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});
