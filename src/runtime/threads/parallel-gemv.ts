/**
 * Splitting gemv_nt_f32 (assembly/gemv_nt.ts: y = x·Wᵀ over W stored [N, K], a tied lm_head read
 * from the embedding table) across a session's team. It is memory-bound (every weight read once
 * per step); a second core adds bandwidth on machines whose single core does not saturate memory.
 *
 * Bit-identical for any thread count: parts are whole groups of 4 W rows (the kernel's block), an
 * output's sum runs over K alone in the same order whichever part computes it; K is never split.
 */
import type { Kernels } from '../kernels.js';
import { POOL_KERNELS } from './pool.js';
import type { Fan, Shift } from './split.js';

/** Below this many weights (~100 µs on one core) the product stays on the caller. */
const MIN_WEIGHTS = 1 << 18;
/** Rows per part are a multiple of this many 4-row groups (64 rows: whole cache lines of y). */
const GROUP_ALIGN = 16;

/** `full` is parallel.ts's whole-call argument array; `fan` its splitter. */
export function parallelGemvNT(k: Kernels, fan: Fan, full: number[]): Pick<Kernels, 'gemv_nt_f32'> {
  // Arguments (x, M, K, w, N, y, ldy): the part of groups [s, s + n) is W rows [4s, min(4s + 4n, N)).
  const rows: Shift = (d, f, s, n) => {
    for (let i = 0; i < 7; i++) d[i] = f[i]!;
    d[3] = f[3]! + 4 * s * f[2]! * 4;
    d[4] = Math.min(4 * n, f[4]! - 4 * s);
    d[5] = f[5]! + 4 * s * 4;
  };
  const kernel = k.gemv_nt_f32;
  const id = POOL_KERNELS.indexOf('gemv_nt_f32');
  return {
    gemv_nt_f32(x: number, M: number, K: number, w: number, N: number, y: number, ldy: number): void {
      if (N * K >= MIN_WEIGHTS) {
        full[0] = x; full[1] = M; full[2] = K; full[3] = w; full[4] = N; full[5] = y; full[6] = ldy;
        if (fan(kernel, id, 7, Math.ceil(N / 4), GROUP_ALIGN, rows, 'gemv_nt_f32')) return;
      }
      kernel(x, M, K, w, N, y, ldy);
    },
  };
}
