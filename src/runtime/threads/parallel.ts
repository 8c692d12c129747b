/**
 * Splitting kernel calls across a session's team. Ops do not know about threads: a session with
 * threads gets a kernel table whose `gemm_f32` and `unary_f32` split large calls into tiles (the
 * caller runs the first, pool threads the rest) and run small ones on the caller alone.
 *
 * Every split gives bit-identical results for any thread count: each output element is computed by
 * the same code path, over the same K order, as in the unsplit call. That holds because
 *  - GEMM splits along N at multiples of COL_ALIGN (whole packed-B panels, NR = 8 or 16) or along
 *    M at multiples of ROW_ALIGN (a multiple of every row tile MR ≤ 8, so rows fall into the same
 *    MR×NR tiles and the same remainder tile as without threads); K is never split;
 *  - element-wise chunks are multiples of ELEM_ALIGN (whole SIMD vectors, so the scalar tail is the
 *    same elements).
 */
import type { Kernels } from '../kernels.js';
import { POOL_KERNELS, type Team } from './pool.js';

const COL_ALIGN = 16;
const ROW_ALIGN = 24;
const ELEM_ALIGN = 64;
/** Below this many multiply-adds (~50–100 µs on one core) a GEMM stays on the caller: waking a
 * thread and waiting for it costs ~5–50 µs, more on a busy machine. */
export const GEMM_MIN_MACS = 1 << 20;
/** Below this many elements an element-wise op stays on the caller. */
export const ELEMENTWISE_MIN = 1 << 18;

const GEMM = POOL_KERNELS.indexOf('gemm_f32');
const UNARY = POOL_KERNELS.indexOf('unary_f32');

export function parallelKernels(k: Kernels, team: Team): Kernels {
  const threads = team.workers + 1;
  const { pool, memoryId } = team;
  const gemm = k.gemm_f32, unary = k.unary_f32;
  const argv = new Float64Array(16); // reused: a split allocates nothing

  function parallelGemm(a: number, lda: number, bp: number, c: number, ldc: number, M: number, N: number, K: number,
    bias: number, biasKind: number, accumulate: number, act: number, alpha: number, beta: number, aPacked = 0): void {
    const byCols = N >= 2 * COL_ALIGN;
    const byRows = !byCols && M >= 2 * ROW_ALIGN;
    if (M * N * K < GEMM_MIN_MACS || (!byCols && !byRows)) {
      gemm(a, lda, bp, c, ldc, M, N, K, bias, biasKind, accumulate, act, alpha, beta, aPacked);
      return;
    }
    const total = byCols ? N : M, align = byCols ? COL_ALIGN : ROW_ALIGN;
    const chunk = Math.ceil(total / align / threads) * align;
    const parts = Math.ceil(total / chunk);
    pool.begin(parts - 1);
    argv[1] = lda; argv[4] = ldc; argv[7] = K; argv[9] = biasKind; argv[10] = accumulate;
    argv[11] = act; argv[12] = alpha; argv[13] = beta; argv[14] = aPacked;
    for (let p = 1; p < parts; p++) {
      const s = p * chunk, n = Math.min(chunk, total - s);
      if (byCols) {
        argv[0] = a; argv[2] = bp + s * K * 4; argv[3] = c + s * 4; argv[5] = M; argv[6] = n;
        argv[8] = bias && biasKind === 2 ? bias + s * 4 : bias;
      } else {
        argv[0] = a + s * lda * 4; argv[2] = bp; argv[3] = c + s * ldc * 4; argv[5] = n; argv[6] = N;
        argv[8] = bias && biasKind === 1 ? bias + s * 4 : bias;
      }
      pool.run(p - 1, memoryId, GEMM, argv, 15);
    }
    if (byCols) gemm(a, lda, bp, c, ldc, M, Math.min(chunk, N), K, bias, biasKind, accumulate, act, alpha, beta, aPacked);
    else gemm(a, lda, bp, c, ldc, Math.min(chunk, M), N, K, bias, biasKind, accumulate, act, alpha, beta, aPacked);
    pool.wait();
  }

  function parallelUnary(x: number, y: number, n: number, op: number, pa: number, pb: number): void {
    if (n < ELEMENTWISE_MIN) { unary(x, y, n, op, pa, pb); return; }
    const chunk = Math.ceil(n / ELEM_ALIGN / threads) * ELEM_ALIGN;
    const parts = Math.ceil(n / chunk);
    pool.begin(parts - 1);
    argv[3] = op; argv[4] = pa; argv[5] = pb;
    for (let p = 1; p < parts; p++) {
      const s = p * chunk;
      argv[0] = x + s * 4; argv[1] = y + s * 4; argv[2] = Math.min(chunk, n - s);
      pool.run(p - 1, memoryId, UNARY, argv, 6);
    }
    unary(x, y, chunk, op, pa, pb);
    pool.wait();
  }

  return { ...k, gemm_f32: parallelGemm, unary_f32: parallelUnary };
}
