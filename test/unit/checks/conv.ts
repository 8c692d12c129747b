// im2col_packed_f32 checked two ways: the panels must equal packB(naive im2col) exactly, and
// im2col + gemm_f32 (per-row bias, fused ReLU) must equal a naive direct convolution.
import { conv2d, im2col, type ConvShape } from '../../reference/conv';
import { packB } from '../../reference/gemm';
import { compare, randArray, rng } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

type S = Omit<ConvShape, 'OH' | 'OW'> & { padBottom: number; padRight: number };

function withOut(s: S): ConvShape {
  const OH = Math.floor((s.H + s.padTop + s.padBottom - ((s.kh - 1) * s.dh + 1)) / s.sh) + 1;
  const OW = Math.floor((s.W + s.padLeft + s.padRight - ((s.kw - 1) * s.dw + 1)) / s.sw) + 1;
  return { ...s, OH, OW };
}

const base = { C: 3, H: 9, W: 11, Co: 5, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 };
const SHAPES: [string, S][] = [
  ['3×3 s1 p1', base],
  ['3×3 s2 p1', { ...base, sh: 2, sw: 2 }],
  ['1×1 s1 p0', { ...base, kh: 1, kw: 1, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0, C: 16, Co: 8 }],
  ['1×1 s2', { ...base, kh: 1, kw: 1, sh: 2, sw: 2, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0 }],
  ['5×5 dil 2 p4', { ...base, kh: 5, kw: 5, dh: 2, dw: 2, padTop: 4, padLeft: 4, padBottom: 4, padRight: 4, H: 12, W: 10 }],
  ['3×2 s(2,3) asym pads', { ...base, kh: 3, kw: 2, sh: 2, sw: 3, padTop: 0, padLeft: 2, padBottom: 2, padRight: 0, H: 10, W: 13 }],
  ['7×7 s2 p3 (stem)', { ...base, C: 3, H: 20, W: 20, kh: 7, kw: 7, sh: 2, sw: 2, padTop: 3, padLeft: 3, padBottom: 3, padRight: 3, Co: 8 }],
  ['kernel wider than input, big pad', { ...base, H: 2, W: 2, kh: 3, kw: 5, padTop: 2, padLeft: 3, padBottom: 2, padRight: 3 }],
  ['1×1 input', { ...base, H: 1, W: 1, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 }],
  ['28×28 5×5 (MNIST)', { ...base, C: 1, H: 28, W: 28, kh: 5, kw: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, Co: 8 }],
];

export function im2colCases(_e: KernelEntry): Case[] {
  return SHAPES.map(([name, s0], idx) => ({
    name,
    run: (h) => {
      const s = withOut(s0);
      const r = rng(idx + 7);
      const K = s.C * s.kh * s.kw, N = s.OH * s.OW;
      const x = randArray(s.C * s.H * s.W, r);
      const w = randArray(s.Co * K, r);
      const bias = randArray(s.Co, r);
      const px = h.put(x);
      const size = Math.ceil(N / 8) * 8 * K;
      const pp = h.alloc(size);
      h.k.im2col_packed_f32(px, pp, s.C, s.H, s.W, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.padTop, s.padLeft, s.OH, s.OW);
      const e1 = compare(h.get(pp, size), packB(im2col(x, s), K, N, N, false), { rtol: 0, atol: 0 });
      if (e1) return `panels: ${e1}`;
      const pw = h.put(w), pb = h.put(bias), py = h.alloc(s.Co * N);
      h.k.gemm_f32(pw, K, pp, py, N, s.Co, N, K, pb, 1, 0, 1, 0, 0);
      const want = conv2d(x, w, bias, s).map((v) => Math.max(v, 0));
      const mag = conv2d(x.map(Math.abs), w.map(Math.abs), bias.map(Math.abs), s);
      return compare(h.get(py, s.Co * N), want, { rtol: 1e-5, atol: 1e-6 }, mag) ?? h.checkCanaries();
    },
  }));
}

// Batched im2col: NB images (picked out of a larger channel count by the image stride xs) side
// by side must equal packB of the per-image im2col matrices placed column block after block.
export function im2colBatchCases(_e: KernelEntry): Case[] {
  const cases: Case[] = [];
  for (const NB of [1, 2, 3, 5])
    SHAPES.forEach(([name, s0], idx) => cases.push({
      name: `${name} NB=${NB}`,
      run: (h) => {
        const s = withOut(s0);
        const r = rng(idx + 31 * NB);
        const K = s.C * s.kh * s.kw, P = s.OH * s.OW, N = NB * P;
        const Ctot = s.C + 2, xs = Ctot * s.H * s.W; // the images' first C channels are used
        const x = randArray(NB * xs, r);
        const px = h.put(x);
        const size = Math.ceil(N / 8) * 8 * K;
        const pp = h.alloc(size);
        h.k.im2col_packed_batch_f32(px, pp, NB, xs, s.C, s.H, s.W, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.padTop, s.padLeft, s.OH, s.OW);
        const m = new Float32Array(K * N);
        for (let b = 0; b < NB; b++) {
          const one = im2col(x.subarray(b * xs, b * xs + s.C * s.H * s.W), s);
          for (let k = 0; k < K; k++) m.set(one.subarray(k * P, (k + 1) * P), k * N + b * P);
        }
        return compare(h.get(pp, size), packB(m, K, N, N, false), { rtol: 0, atol: 0 }) ?? h.checkCanaries();
      },
    }));
  return cases;
}

export function unbatchCases(_e: KernelEntry): Case[] {
  return [[1, 1, 1, 1], [3, 5, 7, 7], [4, 2, 9, 27], [2, 8, 1, 16]].map(([NB, M, P, Mtot]) => ({
    name: `NB=${NB} M=${M} P=${P} ldd=${Mtot! * P!}`,
    run: (h) => {
      const src = randArray(M! * NB! * P!, rng(NB! * 13 + P!));
      const ldd = Mtot! * P!;
      const ps = h.put(src), pd = h.alloc(NB! * ldd);
      const want = h.get(pd, NB! * ldd).slice(); // rows of other groups stay untouched
      for (let m = 0; m < M!; m++) for (let b = 0; b < NB!; b++) for (let p = 0; p < P!; p++) want[b * ldd + m * P! + p] = src[(m * NB! + b) * P! + p]!;
      h.k.unbatch_rows_f32(ps, pd, NB!, M!, P!, ldd);
      return compare(h.get(pd, NB! * ldd), want, { rtol: 0, atol: 0 }) ?? h.checkCanaries();
    },
  }));
}
