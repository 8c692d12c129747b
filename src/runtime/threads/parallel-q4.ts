/**
 * Splitting the one-row 4-bit decode kernels (assembly/gemv_q4.ts: gemv_q4_f32_n4, gemv_q4_i8_n4;
 * assembly/gemv_q4x.ts, gemv_q4x16.ts: gemv_q4x_i8 and gemv_q4x_i16, what MatMulNBits runs for a decode step) across a session's team. They are compute-bound (one
 * core dequantizes ~5–10 G weights/s, far below what memory delivers at ½ byte a weight), so a
 * second core helps.
 *
 * Bit-identical for any thread count: the split is between 4-column groups, and a group's four
 * outputs are computed from its own columns, scales and zero points and all of x alone, in the
 * same order whichever part runs it; K is never split.
 */
import type { Kernels } from '../kernels.js';
import { POOL_KERNELS } from './pool.js';
import type { Fan, Shift } from './split.js';

/** Below this many weights (~50 µs on one core) a decode product stays on the caller. */
const Q4_MIN_WEIGHTS = 1 << 18;
/** Groups per part are a multiple of this (32 columns): parts start on whole cache lines of y. */
const GROUP_ALIGN = 8;

type Q4Kernels = Pick<Kernels, 'gemv_q4_f32_n4' | 'gemv_q4_i8_n4' | 'gemv_q4x_i8' | 'gemv_q4x_i16'>;

/** `full` is parallel.ts's whole-call argument array; `fan` its splitter. */
export function parallelQ4(k: Kernels, fan: Fan, full: number[]): Q4Kernels {
  // Arguments (x, K, G, bs, w, s4, z4, y): a part of groups [s, s + n) shifts w, s4, z4 and y.
  const groups: Shift = (d, f, s, n) => {
    for (let i = 0; i < 8; i++) d[i] = f[i]!;
    const K = f[1]!, bs = f[3]!, nb = Math.ceil(K / bs);
    d[2] = n;
    d[4] = f[4]! + s * 4 * nb * (bs / 2);
    d[5] = f[5]! + s * nb * 16;
    d[6] = f[6] ? f[6] + s * nb * 16 : 0;
    d[7] = f[7]! + s * 16;
  };
  const wrap = (name: 'gemv_q4_f32_n4' | 'gemv_q4_i8_n4') => {
    const kernel = k[name];
    const id = POOL_KERNELS.indexOf(name);
    return (x: number, K: number, G: number, bs: number, w: number, s4: number, z4: number, y: number): void => {
      if (G * 4 * K >= Q4_MIN_WEIGHTS) {
        full[0] = x; full[1] = K; full[2] = G; full[3] = bs; full[4] = w; full[5] = s4; full[6] = z4; full[7] = y;
        if (fan(kernel, id, 8, G, GROUP_ALIGN, groups, name)) return;
      }
      kernel(x, K, G, bs, w, s4, z4, y);
    };
  };
  // gemv_q4x_i8(xq, K, N, bs, w, s4, z4, y) on the repacked weights (assembly/gemv_q4x.ts): a part
  // of groups [s, s + n) is columns [4s, min(4s + 4n, N)); each group's bytes are contiguous.
  const repacked: Shift = (d, f, s, n) => {
    for (let i = 0; i < 8; i++) d[i] = f[i]!;
    const K = f[1]!, bs = f[3]!, nb = Math.ceil(K / bs);
    d[2] = Math.min(4 * n, f[2]! - 4 * s);
    d[4] = f[4]! + s * nb * bs * 2;
    d[5] = f[5]! + s * nb * 16;
    d[6] = f[6] ? f[6] + s * nb * 4 : 0;
    d[7] = f[7]! + s * 16;
  };
  // gemv_q4x_i16 (16-bit x, the default) takes the same arguments over the same layout.
  const wrapRepacked = (name: 'gemv_q4x_i8' | 'gemv_q4x_i16') => {
    const kernel = k[name];
    const id = POOL_KERNELS.indexOf(name);
    return (xq: number, K: number, N: number, bs: number, w: number, s4: number, z4: number, y: number): void => {
      if (N * K >= Q4_MIN_WEIGHTS) {
        full[0] = xq; full[1] = K; full[2] = N; full[3] = bs; full[4] = w; full[5] = s4; full[6] = z4; full[7] = y;
        if (fan(kernel, id, 8, Math.ceil(N / 4), GROUP_ALIGN, repacked, name)) return;
      }
      kernel(xq, K, N, bs, w, s4, z4, y);
    };
  };
  return { gemv_q4_f32_n4: wrap('gemv_q4_f32_n4'), gemv_q4_i8_n4: wrap('gemv_q4_i8_n4'), gemv_q4x_i8: wrapRepacked('gemv_q4x_i8'), gemv_q4x_i16: wrapRepacked('gemv_q4x_i16') };
}
