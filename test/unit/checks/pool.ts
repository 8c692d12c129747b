// Pooling checks, including ceil_mode-style output sizes whose last windows hang past the
// bottom/right of the (padded) input, asymmetric pads and dilation.
import { avgpool, globalPool, maxpool, type PoolShape } from '../../reference/pool';
import { compare, randArray, rng } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

type P = Omit<PoolShape, 'OH' | 'OW'> & { ceil: boolean };

function withOut(s: P): PoolShape {
  const f = s.ceil ? Math.ceil : Math.floor;
  let OH = f((s.H + s.padTop + s.padBottom - ((s.kh - 1) * s.dh + 1)) / s.sh) + 1;
  let OW = f((s.W + s.padLeft + s.padRight - ((s.kw - 1) * s.dw + 1)) / s.sw) + 1;
  // ONNX/PyTorch: with ceil_mode the last window must start inside the input or left padding.
  if (s.ceil && (OH - 1) * s.sh >= s.H + s.padTop) OH--;
  if (s.ceil && (OW - 1) * s.sw >= s.W + s.padLeft) OW--;
  return { ...s, OH, OW };
}

const b = { NC: 3, H: 7, W: 9, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0, ceil: false };
const SHAPES: [string, P][] = [
  ['3×3 s2', b],
  ['3×3 s2 ceil', { ...b, ceil: true }],
  ['2×2 s2 ceil odd input', { ...b, kh: 2, kw: 2, H: 5, W: 7, ceil: true }],
  ['3×3 s1 p1', { ...b, sh: 1, sw: 1, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 }],
  ['3×3 s2 p1 ceil', { ...b, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, ceil: true, H: 8, W: 8 }],
  ['asym pads 2×3 s(1,2)', { ...b, kh: 2, kw: 3, sh: 1, sw: 2, padTop: 1, padLeft: 0, padBottom: 0, padRight: 2 }],
  ['global-sized window', { ...b, kh: 7, kw: 9, sh: 1, sw: 1 }],
  ['5×5 s3 p2 ceil', { ...b, kh: 5, kw: 5, sh: 3, sw: 3, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, H: 11, W: 10, ceil: true }],
  ['1×1 s1', { ...b, kh: 1, kw: 1, sh: 1, sw: 1 }],
  // Wide enough for the v128 interior columns (4 per step) plus scalar borders and tails.
  ['2×2 s2 wide', { ...b, kh: 2, kw: 2, H: 26, W: 26 }],
  ['2×2 s2 wide odd ceil', { ...b, kh: 2, kw: 2, H: 11, W: 27, ceil: true }],
  ['3×3 s2 p1 wide', { ...b, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, H: 33, W: 33 }],
  ['3×3 s1 p1 wide', { ...b, sh: 1, sw: 1, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, H: 12, W: 21 }],
  ['5×5 s1 p2 wide', { ...b, kh: 5, kw: 5, sh: 1, sw: 1, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, H: 9, W: 30 }],
  ['3×2 s(1,2) asym wide', { ...b, kh: 3, kw: 2, sh: 1, sw: 2, padTop: 0, padLeft: 1, padBottom: 2, padRight: 0, H: 6, W: 40, ceil: true }],
];
const DILATED: [string, P][] = [
  ['3×3 dil 2 p2', { ...b, dh: 2, dw: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, sh: 1, sw: 1 }],
  ['2×2 dil (2,3) s2 ceil', { ...b, kh: 2, kw: 2, dh: 2, dw: 3, ceil: true, H: 9, W: 10 }],
  ['3×3 dil 2 s1 p2 wide', { ...b, dh: 2, dw: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, sh: 1, sw: 1, H: 10, W: 31 }],
  ['3×3 dil 2 s2 wide', { ...b, dh: 2, dw: 2, H: 10, W: 37 }],
];

export function maxpoolCases(_e: KernelEntry): Case[] {
  return [...SHAPES, ...DILATED].map(([name, p], i) => ({
    name,
    run: (h) => {
      const s = withOut(p);
      const x = randArray(s.NC * s.H * s.W, rng(i), -5, 5);
      const px = h.put(x), py = h.alloc(s.NC * s.OH * s.OW);
      h.k.maxpool2d_f32(px, py, s.NC, s.H, s.W, s.OH, s.OW, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.padTop, s.padLeft);
      return compare(h.get(py, s.NC * s.OH * s.OW), maxpool(x, s), { rtol: 0, atol: 0 }) ?? h.checkCanaries();
    },
  }));
}

export function avgpoolCases(_e: KernelEntry): Case[] {
  const cases: Case[] = [];
  for (const cip of [false, true])
    SHAPES.forEach(([name, p], i) => cases.push({
      name: `${name} countIncludePad=${cip ? 1 : 0}`,
      run: (h) => {
        const s = withOut(p);
        const x = randArray(s.NC * s.H * s.W, rng(i), -5, 5);
        const px = h.put(x), py = h.alloc(s.NC * s.OH * s.OW);
        h.k.avgpool2d_f32(px, py, s.NC, s.H, s.W, s.OH, s.OW, s.kh, s.kw, s.sh, s.sw, s.padTop, s.padLeft,
          s.padBottom, s.padRight, cip ? 1 : 0);
        return compare(h.get(py, s.NC * s.OH * s.OW), avgpool(x, s, cip), { rtol: 1e-5, atol: 1e-6 }) ?? h.checkCanaries();
      },
    }));
  return cases;
}

export function globalPoolCases(e: KernelEntry): Case[] {
  const kind = e.name.startsWith('global_avg') ? 'avg' : 'max';
  return [[1, 1], [3, 3], [2, 4], [5, 7], [4, 49], [3, 1000], [2, 0]].map(([NC, HW]) => ({
    name: `NC=${NC} HW=${HW}`,
    run: (h) => {
      const x = randArray(NC * HW, rng(NC * HW), -3, 3);
      const px = h.put(x), py = h.alloc(NC);
      h.k[e.name as 'global_avgpool_f32'](px, py, NC, HW);
      return compare(h.get(py, NC), globalPool(x, NC, HW, kind), { rtol: 1e-5, atol: 1e-6 }) ?? h.checkCanaries();
    },
  }));
}
