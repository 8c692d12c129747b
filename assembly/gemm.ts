// f32 GEMM: B packing into 8-column panels and the blocked driver over the micro-kernels in
// gemm_microkernels.ts (generated). Layout and contract: assembly/README.md.
import { loadN } from './gemm_epilogue';
import { GEMM_MR, gemm_f32_1x8, gemm_f32_2x8, gemm_f32_3x8, gemm_f32_4x8 } from './gemm_microkernels';

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

// @ts-ignore: decorator
@inline function tile(mr: i32, a: usize, lda: usize, b: usize, c: usize, ldc: usize, nr: i32, kc: i32,
  addC: bool, brow: usize, bcol: usize, act: i32, alpha: f32, beta: f32): void {
  switch (mr) {
    case 3: gemm_f32_3x8(a, lda, b, c, ldc, nr, kc, addC, brow, bcol, act, alpha, beta); break;
    case 2: gemm_f32_2x8(a, lda, b, c, ldc, nr, kc, addC, brow, bcol, act, alpha, beta); break;
    default: gemm_f32_1x8(a, lda, b, c, ldc, nr, kc, addC, brow, bcol, act, alpha, beta);
  }
}

// C = act(A·B [+ C_old] [+ bias]). Bias and activation are applied only with the last K block,
// C_old (accumulate) is read by the first, so the epilogue is fused with no extra pass over C.
export function gemm_f32(a: usize, lda: i32, bp: usize, c: usize, ldc: i32, M: i32, N: i32, K: i32,
  bias: usize, biasKind: i32, accumulate: i32, act: i32, alpha: f32, beta: f32): void {
  if (M <= 0 || N <= 0) return;
  const ldaB = <usize>lda << 2;
  const ldcB = <usize>ldc << 2;
  // Equal K blocks of at most KC: K = 288 runs as 2×144, not 256 + a 32-deep block that pays a
  // full round trip through C for little work.
  const blocks = max(1, (K + KC - 1) / KC);
  const kcEven = (K + blocks - 1) / blocks;
  let k0 = 0;
  do {
    const kc = min(kcEven, K - k0);
    const last = k0 + kc >= K;
    const addC = accumulate != 0 || k0 > 0;
    const actK = last ? act : 0;
    for (let j0 = 0; j0 < N; j0 += 8) {
      const nr = min(8, N - j0);
      const b = bp + ((<usize>j0 * <usize>K + <usize>k0 * 8) << 2);
      const bcol: usize = last && biasKind == 2 ? bias + (<usize>j0 << 2) : 0;
      const cj = c + (<usize>j0 << 2);
      const ak = a + (<usize>k0 << 2);
      let i0 = 0;
      for (; i0 + GEMM_MR <= M; i0 += GEMM_MR) {
        const brow: usize = last && biasKind == 1 ? bias + (<usize>i0 << 2) : 0;
        gemm_f32_4x8(ak + <usize>i0 * ldaB, ldaB, b, cj + <usize>i0 * ldcB, ldcB, nr, kc, addC, brow, bcol, actK, alpha, beta);
      }
      if (i0 < M) {
        const brow: usize = last && biasKind == 1 ? bias + (<usize>i0 << 2) : 0;
        tile(M - i0, ak + <usize>i0 * ldaB, ldaB, b, cj + <usize>i0 * ldcB, ldcB, nr, kc, addC, brow, bcol, actK, alpha, beta);
      }
    }
    k0 += kc;
  } while (k0 < K);
}
