// attention_f32 (SIMD128 build) bit for bit against a float32 emulation of its arithmetic: the
// scores as one chain per element in key-dimension order over (q·scale)·k, the mask added, the
// running max in key order, exp_nonpos_f32x4's exact steps, the row sum as two chains (even and odd
// keys) added at the end, 1 / sum, P·V as one chain per element in key order, times 1 / sum. That
// is the arithmetic of the GEMM micro-kernel the op used to call, so this pins the op's results to
// what they were: a kernel rewrite that reorders a sum or changes the exp fails here, not only
// against a tolerance. (The relaxed build may fuse multiply-adds; kernels.test.ts covers it.)
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, Heap, loadModule, randArray, rng, WASM } from './harness';

const f = Math.fround;
const bits = new Float32Array(1), ibits = new Int32Array(bits.buffer);

/** exp_nonpos_f32x4 (assembly/activation.ts) on one lane, SIMD128 (mul then add, no fusing). */
function expNonpos(x: number): number {
  const lo = f(-87.33654475);
  const xc = x < lo ? lo : x; // pmax(x, lo): a NaN x passes through
  const magic = f(12583039.0);
  const nm = f(f(xc * f(1.44269504088896341)) + magic);
  const n = f(nm - magic);
  let r = f(f(n * f(-0.693359375)) + xc);
  r = f(f(n * f(2.12194440e-4)) + r);
  let p = f(f(f(1.9875691500e-4) * r) + f(1.3981999507e-3));
  p = f(f(p * r) + f(8.3334519073e-3));
  p = f(f(p * r) + f(4.1665795894e-2));
  p = f(f(p * r) + f(1.6666665459e-1));
  p = f(f(p * r) + f(5.0000001201e-1));
  p = f(f(p * f(r * r)) + f(r + 1));
  bits[0] = nm;
  ibits[0] = ibits[0]! << 23; // 2ⁿ from the magic sum's low bits
  const y = f(p * bits[0]!);
  return x < lo ? 0 : y;
}

interface Args { B: number; H: number; Sq: number; Sk: number; d: number; mask?: Float32Array; mb: number; mh: number; mq: number; mk: number; scale: number }

/** The emulation, [B, S, H·d] rows (ld = H·d). */
function emulate(q: Float32Array, k: Float32Array, v: Float32Array, a: Args): Float32Array {
  const { B, H, Sq, Sk, d, scale } = a, HD = H * d, skp = Math.ceil(Sk / 8) * 8;
  const out = new Float32Array(B * Sq * HD);
  const x = new Float64Array(skp), p = new Float64Array(skp);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Sq; i++) {
    const qo = (b * Sq + i) * HD + h * d;
    let m = -Infinity;
    for (let j = 0; j < Sk; j++) {
      const ko = (b * Sk + j) * HD + h * d;
      let s = 0;
      for (let c = 0; c < d; c++) s = f(s + f(f(q[qo + c]! * scale) * k[ko + c]!));
      if (a.mask) s = f(s + a.mask[b * a.mb + h * a.mh + i * a.mq + j * a.mk]!);
      x[j] = s;
      m = m < s ? s : m; // pmax
    }
    for (let j = Sk; j < skp; j++) x[j] = -Infinity;
    let sum0 = 0, sum1 = 0;
    for (let j = 0; j < skp; j++) {
      p[j] = expNonpos(f(x[j]! - m));
      if (j & 1) sum1 = f(sum1 + p[j]!); else sum0 = f(sum0 + p[j]!);
    }
    const inv = f(1 / f(sum0 + sum1));
    for (let c = 0; c < d; c++) {
      let acc = 0;
      for (let j = 0; j < Sk; j++) acc = f(acc + f(p[j]! * v[(b * Sk + j) * HD + h * d + c]!));
      out[qo + c] = f(acc * inv);
    }
  }
  return out;
}

const cases: { name: string; B: number; H: number; Sq: number; Sk: number; d: number; mask: 'none' | 'keys' | 'rows' | 'full' }[] = [
  { name: "BERT-base's head shape, padding mask", B: 1, H: 12, Sq: 128, Sk: 128, d: 64, mask: 'keys' },
  { name: 'tails everywhere, no mask', B: 2, H: 3, Sq: 21, Sk: 13, d: 10, mask: 'none' },
  { name: 'padding mask, keys past a panel', B: 2, H: 2, Sq: 19, Sk: 37, d: 36, mask: 'keys' },
  { name: 'per-row mask, partial query group', B: 1, H: 2, Sq: 18, Sk: 24, d: 8, mask: 'full' },
  { name: 'one value per query row (mk = 0)', B: 1, H: 1, Sq: 6, Sk: 9, d: 5, mask: 'rows' },
];

describe('attention_f32 [simd] is bit-identical to its float32 emulation', () => {
  let heap: Heap;
  beforeAll(() => { ensureBuilt(); heap = new Heap(loadModule(WASM.simd)); });
  for (const c of cases) {
    it(c.name, () => {
      heap.reset();
      const r = rng(c.Sq * 13 + c.Sk * 5 + c.d);
      const HD = c.H * c.d;
      const q = randArray(c.B * c.Sq * HD, r, -2, 2), k = randArray(c.B * c.Sk * HD, r, -2, 2), v = randArray(c.B * c.Sk * HD, r);
      const a: Args = { B: c.B, H: c.H, Sq: c.Sq, Sk: c.Sk, d: c.d, mb: 0, mh: 0, mq: 0, mk: 0, scale: f(1 / Math.sqrt(c.d)) };
      if (c.mask === 'keys') {
        a.mask = new Float32Array(c.B * c.Sk).map((_, x) => (x % c.Sk >= c.Sk - 3 - (x >= c.Sk ? 4 : 0) ? -3.4028234663852886e38 : 0));
        Object.assign(a, { mb: c.Sk, mk: 1 });
      } else if (c.mask === 'full') {
        a.mask = randArray(c.B * c.H * c.Sq * c.Sk, r, -3, 3);
        Object.assign(a, { mb: c.H * c.Sq * c.Sk, mh: c.Sq * c.Sk, mq: c.Sk, mk: 1 });
      } else if (c.mask === 'rows') {
        a.mask = randArray(c.B * c.Sq, r, -3, 3);
        Object.assign(a, { mb: c.Sq, mq: 1 });
      }
      const pq = heap.put(q), pk = heap.put(k), pv = heap.put(v), pm = a.mask ? heap.put(a.mask) : 0;
      const po = heap.alloc(c.B * c.Sq * HD), scratch = heap.alloc(heap.k.attention_scratch_bytes(c.Sk, c.d) / 4);
      heap.k.attention_f32(pq, pk, pv, pm, po, scratch, c.B, c.H, c.Sq, c.Sk, c.d, HD, HD, HD, HD, a.mb, a.mh, a.mq, a.mk, a.scale);
      const got = heap.get(po, c.B * c.Sq * HD), want = emulate(q, k, v, a);
      let diff = 0, first = -1;
      for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) { diff++; if (first < 0) first = i; }
      expect(diff, diff ? `${diff} of ${got.length} differ; first at ${first}: ${got[first]} vs ${want[first]}` : '').toBe(0);
      expect(heap.checkCanaries()).toBeNull();
    });
  }
});
