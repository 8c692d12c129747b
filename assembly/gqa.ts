// Attention over a KV cache (com.microsoft GroupQueryAttention) and rotary embedding over strided
// rows (GroupQueryAttention's do_rotary, com.microsoft RotaryEmbedding).
//
// gqa_attention_f32 is shaped for decoding: one KV head's cache rows are read in place (D floats
// a key, contiguous, as the [B, kv_heads, max_len, D] cache holds them), with no packing pass, so a
// step costs what it reads: the L cached keys and values once per block of up to 2 query rows
// that share the KV head (a GQA group's heads at one position). Scores are kept whole per row
// (2 × L floats of scratch), then a plain softmax, then P·V in 16-column strips with the rows'
// accumulators in registers. Row blocks of 1 and 2 are separate inlined copies of each loop (no
// work on absent rows). The causal limit and the sliding window are ranges of keys, not a
// mask: keys outside them are never read.
import { exp_nonpos_f32x4, madd, tanh_f32x4 } from './activation';

const RB: i32 = 2; // query rows per block (a GQA group's heads at one position share each K/V load)

/** Scratch bytes gqa_attention_f32 needs for L keys (mirrored in src/ops/contrib/group-query-attention.ts). */
export function gqa_scratch_bytes(L: i32): i32 {
  return ((RB * ((L + 3) & ~3)) * 4 + 63) & ~63;
}

// One KV head of one batch entry against G query heads × S positions.
// q: row (g, s) at q + (s·ldq + g·D) floats; out likewise with ldo. k, v: key j at k + j·D.
// Position s attends keys [lo, past + s + 1) with lo = past + s + 1 − window when window > 0 and
// that is positive, else 0 (onnxruntime-web 1.30's local_window_size: the last `window` keys). Scores are scale·q·k,
// then softcap·tanh(score / softcap) when softcap > 0; smooth ≠ 0 adds a zero logit to the softmax.
export function gqa_attention_f32(
  q: usize, ldq: i32, k: usize, v: usize, out: usize, ldo: i32, scratch: usize,
  G: i32, S: i32, D: i32, past: i32, window: i32, scale: f32, softcap: f32, smooth: i32,
): void {
  const L4 = <usize>(((past + S) + 3) & ~3);
  for (let s = 0; s < S; s++) {
    const hi = past + s + 1;
    const lo = window > 0 && hi > window ? hi - window : 0;
    for (let g0 = 0; g0 < G; g0 += RB) {
      const r = min(RB, G - g0);
      const q0 = q + ((<usize>s * <usize>ldq + <usize>(g0 * D)) << 2);
      const o0 = out + ((<usize>s * <usize>ldo + <usize>(g0 * D)) << 2);
      scores(q0, k, D, r, lo, hi, scratch, L4, scale);
      for (let t = 0; t < r; t++) softmax_row(scratch + ((<usize>t * L4) << 2), lo, hi, softcap, smooth);
      weighted_values(scratch, L4, v, D, r, lo, hi, o0);
    }
  }
}

// p[t·L4 + j] = scale · dot(q_t, k_j) for rows t < r (D floats apart) and keys lo ≤ j < hi. Four keys
// a step: each (row, key) sum is one vector accumulator, and the four keys' accumulators of a row
// are reduced together by a transpose-add (6 operations for 4 scores, not 4 horizontal sums).
// @ts-ignore: decorator
@inline function scores_r(q: usize, k: usize, D: i32, r: i32, lo: i32, hi: i32, p: usize, L4: usize, scale: f32): void {
  const D4 = D & ~3, rs = <usize>D << 2, q1 = q + rs, ps = L4 << 2, sv = f32x4.splat(scale);
  let j = lo;
  for (; j + 4 <= hi; j += 4) {
    const k0 = k + <usize>j * rs, k1 = k0 + rs, k2 = k1 + rs, k3 = k2 + rs;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (let c = 0; c < D4; c += 4) {
      const off = <usize>c << 2;
      const x0 = v128.load(k0 + off), x1 = v128.load(k1 + off), x2 = v128.load(k2 + off), x3 = v128.load(k3 + off);
      const qa = v128.load(q + off);
      a0 = madd(qa, x0, a0); a1 = madd(qa, x1, a1); a2 = madd(qa, x2, a2); a3 = madd(qa, x3, a3);
      if (r > 1) {
        const qb = v128.load(q1 + off);
        b0 = madd(qb, x0, b0); b1 = madd(qb, x1, b1); b2 = madd(qb, x2, b2); b3 = madd(qb, x3, b3);
      }
    }
    let sa = sum4(a0, a1, a2, a3), sb = r > 1 ? sum4(b0, b1, b2, b3) : sa;
    for (let c = D4; c < D; c++) {
      const off = <usize>c << 2;
      const kv = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(k0 + off)), 1, load<f32>(k1 + off)), 2, load<f32>(k2 + off)), 3, load<f32>(k3 + off));
      sa = madd(f32x4.splat(load<f32>(q + off)), kv, sa);
      if (r > 1) sb = madd(f32x4.splat(load<f32>(q1 + off)), kv, sb);
    }
    const o = p + (<usize>j << 2);
    v128.store(o, f32x4.mul(sa, sv));
    if (r > 1) v128.store(o + ps, f32x4.mul(sb, sv));
  }
  for (; j < hi; j++) {
    const kj = k + <usize>j * rs;
    let a = f32x4.splat(0), b = a;
    for (let c = 0; c < D4; c += 4) {
      const off = <usize>c << 2, x = v128.load(kj + off);
      a = madd(v128.load(q + off), x, a);
      if (r > 1) b = madd(v128.load(q1 + off), x, b);
    }
    let sa = hsum(a), sb = hsum(b);
    for (let c = D4; c < D; c++) {
      const off = <usize>c << 2, x = load<f32>(kj + off);
      sa += load<f32>(q + off) * x;
      if (r > 1) sb += load<f32>(q1 + off) * x;
    }
    const o = p + (<usize>j << 2);
    store<f32>(o, sa * scale);
    if (r > 1) store<f32>(o + ps, sb * scale);
  }
}

function scores(q: usize, k: usize, D: i32, r: i32, lo: i32, hi: i32, p: usize, L4: usize, scale: f32): void {
  if (r > 1) scores_r(q, k, D, 2, lo, hi, p, L4, scale);
  else scores_r(q, k, D, 1, lo, hi, p, L4, scale);
}

// [Σa, Σb, Σc, Σd] of four vectors.
// @ts-ignore: decorator
@inline function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7)); // a0+a2 b0+b2 a1+a3 b1+b3
  const cd = f32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return f32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

// @ts-ignore: decorator
@inline function hsum(a: v128): f32 {
  return (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
}

// Scores [lo, hi) of one row → probabilities, in place.
function softmax_row(p: usize, lo: i32, hi: i32, softcap: f32, smooth: i32): void {
  const a = p + (<usize>lo << 2), n = hi - lo, n4 = n & ~3;
  if (softcap > 0) {
    const c = f32x4.splat(softcap), ic = f32x4.splat(<f32>1 / softcap);
    let i = 0;
    for (; i < n4; i += 4) {
      const o = a + (<usize>i << 2);
      v128.store(o, f32x4.mul(c, tanh_f32x4(f32x4.mul(v128.load(o), ic))));
    }
    for (; i < n; i++) {
      const o = a + (<usize>i << 2);
      store<f32>(o, f32x4.extract_lane(f32x4.mul(c, tanh_f32x4(f32x4.mul(f32x4.splat(load<f32>(o)), ic))), 0));
    }
  }
  let mv = f32x4.splat(-Infinity);
  let i = 0;
  for (; i < n4; i += 4) mv = f32x4.pmax(mv, v128.load(a + (<usize>i << 2)));
  let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; i < n; i++) m = max(m, load<f32>(a + (<usize>i << 2)));
  if (smooth != 0 && m < 0) m = 0;
  const ms = f32x4.splat(m);
  let sv = f32x4.splat(0);
  i = 0;
  for (; i < n4; i += 4) {
    const o = a + (<usize>i << 2);
    const e = exp_nonpos_f32x4(f32x4.sub(v128.load(o), ms));
    v128.store(o, e);
    sv = f32x4.add(sv, e);
  }
  let sum = hsum(sv);
  for (; i < n; i++) {
    const o = a + (<usize>i << 2);
    const e = f32x4.extract_lane(exp_nonpos_f32x4(f32x4.splat(load<f32>(o) - m)), 0);
    store<f32>(o, e);
    sum += e;
  }
  if (smooth != 0) sum += f32x4.extract_lane(exp_nonpos_f32x4(f32x4.splat(-m)), 0);
  const inv = f32x4.splat(<f32>1 / sum);
  i = 0;
  for (; i < n4; i += 4) {
    const o = a + (<usize>i << 2);
    v128.store(o, f32x4.mul(v128.load(o), inv));
  }
  for (; i < n; i++) {
    const o = a + (<usize>i << 2);
    store<f32>(o, load<f32>(o) * f32x4.extract_lane(inv, 0));
  }
}

// out_t = Σ_{lo ≤ j < hi} p[t][j] · v_j for rows t < r, 16 columns (one cache line of each value
// row) at a time with the rows' sums in registers while the keys stream by; then 4 columns at a
// time, then one.
// @ts-ignore: decorator
@inline function weighted_values_r(p: usize, L4: usize, v: usize, D: i32, r: i32, lo: i32, hi: i32, out: usize): void {
  const rs = <usize>D << 2, p1 = p + (L4 << 2);
  const D16 = D & ~15, D4 = D & ~3;
  let c = 0;
  for (; c < D16; c += 16) {
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    let vp = v + <usize>lo * rs + (<usize>c << 2);
    for (let j = lo; j < hi; j++) {
      const x0 = v128.load(vp), x1 = v128.load(vp, 16), x2 = v128.load(vp, 32), x3 = v128.load(vp, 48);
      const jo = <usize>j << 2;
      const w = v128.load32_splat(p + jo);
      a0 = madd(w, x0, a0); a1 = madd(w, x1, a1); a2 = madd(w, x2, a2); a3 = madd(w, x3, a3);
      if (r > 1) {
        const u = v128.load32_splat(p1 + jo);
        b0 = madd(u, x0, b0); b1 = madd(u, x1, b1); b2 = madd(u, x2, b2); b3 = madd(u, x3, b3);
      }
      vp += rs;
    }
    const o = out + (<usize>c << 2);
    v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
    if (r > 1) { v128.store(o + rs, b0); v128.store(o + rs, b1, 16); v128.store(o + rs, b2, 32); v128.store(o + rs, b3, 48); }
  }
  for (; c < D4; c += 4) {
    let a = f32x4.splat(0), b = a;
    let vp = v + <usize>lo * rs + (<usize>c << 2);
    for (let j = lo; j < hi; j++) {
      const x = v128.load(vp), jo = <usize>j << 2;
      a = madd(v128.load32_splat(p + jo), x, a);
      if (r > 1) b = madd(v128.load32_splat(p1 + jo), x, b);
      vp += rs;
    }
    const o = out + (<usize>c << 2);
    v128.store(o, a);
    if (r > 1) v128.store(o + rs, b);
  }
  for (; c < D; c++) {
    let a: f32 = 0, b: f32 = 0;
    for (let j = lo; j < hi; j++) {
      const x = load<f32>(v + <usize>j * rs + (<usize>c << 2)), jo = <usize>j << 2;
      a += load<f32>(p + jo) * x;
      if (r > 1) b += load<f32>(p1 + jo) * x;
    }
    store<f32>(out + (<usize>c << 2), a);
    if (r > 1) store<f32>(out + rs + (<usize>c << 2), b);
  }
}

function weighted_values(p: usize, L4: usize, v: usize, D: i32, r: i32, lo: i32, hi: i32, out: usize): void {
  if (r > 1) weighted_values_r(p, L4, v, D, 2, lo, hi, out);
  else weighted_values_r(p, L4, v, D, 1, lo, hi, out);
}

// Rotary embedding over rows of heads. Row i (i < rows), head h (h < H): x at
// x + (i·ldx + h·hsx) floats, written to y + (i·ldy + h·hsy); the angle row is pos[i] (i32) of the
// caches cos/sin ([max_pos, r/2]). Pairs (x[c], x[c + r/2]) — or (x[2c], x[2c+1]) when interleaved —
// for c < r/2 are rotated; features r … D − 1 are copied. x and y may be the same memory.
export function rotary_rows_f32(
  x: usize, ldx: i32, hsx: i32, y: usize, ldy: i32, hsy: i32, rows: i32, H: i32, D: i32,
  cos: usize, sin: usize, pos: usize, rdim: i32, interleaved: i32,
): void {
  const half = rdim >> 1, half4 = half & ~3;
  for (let i = 0; i < rows; i++) {
    const p = <usize>load<i32>(pos + (<usize>i << 2));
    const cr = cos + ((p * <usize>half) << 2), sr = sin + ((p * <usize>half) << 2);
    for (let h = 0; h < H; h++) {
      const xs = x + ((<usize>i * <usize>ldx + <usize>h * <usize>hsx) << 2);
      const ys = y + ((<usize>i * <usize>ldy + <usize>h * <usize>hsy) << 2);
      if (interleaved) {
        let c = 0;
        for (; c < half4; c += 4) {
          const cv = v128.load(cr + (<usize>c << 2)), sv = v128.load(sr + (<usize>c << 2));
          const lo = v128.load(xs + (<usize>(2 * c) << 2)), hi = v128.load(xs + (<usize>(2 * c + 4) << 2));
          const x1 = i32x4.shuffle(lo, hi, 0, 2, 4, 6), x2 = i32x4.shuffle(lo, hi, 1, 3, 5, 7);
          const y1 = f32x4.sub(f32x4.mul(cv, x1), f32x4.mul(sv, x2));
          const y2 = f32x4.add(f32x4.mul(sv, x1), f32x4.mul(cv, x2));
          v128.store(ys + (<usize>(2 * c) << 2), i32x4.shuffle(y1, y2, 0, 4, 1, 5));
          v128.store(ys + (<usize>(2 * c + 4) << 2), i32x4.shuffle(y1, y2, 2, 6, 3, 7));
        }
        for (; c < half; c++) {
          const cc = load<f32>(cr + (<usize>c << 2)), ss = load<f32>(sr + (<usize>c << 2));
          const x1 = load<f32>(xs + (<usize>(2 * c) << 2)), x2 = load<f32>(xs + (<usize>(2 * c + 1) << 2));
          store<f32>(ys + (<usize>(2 * c) << 2), cc * x1 - ss * x2);
          store<f32>(ys + (<usize>(2 * c + 1) << 2), ss * x1 + cc * x2);
        }
      } else {
        let c = 0;
        for (; c < half4; c += 4) {
          const cv = v128.load(cr + (<usize>c << 2)), sv = v128.load(sr + (<usize>c << 2));
          const x1 = v128.load(xs + (<usize>c << 2)), x2 = v128.load(xs + (<usize>(c + half) << 2));
          v128.store(ys + (<usize>c << 2), f32x4.sub(f32x4.mul(cv, x1), f32x4.mul(sv, x2)));
          v128.store(ys + (<usize>(c + half) << 2), f32x4.add(f32x4.mul(sv, x1), f32x4.mul(cv, x2)));
        }
        for (; c < half; c++) {
          const cc = load<f32>(cr + (<usize>c << 2)), ss = load<f32>(sr + (<usize>c << 2));
          const x1 = load<f32>(xs + (<usize>c << 2)), x2 = load<f32>(xs + (<usize>(c + half) << 2));
          store<f32>(ys + (<usize>c << 2), cc * x1 - ss * x2);
          store<f32>(ys + (<usize>(c + half) << 2), ss * x1 + cc * x2);
        }
      }
      if (xs != ys && rdim < D) memory.copy(ys + (<usize>rdim << 2), xs + (<usize>rdim << 2), <usize>(D - rdim) << 2);
    }
  }
}
