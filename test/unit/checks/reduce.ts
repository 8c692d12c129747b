// reduce_f32: every op × post, rows (inner = 1) around the 16-wide unroll, columns around the
// 16- and 4-column blocks, R = 0 (the identity), and NaN propagation through max/min.
import { REDUCE_OP, REDUCE_POST, reduce } from '../../reference/reduce';
import { compare, randArray, rng } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

const SHAPES = [[1, 1, 1], [1, 3, 1], [2, 4, 1], [3, 15, 1], [2, 16, 1], [2, 17, 1], [3, 33, 1], [2, 768, 1],
  [1, 3, 2], [2, 5, 4], [2, 3, 5], [1, 4, 16], [2, 7, 17], [1, 9, 35], [3, 2, 64], [2, 0, 1], [2, 0, 7]];

export function reduceCases(_e: KernelEntry): Case[] {
  const cases: Case[] = [];
  for (const [name, op] of Object.entries(REDUCE_OP))
    for (const [pname, post] of Object.entries(REDUCE_POST)) {
      if (post === REDUCE_POST.log && op !== REDUCE_OP.sum) continue;
      if (post === REDUCE_POST.sqrt && op !== REDUCE_OP.sumsquare) continue;
      cases.push({
        name: `${name} post=${pname}`,
        run: (h) => {
          for (const [outer, R, inner] of SHAPES) {
            h.reset();
            const r = rng(outer * 1000 + R * 10 + inner);
            // Positive inputs keep log defined; products stay near 1.
            const lo = post === REDUCE_POST.log ? 0.1 : op === REDUCE_OP.prod ? 0.9 : -2;
            const x = randArray(outer * R * inner, r, lo, op === REDUCE_OP.prod ? 1.1 : 2);
            const px = h.put(x), py = h.alloc(outer * inner);
            const scale = 1 / R;
            h.k.reduce_f32(px, py, outer, R, inner, op, post, scale);
            const want = reduce(x, outer, R, inner, op, post, scale);
            const mag = reduce(x.map(Math.abs), outer, R, inner, op === REDUCE_OP.sum ? REDUCE_OP.l1 : op, post === REDUCE_POST.log ? 0 : post, scale);
            const err = compare(h.get(py, outer * inner), want, { rtol: 1e-5, atol: 1e-6 }, mag) ?? h.checkCanaries();
            if (err) return `outer=${outer} R=${R} inner=${inner}: ${err}`;
          }
          return null;
        },
      });
    }
  for (const [name, op] of [['max', REDUCE_OP.max], ['min', REDUCE_OP.min]] as const)
    cases.push({
      name: `${name} propagates NaN`,
      run: (h) => {
        for (const [outer, R, inner] of [[1, 20, 1], [1, 5, 20]]) {
          h.reset();
          const x = randArray(outer * R * inner, rng(7));
          x[3] = NaN;
          const px = h.put(x), py = h.alloc(outer * inner);
          h.k.reduce_f32(px, py, outer, R, inner, op, 0, 1);
          const got = h.get(py, outer * inner);
          if (!Number.isNaN(got[inner === 1 ? 0 : 3])) return `outer=${outer} R=${R} inner=${inner}: NaN lost, got ${got[0]}`;
          if (h.checkCanaries()) return h.checkCanaries();
        }
        return null;
      },
    });
  return cases;
}
