// Attention over a resident key/value cache (text generation). The cache of one batch row and one
// key/value head is `maxLen` rows of d floats, of which the first `past + Sq` are valid once this
// step's keys are written; query row i (of Sq new tokens) sees keys 0 … past + i (causal), plus an
// additive per-key mask (0 or a large negative number for padding; 0 pointer = none). Each query
// row is one dot product per key and one axpy per key, so a decode step (Sq = 1) reads the cache
// once and copies nothing: no packing, unlike attention_f32, whose packed panels pay off only
// when many query rows share them.
import { exp_f32x4 } from './activation';

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// q, out: `rows` query rows of d floats (the heads sharing one key/value head, each Sq rows, one
// after the other); row r is query position past + (r % Sq). k, v: the cache rows (d floats each).
// mask: f32 per key, or 0. scores: scratch of at least past + Sq floats (rounded up to 4).
export function cached_attention_f32(
  q: usize, k: usize, v: usize, mask: usize, out: usize, scores: usize,
  rows: i32, Sq: i32, past: i32, d: i32, scale: f32,
): void {
  const rowB = <usize>d << 2;
  for (let r = 0; r < rows; r++) {
    const qp = q + <usize>r * rowB;
    const op = out + <usize>r * rowB;
    const T = past + (r % Sq) + 1;
    // Scores and their max.
    let m: f32 = -Infinity;
    for (let t = 0; t < T; t++) {
      const kp = k + <usize>t * rowB;
      let acc = f32x4.splat(0);
      let i = 0;
      for (; i + 4 <= d; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(qp + (<usize>i << 2)), v128.load(kp + (<usize>i << 2))));
      let s = hsum(acc);
      for (; i < d; i++) s += load<f32>(qp + (<usize>i << 2)) * load<f32>(kp + (<usize>i << 2));
      s *= scale;
      if (mask) s += load<f32>(mask + (<usize>t << 2));
      store<f32>(scores + (<usize>t << 2), s);
      m = max(m, s);
    }
    // exp(s − max), four at a time, and their sum.
    const mv = f32x4.splat(m);
    let sumv = f32x4.splat(0);
    let t = 0;
    for (; t + 4 <= T; t += 4) {
      const e = exp_f32x4(f32x4.sub(v128.load(scores + (<usize>t << 2)), mv));
      v128.store(scores + (<usize>t << 2), e);
      sumv = f32x4.add(sumv, e);
    }
    let sum = hsum(sumv);
    for (; t < T; t++) {
      const e = Mathf.exp(load<f32>(scores + (<usize>t << 2)) - m);
      store<f32>(scores + (<usize>t << 2), e);
      sum += e;
    }
    const inv: f32 = 1 / sum;
    // out = Σ p_t · v_t / sum.
    memory.fill(op, 0, rowB);
    for (let t = 0; t < T; t++) {
      const p = load<f32>(scores + (<usize>t << 2)) * inv;
      const pv = f32x4.splat(p);
      const vp = v + <usize>t * rowB;
      let i = 0;
      for (; i + 4 <= d; i += 4) v128.store(op + (<usize>i << 2), f32x4.add(v128.load(op + (<usize>i << 2)), f32x4.mul(pv, v128.load(vp + (<usize>i << 2)))));
      for (; i < d; i++) store<f32>(op + (<usize>i << 2), load<f32>(op + (<usize>i << 2)) + p * load<f32>(vp + (<usize>i << 2)));
    }
  }
}

// Every head of a step in one call, so that a session's threads can split it (by whole query heads:
// runtime/threads/parallel-attention.ts): query heads u = first … first + count − 1 of B·H (batch
// b = u / H, head h = u % H, reading key/value head h / (H / kvH)), each of its Sq rows exactly as
// cached_attention_f32 computes it. q, out: [B, H, Sq, d]; kc, vc: the caches [B, kvH, maxLen, d];
// mask: [B, maxLen] or 0; scores: scratch of maxLen + 4 floats (one block per part when split).
export function cached_attention_heads_f32(
  q: usize, kc: usize, vc: usize, mask: usize, out: usize, scores: usize,
  B: i32, H: i32, kvH: i32, Sq: i32, past: i32, maxLen: i32, d: i32, scale: f32, first: i32, count: i32,
): void {
  const group = H / kvH;
  const rowB = <usize>d << 2;
  const end = min(first + count, B * H);
  for (let u = first; u < end; u++) {
    const b = u / H, h = u % H, g = h / group;
    const qo = <usize>(b * H + h) * <usize>Sq * rowB;
    const co = <usize>(b * kvH + g) * <usize>maxLen * rowB;
    const mp = mask ? mask + ((<usize>b * <usize>maxLen) << 2) : 0;
    cached_attention_f32(q + qo, kc + co, vc + co, mp, out + qo, scores, Sq, Sq, past, d, scale);
  }
}
