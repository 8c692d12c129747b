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

// One conv band in one call: the whole image, and the image as bands of 2 output rows (window
// origin shifted by a negative top pad, y and OH cut to the band), must both equal a naive
// convolution with per-row bias and ReLU; the scratch holds one band's panels.
export function im2colGemmCases(_e: KernelEntry): Case[] {
  return SHAPES.flatMap(([name, s0], idx) => [0, 2].map((band) => ({
    name: `${name}${band ? `, bands of ${band} rows` : ''}`,
    run: (h) => {
      const s = withOut(s0);
      const r = rng(idx + 53);
      const K = s.C * s.kh * s.kw, P = s.OH * s.OW, rows = band || s.OH;
      const x = randArray(s.C * s.H * s.W, r), w = randArray(s.Co * K, r), bias = randArray(s.Co, r);
      const px = h.put(x), pw = h.put(w), pb = h.put(bias), py = h.alloc(s.Co * P);
      const scratch = h.alloc(Math.ceil((rows * s.OW) / 8) * 8 * K);
      for (let o0 = 0; o0 < s.OH; o0 += rows) {
        h.k.conv2d_im2col_gemm_f32(px, pw, pb, py + o0 * s.OW * 4, scratch, s.C, s.H, s.W, s.Co, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw,
          s.padTop - o0 * s.sh, s.padLeft, Math.min(rows, s.OH - o0), s.OW, P, 1, 0, 0);
      }
      const want = conv2d(x, w, bias, s).map((v) => Math.max(v, 0));
      const mag = conv2d(x.map(Math.abs), w.map(Math.abs), bias.map(Math.abs), s);
      return compare(h.get(py, s.Co * P), want, { rtol: 1e-5, atol: 1e-6 }, mag) ?? h.checkCanaries();
    },
  })));
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

// col2im_f32 against a naive scatter: strides 1–3, dilation, pads that crop, with and without bias.
export function col2imCases(_e: KernelEntry): Case[] {
  const shapes: [string, { M: number; H: number; W: number; kh: number; kw: number; sh: number; sw: number; dh: number; dw: number; pt: number; pl: number; pb: number; pr: number }][] = [
    ['2×2 s2 (upsampling head)', { M: 3, H: 5, W: 9, kh: 2, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1, pt: 0, pl: 0, pb: 0, pr: 0 }],
    ['3×3 s1 p1', { M: 2, H: 6, W: 11, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1 }],
    ['4×4 s2 p1', { M: 2, H: 7, W: 6, kh: 4, kw: 4, sh: 2, sw: 2, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1 }],
    ['3×2 s(3,1) dil 2 asym pads', { M: 4, H: 4, W: 13, kh: 3, kw: 2, sh: 3, sw: 1, dh: 2, dw: 2, pt: 2, pl: 0, pb: 0, pr: 3 }],
  ];
  const cases: Case[] = [];
  shapes.forEach(([name, s], idx) => {
    for (const withBias of [true, false]) cases.push({
      name: `${name}${withBias ? ' bias' : ''}`,
      run: (h) => {
        const OH = (s.H - 1) * s.sh + (s.kh - 1) * s.dh + 1 - s.pt - s.pb, OW = (s.W - 1) * s.sw + (s.kw - 1) * s.dw + 1 - s.pl - s.pr;
        const r = rng(idx + 91);
        const cols = randArray(s.M * s.kh * s.kw * s.H * s.W, r), bias = randArray(s.M, r);
        const want = new Float32Array(s.M * OH * OW);
        for (let m = 0; m < s.M; m++) {
          want.fill(withBias ? bias[m]! : 0, m * OH * OW, (m + 1) * OH * OW);
          for (let i = 0; i < s.kh; i++) for (let j = 0; j < s.kw; j++) for (let ih = 0; ih < s.H; ih++) for (let iw = 0; iw < s.W; iw++) {
            const oh = ih * s.sh - s.pt + i * s.dh, ow = iw * s.sw - s.pl + j * s.dw;
            if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
            want[(m * OH + oh) * OW + ow] += cols[(((m * s.kh + i) * s.kw + j) * s.H + ih) * s.W + iw]!;
          }
        }
        const pc = h.put(cols), pb = h.put(bias), py = h.alloc(s.M * OH * OW);
        h.k.col2im_f32(pc, py, s.M, s.H, s.W, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.pt, s.pl, OH, OW, withBias ? pb : 0);
        return compare(h.get(py, s.M * OH * OW), want, { rtol: 1e-5, atol: 1e-6 }) ?? h.checkCanaries();
      },
    });
  });
  return cases;
}

// dwconv2d_f32 against the naive convolution per channel: 3×3/5×5, strides 1/2/3, dilation,
// pads, planes wider than the 8-column SIMD step, bias and a fused activation (HardSwish).
export function dwconvCases(_e: KernelEntry): Case[] {
  const b = { C: 3, H: 9, W: 11, Co: 1, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 };
  const shapes: [string, S][] = [
    ['3×3 s1 p1', b],
    ['3×3 s1 p1 wide', { ...b, H: 7, W: 37 }],
    ['3×3 s2 p1 wide', { ...b, sh: 2, sw: 2, H: 12, W: 40 }],
    ['5×5 s1 p2 wide', { ...b, kh: 5, kw: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, H: 10, W: 29 }],
    ['5×5 s2 p2 wide', { ...b, kh: 5, kw: 5, sh: 2, sw: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, H: 11, W: 43 }],
    ['3×3 s3 asym', { ...b, sh: 3, sw: 3, padTop: 0, padLeft: 2, padBottom: 1, padRight: 0, H: 13, W: 20 }],
    ['3×3 dil 2 p2 wide', { ...b, dh: 2, dw: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, W: 30 }],
    ['kernel wider than input', { ...b, H: 2, W: 3, kh: 5, kw: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2 }],
    // Interior widths around the 8-column block: exact fit, one over (last block overlaps), narrow.
    ['3×3 s1 p1 W=10 (one interior block)', { ...b, H: 5, W: 10 }],
    ['3×3 s1 p1 W=19 (overlapping last block)', { ...b, H: 6, W: 19 }],
    ['3×3 s1 p0 W=16 (no borders)', { ...b, H: 5, W: 16, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0 }],
    ['5×5 s1 p2 W=20', { ...b, kh: 5, kw: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, H: 7, W: 20 }],
    ['3×3 s2 p1 W=17 odd', { ...b, sh: 2, sw: 2, H: 9, W: 17 }],
    ['5×5 s2 p2 W=13 narrow', { ...b, kh: 5, kw: 5, sh: 2, sw: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, H: 8, W: 13 }],
    ['3×2 s1 asym pads wide', { ...b, kh: 3, kw: 2, padTop: 0, padLeft: 1, padBottom: 2, padRight: 0, H: 6, W: 27 }],
    ['3×3 s1 p1 H=1', { ...b, H: 1, W: 33 }],
  ];
  const cases: Case[] = [];
  shapes.forEach(([name, s0], idx) => {
    for (const [act, label] of [[0, ''], [5, ' hardSwish']] as const) cases.push({
      name: `${name}${label}`,
      run: (h) => {
        const s = withOut(s0);
        const N = 2, r = rng(idx + 211), kk = s.kh * s.kw, P = s.OH * s.OW;
        const x = randArray(N * s.C * s.H * s.W, r), w = randArray(s.C * kk, r), bias = randArray(s.C, r);
        const want = new Float32Array(N * s.C * P);
        for (let p = 0; p < N * s.C; p++) {
          const c = p % s.C, one = { ...s, C: 1, Co: 1 };
          const y = conv2d(x.subarray(p * s.H * s.W, (p + 1) * s.H * s.W), w.subarray(c * kk, (c + 1) * kk), bias.subarray(c, c + 1), one);
          for (let i = 0; i < P; i++) want[p * P + i] = act === 5 ? y[i]! * Math.min(Math.max(y[i]! / 6 + 0.5, 0), 1) : y[i]!;
        }
        const px = h.put(x), pw = h.put(w), pb = h.put(bias), py = h.alloc(N * s.C * P);
        h.k.dwconv2d_f32(px, pw, pb, py, N * s.C, s.C, s.H, s.W, s.OH, s.OW, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.padTop, s.padLeft, act, 0, 0);
        return compare(h.get(py, N * s.C * P), want, { rtol: 1e-5, atol: 1e-5 }) ?? h.checkCanaries();
      },
    });
  });
  return cases;
}

// conv2d_direct_f32 against the naive convolution: M = 1…9 (blocks of 4 and their remainders),
// strides 1/2/3, pads, dilation, planes wider than the 8-column step, bias, fused activation.
export function directConvCases(_e: KernelEntry): Case[] {
  const cases: Case[] = [];
  const b = { ...base, W: 29, H: 7 };
  const shapes: [string, S][] = [
    ['3×3 s1 p1', b],
    ['3×3 s2 p1', { ...b, sh: 2, sw: 2, W: 41 }],
    ['3×3 s3', { ...b, sh: 3, sw: 3 }],
    ['1×1', { ...b, kh: 1, kw: 1, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0 }],
    ['5×5 dil 2 p4', { ...b, kh: 5, kw: 5, dh: 2, dw: 2, padTop: 4, padLeft: 4, padBottom: 4, padRight: 4, H: 12, W: 30 }],
    ['3×2 asym pads', { ...b, kh: 3, kw: 2, padTop: 0, padLeft: 2, padBottom: 2, padRight: 0 }],
    ['kernel wider than input', { ...b, H: 2, W: 2, kh: 3, kw: 5, padTop: 2, padLeft: 3, padBottom: 2, padRight: 3 }],
    ['3×3 s1 p1 W=5 (one partial block)', { ...b, W: 5, H: 4 }],
    ['3×3 s1 p1 W=16', { ...b, W: 16, H: 5 }],
    ['3×3 s1 p0 W=17', { ...b, W: 17, H: 5, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0 }],
    ['3×3 s2 p1 W=6', { ...b, sh: 2, sw: 2, W: 6, H: 6 }],
    ['5×5 s1 p2 W=23', { ...b, kh: 5, kw: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, W: 23, H: 6 }],
    ['3×3 s1 p1 C=19 W=21', { ...b, C: 19, W: 21, H: 5 }],
    // ≥ 32 interior columns: a lone channel (M = 1, 9) runs 32 columns per step.
    ['3×3 s1 p1 W=45', { ...b, W: 45, H: 5 }],
    ['3×3 s2 p1 W=75', { ...b, sh: 2, sw: 2, W: 75, H: 5 }],
    ['5×5 dil 2 p4 W=50', { ...b, kh: 5, kw: 5, dh: 2, dw: 2, padTop: 4, padLeft: 4, padBottom: 4, padRight: 4, H: 9, W: 50 }],
  ];
  shapes.forEach(([name, s0], idx) => {
    for (const Co of [1, 4, 6, 9]) cases.push({
      name: `${name} M=${Co}`,
      run: (h) => {
        const s = withOut({ ...s0, Co });
        const r = rng(idx * 17 + Co), K = s.C * s.kh * s.kw, P = s.OH * s.OW;
        const x = randArray(s.C * s.H * s.W, r), w = randArray(Co * K, r), bias = randArray(Co, r);
        const want = conv2d(x, w, bias, s).map((v) => Math.max(v, 0));
        const mag = conv2d(x.map(Math.abs), w.map(Math.abs), bias.map(Math.abs), s);
        const px = h.put(x), pw = h.put(w), pb = h.put(bias), py = h.alloc(Co * P);
        h.k.conv2d_direct_f32(px, pw, pb, py, s.C, s.H, s.W, Co, s.OH, s.OW, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.padTop, s.padLeft, 1, 0, 0);
        return compare(h.get(py, Co * P), want, { rtol: 1e-5, atol: 1e-6 }, mag) ?? h.checkCanaries();
      },
    });
  });
  return cases;
}
