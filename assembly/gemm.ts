// f32 GEMM: B packing into 8-column panels and the blocked driver over the micro-kernels in
// gemm_microkernels.ts (generated). Layout and contract: assembly/README.md.
import { act_in_strip, act_strip, loadN } from './gemm_epilogue';
import {
  GEMM_MR, gemm_f32_1x8, gemm_f32_1x8_pa, gemm_f32_2x8, gemm_f32_2x8_pa, gemm_f32_3x8, gemm_f32_3x8_pa,
  gemm_f32_4x8, gemm_f32_4x8_pa,
} from './gemm_microkernels';

// K block: a packed panel slice of KC×8 floats (8 KiB) stays in L1 while every row tile of A
// streams past it; beyond that, partial sums round-trip through C (cheap next to KC FMAs/elem).
const KC: i32 = 256;

// B (K×N, or N×K when transB) → ceil(N/8) panels of K rows × 8 floats, zero-padded past N.
export function pack_b_f32(src: usize, dst: usize, K: i32, N: i32, ldb: i32, transB: i32): void {
  const ldbB = <usize>ldb << 2;
  for (let j0 = 0; j0 < N; j0 += 8) {
    const nr = min(8, N - j0);
    const panel = dst + ((<usize>j0 * <usize>K) << 2);
    if (transB == 0) {
      let s = src + (<usize>j0 << 2);
      let d = panel;
      if (nr == 8) {
        for (let k = 0; k < K; k++) {
          v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16);
          s += ldbB; d += 32;
        }
      } else {
        for (let k = 0; k < K; k++) {
          v128.store(d, loadN(s, nr)); v128.store(d, loadN(s + 16, nr - 4), 16);
          s += ldbB; d += 32;
        }
      }
    } else {
      // Rows of src are columns of B: read each contiguously, scatter with stride 8.
      for (let c = 0; c < 8; c++) {
        let d = panel + (<usize>c << 2);
        if (c < nr) {
          let s = src + <usize>(j0 + c) * ldbB;
          for (let k = 0; k < K; k++) { store<f32>(d, load<f32>(s)); s += 4; d += 32; }
        } else {
          for (let k = 0; k < K; k++) { store<f32>(d, 0); d += 32; }
        }
      }
    }
  }
}

// A (M×K, row stride lda) → ceil(M/4) tiles of K steps × 4 rows: tile t at float offset 4tK, row
// r of step k at 4tK + 4k + r, rows past M zero. A tile of 4 rows is then one pointer for the
// micro-kernel, and rows s… (s a multiple of 4) start at float s·K, as in an unpacked A with
// lda = K, so a caller may split packed rows exactly as it splits plain ones.
export function pack_a_f32(src: usize, lda: i32, dst: usize, M: i32, K: i32): void {
  const ldaB = <usize>lda << 2;
  for (let i0 = 0; i0 < M; i0 += 4) {
    const mr = min(4, M - i0);
    const r0 = src + <usize>i0 * ldaB;
    // Missing rows read row 0 again and are masked to zero, so the loop stays branch-free.
    const r1 = mr > 1 ? r0 + ldaB : r0, r2 = mr > 2 ? r0 + 2 * ldaB : r0, r3 = mr > 3 ? r0 + 3 * ldaB : r0;
    const m1 = i32x4.splat(mr > 1 ? -1 : 0), m2 = i32x4.splat(mr > 2 ? -1 : 0), m3 = i32x4.splat(mr > 3 ? -1 : 0);
    let d = dst + ((<usize>i0 * <usize>K) << 2);
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const o = <usize>k << 2;
      const x0 = v128.load(r0 + o), x1 = v128.and(v128.load(r1 + o), m1);
      const x2 = v128.and(v128.load(r2 + o), m2), x3 = v128.and(v128.load(r3 + o), m3);
      // 4×4 transpose: rows of A (4 k's each) → 4 steps of (row 0, 1, 2, 3).
      const t0 = v128.shuffle<i32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<i32>(x0, x1, 2, 6, 3, 7);
      const t2 = v128.shuffle<i32>(x2, x3, 0, 4, 1, 5), t3 = v128.shuffle<i32>(x2, x3, 2, 6, 3, 7);
      v128.store(d, v128.shuffle<i64>(t0, t2, 0, 2)); v128.store(d, v128.shuffle<i64>(t0, t2, 1, 3), 16);
      v128.store(d, v128.shuffle<i64>(t1, t3, 0, 2), 32); v128.store(d, v128.shuffle<i64>(t1, t3, 1, 3), 48);
      d += 64;
    }
    for (; k < K; k++) {
      const o = <usize>k << 2;
      store<f32>(d, load<f32>(r0 + o));
      store<f32>(d, mr > 1 ? load<f32>(r1 + o) : 0, 4);
      store<f32>(d, mr > 2 ? load<f32>(r2 + o) : 0, 8);
      store<f32>(d, mr > 3 ? load<f32>(r3 + o) : 0, 12);
      d += 16;
    }
  }
}

// @ts-ignore: decorator
@inline function tile_pa(mr: i32, a: usize, b: usize, c: usize, ldc: usize, kc: i32, flags: i32,
  bias: usize, alpha: f32, beta: f32): void {
  switch (mr) {
    case 3: gemm_f32_3x8_pa(a, b, c, ldc, kc, flags, bias, alpha, beta); break;
    case 2: gemm_f32_2x8_pa(a, b, c, ldc, kc, flags, bias, alpha, beta); break;
    default: gemm_f32_1x8_pa(a, b, c, ldc, kc, flags, bias, alpha, beta);
  }
}

// @ts-ignore: decorator
@inline function tile(mr: i32, a: usize, lda: usize, b: usize, c: usize, ldc: usize, nr: i32, kc: i32,
  addC: bool, brow: usize, bcol: usize, act: i32, alpha: f32, beta: f32): void {
  switch (mr) {
    case 3: gemm_f32_3x8(a, lda, b, c, ldc, nr, kc, addC, brow, bcol, act, alpha, beta); break;
    case 2: gemm_f32_2x8(a, lda, b, c, ldc, nr, kc, addC, brow, bcol, act, alpha, beta); break;
    default: gemm_f32_1x8(a, lda, b, c, ldc, nr, kc, addC, brow, bcol, act, alpha, beta);
  }
}

// One packed-B panel (columns j0 … j0+7) against one K block (k0 … k0+kc−1) for every row tile.
// @ts-ignore: decorator
@inline function panel_block(a: usize, ldaB: usize, bp: usize, c: usize, ldcB: usize, M: i32, N: i32, K: i32,
  bias: usize, biasKind: i32, accumulate: i32, act: i32, alpha: f32, beta: f32, aPacked: i32,
  j0: i32, k0: i32, kc: i32): void {
  const last = k0 + kc >= K;
  const addC = accumulate != 0 || k0 > 0;
  const strip = last && act_in_strip(act);
  const actK = last && !strip ? act : 0;
  const nr = min(8, N - j0);
  const b = bp + ((<usize>j0 * <usize>K + <usize>k0 * 8) << 2);
  const bcol: usize = last && biasKind == 2 ? bias + (<usize>j0 << 2) : 0;
  const cj = c + (<usize>j0 << 2);
  let i0 = 0;
  if (aPacked != 0) {
    const ak = a + (<usize>k0 << 4);
    // The packed kernels take their epilogue switches in one word (see gen-gemm.mjs).
    const rowBias = last && biasKind == 1 && bias != 0;
    const flags = nr | (addC ? 16 : 0) | (actK << 5) | (rowBias ? 1024 : 0) | (bcol ? 2048 : 0);
    for (; i0 + GEMM_MR <= M; i0 += GEMM_MR) {
      const bi: usize = rowBias ? bias + (<usize>i0 << 2) : bcol;
      gemm_f32_4x8_pa(ak + <usize>i0 * ldaB, b, cj + <usize>i0 * ldcB, ldcB, kc, flags, bi, alpha, beta);
    }
    if (i0 < M) {
      const bi: usize = rowBias ? bias + (<usize>i0 << 2) : bcol;
      tile_pa(M - i0, ak + <usize>i0 * ldaB, b, cj + <usize>i0 * ldcB, ldcB, kc, flags, bi, alpha, beta);
    }
    if (strip) act_strip(cj, ldcB, M, nr, act);
    return;
  }
  const ak = a + (<usize>k0 << 2);
  for (; i0 + GEMM_MR <= M; i0 += GEMM_MR) {
    const brow: usize = last && biasKind == 1 ? bias + (<usize>i0 << 2) : 0;
    gemm_f32_4x8(ak + <usize>i0 * ldaB, ldaB, b, cj + <usize>i0 * ldcB, ldcB, nr, kc, addC, brow, bcol, actK, alpha, beta);
  }
  if (i0 < M) {
    const brow: usize = last && biasKind == 1 ? bias + (<usize>i0 << 2) : 0;
    tile(M - i0, ak + <usize>i0 * ldaB, ldaB, b, cj + <usize>i0 * ldcB, ldcB, nr, kc, addC, brow, bcol, actK, alpha, beta);
  }
  if (strip) act_strip(cj, ldcB, M, nr, act);
}

// A at most this big (bytes) stays in L2 while every B panel passes: then each panel runs all its
// K blocks back to back, so its M×8 strip of C stays in L1 between them instead of a round trip
// through memory per K block (BERT's 128×30522 vocabulary projection: C is 15 MB).
const A_L2_BYTES: usize = 512 << 10;
const A_BAND_BYTES: usize = 128 << 10;

// C = act(A·B [+ C_old] [+ bias]). Bias and activation are applied only with the last K block,
// C_old (accumulate) is read by the first, so the epilogue is fused with no extra pass over C.
// aPacked ≠ 0: `a` is pack_a_f32's output and lda must be K (row i0, a multiple of 4, at i0·lda).
// Both forms, and both loop orders, add the same products in the same order: bit-identical.
export function gemm_f32(a: usize, lda: i32, bp: usize, c: usize, ldc: i32, M: i32, N: i32, K: i32,
  bias: usize, biasKind: i32, accumulate: i32, act: i32, alpha: f32, beta: f32, aPacked: i32): void {
  if (M <= 0 || N <= 0) return;
  const ldaB = <usize>lda << 2;
  const ldcB = <usize>ldc << 2;
  // Equal K blocks of at most KC: K = 288 runs as 2×144, not 256 + a 32-deep block that pays a
  // full round trip through C for little work.
  const blocks = max(1, (K + KC - 1) / KC);
  const kcEven = (K + blocks - 1) / blocks;
  if (blocks > 1 && (<usize>M * <usize>K << 2) <= A_L2_BYTES) {
    for (let j0 = 0; j0 < N; j0 += 8) {
      for (let k0 = 0; k0 < K; k0 += kcEven) {
        panel_block(a, ldaB, bp, c, ldcB, M, N, K, bias, biasKind, accumulate, act, alpha, beta, aPacked, j0, k0, min(kcEven, K - k0));
      }
    }
    return;
  }
  // A too big for L2: within a K block, rows go in bands of A_BAND_BYTES (a multiple of 4 rows), so
  // the band's A block stays in L2 while every B panel passes it, instead of all of A streaming
  // from L3 once per 8-column panel (Whisper's encoder: 1,500 rows × 256 K = 1.5 MB per panel).
  // The bands split rows only; every element's K blocks run in the same order: the same bits.
  let k0 = 0;
  do {
    const kc = min(kcEven, K - k0);
    const band = kc > 0 ? max(GEMM_MR, <i32>(A_BAND_BYTES / (<usize>kc << 2)) & ~(GEMM_MR - 1)) : M;
    for (let i0 = 0; i0 < M; i0 += band) {
      const mb = min(band, M - i0);
      const ab = a + <usize>i0 * ldaB, cb = c + <usize>i0 * ldcB;
      const bb: usize = biasKind == 1 && bias != 0 ? bias + (<usize>i0 << 2) : bias;
      for (let j0 = 0; j0 < N; j0 += 8) {
        panel_block(ab, ldaB, bp, cb, ldcB, mb, N, K, bb, biasKind, accumulate, act, alpha, beta, aPacked, j0, k0, kc);
      }
    }
    k0 += kc;
  } while (k0 < K);
}

// pack_b_f32's panels (transB = 0) written over B itself, for a weight whose only reader packs it:
// no second K×N buffer, so loading never needs the packed copy beside its source. `p` holds B (K
// rows of N floats) in a block of at least K × Np floats (Np = N rounded up to 8); `visited`:
// ceil(K·Np/8 / 8) bytes of scratch. First the rows are spread to Np floats, last row first, with
// zeros in the pad; then the K × (Np/8) matrix of 32-byte items (8 columns of one row) is
// transposed in place by following the permutation's cycles: item (k, j) goes to j·K + k, which
// is exactly panel j's row k. Same bytes as pack_b_f32 into a separate buffer.
export function pack_b_f32_inplace(p: usize, K: i32, N: i32, visited: usize): void {
  const Np = (N + 7) & ~7, P = Np >> 3;
  if (Np != N) {
    for (let k = K - 1; k >= 0; k--) {
      const to = p + ((<usize>k * <usize>Np) << 2);
      memory.copy(to, p + ((<usize>k * <usize>N) << 2), <usize>N << 2);
      memory.fill(to + (<usize>N << 2), 0, <usize>(Np - N) << 2);
    }
  }
  const n = <u32>K * <u32>P; // < 2^31: wasm32 bytes / 32
  if (K == 1 || P == 1 || n < 3) return;
  memory.fill(visited, 0, <usize>((n + 7) >> 3));
  const uK = <u32>K, uP = <u32>P;
  for (let s: u32 = 1; s < n - 1; s++) {
    if ((load<u8>(visited + <usize>(s >> 3)) >> <u8>(s & 7)) & 1) continue;
    // Position q receives the item from (q mod K)·P + q div K.
    const at = p + (<usize>s << 5);
    const t0 = v128.load(at), t1 = v128.load(at, 16);
    let cur = s;
    while (true) {
      const v = visited + <usize>(cur >> 3);
      store<u8>(v, load<u8>(v) | <u8>(1 << <u8>(cur & 7)));
      const q = cur / uK;
      const next = (cur - q * uK) * uP + q;
      const d = p + (<usize>cur << 5);
      if (next == s) { v128.store(d, t0); v128.store(d, t1, 16); break; }
      const from = p + (<usize>next << 5);
      v128.store(d, v128.load(from)); v128.store(d, v128.load(from, 16), 16);
      cur = next;
    }
  }
}
