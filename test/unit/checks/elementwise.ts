// Softmax, unary and broadcasting binary checks. Tolerances: 1e-5 relative for arithmetic;
// transcendental approximations (exp/log/tanh/erf families) also 1e-5 relative plus 1e-6
// absolute, because formulas like gelu(x) = ½x(1 + erf(x/√2)) cancel for large negative x and
// only their absolute error is meaningful there.
import { ACT, ACT_PARAMS, UNARY, unary } from '../../reference/activation';
import { BINARY, binary, softmax } from '../../reference/elementwise';
import { compare, randArray, rng, type Heap } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

export function softmaxCases(e: KernelEntry): Case[] {
  const log = e.name.startsWith('log_');
  const cases: Case[] = [];
  for (const [rows, cols] of [[1, 1], [2, 3], [3, 4], [2, 5], [4, 7], [3, 8], [5, 13], [2, 100], [3, 1000]])
    for (const inPlace of [false, true])
      cases.push({
        name: `${rows}×${cols}${inPlace ? ' in place' : ''}`,
        run: (h) => {
          const x = randArray(rows * cols, rng(rows * cols), -8, 8);
          const px = h.put(x), py = inPlace ? px : h.alloc(rows * cols);
          h.k[e.name as 'softmax_f32'](px, py, rows, cols);
          return compare(h.get(py, rows * cols), softmax(x, rows, cols, log), { rtol: 1e-5, atol: 1e-6 }) ?? h.checkCanaries();
        },
      });
  cases.push({
    name: 'large magnitudes (stability), -inf entries',
    run: (h) => {
      const x = Float32Array.from([1000, 999, -1000, 0, 88, -Infinity, 1e4, 1e4 - 1, 3]);
      const px = h.put(x), py = h.alloc(x.length);
      h.k[e.name as 'softmax_f32'](px, py, 3, 3);
      return compare(h.get(py, x.length), softmax(x, 3, 3, log), { rtol: 1e-5, atol: 1e-6 }) ?? h.checkCanaries();
    },
  });
  return cases;
}

/** Inputs per unary op: a dense range plus edge values where approximations typically fail. */
function unaryInputs(op: number, n: number, seed: number): Float32Array {
  const r = rng(seed);
  const positive = op === UNARY.log || op === UNARY.sqrt || op === UNARY.pow_scalar;
  const lo = positive ? 1e-3 : -12, hi = positive ? 50 : 12;
  const x = randArray(n, r, lo, hi);
  const edges = positive
    ? [1, 1e-30, 1e-7, 0.5, 2, 1e30, 3.4e38]
    : [0, -0, 1e-7, -1e-7, 1e-3, -1e-3, 0.5, -0.5, 1.5, 2.5, -2.5, 0.9277, -0.93, 9, -9, 20, -20, 87, -87, 88.7, -88, 100, -100, -1e4, 1e4];
  for (let i = 0; i < Math.min(n, edges.length); i++) x[i] = edges[i];
  return x;
}

export function unaryCases(_e: KernelEntry): Case[] {
  const ops: [string, number, number, number][] = [
    ...Object.entries(ACT).map(([k, v]) => [k, v, ...(ACT_PARAMS[v] ?? [0, 0])] as [string, number, number, number]),
    ...Object.entries(UNARY).map(([k, v]) => [k, v, v === UNARY.pow_scalar ? 2.5 : v === UNARY.affine ? -1.5 : 0, v === UNARY.affine ? 0.25 : 0] as [string, number, number, number]),
    ['pow_scalar a=2 (negative bases)', UNARY.pow_scalar, 2, 0],
  ];
  const cases: Case[] = [];
  // NaN must propagate and infinities follow the float64 formula (including its NaNs, e.g.
  // −inf·0 in hard_swish(−inf)), through the vector body and the partial tail alike.
  cases.push({
    name: 'special values (NaN, ±inf, ±0) for every op',
    run: (h) => {
      const x = Float32Array.from([NaN, Infinity, -Infinity, 0, -0, NaN, Infinity, -Infinity, 0]);
      for (const [name, op, a, b] of ops) {
        if (op === UNARY.sin || op === UNARY.cos) continue; // libm, not ours
        h.reset();
        const px = h.put(x), py = h.alloc(x.length);
        h.k.unary_f32(px, py, x.length, op, a, b);
        const want = Float32Array.from(x, (v) => unary(v, op, a, b));
        const err = compare(h.get(py, x.length), want, { rtol: 1e-5, atol: 1e-6 }) ?? h.checkCanaries();
        if (err) return `${name}: ${err}`;
      }
      return null;
    },
  });
  for (const [name, op, a, b] of ops)
    cases.push({
      name: `${name} (${op})`,
      run: (h) => {
        for (const n of [0, 1, 3, 4, 5, 17, 1000]) {
          let x = unaryInputs(op, n, op * 31 + n);
          if (name.includes('negative')) x = x.map((v) => v - 6);
          // exp overflows past ~88.7 in f32: compare there against f32 rounding of the reference.
          const want = Float32Array.from(x, (v) => unary(v, op, a, b));
          for (const inPlace of [false, true]) {
            h.reset();
            const px = h.put(x), py = inPlace ? px : h.alloc(n);
            h.k.unary_f32(px, py, n, op, a, b);
            const err = compare(h.get(py, n), want, { rtol: 1e-5, atol: 1e-6 }) ?? h.checkCanaries();
            if (err) return `n=${n}${inPlace ? ' in place' : ''}: ${err}`;
          }
        }
        return null;
      },
    });
  return cases;
}

/** Spacing of float32 values at |w| (2^-149 among denormals): one unit in the last place. */
function ulp32(w: number): number {
  const f = new Float32Array([Math.abs(w)]);
  if (!Number.isFinite(f[0])) return Infinity;
  const u = new Uint32Array(f.buffer);
  const lo = f[0];
  u[0]++;
  return f[0] - lo;
}

/**
 * A dense grid over [lo, hi] (n points, float32), then tiny magnitudes down to denormals, huge ones,
 * ±0, ±inf and NaN: the values where erf/GELU approximations typically break. Odd length, so the
 * last elements go through the kernel's partial tail.
 */
function accuracyInputs(lo: number, hi: number, n: number): Float32Array {
  const xs: number[] = [];
  for (let i = 0; i <= n; i++) xs.push(lo + ((hi - lo) * i) / n);
  for (let e = -149; e <= -1; e++) xs.push(2 ** e, -(2 ** e), 1.7 * 2 ** e, -1.3 * 2 ** e);
  xs.push(3.4e38, -3.4e38, 1e30, -1e30, 1e10, -1e10, 100, -100, 20, -20, 0, -0, Infinity, -Infinity, NaN, NaN, 0);
  return Float32Array.from(xs);
}

/** Largest error of unary op `op` over `x` against float64 `ref`, as the worst `bound` ratio (≤ 1 passes). */
function accuracy(h: Heap, x: Float32Array, op: number, ref: (v: number) => number,
  bound: (v: number, want: number) => number): string | null {
  const px = h.put(x), py = h.alloc(x.length);
  h.k.unary_f32(px, py, x.length, op, 0, 0);
  const y = h.get(py, x.length);
  let worst = 0, at = 0;
  for (let i = 0; i < x.length; i++) {
    const w = ref(x[i]), g = y[i];
    if (Number.isNaN(w) || !Number.isFinite(w)) {
      if (!Object.is(g, Number.isNaN(w) ? NaN : w)) return `x=${x[i]}: got ${g}, want ${w}`;
      continue;
    }
    // Zeros keep the formula's sign: erf(−0) = −0, gelu(−0) = −0, gelu(−100) = −0.
    if (w === 0 && !Object.is(g, Math.fround(w))) return `x=${x[i]}: got ${g}, want ${Object.is(w, -0) ? '-0' : '0'}`;
    const r = Math.abs(g - w) / bound(x[i], w);
    if (r > worst) { worst = r; at = i; }
  }
  if (worst > 1) return `x=${x[at]}: got ${y[at]}, want ${ref(x[at])} (error ${(worst).toFixed(2)}× the bound)`;
  return h.checkCanaries();
}

/**
 * Erf and GELU accuracy against float64 over dense grids: the element-wise checks above sample
 * 1000 random points under a loose 1e-5 tolerance; these bound the approximations themselves.
 * erf: ≤ 2 ulp (measured 1.1). GELU: relative ≤ 6e-7 for x ≥ −2 (measured 4.3e-7), ≤ 2.5e-6 on
 * [−5.55, −2) where Φ(x) falls to 1.5e-8 (measured 1.6e-6; the erf form ½x(1 + erf(x/√2)) was at
 * 5e-2 there), and below that absolute ≤ 1e-7 (GELU is 0 there, the true value ≥ −8e-8).
 */
export function accuracyCases(_e: KernelEntry): Case[] {
  return [
    {
      name: 'erf within 2 ulp of float64 on a dense grid over [−6, 6], tiny, huge and special values',
      run: (h) => accuracy(h, accuracyInputs(-6, 6, 240001), UNARY.erf, (v) => (Object.is(v, -0) ? -0 : unary(v, UNARY.erf)), // erf is odd
        (_v, w) => 2 * ulp32(w)),
    },
    {
      name: 'gelu (erf form) within 6e-7 relative of float64 for x ≥ −2, 2.5e-6 down to −5.55, 1e-7 absolute below',
      run: (h) => accuracy(h, accuracyInputs(-12, 12, 480001), ACT.gelu, (v) => unary(v, ACT.gelu),
        (v, w) => (v >= -2 ? 6e-7 * Math.abs(w) : v >= -5.55 ? 2.5e-6 * Math.abs(w) : 1e-7) + 2 ** -148),
    },
  ];
}

type Strides = [number, number, number, number];
function contiguous(d: number[]): Strides { return [d[1] * d[2] * d[3], d[2] * d[3], d[3], 1]; }
/** Strides of a tensor with shape `s` broadcast to `d` (0 where s has 1 and d does not). */
function bcast(d: number[], s: number[]): Strides {
  const st = contiguous(s);
  return st.map((v, i) => (s[i] === 1 && d[i] !== 1 ? 0 : v)) as Strides;
}

export function binaryCases(_e: KernelEntry): Case[] {
  const d = [2, 3, 5, 7];
  const layouts: [string, number[], number[], Strides?, Strides?][] = [
    ['same shape (1,1)', d, d],
    ['b per-channel (1,0)', d, [1, 3, 1, 1]],
    ['a per-channel (0,1)', [1, 3, 1, 1], d],
    ['b scalar', d, [1, 1, 1, 1]],
    ['b last-axis vector', d, [1, 1, 1, 7]],
    ['outer broadcast both', [2, 1, 5, 7], [1, 3, 5, 1]],
    ['general strides (a transposed view)', d, d, [105, 35, 1, 5]],
  ];
  const cases: Case[] = [];
  for (const [opName, op] of Object.entries(BINARY))
    for (const [lname, sa, sb, asOver, bsOver] of layouts)
      cases.push({
        name: `${opName} ${lname}`,
        run: (h) => {
          for (const dims of [d, [1, 1, 1, 1], [1, 1, 3, 13], [1, 2, 1, 4]]) {
            h.reset();
            const shA = sa.map((v, i) => (v === 1 ? 1 : dims[i]));
            const shB = sb.map((v, i) => (v === 1 ? 1 : dims[i]));
            const as = asOver && dims === d ? asOver : bcast(dims, shA);
            const bs = bsOver && dims === d ? bsOver : bcast(dims, shB);
            const r = rng(op * 97 + dims[3]);
            const positive = op === BINARY.pow;
            const a = randArray(shA.reduce((x, y) => x * y), r, positive ? 0.1 : -3, 3);
            const b = randArray(shB.reduce((x, y) => x * y), r, positive ? -2 : -3, 3);
            if (op === BINARY.div) for (let i = 0; i < b.length; i++) if (Math.abs(b[i]) < 0.1) b[i] = 0.5;
            const n = dims[0] * dims[1] * dims[2] * dims[3];
            const want = binary(a, b, op, dims, as, bs);
            const pa = h.put(a), pb = h.put(b);
            // In place when the output has a's shape.
            const inPlace = a.length === n && as.every((v, i) => v === contiguous(dims)[i] || dims[i] === 1);
            const py = inPlace ? pa : h.alloc(n);
            h.k.binary_f32(pa, pb, py, op, dims[0], dims[1], dims[2], dims[3], ...as, ...bs);
            const err = compare(h.get(py, n), want, { rtol: op === BINARY.pow ? 2e-6 : 1e-6, atol: 0 }) ?? h.checkCanaries();
            if (err) return `dims=${dims} as=${as} bs=${bs}: ${err}`;
          }
          return null;
        },
      });
  return cases;
}
