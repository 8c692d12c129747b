// Fused scaled dot-product attention, softmax(scale·Q·Kᵀ + mask)·V, per batch and head.
//
// Per head, K and V are packed once into the GEMM's B-panel form (8 keys × d for the scores, d in
// 8-column panels × keys for P·V). Then, per block of 4 query rows, the GEMM's 4×8 packed-A micro-kernel
// computes the scores against every key and, after the softmax, P·V: both are a 4-row packed A
// (Q block, or the probabilities) times 8-wide B panels, one pointer each. The score tile is stored
// transposed, one vector per key holding the 4 rows, so the softmax (max, exp, sum) runs down the
// vectors with no horizontal reductions and P is already the packed A of P·V. The whole score row of a block is kept (plain, not online softmax): scratch is
// O((d + 4)·Sk), never O(Sq·Sk). Every output row depends on its own query row only, so any split
// of heads, batches or query rows between threads gives the same bits.
import { exp_nonpos_f32x4 } from './activation';
import { gemm_f32_4x8_pa } from './gemm_microkernels';

const MR: i32 = 4; // query rows per block
const NR: i32 = 8; // keys per score tile, output columns per P·V tile

/**
 * Scratch bytes one `attention_f32` call needs, a multiple of 64 (mirrored in
 * src/ops/fused-attention.ts; a split call gives each part its own block of this size).
 */
export function attention_scratch_bytes(Sk: i32, d: i32): i32 {
  const skp = (Sk + 7) & ~7, d4 = (d + 3) & ~3, dp = (d + 7) & ~7;
  return ((skp * d4 + dp * skp + MR * (d4 + skp + NR + 1)) * 4 + 63) & ~63;
}

// q, k, v, out: [B, S, ·] rows with leading dimensions ldq/ldk/ldv/ldo (elements); head h occupies
// columns h·d … h·d + d − 1 of a row. mask (0 = none): element (b, h, i, j) at
// b·mb + h·mh + i·mq + j·mk (strides 0 broadcast). scratch: attention_scratch_bytes(Sk, d) bytes.
// A row whose scores are all −∞ gives NaN, as the unfused graph does; no keys (Sk = 0) gives 0.
export function attention_f32(
  q: usize, k: usize, v: usize, mask: usize, out: usize, scratch: usize,
  B: i32, H: i32, Sq: i32, Sk: i32, d: i32,
  ldq: i32, ldk: i32, ldv: i32, ldo: i32,
  mb: i32, mh: i32, mq: i32, mk: i32, scale: f32,
): void {
  if (Sq <= 0 || d <= 0) return;
  if (Sk <= 0) {
    // No keys: P·V is an empty sum, 0, as the unfused MatMul gives (not 0 / 0).
    for (let b = 0; b < B; b++)
      for (let i = 0; i < Sq; i++)
        for (let h = 0; h < H; h++) memory.fill(out + (((<usize>b * <usize>Sq + <usize>i) * <usize>ldo + <usize>(h * d)) << 2), 0, <usize>d << 2);
    return;
  }
  const skp = (Sk + 7) & ~7, d4 = (d + 3) & ~3, dp = (d + 7) & ~7;
  const kpan = scratch;                                   // skp/8 panels of d4 × 8
  const vpan = kpan + (<usize>(skp * d4) << 2);           // dp/8 panels of skp × 8
  const qpack = vpan + (<usize>(dp * skp) << 2);          // d4 × 4
  const probs = qpack + (<usize>(MR * d4) << 2);          // skp × 4: scores, then probabilities
  const tile = probs + (<usize>(MR * skp) << 2);          // 4 × 8 accumulators
  const inv = tile + (<usize>(MR * NR) << 2);             // 1 / row sums
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const col = <usize>(h * d);
      pack_keys(k + ((<usize>b * <usize>Sk * <usize>ldk + col) << 2), ldk, kpan, Sk, d, skp, d4);
      pack_values(v + ((<usize>b * <usize>Sk * <usize>ldv + col) << 2), ldv, vpan, Sk, d, skp, dp);
      const mhead = mask ? mask + ((<usize>b * <usize>mb + <usize>h * <usize>mh) << 2) : 0;
      for (let i0 = 0; i0 < Sq; i0 += MR) {
        const r = min(MR, Sq - i0);
        pack_queries(q + (((<usize>b * <usize>Sq + <usize>i0) * <usize>ldq + col) << 2), ldq, qpack, r, d, d4, scale);
        for (let p = 0; p < skp; p += NR) {
          gemm_f32_4x8_pa(qpack, kpan + (<usize>(p * d4) << 2), tile, NR << 2, d4, NR, 0, 0, 0);
          store_scores_transposed(tile, probs + (<usize>p << 4));
        }
        softmax_columns(probs, Sk, skp, mhead, i0, r, mq, mk, inv);
        const orow = out + (((<usize>b * <usize>Sq + <usize>i0) * <usize>ldo + col) << 2);
        for (let c = 0; c < d; c += NR) {
          gemm_f32_4x8_pa(probs, vpan + (<usize>(c * skp) << 2), tile, NR << 2, skp, NR, 0, 0, 0);
          store_output(tile, inv, orow + (<usize>c << 2), ldo, r, min(NR, d - c));
        }
      }
    }
  }
}

// [a0 a1 a2 a3], [b…], [c…], [d…] → [a0 b0 c0 d0] … [a3 b3 c3 d3] at `dst`, `dst + stride`, …
// @ts-ignore: decorator
@inline function transpose4_store(a: v128, b: v128, c: v128, d: v128, dst: usize, stride: usize): void {
  const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5), t1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(c, d, 0, 4, 1, 5), t3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(dst + stride, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

// The 4×8 score tile (rows × keys) as 8 vectors, one per key, of the 4 rows' scores.
function store_scores_transposed(tile: usize, dst: usize): void {
  transpose4_store(v128.load(tile), v128.load(tile, 32), v128.load(tile, 64), v128.load(tile, 96), dst, 16);
  transpose4_store(v128.load(tile, 16), v128.load(tile, 48), v128.load(tile, 80), v128.load(tile, 112), dst + 64, 16);
}

// K rows (d values each, ldk apart) → panels of 8 keys: panel[c·8 + j] = K[8p + j][c], zero past
// Sk and past d (up to d4), so the score tile runs whole panels over d4.
function pack_keys(src: usize, ldk: i32, dst: usize, Sk: i32, d: i32, skp: i32, d4: i32): void {
  const rs = <usize>ldk << 2;
  const d4f = d & ~3;
  const zero = f32x4.splat(0);
  for (let j = 0; j < skp; j += 4) {
    // Rows past Sk read as zeros; the 4 keys land in half `j & 4` of panel j / 8.
    const pan = dst + (<usize>((j & ~7) * d4) << 2) + (<usize>(j & 4) << 2);
    const n = min(4, Sk - j);
    const r0 = src + <usize>j * rs;
    let c = 0;
    if (n == 4) {
      for (; c < d4f; c += 4) {
        const p = r0 + (<usize>c << 2);
        transpose4_store(v128.load(p), v128.load(p + rs), v128.load(p + 2 * rs), v128.load(p + 3 * rs), pan + (<usize>(c * NR) << 2), NR << 2);
      }
    } else {
      for (; c < d4f; c += 4) {
        const p = r0 + (<usize>c << 2);
        let a = zero, b = zero, e = zero;
        if (n > 0) a = v128.load(p);
        if (n > 1) b = v128.load(p + rs);
        if (n > 2) e = v128.load(p + 2 * rs);
        transpose4_store(a, b, e, zero, pan + (<usize>(c * NR) << 2), NR << 2);
      }
    }
    for (; c < d4; c++) {
      const o = pan + (<usize>(c * NR) << 2);
      for (let t = 0; t < 4; t++) store<f32>(o + (<usize>t << 2), t < n && c < d ? load<f32>(r0 + <usize>t * rs + (<usize>c << 2)) : 0);
    }
  }
}

// V rows → panels of 8 columns: panel[j·8 + c] = V[j][8p + c], zero past d and past Sk (to skp).
function pack_values(src: usize, ldv: i32, dst: usize, Sk: i32, d: i32, skp: i32, dp: i32): void {
  const rs = <usize>ldv << 2;
  const zero = f32x4.splat(0);
  for (let c = 0; c < dp; c += NR) {
    const pan = dst + (<usize>(c * skp) << 2);
    const w = min(NR, d - c);
    let s = src + (<usize>c << 2);
    if (w == NR) {
      for (let j = 0; j < Sk; j++) {
        v128.store(pan + (<usize>j << 5), v128.load(s));
        v128.store(pan + (<usize>j << 5), v128.load(s, 16), 16);
        s += rs;
      }
    } else {
      for (let j = 0; j < Sk; j++) {
        const o = pan + (<usize>j << 5);
        for (let t = 0; t < NR; t++) store<f32>(o + (<usize>t << 2), t < w ? load<f32>(s + (<usize>t << 2)) : 0);
        s += rs;
      }
    }
    for (let j = Sk; j < skp; j++) {
      v128.store(pan + (<usize>j << 5), zero);
      v128.store(pan + (<usize>j << 5), zero, 16);
    }
  }
}

// r query rows (ldq apart) → d4 steps of 4 row values, times `scale`; rows past r repeat the last
// real one (their results are never stored), values past d are zero.
function pack_queries(src: usize, ldq: i32, dst: usize, r: i32, d: i32, d4: i32, scale: f32): void {
  const rs = <usize>ldq << 2;
  const p0 = src, p1 = src + rs * <usize>min(1, r - 1), p2 = src + rs * <usize>min(2, r - 1), p3 = src + rs * <usize>min(3, r - 1);
  const sv = f32x4.splat(scale);
  const d4f = d & ~3;
  let c = 0;
  for (; c < d4f; c += 4) {
    const o = <usize>c << 2;
    transpose4_store(f32x4.mul(v128.load(p0 + o), sv), f32x4.mul(v128.load(p1 + o), sv), f32x4.mul(v128.load(p2 + o), sv),
      f32x4.mul(v128.load(p3 + o), sv), dst + (<usize>c << 4), 16);
  }
  for (; c < d4; c++) {
    const o = <usize>c << 2, at = dst + (<usize>c << 4);
    const live = c < d;
    store<f32>(at, live ? load<f32>(p0 + o) * scale : 0);
    store<f32>(at, live ? load<f32>(p1 + o) * scale : 0, 4);
    store<f32>(at, live ? load<f32>(p2 + o) * scale : 0, 8);
    store<f32>(at, live ? load<f32>(p3 + o) * scale : 0, 12);
  }
}

// Softmax of the 4 rows held as one vector per key: mask added, max, exp(s − max) stored back (the
// packed A of P·V), 1 / sum of each row into inv[0..4). Keys Sk … skp become −∞, so their
// probability is exactly 0. `mhead` is the mask at (b, h, 0, 0), or 0 for none.
function softmax_columns(s: usize, Sk: i32, skp: i32, mhead: usize, i0: i32, r: i32, mq: i32, mk: i32, inv: usize): void {
  let mx = f32x4.splat(-Infinity);
  const ms = <usize>mk << 2;
  if (mhead == 0) {
    for (let j = 0; j < Sk; j++) mx = f32x4.pmax(mx, v128.load(s + (<usize>j << 4)));
  } else if (mq == 0) {
    // One mask row for every query row (the padding mask [B, 1, 1, Sk]).
    let mp = mhead;
    for (let j = 0; j < Sk; j++) {
      const p = s + (<usize>j << 4);
      const x = f32x4.add(v128.load(p), v128.load32_splat(mp));
      v128.store(p, x);
      mx = f32x4.pmax(mx, x);
      mp += ms;
    }
  } else {
    // Rows past r read the last real row's mask (never past the mask's end).
    const rq = <usize>mq << 2;
    let m0 = mhead + <usize>i0 * rq;
    let m1 = m0 + rq * <usize>min(1, r - 1), m2 = m0 + rq * <usize>min(2, r - 1), m3 = m0 + rq * <usize>min(3, r - 1);
    for (let j = 0; j < Sk; j++) {
      const p = s + (<usize>j << 4);
      let m = f32x4.splat(load<f32>(m0));
      m = f32x4.replace_lane(m, 1, load<f32>(m1));
      m = f32x4.replace_lane(m, 2, load<f32>(m2));
      m = f32x4.replace_lane(m, 3, load<f32>(m3));
      const x = f32x4.add(v128.load(p), m);
      v128.store(p, x);
      mx = f32x4.pmax(mx, x);
      m0 += ms; m1 += ms; m2 += ms; m3 += ms;
    }
  }
  const ninf = f32x4.splat(-Infinity);
  for (let j = Sk; j < skp; j++) v128.store(s + (<usize>j << 4), ninf);
  // Four keys per step: the exp's constants are loaded once for four vectors.
  let sum0 = f32x4.splat(0), sum1 = f32x4.splat(0);
  const end = s + (<usize>skp << 4);
  for (let p = s; p < end; p += 64) {
    const e0 = exp_nonpos_f32x4(f32x4.sub(v128.load(p), mx));
    const e1 = exp_nonpos_f32x4(f32x4.sub(v128.load(p, 16), mx));
    const e2 = exp_nonpos_f32x4(f32x4.sub(v128.load(p, 32), mx));
    const e3 = exp_nonpos_f32x4(f32x4.sub(v128.load(p, 48), mx));
    v128.store(p, e0);
    v128.store(p, e1, 16);
    v128.store(p, e2, 32);
    v128.store(p, e3, 48);
    sum0 = f32x4.add(f32x4.add(sum0, e0), e2);
    sum1 = f32x4.add(f32x4.add(sum1, e1), e3);
  }
  v128.store(inv, f32x4.div(f32x4.splat(1), f32x4.add(sum0, sum1)));
}

// Rows t < r of the P·V tile, each times inv[t], into the output (w ≤ 8 columns).
function store_output(tile: usize, inv: usize, dst: usize, ldo: i32, r: i32, w: i32): void {
  const rs = <usize>ldo << 2;
  for (let t = 0; t < r; t++) {
    const it = load<f32>(inv + (<usize>t << 2));
    const a = tile + (<usize>t << 5), o = dst + <usize>t * rs;
    if (w == NR) {
      const iv = f32x4.splat(it);
      v128.store(o, f32x4.mul(v128.load(a), iv));
      v128.store(o, f32x4.mul(v128.load(a, 16), iv), 16);
    } else {
      for (let c = 0; c < w; c++) store<f32>(o + (<usize>c << 2), load<f32>(a + (<usize>c << 2)) * it);
    }
  }
}
