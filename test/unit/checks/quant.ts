// Dynamic-quantization helpers: bit-exact against numpy-style float32 references, ties included,
// every length remainder around the 16-wide step, with canaries.
import { dequantizeI32, quantizeU8 } from '../../reference/quant';
import { randArray, rng, type Heap } from '../harness';
import type { Case } from './types';

const LENGTHS = [1, 3, 4, 15, 16, 17, 33, 100];

export function minmaxCases(): Case[] {
  return [{ name: `min and max at lengths ${LENGTHS}`, run: (h) => {
    for (const n of LENGTHS) {
      h.reset();
      const x = randArray(n, rng(n), -5, 3);
      const out = h.alloc(2);
      h.k.minmax_f32(h.put(x), n, out);
      const [lo, hi] = h.get(out, 2);
      if (lo !== Math.min(...x) || hi !== Math.max(...x)) return `n=${n}: got ${lo}, ${hi}`;
      const err = h.checkCanaries();
      if (err) return err;
    }
    return null;
  } }];
}

export function quantizeCases(): Case[] {
  return [{ name: `x → uint8, ties to even, saturation, lengths ${LENGTHS}`, run: (h) => {
    for (const [t, n] of LENGTHS.entries()) {
      h.reset();
      const scale = 0.25, zp = 3 + t * 20;
      // Multiples of scale/2 make exact ties; the wide range saturates at both ends.
      const x = Float32Array.from(randArray(n, rng(t), -80, 80), (v, i) => (i % 3 === 0 ? Math.round(v * 8) / 8 : v));
      const py = h.alloc(Math.ceil(n / 4));
      h.k.quantize_f32_u8(h.put(x), py, n, scale, zp);
      const got = new Uint8Array(h.memory.buffer, py, n), want = quantizeU8(x, scale, zp);
      for (let i = 0; i < n; i++) if (got[i] !== want[i]) return `n=${n} [${i}] x=${x[i]}: got ${got[i]}, want ${want[i]}`;
      const err = h.checkCanaries();
      if (err) return err;
    }
    return null;
  } }];
}

export function dequantizeCases(): Case[] {
  return [{ name: 'i32 → f32 · scale[j] (+ bias[j]) at N remainders', run: (h) => {
    for (const [M, N] of [[1, 1], [3, 4], [2, 7], [5, 9], [4, 64]] as const) {
      for (const withBias of [false, true]) {
        h.reset();
        const r = rng(M * 100 + N);
        const c = Int32Array.from({ length: M * N }, () => Math.floor((r() - 0.5) * 2 ** 27));
        const scale = randArray(N, r, 1e-4, 1e-2), bias = withBias ? randArray(N, r) : undefined;
        const pc = h.alloc(M * N);
        new Int32Array(h.memory.buffer, pc, M * N).set(c);
        const py = h.alloc(M * N);
        h.k.dequantize_i32_f32(pc, py, M, N, h.put(scale), bias ? h.put(bias) : 0);
        const got = h.get(py, M * N), want = dequantizeI32(c, M, N, scale, bias);
        for (let i = 0; i < M * N; i++) if (got[i] !== want[i]) return `${M}×${N} bias=${withBias} [${i}]: got ${got[i]}, want ${want[i]}`;
        const err = h.checkCanaries();
        if (err) return err;
      }
    }
    return null;
  } }];
}
