// channel_affine (every activation), layernorm (with/without beta, offset rows), transpose.
import { ACT, ACT_PARAMS, actGain } from '../../reference/activation';
import { channelAffine, layernorm, transpose } from '../../reference/elementwise';
import { compare, randArray, rng } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

export function channelAffineCases(_e: KernelEntry): Case[] {
  const cases: Case[] = [];
  for (const [name, code] of Object.entries(ACT))
    cases.push({
      name: `act ${name}`,
      run: (h) => {
        const [a, b] = ACT_PARAMS[code] ?? [0, 0];
        for (const [N, C, HW] of [[1, 1, 1], [2, 3, 5], [1, 4, 16], [2, 5, 49], [1, 2, 3]]) {
          h.reset();
          const r = rng(N * 100 + C * 10 + HW);
          const x = randArray(N * C * HW, r, -4, 4), sc = randArray(C, r, -2, 2), sh = randArray(C, r);
          const px = h.put(x), ps = h.put(sc), pt = h.put(sh), py = h.alloc(x.length);
          h.k.channel_affine_f32(px, py, ps, pt, N, C, HW, code, a, b);
          const mag = channelAffine(x.map(Math.abs), sc.map(Math.abs), sh.map(Math.abs), N, C, HW, 0, 0, 0);
          const err = compare(h.get(py, x.length), channelAffine(x, sc, sh, N, C, HW, code, a, b),
            { rtol: 1e-5 * actGain(code, a, b), atol: 1e-6 }, mag) ?? h.checkCanaries();
          if (err) return `N=${N} C=${C} HW=${HW}: ${err}`;
        }
        return null;
      },
    });
  return cases;
}

export function layernormCases(_e: KernelEntry): Case[] {
  const cases: Case[] = [];
  for (const [rows, cols] of [[1, 1], [2, 3], [3, 4], [2, 7], [2, 17], [2, 35], [3, 52], [4, 64], [3, 768], [2, 1000]])
    for (const withBeta of [true, false])
      cases.push({
        name: `${rows}×${cols} beta=${withBeta}`,
        run: (h) => {
          const r = rng(rows * cols);
          // Offset mean: the two-pass variance must not cancel.
          const x = randArray(rows * cols, r, 99, 101), g = randArray(cols, r), bt = randArray(cols, r);
          const px = h.put(x), pg = h.put(g), pb = withBeta ? h.put(bt) : 0, py = h.alloc(x.length);
          h.k.layernorm_f32(px, py, pg, pb, rows, cols, 1e-5);
          return compare(h.get(py, x.length), layernorm(x, g, withBeta ? bt : null, rows, cols, 1e-5),
            { rtol: 1e-4, atol: 1e-4 }) ?? h.checkCanaries();
        },
      });
  return cases;
}

/**
 * add_layernorm_f32 against the kernels it replaces: layernorm_f32 of the float32 sums, bit for bit
 * (same operations in the same order), with and without beta, into its own output and in place
 * over either addend (the row's sums are stored before they are read back).
 */
export function addLayernormCases(_e: KernelEntry): Case[] {
  const cases: Case[] = [];
  for (const [rows, cols] of [[1, 1], [2, 3], [3, 4], [2, 7], [2, 17], [2, 35], [3, 52], [4, 64], [3, 768], [2, 1000]])
    for (const withBeta of [true, false])
      for (const into of ['y', 'a', 'b'] as const)
        cases.push({
          name: `${rows}×${cols} beta=${withBeta} into ${into}`,
          run: (h) => {
            h.reset();
            const r = rng(rows * cols + 7);
            const a = randArray(rows * cols, r, 99, 101), b = randArray(rows * cols, r, -3, 3);
            const g = randArray(cols, r), bt = randArray(cols, r);
            const s = new Float32Array(rows * cols);
            for (let i = 0; i < s.length; i++) s[i] = a[i]! + b[i]!;
            const pg = h.put(g), pb = withBeta ? h.put(bt) : 0;
            const ps = h.put(s), pw = h.alloc(s.length);
            h.k.layernorm_f32(ps, pw, pg, pb, rows, cols, 1e-5);
            const want = h.get(pw, s.length).slice();
            const pa = h.put(a), pbb = h.put(b), py = into === 'y' ? h.alloc(s.length) : into === 'a' ? pa : pbb;
            h.k.add_layernorm_f32(pa, pbb, py, pg, pb, rows, cols, 1e-5);
            return compare(h.get(py, s.length), want, { rtol: 0, atol: 0 }) ?? h.checkCanaries();
          },
        });
  return cases;
}

export function transposeCases(_e: KernelEntry): Case[] {
  return [[1, 1], [1, 7], [7, 1], [3, 5], [4, 4], [8, 12], [33, 31], [64, 70], [100, 37]].map(([rows, cols]) => ({
    name: `${rows}×${cols}`,
    run: (h) => {
      const x = randArray(rows * cols, rng(rows + cols));
      const px = h.put(x), py = h.alloc(x.length);
      h.k.transpose2d_32(px, py, rows, cols);
      return compare(h.get(py, x.length), transpose(x, rows, cols), { rtol: 0, atol: 0 }) ?? h.checkCanaries();
    },
  }));
}
