// Fused scaled dot-product attention, softmax(scale·Q·Kᵀ + mask)·V, per batch and head, without
// the Sq × Sk score matrix: queries go in tiles of 4 rows, keys in blocks of KB, and the softmax
// is online (running max m and sum l per query row; the accumulator is rescaled by e^(m_old − m_new)
// when a block raises the max). Scratch holds Kᵀ of one head (d × Sk, so that a 4×8 register tile of
// scores is a broadcast-multiply like the GEMM micro-kernel), one block of scores and the 4 rows of
// accumulators: O(d·Sk), never O(Sq·Sk).
import { exp_f32x4, lane0, madd } from './activation';

const MR: i32 = 4;
const KB: i32 = 64;

/** Scratch bytes `attention_f32` needs (mirrored in src/ops/attention.ts). */
export function attention_scratch_bytes(Sk: i32, d: i32): i32 {
  const skp = (Sk + 7) & ~7, dp = (d + 7) & ~7;
  return (d * skp + MR * KB + MR * dp + 2 * MR) << 2;
}

// @ts-ignore: decorator
@inline function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// q, k, v, out: [B, S, ·] rows with leading dimensions ldq/ldk/ldv/ldo (elements); head h occupies
// columns h·d … h·d + d − 1 of a row. mask (0 = none): element (b, h, i, j) at
// b·mb + h·mh + i·mq + j·mk (strides 0 broadcast). scratch: attention_scratch_bytes(Sk, d) bytes.
export function attention_f32(
  q: usize, k: usize, v: usize, mask: usize, out: usize, scratch: usize,
  B: i32, H: i32, Sq: i32, Sk: i32, d: i32,
  ldq: i32, ldk: i32, ldv: i32, ldo: i32,
  mb: i32, mh: i32, mq: i32, mk: i32, scale: f32,
): void {
  if (Sq <= 0 || d <= 0) return;
  const skp = (Sk + 7) & ~7, dp = (d + 7) & ~7;
  const kt = scratch;
  const sc = kt + (<usize>(d * skp) << 2);
  const acc = sc + (<usize>(MR * KB) << 2);
  const mrow = acc + (<usize>(MR * dp) << 2);
  const lrow = mrow + (<usize>MR << 2);
  const sv = f32x4.splat(scale);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      // Kᵀ of this head, zero past Sk so the 8-wide score tile may run over.
      const kb0 = k + ((<usize>b * <usize>Sk * <usize>ldk + <usize>(h * d)) << 2);
      for (let c = 0; c < d; c++) {
        const dst = kt + (<usize>(c * skp) << 2);
        for (let j = 0; j < Sk; j++) store<f32>(dst + (<usize>j << 2), load<f32>(kb0 + ((<usize>j * <usize>ldk + <usize>c) << 2)));
        for (let j = Sk; j < skp; j++) store<f32>(dst + (<usize>j << 2), 0);
      }
      const vb0 = v + ((<usize>b * <usize>Sk * <usize>ldv + <usize>(h * d)) << 2);
      for (let i0 = 0; i0 < Sq; i0 += MR) {
        const r = min(MR, Sq - i0);
        // Rows past r repeat the last real row: the tile stays 4 high, those results are dropped.
        const q0 = q + ((((<usize>b * <usize>Sq + <usize>i0) * <usize>ldq) + <usize>(h * d)) << 2);
        const qs = <usize>ldq << 2;
        const q1 = q0 + qs * <usize>min(1, r - 1), q2 = q0 + qs * <usize>min(2, r - 1), q3 = q0 + qs * <usize>min(3, r - 1);
        for (let t = 0; t < MR; t++) {
          store<f32>(mrow + (<usize>t << 2), -Infinity);
          store<f32>(lrow + (<usize>t << 2), 0);
        }
        memory.fill(acc, 0, <usize>(MR * dp) << 2);
        for (let j0 = 0; j0 < Sk; j0 += KB) {
          const kb = min(KB, Sk - j0);
          // Scores: 4 query rows × 8 keys per register tile.
          for (let jj = 0; jj < kb; jj += 8) {
            let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
            let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
            let kp = kt + (<usize>(j0 + jj) << 2);
            const kstep = <usize>skp << 2;
            for (let c = 0; c < d; c++) {
              const k0 = v128.load(kp), k1 = v128.load(kp, 16);
              const co = <usize>c << 2;
              const a0 = v128.load32_splat(q0 + co), a1 = v128.load32_splat(q1 + co);
              const a2 = v128.load32_splat(q2 + co), a3 = v128.load32_splat(q3 + co);
              c00 = madd(a0, k0, c00); c01 = madd(a0, k1, c01);
              c10 = madd(a1, k0, c10); c11 = madd(a1, k1, c11);
              c20 = madd(a2, k0, c20); c21 = madd(a2, k1, c21);
              c30 = madd(a3, k0, c30); c31 = madd(a3, k1, c31);
              kp += kstep;
            }
            const sp = sc + (<usize>jj << 2);
            const rs = <usize>KB << 2;
            v128.store(sp, f32x4.mul(c00, sv)); v128.store(sp, f32x4.mul(c01, sv), 16);
            v128.store(sp + rs, f32x4.mul(c10, sv)); v128.store(sp + rs, f32x4.mul(c11, sv), 16);
            v128.store(sp + 2 * rs, f32x4.mul(c20, sv)); v128.store(sp + 2 * rs, f32x4.mul(c21, sv), 16);
            v128.store(sp + 3 * rs, f32x4.mul(c30, sv)); v128.store(sp + 3 * rs, f32x4.mul(c31, sv), 16);
          }
          // Mask, then the online-softmax update of each real row.
          for (let t = 0; t < r; t++) {
            const srow = sc + (<usize>(t * KB) << 2);
            if (mask) {
              const mp = mask + ((<usize>b * <usize>mb + <usize>h * <usize>mh + <usize>(i0 + t) * <usize>mq + <usize>j0 * <usize>mk) << 2);
              if (mk == 1) {
                let j = 0;
                for (; j + 4 <= kb; j += 4) v128.store(srow + (<usize>j << 2), f32x4.add(v128.load(srow + (<usize>j << 2)), v128.load(mp + (<usize>j << 2))));
                for (; j < kb; j++) store<f32>(srow + (<usize>j << 2), load<f32>(srow + (<usize>j << 2)) + load<f32>(mp + (<usize>j << 2)));
              } else {
                const ms = <usize>mk << 2;
                for (let j = 0; j < kb; j++) store<f32>(srow + (<usize>j << 2), load<f32>(srow + (<usize>j << 2)) + load<f32>(mp + <usize>j * ms));
              }
            }
            let mv = f32x4.splat(-Infinity);
            let j = 0;
            for (; j + 4 <= kb; j += 4) mv = f32x4.max(mv, v128.load(srow + (<usize>j << 2)));
            let bmax = hmax(mv);
            for (; j < kb; j++) bmax = max(bmax, load<f32>(srow + (<usize>j << 2)));
            const mold = load<f32>(mrow + (<usize>t << 2));
            const mnew = max(mold, bmax);
            const mnv = f32x4.splat(mnew);
            let sum = f32x4.splat(0);
            j = 0;
            // Two vectors per step share exp's constants (V8 rebuilds each at every use); the sum
            // still adds them in key order.
            for (; j + 8 <= kb; j += 8) {
              const p = srow + (<usize>j << 2);
              const e0 = exp_f32x4(f32x4.sub(v128.load(p), mnv));
              const e1 = exp_f32x4(f32x4.sub(v128.load(p, 16), mnv));
              v128.store(p, e0); v128.store(p, e1, 16);
              sum = f32x4.add(f32x4.add(sum, e0), e1);
            }
            for (; j + 4 <= kb; j += 4) {
              const e = exp_f32x4(f32x4.sub(v128.load(srow + (<usize>j << 2)), mnv));
              v128.store(srow + (<usize>j << 2), e);
              sum = f32x4.add(sum, e);
            }
            let s = hsum(sum);
            for (; j < kb; j++) {
              const e = lane0(exp_f32x4(f32x4.splat(load<f32>(srow + (<usize>j << 2)) - mnew)));
              store<f32>(srow + (<usize>j << 2), e);
              s += e;
            }
            // A row whose max is still −∞ (every key masked with −∞) keeps l = 0 and yields NaN,
            // as the unfused graph does.
            const corr = mold == mnew ? <f32>1 : lane0(exp_f32x4(f32x4.splat(mold - mnew)));
            store<f32>(mrow + (<usize>t << 2), mnew);
            store<f32>(lrow + (<usize>t << 2), load<f32>(lrow + (<usize>t << 2)) * corr + s);
            if (corr != 1) {
              const cv = f32x4.splat(corr);
              const ap = acc + (<usize>(t * dp) << 2);
              for (let c = 0; c < dp; c += 4) v128.store(ap + (<usize>c << 2), f32x4.mul(v128.load(ap + (<usize>c << 2)), cv));
            }
          }
          // acc += P·V for the block, 8 columns of the head at a time, then 4 (a tail past d reads
          // at most 12 bytes beyond a V row; those columns are never stored).
          let c = 0;
          for (; c + 8 <= d; c += 8) pv_4x8(acc + (<usize>c << 2), dp, vb0 + ((<usize>j0 * <usize>ldv + <usize>c) << 2), ldv, sc, kb);
          for (; c < d; c += 4) pv_4x4(acc + (<usize>c << 2), dp, vb0 + ((<usize>j0 * <usize>ldv + <usize>c) << 2), ldv, sc, kb);
        }
        for (let t = 0; t < r; t++) {
          const inv: f32 = <f32>1 / load<f32>(lrow + (<usize>t << 2));
          const ap = acc + (<usize>(t * dp) << 2);
          const op = out + ((((<usize>b * <usize>Sq + <usize>(i0 + t)) * <usize>ldo) + <usize>(h * d)) << 2);
          const iv = f32x4.splat(inv);
          let c = 0;
          for (; c + 4 <= d; c += 4) v128.store(op + (<usize>c << 2), f32x4.mul(v128.load(ap + (<usize>c << 2)), iv));
          for (; c < d; c++) store<f32>(op + (<usize>c << 2), load<f32>(ap + (<usize>c << 2)) * inv);
        }
      }
    }
  }
}

// acc[t][0..8) += Σ_j P[t][j]·V[j][0..8) for the 4 rows of a tile; P rows are KB apart.
// @ts-ignore: decorator
@inline function pv_4x8(ap: usize, dp: i32, vp: usize, ldv: i32, pp: usize, kb: i32): void {
  const rs = <usize>KB << 2, as = <usize>dp << 2, vs = <usize>ldv << 2;
  let a00 = v128.load(ap), a01 = v128.load(ap, 16);
  let a10 = v128.load(ap + as), a11 = v128.load(ap + as, 16);
  let a20 = v128.load(ap + 2 * as), a21 = v128.load(ap + 2 * as, 16);
  let a30 = v128.load(ap + 3 * as), a31 = v128.load(ap + 3 * as, 16);
  for (let j = 0; j < kb; j++) {
    const v0 = v128.load(vp), v1 = v128.load(vp, 16);
    const p0 = v128.load32_splat(pp), p1 = v128.load32_splat(pp + rs);
    const p2 = v128.load32_splat(pp + 2 * rs), p3 = v128.load32_splat(pp + 3 * rs);
    a00 = madd(p0, v0, a00); a01 = madd(p0, v1, a01);
    a10 = madd(p1, v0, a10); a11 = madd(p1, v1, a11);
    a20 = madd(p2, v0, a20); a21 = madd(p2, v1, a21);
    a30 = madd(p3, v0, a30); a31 = madd(p3, v1, a31);
    vp += vs;
    pp += 4;
  }
  v128.store(ap, a00); v128.store(ap, a01, 16);
  v128.store(ap + as, a10); v128.store(ap + as, a11, 16);
  v128.store(ap + 2 * as, a20); v128.store(ap + 2 * as, a21, 16);
  v128.store(ap + 3 * as, a30); v128.store(ap + 3 * as, a31, 16);
}

// @ts-ignore: decorator
@inline function pv_4x4(ap: usize, dp: i32, vp: usize, ldv: i32, pp: usize, kb: i32): void {
  const rs = <usize>KB << 2, as = <usize>dp << 2, vs = <usize>ldv << 2;
  let a0 = v128.load(ap), a1 = v128.load(ap + as), a2 = v128.load(ap + 2 * as), a3 = v128.load(ap + 3 * as);
  for (let j = 0; j < kb; j++) {
    const v0 = v128.load(vp);
    a0 = madd(v128.load32_splat(pp), v0, a0);
    a1 = madd(v128.load32_splat(pp + rs), v0, a1);
    a2 = madd(v128.load32_splat(pp + 2 * rs), v0, a2);
    a3 = madd(v128.load32_splat(pp + 3 * rs), v0, a3);
    vp += vs;
    pp += 4;
  }
  v128.store(ap, a0); v128.store(ap + as, a1); v128.store(ap + 2 * as, a2); v128.store(ap + 3 * as, a3);
}
