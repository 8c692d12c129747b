// Dynamic-quantization helpers: bit-exact against numpy-style float32 references, ties included,
// every length remainder around the 16-wide step, with canaries.
import { im2rowU8, quantizeU8 } from '../../reference/quant';
import { randArray, rng, type Heap } from '../harness';
import type { Case } from './types';

const LENGTHS = [1, 3, 4, 15, 16, 17, 33, 100];

/** minmax_f32 also runs 16 floats a step in four lanes of accumulators: lengths around 16, 64. */
const MINMAX_LENGTHS = [...LENGTHS, 31, 32, 36, 63, 64, 65, 79, 1000];

export function minmaxCases(): Case[] {
  return [{ name: `min and max at lengths ${MINMAX_LENGTHS}`, run: (h) => {
    for (const n of MINMAX_LENGTHS) {
      h.reset();
      const x = randArray(n, rng(n), -5, 3);
      const out = h.alloc(2);
      h.k.minmax_f32(h.put(x), n, out);
      const [lo, hi] = h.get(out, 2);
      if (lo !== Math.min(...x) || hi !== Math.max(...x)) return `n=${n}: got ${lo}, ${hi}`;
      const err = h.checkCanaries();
      if (err) return err;
    }
    // The extremes at every position of a 16-float step, the 4-float loop and the scalar tail.
    const n = 71;
    for (let at = 0; at < n; at++) {
      h.reset();
      const x = randArray(n, rng(at), -1, 1);
      x[at] = -7; x[(at + 5) % n] = 9;
      const out = h.alloc(2);
      h.k.minmax_f32(h.put(x), n, out);
      const [lo, hi] = h.get(out, 2);
      if (lo !== -7 || hi !== 9) return `n=${n}, min at ${at}, max at ${(at + 5) % n}: got ${lo}, ${hi}`;
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

export function im2rowCases(): Case[] {
  const shapes = [
    // C, H, W, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr
    [1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1], [3, 7, 6, 3, 2, 2, 1, 1, 1, 0, 1, 1, 0], [2, 9, 9, 3, 3, 1, 2, 2, 2, 2, 2, 2, 2],
    [4, 4, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 8, 1, 5, 1, 1, 1, 1, 0, 4, 0, 4], [2, 3, 3, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2],
    // a Whisper-like 1-D stem (3 taps, stride 2: byte copies) and windows over 16 wide (memory.copy)
    [6, 1, 40, 1, 3, 1, 2, 1, 1, 0, 1, 0, 1], [2, 3, 30, 1, 20, 1, 2, 1, 1, 0, 3, 0, 3], [1, 2, 24, 2, 17, 1, 1, 1, 1, 0, 0, 0, 0],
  ];
  return [{ name: 'unfold with pads, strides, dilations, windows wider than the image', run: (h) => {
    for (const [C, H, W, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr] of shapes as number[][] as [number, number, number, number, number, number, number, number, number, number, number, number, number][]) {
      h.reset();
      const OH = Math.floor((H + pt + pb - ((kh - 1) * dh + 1)) / sh) + 1, OW = Math.floor((W + pl + pr - ((kw - 1) * dw + 1)) / sw) + 1;
      const r = rng(C * 100 + H);
      const x = Uint8Array.from({ length: C * H * W }, () => Math.floor(r() * 256));
      const px = h.alloc(Math.ceil(x.length / 4));
      new Uint8Array(h.memory.buffer, px, x.length).set(x);
      const n = OH * OW * C * kh * kw, pd = h.alloc(Math.ceil(n / 4));
      h.k.im2row_u8(px, pd, C, H, W, kh, kw, sh, sw, dh, dw, pt, pl, OH, OW, 77);
      const got = new Uint8Array(h.memory.buffer, pd, n), want = im2rowU8(x, C, H, W, kh, kw, sh, sw, dh, dw, pt, pl, OH, OW, 77);
      for (let i = 0; i < n; i++) if (got[i] !== want[i]) return `C${C} ${H}×${W} k${kh}×${kw} [${i}]: got ${got[i]}, want ${want[i]}`;
      const err = h.checkCanaries();
      if (err) return err;
    }
    return null;
  } }];
}
