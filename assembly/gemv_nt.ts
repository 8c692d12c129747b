// y = x · Wᵀ for a few rows of x over W stored as N rows of K floats (row-major [N, K]): each
// output is the dot product of an x row with a W row. This is a tied lm_head read straight from
// the embedding table (Qwen3, Llama 3.2, Gemma: logits = h · Eᵀ with E the [vocab, hidden] table the
// token Gather reads), so the table is held once instead of once more as a transposed copy packed
// for the GEMM (622 MB for Qwen3's fp32 table). A decode or last-row prefill step reads every
// weight once for one multiply-add per x row: memory-bound, like the GEMM's one-row path.
//
// Four W rows at a time (16–48 KB at K = 1024–3072, held in L1/L2 while every x row passes over
// them: W streams from memory once for all M rows); one accumulator vector per W row, reduced to
// four lanes by two shuffle-add rounds. The sum's order depends only on K, never on N or on where a
// threaded part starts (src/runtime/threads/parallel-gemv.ts splits between 4-row groups).

import { madd } from './activation';

// @ts-ignore: decorator
@inline function hsum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  // [Σa0, Σa1, Σa2, Σa3]: pairwise lane sums, then the two halves.
  const lo01 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), hi01 = i32x4.shuffle(a0, a1, 2, 6, 3, 7);
  const lo23 = i32x4.shuffle(a2, a3, 0, 4, 1, 5), hi23 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
  const s01 = f32x4.add(lo01, hi01), s23 = f32x4.add(lo23, hi23); // [a0.02, a1.02, a0.13, a1.13]
  return f32x4.add(i32x4.shuffle(s01, s23, 0, 1, 4, 5), i32x4.shuffle(s01, s23, 2, 3, 6, 7));
}

// y[m·ldy + n] = Σ_k x[m·K + k] · w[n·K + k] for m < M, n < N.
export function gemv_nt_f32(x: usize, M: i32, K: i32, w: usize, N: i32, y: usize, ldy: i32): void {
  const kb = <usize>K << 2;
  const K4 = K & ~3;
  const wEnd = w + <usize>N * kb;
  let n = 0;
  for (; n + 4 <= N; n += 4) {
    const w0 = w + <usize>n * kb, w1 = w0 + kb, w2 = w1 + kb, w3 = w2 + kb;
    for (let m = 0; m < M; m++) {
      const xr = x + <usize>m * kb;
      // Read-ahead: the first row's pass also touches one byte per 64 of the next 4 rows (K / 4
      // steps × 64 bytes = exactly those rows), so their cache lines are on their way while this
      // group is summed. Four streams 4·K bytes apart are more than the hardware prefetcher keeps
      // ahead of: the lm_head's 80 MB went at ~10 GB/s, with the touches at ~14.5 (the machine's
      // read bandwidth, bench/bandwidth.mjs). The touched byte is dropped: no result changes.
      let pf = m == 0 ? w3 + kb : wEnd;
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const xv = v128.load(xr + o);
        a0 = madd(xv, v128.load(w0 + o), a0);
        a1 = madd(xv, v128.load(w1 + o), a1);
        a2 = madd(xv, v128.load(w2 + o), a2);
        a3 = madd(xv, v128.load(w3 + o), a3);
        if (pf < wEnd) { load<u8>(pf); pf += 64; }
      }
      let s = hsum4(a0, a1, a2, a3);
      if (K4 < K) {
        let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
        for (let k = K4; k < K; k++) {
          const o = <usize>k << 2;
          const xv = load<f32>(xr + o);
          t0 += xv * load<f32>(w0 + o); t1 += xv * load<f32>(w1 + o);
          t2 += xv * load<f32>(w2 + o); t3 += xv * load<f32>(w3 + o);
        }
        s = f32x4.add(s, f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(t0), 1, t1), 2, t2), 3, t3));
      }
      v128.store(y + ((<usize>m * <usize>ldy + <usize>n) << 2), s);
    }
  }
  // The last 0–3 rows of W: the same per-row order (vector lanes, then the tail), one row at a time.
  for (; n < N; n++) {
    const wr = w + <usize>n * kb;
    for (let m = 0; m < M; m++) {
      const xr = x + <usize>m * kb;
      let a = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) { const o = <usize>k << 2; a = madd(v128.load(xr + o), v128.load(wr + o), a); }
      const z = f32x4.splat(0);
      let s = f32x4.extract_lane(hsum4(a, z, z, z), 0);
      let t: f32 = 0;
      for (let k = K4; k < K; k++) { const o = <usize>k << 2; t += load<f32>(xr + o) * load<f32>(wr + o); }
      store<f32>(y + ((<usize>m * <usize>ldy + <usize>n) << 2), s + t);
    }
  }
}
