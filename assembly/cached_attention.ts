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
  const d4 = d & ~3;
  for (let r = 0; r < rows; r++) {
    const qp = q + <usize>r * rowB;
    const op = out + <usize>r * rowB;
    const T = past + (r % Sq) + 1;
    // Scores and their max, four keys at a time (each q vector loaded once for four keys); each
    // key's sum runs over i in the same order as one key at a time.
    let m: f32 = -Infinity;
    let t = 0;
    for (; t + 4 <= T; t += 4) {
      const k0 = k + <usize>t * rowB, k1 = k0 + rowB, k2 = k1 + rowB, k3 = k2 + rowB;
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (let i = 0; i < d4; i += 4) {
        const o = <usize>i << 2;
        const qv = v128.load(qp + o);
        a0 = f32x4.add(a0, f32x4.mul(qv, v128.load(k0 + o)));
        a1 = f32x4.add(a1, f32x4.mul(qv, v128.load(k1 + o)));
        a2 = f32x4.add(a2, f32x4.mul(qv, v128.load(k2 + o)));
        a3 = f32x4.add(a3, f32x4.mul(qv, v128.load(k3 + o)));
      }
      m = max(m, score(qp, k0, a0, d4, d, scale, mask, t, scores));
      m = max(m, score(qp, k1, a1, d4, d, scale, mask, t + 1, scores));
      m = max(m, score(qp, k2, a2, d4, d, scale, mask, t + 2, scores));
      m = max(m, score(qp, k3, a3, d4, d, scale, mask, t + 3, scores));
    }
    for (; t < T; t++) {
      const kp = k + <usize>t * rowB;
      let acc = f32x4.splat(0);
      for (let i = 0; i < d4; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(qp + (<usize>i << 2)), v128.load(kp + (<usize>i << 2))));
      m = max(m, score(qp, kp, acc, d4, d, scale, mask, t, scores));
    }
    // exp(s − max), four at a time, and their sum.
    const mv = f32x4.splat(m);
    let sumv = f32x4.splat(0);
    t = 0;
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
    for (t = 0; t < T; t++) store<f32>(scores + (<usize>t << 2), load<f32>(scores + (<usize>t << 2)) * inv);
    // out = Σ p_t · v_t, eight vectors of the row at a time held in registers over every key (the
    // row is not re-read and re-written per key); each element sums over t in the same order.
    let i = 0;
    for (; i + 32 <= d4; i += 32) {
      const vo = <usize>i << 2;
      let o0 = f32x4.splat(0), o1 = o0, o2 = o0, o3 = o0, o4 = o0, o5 = o0, o6 = o0, o7 = o0;
      for (t = 0; t < T; t++) {
        const pv = v128.load32_splat(scores + (<usize>t << 2));
        const vp = v + <usize>t * rowB + vo;
        o0 = f32x4.add(o0, f32x4.mul(pv, v128.load(vp)));
        o1 = f32x4.add(o1, f32x4.mul(pv, v128.load(vp, 16)));
        o2 = f32x4.add(o2, f32x4.mul(pv, v128.load(vp, 32)));
        o3 = f32x4.add(o3, f32x4.mul(pv, v128.load(vp, 48)));
        o4 = f32x4.add(o4, f32x4.mul(pv, v128.load(vp, 64)));
        o5 = f32x4.add(o5, f32x4.mul(pv, v128.load(vp, 80)));
        o6 = f32x4.add(o6, f32x4.mul(pv, v128.load(vp, 96)));
        o7 = f32x4.add(o7, f32x4.mul(pv, v128.load(vp, 112)));
      }
      const po = op + vo;
      v128.store(po, o0); v128.store(po, o1, 16); v128.store(po, o2, 32); v128.store(po, o3, 48);
      v128.store(po, o4, 64); v128.store(po, o5, 80); v128.store(po, o6, 96); v128.store(po, o7, 112);
    }
    for (; i < d4; i += 4) {
      let o = f32x4.splat(0);
      for (t = 0; t < T; t++) o = f32x4.add(o, f32x4.mul(v128.load32_splat(scores + (<usize>t << 2)), v128.load(v + <usize>t * rowB + (<usize>i << 2))));
      v128.store(op + (<usize>i << 2), o);
    }
    for (; i < d; i++) {
      let o: f32 = 0;
      for (t = 0; t < T; t++) o += load<f32>(scores + (<usize>t << 2)) * load<f32>(v + <usize>t * rowB + (<usize>i << 2));
      store<f32>(op + (<usize>i << 2), o);
    }
  }
}

// One key's score from its vector accumulator: the lanes summed, the scalar tail of q·k, the scale
// and the mask; stored at scores[t] and returned.
// @ts-ignore: decorator
@inline function score(qp: usize, kp: usize, acc: v128, d4: i32, d: i32, scale: f32, mask: usize, t: i32, scores: usize): f32 {
  let s = hsum(acc);
  for (let i = d4; i < d; i++) s += load<f32>(qp + (<usize>i << 2)) * load<f32>(kp + (<usize>i << 2));
  s *= scale;
  if (mask) s += load<f32>(mask + (<usize>t << 2));
  store<f32>(scores + (<usize>t << 2), s);
  return s;
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
