// Attention over a KV cache (com.microsoft GroupQueryAttention) and rotary embedding over strided
// rows (GroupQueryAttention's do_rotary, com.microsoft RotaryEmbedding).
//
// gqa_attention_f32 is shaped for decoding: one KV head's cache rows are read in place (D floats
// a key, contiguous, as the [B, kv_heads, max_len, D] cache holds them), with no packing pass, so a
// step costs what it reads: the L cached keys and values once per block of up to 4 query rows
// that share the KV head (a GQA group's heads at one position). Scores are kept whole per row
// (4 × L floats of scratch), then a plain softmax, then P·V in 8-column strips with the 4 rows'
// accumulators in registers. The causal limit and the sliding window are ranges of keys, not a
// mask: keys outside them are never read.
import { exp_nonpos_f32x4, madd, tanh_f32x4 } from './activation';

const RB: i32 = 4; // query rows per block

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

// p[t·L4 + j] = scale · dot(q_t, k_j) for rows t < r (D floats apart) and keys lo ≤ j < hi.
function scores(q: usize, k: usize, D: i32, r: i32, lo: i32, hi: i32, p: usize, L4: usize, scale: f32): void {
  const D4 = D & ~3, rs = <usize>D << 2;
  const q1 = q + (r > 1 ? rs : 0), q2 = q + (r > 2 ? 2 * rs : 0), q3 = q + (r > 3 ? 3 * rs : 0);
  const ps = L4 << 2;
  for (let j = lo; j < hi; j++) {
    const kj = k + <usize>j * rs;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let c = 0; c < D4; c += 4) {
      const off = <usize>c << 2;
      const kv = v128.load(kj + off);
      a0 = madd(v128.load(q + off), kv, a0);
      a1 = madd(v128.load(q1 + off), kv, a1);
      a2 = madd(v128.load(q2 + off), kv, a2);
      a3 = madd(v128.load(q3 + off), kv, a3);
    }
    let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
    for (let c = D4; c < D; c++) {
      const off = <usize>c << 2, kc = load<f32>(kj + off);
      s0 += load<f32>(q + off) * kc; s1 += load<f32>(q1 + off) * kc;
      s2 += load<f32>(q2 + off) * kc; s3 += load<f32>(q3 + off) * kc;
    }
    const o = p + (<usize>j << 2);
    store<f32>(o, s0 * scale);
    if (r > 1) store<f32>(o + ps, s1 * scale);
    if (r > 2) store<f32>(o + 2 * ps, s2 * scale);
    if (r > 3) store<f32>(o + 3 * ps, s3 * scale);
  }
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

// out_t = Σ_{lo ≤ j < hi} p[t][j] · v_j for rows t < r, 8 columns at a time (the 4 rows' 8-column
// sums stay in registers while the keys stream by), then the column tail one at a time.
function weighted_values(p: usize, L4: usize, v: usize, D: i32, r: i32, lo: i32, hi: i32, out: usize): void {
  const rs = <usize>D << 2, ps = L4 << 2;
  const p1 = p + (r > 1 ? ps : 0), p2 = p + (r > 2 ? 2 * ps : 0), p3 = p + (r > 3 ? 3 * ps : 0);
  const D8 = D & ~7;
  for (let c = 0; c < D8; c += 8) {
    let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
    let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
    let vp = v + <usize>lo * rs + (<usize>c << 2);
    for (let j = lo; j < hi; j++) {
      const x0 = v128.load(vp), x1 = v128.load(vp, 16);
      const jo = <usize>j << 2;
      const w0 = v128.load32_splat(p + jo), w1 = v128.load32_splat(p1 + jo);
      const w2 = v128.load32_splat(p2 + jo), w3 = v128.load32_splat(p3 + jo);
      a00 = madd(w0, x0, a00); a01 = madd(w0, x1, a01);
      a10 = madd(w1, x0, a10); a11 = madd(w1, x1, a11);
      a20 = madd(w2, x0, a20); a21 = madd(w2, x1, a21);
      a30 = madd(w3, x0, a30); a31 = madd(w3, x1, a31);
      vp += rs;
    }
    const o = out + (<usize>c << 2);
    v128.store(o, a00); v128.store(o, a01, 16);
    if (r > 1) { v128.store(o + rs, a10); v128.store(o + rs, a11, 16); }
    if (r > 2) { v128.store(o + 2 * rs, a20); v128.store(o + 2 * rs, a21, 16); }
    if (r > 3) { v128.store(o + 3 * rs, a30); v128.store(o + 3 * rs, a31, 16); }
  }
  for (let c = D8; c < D; c++) {
    for (let t = 0; t < r; t++) {
      const pt = p + <usize>t * ps;
      let acc: f32 = 0;
      for (let j = lo; j < hi; j++) acc += load<f32>(pt + (<usize>j << 2)) * load<f32>(v + <usize>j * rs + (<usize>c << 2));
      store<f32>(out + <usize>t * rs + (<usize>c << 2), acc);
    }
  }
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
