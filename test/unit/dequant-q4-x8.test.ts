// dequant_q4_panels_x8 (MatMulNBits prefill: 4-bit weights into the f32 GEMM's panels, eight
// columns at a time in SIMD) writes the same panel bytes as the scalar dequant_q4_panels, for
// block sizes 16–128, K not a multiple of 16 or of the block, bands whose last panel is partial,
// zero points absent, packed or float, and a band starting mid-matrix; the canary after the
// panels is untouched.
import '../../src/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Kernels } from '../../src/runtime/kernels.js';
import { instantiateKernels } from '../../src/runtime/wasm.js';

let k: Kernels, memory: WebAssembly.Memory;
beforeAll(async () => { ({ kernels: k, memory } = await instantiateKernels(256)); });

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('dequant_q4_panels_x8', () => {
  const cases = [
    // K, N, bs, zpKind, n0, nc
    [64, 24, 32, 0, 0, 24], [100, 19, 32, 1, 3, 13], [130, 17, 128, 2, 0, 17], [96, 40, 16, 1, 8, 29],
    [1024, 64, 32, 1, 16, 48], [72, 9, 64, 2, 1, 8], [200, 33, 64, 0, 0, 33],
  ] as const;
  for (const [K, N, bs, zpKind, n0, nc] of cases) {
    it(`K ${K}, N ${N}, block ${bs}, zero points ${['none', 'packed', 'float'][zpKind]}, columns ${n0}…${n0 + nc - 1}: same bytes as dequant_q4_panels`, () => {
      const nb = Math.ceil(K / bs), r = lcg(K * 31 + N);
      let top = Math.ceil(Math.max(k.heap_base(), 1024) / 64) * 64;
      const take = (bytes: number) => { const p = top; top += Math.ceil(bytes / 64) * 64 + 64; return p; };
      const w = take(N * nb * bs / 2), sc = take(N * nb * 4), zp = take(N * nb * 4);
      new Uint8Array(memory.buffer, w, N * nb * bs / 2).forEach((_, i, a) => { a[i] = Math.floor(r() * 256); });
      new Float32Array(memory.buffer, sc, N * nb).forEach((_, i, a) => { a[i] = (r() - 0.3) * 0.02; });
      if (zpKind === 1) new Uint8Array(memory.buffer, zp, N * Math.ceil(nb / 2)).forEach((_, i, a) => { a[i] = Math.floor(r() * 256); });
      if (zpKind === 2) new Float32Array(memory.buffer, zp, N * nb).forEach((_, i, a) => { a[i] = Math.floor(r() * 16) + r(); });
      const panelBytes = Math.ceil(nc / 8) * 8 * K * 4;
      const a = take(panelBytes + 64), b = take(panelBytes + 64);
      new Uint8Array(memory.buffer, a, panelBytes + 64).fill(0xa5);
      new Uint8Array(memory.buffer, b, panelBytes + 64).fill(0x5a);
      k.dequant_q4_panels(w, sc, zpKind ? zp : 0, zpKind, K, bs, n0, nc, a);
      k.dequant_q4_panels_x8(w, sc, zpKind ? zp : 0, zpKind, K, bs, n0, nc, b);
      expect(Buffer.from(memory.buffer, b, panelBytes).equals(Buffer.from(memory.buffer, a, panelBytes))).toBe(true);
      expect(new Uint8Array(memory.buffer, b + panelBytes, 64).every((x) => x === 0x5a)).toBe(true);
    });
  }
});
