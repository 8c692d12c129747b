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
      m = scoreFour(m, qp, k0, rowB, a0, a1, a2, a3, d4, d, scale, mask, t, scores);
    }
    for (; t < T; t++) {
      const kp = k + <usize>t * rowB;
      let acc = f32x4.splat(0);
      for (let i = 0; i < d4; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(qp + (<usize>i << 2)), v128.load(kp + (<usize>i << 2))));
      m = max(m, score(qp, kp, acc, d4, d, scale, mask, t, scores));
    }
    softmaxRow(scores, T, m);
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

// scores[0 … T) ← softmax, given their max m: exp(s − m) four at a time, their sum, then ·1/sum.
// @ts-ignore: decorator
@inline function softmaxRow(scores: usize, T: i32, m: f32): void {
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
  for (t = 0; t < T; t++) store<f32>(scores + (<usize>t << 2), load<f32>(scores + (<usize>t << 2)) * inv);
}

// Two query rows that share one key/value head and see the same T keys (a decode step's query
// heads of one group): cached_attention_f32's arithmetic for each row — every score and output
// element summed in the same order, so the same bits — over one pass through the keys and one
// through the values instead of one per row (a decode step is a read of the cache: this halves it).
// scores: 2 · (T rounded up to 4) floats, row 1's after row 0's.
function cachedAttentionPair(
  q0: usize, q1: usize, k: usize, v: usize, mask: usize, out0: usize, out1: usize, scores: usize,
  T: i32, d: i32, scale: f32,
): void {
  const rowB = <usize>d << 2;
  const d4 = d & ~3;
  const s0 = scores, s1 = scores + (<usize>((T + 3) & ~3) << 2);
  let m0: f32 = -Infinity, m1: f32 = -Infinity;
  let t = 0;
  // Touches, in the scores' loop, of the keys AHEAD rows on and of these four keys' values: one
  // load a 64-byte line, OR-ed into a vector that is stored at the end so the loads stay. Wasm has no
  // prefetch; without them the caches of a long context came from memory at ~half the core's read
  // bandwidth (the hardware prefetcher alone runs too little ahead of this loop), with them the
  // values are in cache when P·V reads them: 8.6 → 5.5 ms for 8 layers at context 1,024.
  let touch = f32x4.splat(0);
  for (; t + 4 <= T; t += 4) {
    const k0 = k + <usize>t * rowB, k1 = k0 + rowB, k2 = k1 + rowB, k3 = k2 + rowB;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    const ahead = t + 4 + AHEAD <= T ? k0 + <usize>AHEAD * rowB : k0;
    const vt = v + <usize>t * rowB;
    for (let i = 0; i < d4; i += 4) {
      const o = <usize>i << 2;
      touch = v128.or(touch, v128.or(v128.load(ahead + (o << 2)), v128.load(vt + (o << 2))));
      const x0 = v128.load(q0 + o), x1 = v128.load(q1 + o);
      const w0 = v128.load(k0 + o), w1 = v128.load(k1 + o), w2 = v128.load(k2 + o), w3 = v128.load(k3 + o);
      a0 = f32x4.add(a0, f32x4.mul(x0, w0)); b0 = f32x4.add(b0, f32x4.mul(x1, w0));
      a1 = f32x4.add(a1, f32x4.mul(x0, w1)); b1 = f32x4.add(b1, f32x4.mul(x1, w1));
      a2 = f32x4.add(a2, f32x4.mul(x0, w2)); b2 = f32x4.add(b2, f32x4.mul(x1, w2));
      a3 = f32x4.add(a3, f32x4.mul(x0, w3)); b3 = f32x4.add(b3, f32x4.mul(x1, w3));
    }
    m0 = scoreFour(m0, q0, k0, rowB, a0, a1, a2, a3, d4, d, scale, mask, t, s0);
    m1 = scoreFour(m1, q1, k0, rowB, b0, b1, b2, b3, d4, d, scale, mask, t, s1);
  }
  for (; t < T; t++) {
    const kp = k + <usize>t * rowB;
    let a = f32x4.splat(0), b = a;
    for (let i = 0; i < d4; i += 4) {
      const w = v128.load(kp + (<usize>i << 2));
      a = f32x4.add(a, f32x4.mul(v128.load(q0 + (<usize>i << 2)), w));
      b = f32x4.add(b, f32x4.mul(v128.load(q1 + (<usize>i << 2)), w));
    }
    m0 = max(m0, score(q0, kp, a, d4, d, scale, mask, t, s0));
    m1 = max(m1, score(q1, kp, b, d4, d, scale, mask, t, s1));
  }
  v128.store(s1 + (<usize>((T + 3) & ~3) << 2), touch); // within the 2 · (maxLen + 4) floats
  softmaxRow(s0, T, m0);
  softmaxRow(s1, T, m1);
  // out_r = Σ p_r,t · v_t, 16 floats of both rows in registers (8 accumulators) over a block of 32
  // keys, then the next 16 floats over the same block (16 KB of values for d = 128, still in L1), so
  // the values stream from memory in order; the accumulators wait in out between blocks (exact, and
  // each element still sums over t in order).
  const d16 = d4 & ~15;
  for (let i = 0; i < d16; i += 16) {
    const vo = <usize>i << 2;
    v128.store(out0 + vo, f32x4.splat(0)); v128.store(out0 + vo, f32x4.splat(0), 16); v128.store(out0 + vo, f32x4.splat(0), 32); v128.store(out0 + vo, f32x4.splat(0), 48);
    v128.store(out1 + vo, f32x4.splat(0)); v128.store(out1 + vo, f32x4.splat(0), 16); v128.store(out1 + vo, f32x4.splat(0), 32); v128.store(out1 + vo, f32x4.splat(0), 48);
  }
  for (let t0 = 0; t0 < T; t0 += PV_KEYS) {
    const t1 = min(T, t0 + PV_KEYS);
    for (let i = 0; i < d16; i += 16) {
      const vo = <usize>i << 2;
      let a0 = v128.load(out0 + vo), a1 = v128.load(out0 + vo, 16), a2 = v128.load(out0 + vo, 32), a3 = v128.load(out0 + vo, 48);
      let b0 = v128.load(out1 + vo), b1 = v128.load(out1 + vo, 16), b2 = v128.load(out1 + vo, 32), b3 = v128.load(out1 + vo, 48);
      for (t = t0; t < t1; t++) {
        const p0 = v128.load32_splat(s0 + (<usize>t << 2)), p1 = v128.load32_splat(s1 + (<usize>t << 2));
        const vp = v + <usize>t * rowB + vo;
        const w0 = v128.load(vp), w1 = v128.load(vp, 16), w2 = v128.load(vp, 32), w3 = v128.load(vp, 48);
        a0 = f32x4.add(a0, f32x4.mul(p0, w0)); b0 = f32x4.add(b0, f32x4.mul(p1, w0));
        a1 = f32x4.add(a1, f32x4.mul(p0, w1)); b1 = f32x4.add(b1, f32x4.mul(p1, w1));
        a2 = f32x4.add(a2, f32x4.mul(p0, w2)); b2 = f32x4.add(b2, f32x4.mul(p1, w2));
        a3 = f32x4.add(a3, f32x4.mul(p0, w3)); b3 = f32x4.add(b3, f32x4.mul(p1, w3));
      }
      v128.store(out0 + vo, a0); v128.store(out0 + vo, a1, 16); v128.store(out0 + vo, a2, 32); v128.store(out0 + vo, a3, 48);
      v128.store(out1 + vo, b0); v128.store(out1 + vo, b1, 16); v128.store(out1 + vo, b2, 32); v128.store(out1 + vo, b3, 48);
    }
  }
  let i = d16;
  for (; i < d4; i += 4) {
    let a = f32x4.splat(0), b = a;
    for (t = 0; t < T; t++) {
      const w = v128.load(v + <usize>t * rowB + (<usize>i << 2));
      a = f32x4.add(a, f32x4.mul(v128.load32_splat(s0 + (<usize>t << 2)), w));
      b = f32x4.add(b, f32x4.mul(v128.load32_splat(s1 + (<usize>t << 2)), w));
    }
    v128.store(out0 + (<usize>i << 2), a);
    v128.store(out1 + (<usize>i << 2), b);
  }
  for (; i < d; i++) {
    let a: f32 = 0, b: f32 = 0;
    for (t = 0; t < T; t++) {
      const w = load<f32>(v + <usize>t * rowB + (<usize>i << 2));
      a += load<f32>(s0 + (<usize>t << 2)) * w;
      b += load<f32>(s1 + (<usize>t << 2)) * w;
    }
    store<f32>(out0 + (<usize>i << 2), a);
    store<f32>(out1 + (<usize>i << 2), b);
  }
}

// Keys per block of cachedAttentionPair's P·V (32 rows of d = 128 floats: 16 KB, half of L1).
const PV_KEYS = 32;
// How many key rows ahead its scores' loop touches (8 … 64 measured alike; 16 rows = 8 KB at d = 128).
const AHEAD = 16;

// Four consecutive keys' scores (rows k0 … k0 + 3·rowB, accumulators a0 … a3), in key order; the
// running max m updated.
// @ts-ignore: decorator
@inline function scoreFour(m: f32, qp: usize, k0: usize, rowB: usize, a0: v128, a1: v128, a2: v128, a3: v128, d4: i32, d: i32, scale: f32, mask: usize, t: i32, scores: usize): f32 {
  m = max(m, score(qp, k0, a0, d4, d, scale, mask, t, scores));
  m = max(m, score(qp, k0 + rowB, a1, d4, d, scale, mask, t + 1, scores));
  m = max(m, score(qp, k0 + 2 * rowB, a2, d4, d, scale, mask, t + 2, scores));
  return max(m, score(qp, k0 + 3 * rowB, a3, d4, d, scale, mask, t + 3, scores));
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
// mask: [B, maxLen] or 0; scores: scratch of 2 · (maxLen + 4) floats (one block per part when
// split). A decode step (Sq = 1) takes the query heads of one group two at a time
// (cachedAttentionPair: same bits, the group's keys and values read once for both).
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
    if (Sq == 1 && u + 1 < end && h + 1 < H && (h + 1) / group == g) {
      cachedAttentionPair(q + qo, q + qo + rowB, kc + co, vc + co, mp, out + qo, out + qo + rowB, scores, past + 1, d, scale);
      u++;
    } else {
      cached_attention_f32(q + qo, kc + co, vc + co, mp, out + qo, scores, Sq, Sq, past, d, scale);
    }
  }
}
