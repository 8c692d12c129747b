// resize_nearest_32 against a plain gather: exact ×2 widths (lane shuffles, widths not a multiple
// of 4), identity widths (row copies), arbitrary tables (up, down, repeated and reversed indices),
// repeated rows (copied from the previous output row). Bit-exact, canaries after the output.
import { compare, randArray, rng } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

const up = (n: number, f: number) => Array.from({ length: n * f }, (_, j) => Math.floor(j / f));
const SHAPES: [string, { NC: number; H: number; W: number; rows: number[]; cols: number[] }][] = [
  ['×2 both axes, W = 9', { NC: 3, H: 5, W: 9, rows: up(5, 2), cols: up(9, 2) }],
  ['×2 width, W = 8, rows kept', { NC: 2, H: 4, W: 8, rows: [0, 1, 2, 3], cols: up(8, 2) }],
  ['×2 width, W = 1', { NC: 2, H: 3, W: 1, rows: up(3, 2), cols: [0, 0] }],
  ['identity width, ×3 rows', { NC: 2, H: 3, W: 7, rows: up(3, 3), cols: [0, 1, 2, 3, 4, 5, 6] }],
  ['×3 width (gather)', { NC: 1, H: 4, W: 5, rows: up(4, 2), cols: up(5, 3) }],
  ['downsample + reversed', { NC: 2, H: 9, W: 10, rows: [8, 6, 4, 2, 0], cols: [9, 7, 5, 3, 1, 0, 0] }],
  ['×2 pattern but OW ≠ 2W', { NC: 1, H: 2, W: 6, rows: [0, 1], cols: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5] }],
];

export function resizeNearestCases(_e: KernelEntry): Case[] {
  return SHAPES.map(([name, s], idx) => ({
    name,
    run: (h) => {
      const r = rng(idx + 401), OH = s.rows.length, OW = s.cols.length;
      const x = randArray(s.NC * s.H * s.W, r);
      const want = new Float32Array(s.NC * OH * OW);
      for (let p = 0, k = 0; p < s.NC; p++) for (const ih of s.rows) for (const iw of s.cols) want[k++] = x[(p * s.H + ih) * s.W + iw]!;
      const px = h.put(x), py = h.alloc(s.NC * OH * OW), pr = h.alloc(OH), pc = h.alloc(OW);
      new Int32Array(h.memory.buffer, pr, OH).set(s.rows);
      new Int32Array(h.memory.buffer, pc, OW).set(s.cols);
      h.k.resize_nearest_32(px, py, s.NC, s.H, s.W, OH, OW, pr, pc);
      return compare(h.get(py, s.NC * OH * OW), want, { rtol: 0, atol: 0 }) ?? h.checkCanaries();
    },
  }));
}
