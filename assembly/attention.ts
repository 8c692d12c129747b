// Fused scaled dot-product attention, softmax(scale·Q·Kᵀ + mask)·V, per batch and head.
//
// Per head, K and V are packed once into the GEMM's B-panel form (8 keys × d for the scores, d in
// 8-column panels × keys for P·V). Then, per block of up to 16 query rows (4 groups of 4), a 4×8
// micro-kernel with the GEMM's arithmetic (one chain per output, in step order: the same bits as
// gemm_f32_4x8_pa) computes the scores against every key and, after the softmax, P·V: both are a
// 4-row packed A (Q group, or its probabilities) times 8-wide panels. The kernels are written here
// rather than called from the GEMM so that their epilogues do this op's work in registers: the
// score tile is transposed (one vector per key holding the 4 rows) with the padding mask added and
// the rows' running max taken, and the P·V tile is scaled by 1 / row sum on its way out. With
// scores kept one vector per key, the softmax runs down the vectors with no horizontal reductions
// and P is already the packed A of P·V. The whole score row of a block is kept (plain, not online
// softmax): scratch is O((d + 16)·Sk), never O(Sq·Sk). Every output row depends on its own query
// row only, so any split of heads, batches or query rows between threads gives the same bits.
import { exp_nonpos_f32x4, madd } from './activation';
import { storeN } from './gemm_epilogue';

const MR: i32 = 4; // query rows per micro-tile
const NR: i32 = 8; // keys per score tile, output columns per P·V tile
const GROUPS: i32 = 4; // 4-row groups per block: each K/V panel is loaded once per 16 rows

/**
 * Scratch bytes one `attention_f32` call needs, a multiple of 64 (mirrored in
 * src/ops/fused-attention.ts; a split call gives each part its own block of this size).
 */
export function attention_scratch_bytes(Sk: i32, d: i32): i32 {
  const skp = (Sk + 7) & ~7, d4 = (d + 3) & ~3, dp = (d + 7) & ~7;
  return ((skp * d4 + dp * skp + GROUPS * MR * (d4 + skp + 2)) * 4 + 63) & ~63;
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
  const qstride = <usize>(MR * d4) << 2, pstride = <usize>(MR * skp) << 2;
  const kpan = scratch;                                   // skp/8 panels of d4 × 8
  const vpan = kpan + (<usize>(skp * d4) << 2);           // dp/8 panels of skp × 8
  const qpack = vpan + (<usize>(dp * skp) << 2);          // per group: d4 × 4
  const probs = qpack + <usize>GROUPS * qstride;          // per group: skp × 4, scores then probabilities
  const maxes = probs + <usize>GROUPS * pstride;          // per group: the 4 rows' running max
  const inv = maxes + (<usize>(GROUPS * MR) << 2);        // per group: 1 / the 4 row sums
  const ms = <usize>mk << 2;
  const lastFull = Sk & ~7;                               // keys in whole panels
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const col = <usize>(h * d);
      pack_keys(k + ((<usize>b * <usize>Sk * <usize>ldk + col) << 2), ldk, kpan, Sk, d, skp, d4);
      pack_values(v + ((<usize>b * <usize>Sk * <usize>ldv + col) << 2), ldv, vpan, Sk, d, skp, dp);
      const mhead = mask ? mask + ((<usize>b * <usize>mb + <usize>h * <usize>mh) << 2) : 0;
      // A mask with one row for every query row (the padding mask [B, 1, 1, Sk]) is added inside
      // the score tile; a per-row mask afterwards, from memory.
      const keyMask = mhead != 0 && mq == 0;
      for (let i0 = 0; i0 < Sq; i0 += GROUPS * MR) {
        const rb = min(GROUPS * MR, Sq - i0), ng = (rb + MR - 1) / MR;
        for (let g = 0; g < ng; g++) {
          const r = min(MR, rb - g * MR);
          pack_queries(q + (((<usize>b * <usize>Sq + <usize>(i0 + g * MR)) * <usize>ldq + col) << 2), ldq, qpack + <usize>g * qstride, r, d, d4, scale);
          v128.store(maxes + (<usize>g << 4), f32x4.splat(-Infinity));
        }
        // Scores, panel by panel, each panel against every group while it is in L1; the mask is
        // added and the running max taken in key order, as the softmax pass would.
        for (let p = 0; p < skp; p += NR) {
          const kp = kpan + (<usize>(p * d4) << 2), kmask = keyMask ? mhead + <usize>p * ms : 0;
          const full = p < lastFull && (mhead == 0 || keyMask);
          for (let g = 0; g < ng; g++) {
            const dst = probs + <usize>g * pstride + (<usize>p << 4);
            tile_4x8(qpack + <usize>g * qstride, kp, d4, true, dst, full ? maxes + (<usize>g << 4) : 0, kmask, ms, 0, 0, 0, 0);
            if (!full) mask_tail(dst, p, Sk, mhead, i0 + g * MR, min(MR, rb - g * MR), mq, mk, maxes + (<usize>g << 4));
          }
        }
        for (let g = 0; g < ng; g++) {
          softmax_exp(probs + <usize>g * pstride, skp, maxes + (<usize>g << 4), inv + (<usize>g << 4));
        }
        for (let c = 0; c < d; c += NR) {
          const vp = vpan + (<usize>(c * skp) << 2), w = min(NR, d - c);
          for (let g = 0; g < ng; g++) {
            const orow = out + (((<usize>b * <usize>Sq + <usize>(i0 + g * MR)) * <usize>ldo + col + <usize>c) << 2);
            tile_4x8(probs + <usize>g * pstride, vp, skp, false, orow, 0, 0, 0, ldo, inv + (<usize>g << 4), min(MR, rb - g * MR), w);
          }
        }
      }
    }
  }
}

// 4 rows (a packed A: 4 floats per step) · 8 columns (a panel: 8 floats per step) over kc steps,
// each sum one chain in step order (the GEMM micro-kernel's arithmetic, so the same bits). One
// loop for both products; `scores` picks the epilogue (a branch after the loop, not in it):
//  - scores (4 query rows · 8 keys): stored transposed at `dst`, one vector per key holding the
//    4 rows; with `mx` ≠ 0, the key's mask (`kmask`, ms bytes between keys; 0 = none) is added
//    and `mx` (the 4 rows' running max) updated.
//  - P·V (4 rows of probabilities, one vector per key · 8 columns of a V panel): rows t < r, times
//    inv[t], into the output at `dst` (ldo floats a row, w ≤ 8 columns).
function tile_4x8(a: usize, b: usize, kc: i32, scores: bool, dst: usize, mx: usize, kmask: usize, ms: usize,
  ldo: i32, inv: usize, r: i32, w: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  // The step loop inside two chunking loops that run once: at nesting depth 3 V8 unrolls it ×3
  // (see scripts/gen-gemm.mjs, whose 4×8 kernels do the same). Same steps, same order, same bits.
  let k = kc;
  while (k > 0) {
    const chunk1 = min(k, 1 << 20); k -= chunk1;
    let left1 = chunk1;
    while (left1 > 0) {
      const chunk2 = min(left1, 1 << 19); left1 -= chunk2;
      const aEnd = a + (<usize>chunk2 << 4);
      while (a < aEnd) {
        const vb0 = v128.load(b), vb1 = v128.load(b, 16);
        const s0 = v128.load32_splat(a);
        c00 = madd(s0, vb0, c00); c01 = madd(s0, vb1, c01);
        const s1 = v128.load32_splat(a, 4);
        c10 = madd(s1, vb0, c10); c11 = madd(s1, vb1, c11);
        const s2 = v128.load32_splat(a, 8);
        c20 = madd(s2, vb0, c20); c21 = madd(s2, vb1, c21);
        const s3 = v128.load32_splat(a, 12);
        c30 = madd(s3, vb0, c30); c31 = madd(s3, vb1, c31);
        a += 16;
        b += 32;
      }
    }
  }
  if (!scores) {
    const rs = <usize>ldo << 2;
    store_scaled(dst, c00, c01, v128.load32_splat(inv), w);
    if (r > 1) store_scaled(dst + rs, c10, c11, v128.load32_splat(inv, 4), w);
    if (r > 2) store_scaled(dst + 2 * rs, c20, c21, v128.load32_splat(inv, 8), w);
    if (r > 3) store_scaled(dst + 3 * rs, c30, c31, v128.load32_splat(inv, 12), w);
    return;
  }
  // Transposed in registers: t_j holds key j's score for rows 0…3.
  const l0 = i32x4.shuffle(c00, c10, 0, 4, 1, 5), h0 = i32x4.shuffle(c00, c10, 2, 6, 3, 7);
  const l1 = i32x4.shuffle(c20, c30, 0, 4, 1, 5), h1 = i32x4.shuffle(c20, c30, 2, 6, 3, 7);
  const l2 = i32x4.shuffle(c01, c11, 0, 4, 1, 5), h2 = i32x4.shuffle(c01, c11, 2, 6, 3, 7);
  const l3 = i32x4.shuffle(c21, c31, 0, 4, 1, 5), h3 = i32x4.shuffle(c21, c31, 2, 6, 3, 7);
  let t0 = i32x4.shuffle(l0, l1, 0, 1, 4, 5), t1 = i32x4.shuffle(l0, l1, 2, 3, 6, 7);
  let t2 = i32x4.shuffle(h0, h1, 0, 1, 4, 5), t3 = i32x4.shuffle(h0, h1, 2, 3, 6, 7);
  let t4 = i32x4.shuffle(l2, l3, 0, 1, 4, 5), t5 = i32x4.shuffle(l2, l3, 2, 3, 6, 7);
  let t6 = i32x4.shuffle(h2, h3, 0, 1, 4, 5), t7 = i32x4.shuffle(h2, h3, 2, 3, 6, 7);
  if (mx) {
    if (kmask) {
      t0 = f32x4.add(t0, v128.load32_splat(kmask));
      t1 = f32x4.add(t1, v128.load32_splat(kmask + ms));
      t2 = f32x4.add(t2, v128.load32_splat(kmask + 2 * ms));
      t3 = f32x4.add(t3, v128.load32_splat(kmask + 3 * ms));
      t4 = f32x4.add(t4, v128.load32_splat(kmask + 4 * ms));
      t5 = f32x4.add(t5, v128.load32_splat(kmask + 5 * ms));
      t6 = f32x4.add(t6, v128.load32_splat(kmask + 6 * ms));
      t7 = f32x4.add(t7, v128.load32_splat(kmask + 7 * ms));
    }
    let m = v128.load(mx);
    m = f32x4.pmax(m, t0); m = f32x4.pmax(m, t1); m = f32x4.pmax(m, t2); m = f32x4.pmax(m, t3);
    m = f32x4.pmax(m, t4); m = f32x4.pmax(m, t5); m = f32x4.pmax(m, t6); m = f32x4.pmax(m, t7);
    v128.store(mx, m);
  }
  v128.store(dst, t0); v128.store(dst, t1, 16); v128.store(dst, t2, 32); v128.store(dst, t3, 48);
  v128.store(dst, t4, 64); v128.store(dst, t5, 80); v128.store(dst, t6, 96); v128.store(dst, t7, 112);
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

// The score tile of keys p … p + 7 (at `s`, one vector per key) when the fast path of tile_4x8
// does not apply: keys past Sk become −∞ (probability exactly 0, and no part of the max), the
// others get their mask added, per query row when mq ≠ 0, and join the running max `mx`.
// `mhead` is the mask at (b, h, 0, 0), or 0 for none; rows past r read the last real row's mask
// (never past the mask's end).
function mask_tail(s: usize, p: i32, Sk: i32, mhead: usize, i0: i32, r: i32, mq: i32, mk: i32, mx: usize): void {
  const n = min(NR, Sk - p);
  const ms = <usize>mk << 2, rq = <usize>mq << 2;
  let m0 = mhead + <usize>i0 * rq + <usize>p * ms;
  let m1 = m0 + rq * <usize>min(1, r - 1), m2 = m0 + rq * <usize>min(2, r - 1), m3 = m0 + rq * <usize>min(3, r - 1);
  let m = v128.load(mx);
  for (let j = 0; j < n; j++) {
    const at = s + (<usize>j << 4);
    let x = v128.load(at);
    if (mhead) {
      if (mq == 0) {
        x = f32x4.add(x, v128.load32_splat(m0));
      } else {
        let mv = f32x4.splat(load<f32>(m0));
        mv = f32x4.replace_lane(mv, 1, load<f32>(m1));
        mv = f32x4.replace_lane(mv, 2, load<f32>(m2));
        mv = f32x4.replace_lane(mv, 3, load<f32>(m3));
        x = f32x4.add(x, mv);
      }
      v128.store(at, x);
      m0 += ms; m1 += ms; m2 += ms; m3 += ms;
    }
    m = f32x4.pmax(m, x);
  }
  v128.store(mx, m);
  const ninf = f32x4.splat(-Infinity);
  for (let j = n; j < NR; j++) v128.store(s + (<usize>j << 4), ninf);
}

// exp(s − max) over the skp key vectors of 4 rows (max at `mx`), stored back (the packed A of P·V),
// and 1 / the sum of each row into inv[0..4).
function softmax_exp(s: usize, skp: i32, mx: usize, inv: usize): void {
  const m = v128.load(mx);
  // Eight keys per step: each exp is one long dependent chain, and eight independent ones keep the
  // core busy where four leave it waiting (the spills the extra live vectors cost are cheaper). skp
  // is a multiple of 8. sum0 takes the even keys and sum1 the odd, in key order.
  let sum0 = f32x4.splat(0), sum1 = f32x4.splat(0);
  const end = s + (<usize>skp << 4);
  for (let p = s; p < end; p += 128) {
    const e0 = exp_nonpos_f32x4(f32x4.sub(v128.load(p), m));
    const e1 = exp_nonpos_f32x4(f32x4.sub(v128.load(p, 16), m));
    const e2 = exp_nonpos_f32x4(f32x4.sub(v128.load(p, 32), m));
    const e3 = exp_nonpos_f32x4(f32x4.sub(v128.load(p, 48), m));
    const e4 = exp_nonpos_f32x4(f32x4.sub(v128.load(p, 64), m));
    const e5 = exp_nonpos_f32x4(f32x4.sub(v128.load(p, 80), m));
    const e6 = exp_nonpos_f32x4(f32x4.sub(v128.load(p, 96), m));
    const e7 = exp_nonpos_f32x4(f32x4.sub(v128.load(p, 112), m));
    v128.store(p, e0); v128.store(p, e1, 16); v128.store(p, e2, 32); v128.store(p, e3, 48);
    v128.store(p, e4, 64); v128.store(p, e5, 80); v128.store(p, e6, 96); v128.store(p, e7, 112);
    sum0 = f32x4.add(f32x4.add(f32x4.add(f32x4.add(sum0, e0), e2), e4), e6);
    sum1 = f32x4.add(f32x4.add(f32x4.add(f32x4.add(sum1, e1), e3), e5), e7);
  }
  v128.store(inv, f32x4.div(f32x4.splat(1), f32x4.add(sum0, sum1)));
}

// @ts-ignore: decorator
@inline function store_scaled(o: usize, lo: v128, hi: v128, iv: v128, w: i32): void {
  if (w == NR) {
    v128.store(o, f32x4.mul(lo, iv));
    v128.store(o, f32x4.mul(hi, iv), 16);
  } else {
    storeN(o, f32x4.mul(lo, iv), w);
    storeN(o + 16, f32x4.mul(hi, iv), w - 4);
  }
}
