/**
 * cached_attention_heads_f32 (text generation's attention over the resident KV cache) split between
 * query heads: at 1, 2 and 3 threads every output byte equals the unsplit call's, each part with
 * its own block of scores; and the kernel against a plain JavaScript attention (causal over
 * past + i + 1 keys, grouped-query heads, additive key mask).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedAttentionScoresBytes } from '../../src/runtime/kernels.js';
import { SplitRig } from './split-rig.js';

const rig = new SplitRig();
const alloc = (floats: number) => rig.alloc(floats * 4);
const f32 = (p: number, n: number) => new Float32Array(rig.memory.buffer, p, n);

/** softmax(scale·q·kᵀ + mask)·v per head, row i of Sq seeing cache rows 0 … past + i. */
function reference(q: Float32Array, kc: Float32Array, vc: Float32Array, mask: Float32Array | undefined,
  B: number, H: number, kvH: number, Sq: number, past: number, maxLen: number, d: number, scale: number): Float32Array {
  const out = new Float32Array(B * H * Sq * d);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const g = Math.floor(h / (H / kvH)), cache = (b * kvH + g) * maxLen * d;
    for (let i = 0; i < Sq; i++) {
      const qo = ((b * H + h) * Sq + i) * d, T = past + i + 1;
      const s = new Float64Array(T);
      for (let t = 0; t < T; t++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += q[qo + j]! * kc[cache + t * d + j]!;
        s[t] = dot * scale + (mask ? mask[b * maxLen + t]! : 0);
      }
      const m = Math.max(...s);
      let sum = 0;
      for (let t = 0; t < T; t++) { s[t] = Math.exp(s[t]! - m); sum += s[t]!; }
      for (let j = 0; j < d; j++) {
        let acc = 0;
        for (let t = 0; t < T; t++) acc += s[t]! * vc[cache + t * d + j]!;
        out[qo + j] = acc / sum;
      }
    }
  }
  return out;
}

describe('cached_attention_heads_f32', () => {
  beforeAll(() => rig.start());
  afterAll(() => rig.leave());

  // [B, H, kvH, Sq, past, maxLen, d, masked]: a decode step of Qwen3-0.6B's attention (16 heads on
  // 8 key/value heads, d = 128) at context 300; a prefill of 37 rows after 5 cached ones, two
  // batches, a padding mask and a head size no multiple of 4; one head split nowhere.
  // Decode steps also with groups of 3 (a pair and a single per group), masks and d = 42 (neither a
  // multiple of 16 nor of 4), where heads go two at a time.
  const shapes = [[1, 16, 8, 1, 300, 320, 128, false], [2, 6, 2, 37, 5, 64, 42, true], [1, 1, 1, 9, 40, 64, 16, false],
    [2, 6, 2, 1, 301, 320, 42, true], [1, 4, 1, 1, 1700, 1800, 20, false]] as const;
  for (const [B, H, kvH, Sq, past, maxLen, d, masked] of shapes) {
    it(`B ${B}, ${H} heads on ${kvH}, ${Sq} new rows after ${past}: same bytes at 1–3 threads, equal to the reference`, () => {
      const qn = B * H * Sq * d, cn = B * kvH * maxLen * d;
      const q = alloc(qn), kc = alloc(cn), vc = alloc(cn), out = alloc(qn), mask = masked ? alloc(B * maxLen) : 0;
      rig.randomF32(q, qn, 1); rig.randomF32(kc, cn, 2); rig.randomF32(vc, cn, 3);
      if (mask) {
        const m = f32(mask, B * maxLen).fill(0);
        m.fill(-3.4028234663852886e38, 0, 3); // batch 0's first 3 positions are padding
      }
      const scores = alloc(3 * cachedAttentionScoresBytes(maxLen) / 4);
      const scale = 1 / Math.sqrt(d);
      rig.same(out, qn * 4, (t) => t.cached_attention_heads_f32(q, kc, vc, mask, out, scores, B, H, kvH, Sq, past, maxLen, d, scale, 0, B * H), (threads, handed) => {
        expect(handed, `items handed at ${threads} threads`).toBeLessThanOrEqual(threads - 1);
        if (H * B > 1) expect(handed, `items handed at ${threads} threads`).toBeGreaterThanOrEqual(Math.min(1, threads - 1));
      });
      // The same bits as cached_attention_f32 one head at a time (the pairs of a decode step too).
      const one = alloc(qn);
      for (let u = 0; u < B * H; u++) {
        const b = Math.floor(u / H), g = Math.floor((u % H) / (H / kvH)), qo = u * Sq * d * 4, co = (b * kvH + g) * maxLen * d * 4;
        rig.k.cached_attention_f32(q + qo, kc + co, vc + co, mask ? mask + b * maxLen * 4 : 0, one + qo, scores, Sq, Sq, past, d, scale);
      }
      expect(new Uint32Array(rig.memory.buffer, out, qn)).toEqual(new Uint32Array(rig.memory.buffer, one, qn));
      const want = reference(f32(q, qn), f32(kc, cn), f32(vc, cn), mask ? f32(mask, B * maxLen) : undefined, B, H, kvH, Sq, past, maxLen, d, scale);
      const got = f32(out, qn);
      for (let i = 0; i < qn; i++) expect(Math.abs(got[i]! - want[i]!), `element ${i}`).toBeLessThan(1e-5);
    });
  }
});
