// attention_f32: query rows 1…4 and past the 4-row block, keys around the 8-key panel (tails of
// 1…7), head sizes that are not multiples of 4 or 8, strided rows (heads side by side, packed QKV),
// broadcast masks with −3.4e38 and fully masked rows (−3.4e38: uniform weights; −∞: NaN, as the
// unfused graph), per-query-row masks on a partial last block, BERT-base's head shape.
import { attentionScratchBytes } from '../../../src/ops/nn/fused-attention';
import { attention, type AttentionArgs } from '../../reference/attention';
import { compare, randArray, rng } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

type Shape = { B: number; H: number; Sq: number; Sk: number; d: number; mask?: 'keys' | 'full' | 'rows' | 'ninf' | 'none'; packed?: boolean };

const shapes: Shape[] = [
  { B: 1, H: 1, Sq: 1, Sk: 1, d: 1 },
  { B: 1, H: 1, Sq: 3, Sk: 5, d: 3 },
  { B: 1, H: 2, Sq: 4, Sk: 8, d: 4, mask: 'keys' },
  { B: 2, H: 3, Sq: 5, Sk: 9, d: 5, mask: 'keys' },
  { B: 1, H: 1, Sq: 7, Sk: 63, d: 8, mask: 'full' },
  { B: 1, H: 2, Sq: 9, Sk: 64, d: 16 },
  { B: 2, H: 2, Sq: 6, Sk: 65, d: 12, mask: 'keys' },
  { B: 1, H: 1, Sq: 13, Sk: 200, d: 64, mask: 'full' },
  { B: 1, H: 4, Sq: 33, Sk: 33, d: 7, packed: true, mask: 'keys' },
  { B: 2, H: 2, Sq: 4, Sk: 130, d: 36, packed: true, mask: 'full' },
  { B: 1, H: 1, Sq: 2, Sk: 0, d: 4 },
  { B: 1, H: 12, Sq: 128, Sk: 128, d: 64, mask: 'keys' },
  { B: 2, H: 3, Sq: 37, Sk: 29, d: 10, mask: 'full' },
  { B: 1, H: 2, Sq: 11, Sk: 13, d: 6, mask: 'rows' },
  { B: 2, H: 2, Sq: 7, Sk: 21, d: 9, mask: 'ninf' },
  { B: 1, H: 3, Sq: 5, Sk: 3, d: 2, packed: true },
];

export function attentionCases(_e: KernelEntry): Case[] {
  return [scratchSizeCase, ...shapes.map((s): Case => ({
    name: `B${s.B} H${s.H} Sq${s.Sq} Sk${s.Sk} d${s.d} mask=${s.mask ?? 'none'}${s.packed ? ' packed' : ''}`,
    run: (h) => {
      const r = rng(s.Sq * 31 + s.Sk * 7 + s.d);
      const HD = s.H * s.d;
      // Packed QKV: q, k, v are views into one [B, S, 3·HD] buffer (ld = 3·HD).
      const ld = s.packed ? 3 * HD : HD;
      const q = randArray(s.B * s.Sq * ld, r, -2, 2), k = randArray(s.B * s.Sk * ld, r, -2, 2), v = randArray(s.B * s.Sk * ld, r);
      const a: AttentionArgs = { B: s.B, H: s.H, Sq: s.Sq, Sk: s.Sk, d: s.d, ldq: ld, ldk: ld, ldv: ld, ldo: HD, mb: 0, mh: 0, mq: 0, mk: 0, scale: 1 / Math.sqrt(s.d) };
      let mask: Float32Array | undefined;
      if (s.mask === 'keys') {
        // [B, 1, 1, Sk]: a padded tail per batch, the HF extended mask (1 − m)·finfo.min.
        mask = new Float32Array(s.B * s.Sk);
        for (let b = 0; b < s.B; b++) for (let j = 0; j < s.Sk; j++) mask[b * s.Sk + j] = j >= s.Sk - b * 2 - 1 && j > 0 ? -3.4028234663852886e38 : 0;
        Object.assign(a, { mask, mb: s.Sk, mh: 0, mq: 0, mk: 1 });
      } else if (s.mask === 'rows') {
        // [B, 1, Sq, 1]: one additive value per query row, broadcast over keys (mk = 0).
        mask = randArray(s.B * s.Sq, r, -3, 3);
        Object.assign(a, { mask, mb: s.Sq, mh: 0, mq: 1, mk: 0 });
      } else if (s.mask === 'ninf') {
        // [B, H, Sq, Sk] of 0 / −∞ (a causal-style band); the last query row of every head is all −∞.
        mask = new Float32Array(s.B * s.H * s.Sq * s.Sk);
        for (let x = 0; x < mask.length; x++) {
          const i = Math.floor(x / s.Sk) % s.Sq, j = x % s.Sk;
          mask[x] = j > i + 3 || i === s.Sq - 1 ? -Infinity : 0;
        }
        Object.assign(a, { mask, mb: s.H * s.Sq * s.Sk, mh: s.Sq * s.Sk, mq: s.Sk, mk: 1 });
      } else if (s.mask === 'full') {
        // [B, H, Sq, Sk] additive values, one query row fully masked (uniform weights).
        mask = randArray(s.B * s.H * s.Sq * s.Sk, r, -3, 3);
        for (let j = 0; j < s.Sk; j++) mask[j] = -3.4028234663852886e38;
        Object.assign(a, { mask, mb: s.H * s.Sq * s.Sk, mh: s.Sq * s.Sk, mq: s.Sk, mk: 1 });
      }
      const pq = h.put(q), pk = s.packed ? pq + HD * 4 : h.put(k), pv = s.packed ? pq + 2 * HD * 4 : h.put(v);
      if (s.packed && s.Sk !== s.Sq) {
        // Packed QKV needs one sequence length; for Sq ≠ Sk read k and v from their own buffers.
        return runSeparate();
      }
      const pm = mask ? h.put(mask) : 0;
      const po = h.alloc(s.B * s.Sq * HD);
      const scratch = h.alloc(h.k.attention_scratch_bytes(s.Sk, s.d) / 4);
      h.k.attention_f32(pq, pk, pv, pm, po, scratch, s.B, s.H, s.Sq, s.Sk, s.d, ld, ld, ld, HD, a.mb, a.mh, a.mq, a.mk, a.scale);
      const want = new Float64Array(s.B * s.Sq * HD);
      attention(q, s.packed ? shift(q, HD) : k, s.packed ? shift(q, 2 * HD) : v, want, a);
      return check(po, want);

      function runSeparate(): string | null {
        const pk2 = h.put(k), pv2 = h.put(v);
        const pm = mask ? h.put(mask) : 0;
        const po = h.alloc(s.B * s.Sq * HD);
        const scratch = h.alloc(h.k.attention_scratch_bytes(s.Sk, s.d) / 4);
        h.k.attention_f32(pq, pk2 + HD * 4, pv2 + 2 * HD * 4, pm, po, scratch, s.B, s.H, s.Sq, s.Sk, s.d, ld, ld, ld, HD, a.mb, a.mh, a.mq, a.mk, a.scale);
        const want = new Float64Array(s.B * s.Sq * HD);
        attention(q, shift(k, HD), shift(v, 2 * HD), want, a);
        return check(po, want);
      }
      function check(po: number, want: Float64Array): string | null {
        if (s.Sk === 0) return h.get(po, want.length).every((x) => x === 0) ? h.checkCanaries() : 'Sk = 0 must give zeros (an empty P·V)';
        return compare(h.get(po, want.length), want, { rtol: 1e-5, atol: 2e-6 }) ?? h.checkCanaries();
      }
    },
  }))];
}

/** The op sizes the kernel's scratch in TypeScript (src/ops/fused-attention.ts): the two must agree. */
const scratchSizeCase: Case = {
  name: 'attention_scratch_bytes = attentionScratchBytes (src/ops/fused-attention.ts)',
  run: (h) => {
    for (const [Sk, d] of [[1, 1], [7, 3], [8, 4], [9, 5], [128, 64], [130, 36], [200, 64], [513, 80]] as const) {
      const want = attentionScratchBytes(Sk, d), got = h.k.attention_scratch_bytes(Sk, d);
      if (got !== want) return `Sk ${Sk}, d ${d}: the kernel needs ${got} bytes, the op allots ${want}`;
    }
    return null;
  },
};

/** The array from element `by` on (a view of a packed buffer at a column offset). */
function shift(x: Float32Array, by: number): Float32Array {
  return x.subarray(by);
}
