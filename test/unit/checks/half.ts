// float16 ↔ float32 array kernels (assembly/half.ts) against the scalar conversions the JS
// runtime used before them (src/ops/widen.ts: widenHalf's table of exact bit patterns, narrowHalf's
// round to nearest even; NaNs widen to quiet NaNs with their payload), compared as bits: every one of the 65,536 half patterns widened; floats
// narrowed from random bit patterns (NaNs of both signs, infinities, float32 subnormals) and from
// the values where rounding decides — exact ties between neighbouring halves, the overflow edge at
// 65,504 / 65,520, the subnormal edges 2^-14, 2^-24, 2^-25 — and lengths that end in the scalar tail.
import { narrowHalf, widenHalf } from '../../../src/ops/widen';
import { rng, type Heap } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

/** n uint16 values in the heap (alloc counts floats); the bytes after them are left as alloc filled them. */
function putU16(h: Heap, v: Uint16Array): number {
  const p = h.alloc(Math.ceil(v.length / 2));
  new Uint16Array(h.memory.buffer, p, v.length).set(v);
  return p;
}

function widenCases(): Case[] {
  return [65536, 1, 7, 9, 23].map((n) => ({
    name: n === 65536 ? 'every half bit pattern' : `n=${n} (scalar tail)`,
    run: (h) => {
      const halves = new Uint16Array(n);
      const r = rng(n);
      for (let i = 0; i < n; i++) halves[i] = n === 65536 ? i : Math.floor(r() * 65536);
      const src = putU16(h, halves), dst = h.alloc(n);
      h.k.widen_f16_f32(src, dst, n);
      const want = new Float32Array(n);
      widenHalf(halves, want);
      const wantBits = new Uint32Array(want.buffer), got = new Uint32Array(h.memory.buffer, dst, n);
      // A NaN's bits after JavaScript read it as a number depend on the JIT tier (signalling NaNs
      // are quieted by some conversions only), so NaNs are compared with the kernel's rule: the
      // payload kept, made quiet, the sign kept.
      for (let i = 0; i < n; i++) {
        const x = halves[i]!;
        if ((x & 0x7c00) === 0x7c00 && (x & 0x3ff)) wantBits[i] = ((x & 0x8000) << 16 | 0x7fc00000 | (x & 0x3ff) << 13) >>> 0;
      }
      for (let i = 0; i < n; i++) if (got[i] !== wantBits[i]) return `half 0x${halves[i]!.toString(16)}: got 0x${got[i]!.toString(16)}, want 0x${wantBits[i]!.toString(16)}`;
      return h.checkCanaries();
    },
  }));
}

/** Float bit patterns where float → half rounding is decided. */
function edgeFloats(): number[] {
  const bits: number[] = [];
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  const add = (x: number) => { f[0] = x; bits.push(u[0]!, u[0]! ^ 0x80000000, u[0]! + 1, u[0]! - 1); };
  // Exact midpoints between neighbouring halves (normal and subnormal), both parities.
  const r = rng(99);
  for (let i = 0; i < 600; i++) {
    const h = Math.floor(r() * 0x7bff);
    const lo = new Float32Array(1);
    widenHalf([h], lo);
    const hi = new Float32Array(1);
    widenHalf([h + 1], hi);
    add((lo[0]! + hi[0]!) / 2);
  }
  for (const x of [0, 65504, 65520, 65519.99, 65536, 1e9, 2 ** -14, 2 ** -24, 2 ** -25, 2 ** -26, 3 * 2 ** -26, 1.5 * 2 ** -24, 6.1e-5, 1, 0.1, 2 ** -149]) add(x);
  bits.push(0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff812345, 0x7fffffff);
  return bits.map((b) => b >>> 0);
}

function narrowCases(): Case[] {
  const random = (n: number, seed: number) => { const r = rng(seed); return Array.from({ length: n }, () => Math.floor(r() * 2 ** 32) >>> 0); };
  const sets: [string, number[]][] = [
    ['random bit patterns (NaN, ±∞, subnormals)', random(40000, 5)],
    ['ties, overflow and subnormal edges', edgeFloats()],
    ['n=1', random(1, 6)], ['n=7', random(7, 7)], ['n=13', random(13, 8)],
  ];
  return sets.map(([name, bits]) => ({
    name,
    run: (h) => {
      const n = bits.length;
      const src = h.alloc(n);
      new Uint32Array(h.memory.buffer, src, n).set(bits);
      const dst = h.alloc(Math.ceil(n / 2));
      const after = n & 1 ? new Uint16Array(h.memory.buffer, dst, n + 1)[n] : undefined;
      h.k.narrow_f32_f16(src, dst, n);
      const want = new Uint16Array(n);
      narrowHalf(new Float32Array(new Uint32Array(bits).buffer), want);
      const got = new Uint16Array(h.memory.buffer, dst, n + (n & 1));
      for (let i = 0; i < n; i++) if (got[i] !== want[i]) return `float bits 0x${bits[i]!.toString(16)}: got 0x${got[i]!.toString(16)}, want 0x${want[i]!.toString(16)}`;
      if (after !== undefined && got[n] !== after) return 'wrote past the last half';
      return h.checkCanaries();
    },
  }));
}

export function halfCases(e: KernelEntry): Case[] {
  return e.name === 'widen_f16_f32' ? widenCases() : narrowCases();
}
