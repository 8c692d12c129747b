// Cross-attention of a few query rows over a resident encoder's keys and values (Whisper's decoder:
// 1,500 keys per head, one query row per decoding step). cached_attention_f32 reads such a cache
// one key at a time (a d-long dot product ending in a horizontal sum, then a d-long axpy whose
// output row is loaded and stored again for every key): two long dependency chains per key. Here
// the keys and values are repacked once, when the encoder's projections arrive, into layouts that
// let every inner step be independent vector multiply-adds over contiguous memory:
//  - keys in panels of 16: panel p holds d steps of 16 floats, K[16p + j][i] at [i·16 + j], zero
//    past L, so 16 scores are 4 independent accumulators over one contiguous 16·d-float run;
//  - values in panels of 4 columns: panel c holds Lp rows of 4 floats, V[t][4c + j] at [t·4 + j],
//    zero past L and d, so a panel's 4 outputs are 4 accumulators (4 keys interleaved) over one
//    contiguous Lp·4-float run.
// The cache is read once per query row, sequentially. Each score is one chain in step order
// (i = 0 … d − 1), times scale; the softmax is exp_nonpos over (score − row max); each output is Σ
// over keys in 4 interleaved partial sums (t ≡ 0, 1, 2, 3 mod 4), ((s0 + s1) + (s2 + s3)), then
// times 1 / Σ exp. No mask: every query row sees all L keys.
// Why 4 accumulators a loop and not 8 (panels of 32 keys, 8 value columns, until 2026-12-07):
// TurboFan emits all of a loop body's loads before its arithmetic, so 8 loads + 8 accumulators +
// the broadcasts outgrew the 15 xmm registers it allocates; it kept accumulators on the stack and
// every step waited on a store-to-load round trip (~11 cycles per 128 bytes, 35 GB/s from L2).
// With 4 the loops stay in registers (51 GB/s from L2, `node bench/cross-attention.mjs`). Every
// output's operations and their order are unchanged: the same bits as the 32/8 panels.
import { exp_nonpos_f32x4 } from './activation';

const KP: i32 = 16; // keys per key panel (the key padding unit)
const VP: i32 = 4; // value columns per value panel

/** Keys rounded up to whole key panels. */
// @ts-ignore: decorator
@inline function padKeys(L: i32): i32 { return (L + KP - 1) & ~(KP - 1); }

/** Bytes of one head's packed keys: padKeys(L) · d floats (mirrored in src/ops/nn/cross-attention.ts). */
export function cross_keys_bytes(L: i32, d: i32): i32 { return padKeys(L) * d * 4; }

/** Bytes of one head's packed values: ⌈d/4⌉·4 · padKeys(L) floats. */
export function cross_values_bytes(L: i32, d: i32): i32 { return ((d + VP - 1) & ~(VP - 1)) * padKeys(L) * 4; }

/**
 * Packs `heads` heads of keys and values, each L rows of d floats one head after the other
 * ([heads, L, d], as the projections arrive), into the panels above: head u's keys at
 * kc + u·cross_keys_bytes(L, d), its values at vc + u·cross_values_bytes(L, d).
 */
export function cross_pack_f32(k: usize, v: usize, kc: usize, vc: usize, heads: i32, L: i32, d: i32): void {
  const Lp = padKeys(L), dp = (d + VP - 1) & ~(VP - 1);
  const rowB = <usize>d << 2, headIn = <usize>L * rowB;
  for (let u = 0; u < heads; u++) {
    const ks = k + <usize>u * headIn, vs = v + <usize>u * headIn;
    const kd = kc + <usize>u * <usize>cross_keys_bytes(L, d), vd = vc + <usize>u * <usize>cross_values_bytes(L, d);
    // Keys: panel p, step i, lane j ← K[16p + j][i].
    for (let p = 0; p < Lp; p += KP) {
      const pan = kd + (<usize>(p * d) << 2);
      const n = min(KP, L - p);
      for (let j = 0; j < KP; j++) {
        const src = ks + <usize>(p + j) * rowB;
        let o = pan + (<usize>j << 2);
        if (j < n) for (let i = 0; i < d; i++) { store<f32>(o, load<f32>(src + (<usize>i << 2))); o += KP << 2; }
        else for (let i = 0; i < d; i++) { store<f32>(o, 0); o += KP << 2; }
      }
    }
    // Values: panel c, row t, lane j ← V[t][4c + j].
    for (let c = 0; c < dp; c += VP) {
      const pan = vd + (<usize>(c * Lp) << 2);
      const w = min(VP, d - c);
      for (let t = 0; t < Lp; t++) {
        const o = pan + (<usize>t << 4), src = vs + <usize>t * rowB + (<usize>c << 2);
        if (t < L && w == VP) v128.store(o, v128.load(src));
        else for (let j = 0; j < VP; j++) store<f32>(o + (<usize>j << 2), t < L && j < w ? load<f32>(src + (<usize>j << 2)) : 0);
      }
    }
  }
}

/**
 * Query rows cross_attention_f32 scores before it reads any values: every row's scores are written
 * first (one sequential pass over all their heads' packed keys), then every row's P·V (one pass
 * over their values). Two long streams instead of a short one per head keep the hardware
 * prefetchers ahead; the group bounds the scratch (16 rows × 1,536 keys: 96 KB, within L2).
 */
const GROUP: i32 = 16;

/** Scratch bytes of cross_attention_f32 for `units` = heads · rows query rows: padKeys(L) floats per row of a group. */
export function cross_scratch_bytes(L: i32, units: i32): i32 { return padKeys(L) * 4 * max(1, min(units, GROUP)); }

/**
 * For each of `heads` heads u and each of its `rows` query rows r (q and out: [heads, rows, d]),
 * out = softmax(scale · q·Kᵀ)·V over the L keys and values packed by cross_pack_f32 at kc / vc.
 * scores: cross_scratch_bytes(L, heads · rows) bytes.
 */
export function cross_attention_f32(q: usize, kc: usize, vc: usize, out: usize, scores: usize,
  heads: i32, rows: i32, L: i32, d: i32, scale: f32): void {
  cross_attention(q, kc, vc, out, 0, scores, heads, rows, L, d, scale);
}

/**
 * cross_attention_f32 that also writes each query row's softmax probabilities to probs
 * ([heads, rows, L] floats: exp(score − max) · (1 / Σ exp), the factors its output uses), for
 * callers that return the attention weights (Whisper's word timestamps). `out` gets the same bits.
 */
export function cross_attention_probs_f32(q: usize, kc: usize, vc: usize, out: usize, probs: usize, scores: usize,
  heads: i32, rows: i32, L: i32, d: i32, scale: f32): void {
  cross_attention(q, kc, vc, out, probs, scores, heads, rows, L, d, scale);
}

// @ts-ignore: decorator
@inline function cross_attention(q: usize, kc: usize, vc: usize, out: usize, probs: usize, scores: usize,
  heads: i32, rows: i32, L: i32, d: i32, scale: f32): void {
  if (L <= 0 || d <= 0 || rows <= 0) return;
  const Lp = padKeys(L);
  const rowB = <usize>d << 2, sB = <usize>Lp << 2;
  const kBytes = <usize>cross_keys_bytes(L, d), vBytes = <usize>cross_values_bytes(L, d);
  const units = heads * rows;
  for (let g = 0; g < units; g += GROUP) {
    const n = min(GROUP, units - g);
    for (let i = 0; i < n; i++) {
      const w = g + i, u = w / rows;
      score_row(q + <usize>w * rowB, kc + <usize>u * kBytes, scores + <usize>i * sB, Lp, rowB, scale);
    }
    for (let i = 0; i < n; i++) {
      const w = g + i, u = w / rows, row = scores + <usize>i * sB;
      const inv = softmax_row(row, L, Lp);
      if (probs) scale_row(row, probs + (<usize>w * <usize>L << 2), L, inv);
      pv_row(row, vc + <usize>u * vBytes, out + <usize>w * rowB, Lp, d, inv);
    }
  }
}

// scale · q·Kᵀ of one query row over a head's key panels, 32 keys per panel: each score one chain
// in step order (i = 0 … d − 1), then times scale.
// @ts-ignore: decorator
@inline function score_row(qr: usize, kh: usize, row: usize, Lp: i32, rowB: usize, scale: f32): void {
  const sv = f32x4.splat(scale);
  let kp = kh;
  const qEnd = qr + rowB;
  for (let p = 0; p < Lp; p += KP) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let qi = qr; qi < qEnd; qi += 4) {
      const s = v128.load32_splat(qi);
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(kp)));
      a1 = f32x4.add(a1, f32x4.mul(s, v128.load(kp, 16)));
      a2 = f32x4.add(a2, f32x4.mul(s, v128.load(kp, 32)));
      a3 = f32x4.add(a3, f32x4.mul(s, v128.load(kp, 48)));
      kp += KP << 2;
    }
    const o = row + (<usize>p << 2);
    v128.store(o, f32x4.mul(a0, sv)); v128.store(o, f32x4.mul(a1, sv), 16);
    v128.store(o, f32x4.mul(a2, sv), 32); v128.store(o, f32x4.mul(a3, sv), 48);
  }
}

// exp(score − row max) in place over a row of scores, padding keys → 0; returns 1 / Σ exp,
// splatted. A NaN score makes the row NaN through exp, as the unfused graph's softmax does.
// @ts-ignore: decorator
@inline function softmax_row(row: usize, L: i32, Lp: i32): v128 {
  // Padding keys take no part: −∞ scores (exp gives exactly 0).
  for (let t = L; t < Lp; t++) store<f32>(row + (<usize>t << 2), -Infinity);
  let mv = f32x4.splat(-Infinity);
  const end = row + (<usize>Lp << 2);
  for (let s = row; s < end; s += 16) mv = f32x4.pmax(mv, v128.load(s));
  const m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  const msv = f32x4.splat(m);
  let sum0 = f32x4.splat(0), sum1 = f32x4.splat(0);
  for (let s = row; s < end; s += 32) {
    const e0 = exp_nonpos_f32x4(f32x4.sub(v128.load(s), msv));
    const e1 = exp_nonpos_f32x4(f32x4.sub(v128.load(s, 16), msv));
    v128.store(s, e0); v128.store(s, e1, 16);
    sum0 = f32x4.add(sum0, e0); sum1 = f32x4.add(sum1, e1);
  }
  const sum = f32x4.add(sum0, sum1);
  return f32x4.splat(<f32>1 / ((f32x4.extract_lane(sum, 0) + f32x4.extract_lane(sum, 1)) + (f32x4.extract_lane(sum, 2) + f32x4.extract_lane(sum, 3))));
}

// dst[t] = row[t] · inv for the L real keys (the probabilities of one query row).
// @ts-ignore: decorator
@inline function scale_row(row: usize, dst: usize, L: i32, inv: v128): void {
  const n4 = L & ~3;
  for (let t = 0; t < n4; t += 4) v128.store(dst + (<usize>t << 2), f32x4.mul(v128.load(row + (<usize>t << 2)), inv));
  const s = f32x4.extract_lane(inv, 0);
  for (let t = n4; t < L; t++) store<f32>(dst + (<usize>t << 2), load<f32>(row + (<usize>t << 2)) * s);
}

// P·V of one row of exp'd scores over a head's value panels, one 8-column panel at a time, keys
// t ≡ 0…3 (mod 4) in separate sums, then times inv.
// @ts-ignore: decorator
@inline function pv_row(row: usize, vh: usize, orow: usize, Lp: i32, d: i32, inv: v128): void {
  const end = row + (<usize>Lp << 2);
  for (let c = 0; c < d; c += VP) {
    let vp = vh + (<usize>(c * Lp) << 2);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    for (let s = row; s < end; s += 16) {
      b0 = f32x4.add(b0, f32x4.mul(v128.load32_splat(s), v128.load(vp)));
      b1 = f32x4.add(b1, f32x4.mul(v128.load32_splat(s, 4), v128.load(vp, 16)));
      b2 = f32x4.add(b2, f32x4.mul(v128.load32_splat(s, 8), v128.load(vp, 32)));
      b3 = f32x4.add(b3, f32x4.mul(v128.load32_splat(s, 12), v128.load(vp, 48)));
      vp += 64;
    }
    const y = f32x4.mul(f32x4.add(f32x4.add(b0, b1), f32x4.add(b2, b3)), inv);
    const o = orow + (<usize>c << 2), w = min(VP, d - c);
    if (w == VP) v128.store(o, y);
    else for (let j = 0; j < w; j++) store<f32>(o + (<usize>j << 2), lane(y, j));
  }
}

// Lane j (0…3) of a vector, for the partial last value panel.
// @ts-ignore: decorator
@inline function lane(x: v128, j: i32): f32 {
  if (j == 0) return f32x4.extract_lane(x, 0);
  if (j == 1) return f32x4.extract_lane(x, 1);
  if (j == 2) return f32x4.extract_lane(x, 2);
  return f32x4.extract_lane(x, 3);
}
