// compare_f32 (every op, NaN, ±0) and where_32 (bit-exact, NaN payloads kept) over the broadcast
// patterns the kernels vectorise (inner strides 0/1) and the scalar fallbacks, with row lengths
// around the 16- and 4-wide steps.
import { CMP, compare, where } from '../../reference/logic';
import { randArray, rng } from '../harness';
import type { Heap } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

/** [dims, a strides, b strides] (c, x, y for Where use the first three stride sets). */
type Layout = { d: number[]; s: number[][] };
const full = (d: number[]): number[] => [d[1]! * d[2]! * d[3]!, d[2]! * d[3]!, d[3]!, 1];
function layouts(n: number): Layout[] {
  const out: Layout[] = [];
  for (const len of [1, 3, 4, 5, 15, 16, 17, 33, 64]) {
    const d = [1, 2, 3, len];
    const row = [0, 0, 0, 1], zero = [0, 0, 0, 0], col = [0, 1, 0, 0];
    const pats: number[][][] = [[full(d), full(d), full(d)], [full(d), row, zero], [row, full(d), row], [zero, zero, full(d)], [col, full(d), zero]];
    for (const p of pats) out.push({ d, s: p.slice(0, n) });
  }
  // Strided inner dim (a transposed read): the scalar path.
  out.push({ d: [1, 1, 4, 5], s: [[0, 0, 1, 4], [0, 0, 5, 1], [0, 0, 1, 4]].slice(0, n) });
  return out;
}

const span = (d: number[], s: number[]) => 1 + d.reduce((a, di, i) => a + (di - 1) * s[i]!, 0);

function bytes(h: Heap, n: number): number { return h.alloc(Math.ceil(n / 4)); }

export function compareCases(_e: KernelEntry): Case[] {
  return Object.entries(CMP).map(([name, op]) => ({
    name,
    run: (h) => {
      for (const { d, s } of layouts(2)) {
        h.reset();
        const r = rng(d[3]! * 7 + op);
        // Small integers make equality common; NaN and ±0 must follow IEEE.
        const a = randArray(span(d, s[0]!), r, -3, 3).map(Math.round), b = randArray(span(d, s[1]!), r, -3, 3).map(Math.round);
        a[0] = NaN; if (b.length > 1) b[1] = -0;
        const n = d.reduce((x, y) => x * y, 1);
        const pa = h.put(a), pb = h.put(b), py = bytes(h, n);
        h.k.compare_f32(pa, pb, py, op, d[0]!, d[1]!, d[2]!, d[3]!, ...(s[0] as [number, number, number, number]), ...(s[1] as [number, number, number, number]));
        const got = new Uint8Array(h.memory.buffer, py, n), want = compare(a, b, op, d, s[0]!, s[1]!);
        for (let i = 0; i < n; i++) if (got[i] !== want[i]) return `d=[${d}] s=${JSON.stringify(s)}: [${i}] got ${got[i]}, want ${want[i]}`;
        const err = h.checkCanaries();
        if (err) return err;
      }
      return null;
    },
  }));
}

export function whereCases(_e: KernelEntry): Case[] {
  return [{
    name: 'bit-exact selection',
    run: (h) => {
      for (const { d, s } of layouts(3)) {
        h.reset();
        const r = rng(d[3]! * 13);
        const c = Uint8Array.from({ length: span(d, s[0]!) }, () => (r() < 0.5 ? 1 : 0));
        // Payload bits: a NaN with a payload must come through unchanged.
        const x = Uint32Array.from({ length: span(d, s[1]!) }, () => Math.floor(r() * 2 ** 32));
        const y = Uint32Array.from({ length: span(d, s[2]!) }, () => Math.floor(r() * 2 ** 32));
        x[0] = 0x7fc01234;
        const n = d.reduce((p, q) => p * q, 1);
        const pc = bytes(h, c.length), px = h.alloc(x.length), py = h.alloc(y.length), po = h.alloc(n);
        new Uint8Array(h.memory.buffer, pc, c.length).set(c);
        new Uint32Array(h.memory.buffer, px, x.length).set(x);
        new Uint32Array(h.memory.buffer, py, y.length).set(y);
        h.k.where_32(pc, px, py, po, d[0]!, d[1]!, d[2]!, d[3]!, ...(s[0] as [number, number, number, number]),
          ...(s[1] as [number, number, number, number]), ...(s[2] as [number, number, number, number]));
        const got = new Uint32Array(h.memory.buffer, po, n), want = where(c, x, y, d, s[0]!, s[1]!, s[2]!);
        for (let i = 0; i < n; i++) if (got[i] !== want[i]) return `d=[${d}] s=${JSON.stringify(s)}: [${i}] got ${got[i]}, want ${want[i]}`;
        const err = h.checkCanaries();
        if (err) return err;
      }
      return null;
    },
  }];
}
