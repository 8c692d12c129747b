/**
 * Splitting the int8 GEMM (assembly/gemm_i8.ts) and its A packing across a session's team, for
 * DynamicQuantizeMatMul, MatMulInteger, QLinearMatMul, ConvInteger and QLinearConv.
 *
 * Bit-identical for any thread count, as parallel.ts's other splits:
 *  - gemm_i16_dq_f32 / gemm_i16_i32 split along N at whole 8-column panels of packed B (a panel's
 *    columns are computed from the panel, all of A and the column's scale and bias alone; the
 *    driver's per-strip activation runs over each part's own panels), or along M at whole 4-row
 *    blocks of packed A (the tile's rows; rows past M are zeros in packed A either way). K is
 *    never split.
 *    The dequantizing ones' per-row A scales (aScales, when not 0) follow their rows.
 *  - quantize_pack_a_f32 / pack_a_i8 split at whole 4-row blocks: each block is written from its
 *    own rows (and their zero points) only. (quantize_pack_a_rows_f32, the per-row form, runs
 *    whole: it packs a batched decoder's few rows.)
 */
import type { Kernels } from '../kernels.js';
import { POOL_KERNELS } from './pool.js';
import { copy, largestShare, type Fan, type Shift } from './split.js';

/** The int8 kernels' panel width (NR) and row block (MR). */
const PANEL = 8;
const BLOCK = 4;
/** The int8 GEMM runs at about twice gemm_f32's rate: twice parallel.ts's GEMM_MIN_MACS. */
const I8_MIN_MACS = 1 << 21;
/**
 * Packing A runs at ~2.5 G elements/s (BERT-base's 128×3072 in 0.16 ms), a few % of the GEMM that
 * follows: split only from ~0.4 ms (batches of BERT-base's sequences), as a wake-up and wait cost
 * 5–50 µs and measured 0.16 → 0.19–0.40 ms when split at 128×3072 with the other core busy.
 */
const PACK_MIN = 1 << 20;

type Int8Kernels = Pick<Kernels, 'gemm_i16_dq_f32' | 'gemm_i16_i32' | 'quantize_pack_a_f32' | 'pack_a_i8' | 'gemv_q8_dq_f32'
  | 'gemm_q8_dq_f32' | 'gemm_q8_i32'>;

/** `full` is parallel.ts's whole-call argument array; `fan` its splitter. */
export function parallelInt8(k: Kernels, fan: Fan, full: number[], threads: number): Int8Kernels {
  /**
   * The cut for an M×N GEMM: by panels unless blocks of rows give a smaller largest part (N of
   * one or a few panels); by panels on a tie, as each part then reads half of B, the larger operand.
   */
  const byPanels = (M: number, N: number) =>
    largestShare(Math.ceil(N / PANEL), threads) <= largestShare(Math.ceil(M / BLOCK), threads);

  const dq = k.gemm_i16_dq_f32;
  function parallelDq(ap: number, bp: number, y: number, ldy: number, M: number, N: number, K: number,
    aScale: number, wScale: number, bias: number, act: number, actA: number, actB: number, aScales: number): void {
    if (M * N * K >= I8_MIN_MACS) {
      full[0] = ap; full[1] = bp; full[2] = y; full[3] = ldy; full[4] = M; full[5] = N; full[6] = K;
      full[7] = aScale; full[8] = wScale; full[9] = bias; full[10] = act; full[11] = actA; full[12] = actB; full[13] = aScales;
      const ok = byPanels(M, N) ? fan(dq, DQ, 14, N, PANEL, dqCols, 'gemm_i16_dq_f32')
        : fan(dq, DQ, 14, M, BLOCK, dqRows, 'gemm_i16_dq_f32');
      if (ok) return;
    }
    dq(ap, bp, y, ldy, M, N, K, aScale, wScale, bias, act, actA, actB, aScales);
  }

  const i32 = k.gemm_i16_i32;
  function parallelI32(ap: number, bp: number, c: number, ldc: number, M: number, N: number, K: number): void {
    if (M * N * K >= I8_MIN_MACS) {
      full[0] = ap; full[1] = bp; full[2] = c; full[3] = ldc; full[4] = M; full[5] = N; full[6] = K;
      const ok = byPanels(M, N) ? fan(i32, I32, 7, N, PANEL, gemmCols, 'gemm_i16_i32')
        : fan(i32, I32, 7, M, BLOCK, gemmRows, 'gemm_i16_i32');
      if (ok) return;
    }
    i32(ap, bp, c, ldc, M, N, K);
  }

  const quantize = k.quantize_pack_a_f32;
  function parallelQuantize(x: number, ldx: number, ap: number, M: number, K: number, scale: number, zp: number): void {
    if (M * K >= PACK_MIN) {
      full[0] = x; full[1] = ldx; full[2] = ap; full[3] = M; full[4] = K; full[5] = scale; full[6] = zp;
      if (fan(quantize, QUANTIZE, 7, M, BLOCK, quantizeRows, 'quantize_pack_a_f32')) return;
    }
    quantize(x, ldx, ap, M, K, scale, zp);
  }

  const pack = k.pack_a_i8;
  function parallelPack(a: number, lda: number, signed: number, zp: number, zpPerRow: number, ap: number, M: number, K: number): void {
    if (M * K >= PACK_MIN) {
      full[0] = a; full[1] = lda; full[2] = signed; full[3] = zp; full[4] = zpPerRow; full[5] = ap; full[6] = M; full[7] = K;
      if (fan(pack, PACK, 8, M, BLOCK, packRows, 'pack_a_i8')) return;
    }
    pack(a, lda, signed, zp, zpPerRow, ap, M, K);
  }

  // The decode GEMV (M ≤ 4, assembly/gemv_q8.ts): always by whole panels of its one-byte layout.
  const q8 = k.gemv_q8_dq_f32;
  function parallelQ8(ap: number, bq: number, y: number, ldy: number, M: number, N: number, K: number,
    aScale: number, wScale: number, bias: number, act: number, actA: number, actB: number, aScales: number): void {
    if (M * N * K >= I8_MIN_MACS) {
      full[0] = ap; full[1] = bq; full[2] = y; full[3] = ldy; full[4] = M; full[5] = N; full[6] = K;
      full[7] = aScale; full[8] = wScale; full[9] = bias; full[10] = act; full[11] = actA; full[12] = actB; full[13] = aScales;
      if (fan(q8, Q8, 14, N, PANEL, q8Cols, 'gemv_q8_dq_f32')) return;
    }
    q8(ap, bq, y, ldy, M, N, K, aScale, wScale, bias, act, actA, actB, aScales);
  }

  // The GEMM over the same one-byte panels (prefill rows): split as gemm_i16_*, panels half as long.
  const dq8 = k.gemm_q8_dq_f32;
  function parallelDq8(ap: number, bq: number, y: number, ldy: number, M: number, N: number, K: number,
    aScale: number, wScale: number, bias: number, act: number, actA: number, actB: number, aScales: number): void {
    if (M * N * K >= I8_MIN_MACS) {
      full[0] = ap; full[1] = bq; full[2] = y; full[3] = ldy; full[4] = M; full[5] = N; full[6] = K;
      full[7] = aScale; full[8] = wScale; full[9] = bias; full[10] = act; full[11] = actA; full[12] = actB; full[13] = aScales;
      const ok = byPanels(M, N) ? fan(dq8, DQ8, 14, N, PANEL, q8Cols, 'gemm_q8_dq_f32')
        : fan(dq8, DQ8, 14, M, BLOCK, dqRows, 'gemm_q8_dq_f32');
      if (ok) return;
    }
    dq8(ap, bq, y, ldy, M, N, K, aScale, wScale, bias, act, actA, actB, aScales);
  }
  const i32q8 = k.gemm_q8_i32;
  function parallelI32q8(ap: number, bq: number, c: number, ldc: number, M: number, N: number, K: number): void {
    if (M * N * K >= I8_MIN_MACS) {
      full[0] = ap; full[1] = bq; full[2] = c; full[3] = ldc; full[4] = M; full[5] = N; full[6] = K;
      const ok = byPanels(M, N) ? fan(i32q8, I32Q8, 7, N, PANEL, q8GemmCols, 'gemm_q8_i32')
        : fan(i32q8, I32Q8, 7, M, BLOCK, gemmRows, 'gemm_q8_i32');
      if (ok) return;
    }
    i32q8(ap, bq, c, ldc, M, N, K);
  }

  return {
    gemm_i16_dq_f32: parallelDq, gemm_i16_i32: parallelI32, quantize_pack_a_f32: parallelQuantize, pack_a_i8: parallelPack,
    gemv_q8_dq_f32: parallelQ8, gemm_q8_dq_f32: parallelDq8, gemm_q8_i32: parallelI32q8,
  };
}

const DQ = POOL_KERNELS.indexOf('gemm_i16_dq_f32'), I32 = POOL_KERNELS.indexOf('gemm_i16_i32');
const Q8 = POOL_KERNELS.indexOf('gemv_q8_dq_f32');
const DQ8 = POOL_KERNELS.indexOf('gemm_q8_dq_f32'), I32Q8 = POOL_KERNELS.indexOf('gemm_q8_i32');
const QUANTIZE = POOL_KERNELS.indexOf('quantize_pack_a_f32'), PACK = POOL_KERNELS.indexOf('pack_a_i8');

/** Bytes of one 4-row block of packed A (Kp i16 pairs of 4 rows), as gemm_i8.ts lays it out. */
const blockBytes = (K: number) => ((K + 7) & ~7) * 8;
/** Bytes of one 8-column panel of packed B. */
const panelBytes = (K: number) => ((K + 7) & ~7) * 16;

// gemm_i16_*(ap, bp, out, ld, M, N, K, …): columns [s, s + n) are panels s/8 …; rows [s, s + n) are
// row blocks s/4 … of packed A. The dequantizing one also takes wScale (8) and bias (9) per column.
const gemmCols: Shift = (d, f, s, n) => {
  copy(d, f);
  d[1] = f[1]! + (s / PANEL) * panelBytes(f[6]!); d[2] = f[2]! + s * 4; d[5] = n;
};
const dqCols: Shift = (d, f, s, n, p) => {
  gemmCols(d, f, s, n, p);
  d[8] = f[8]! + s * 4;
  if (f[9]) d[9] = f[9]! + s * 4;
};
// gemv_q8_dq_f32: the same arguments over pack_b_q8's panels (one byte a weight: half a panel).
const q8Cols: Shift = (d, f, s, n) => {
  copy(d, f);
  d[1] = f[1]! + (s / PANEL) * (panelBytes(f[6]!) / 2); d[2] = f[2]! + s * 4; d[5] = n;
  d[8] = f[8]! + s * 4;
  if (f[9]) d[9] = f[9]! + s * 4;
};
const q8GemmCols: Shift = (d, f, s, n) => {
  copy(d, f);
  d[1] = f[1]! + (s / PANEL) * (panelBytes(f[6]!) / 2); d[2] = f[2]! + s * 4; d[5] = n;
};
const gemmRows: Shift = (d, f, s, n) => {
  copy(d, f);
  d[0] = f[0]! + (s / BLOCK) * blockBytes(f[6]!); d[2] = f[2]! + s * f[3]! * 4; d[4] = n;
};
// The dequantizing GEMMs by rows: per-row A scales (13), when given, start at the part's first row.
const dqRows: Shift = (d, f, s, n, p) => {
  gemmRows(d, f, s, n, p);
  if (f[13]) d[13] = f[13]! + s * 4;
};
// quantize_pack_a_f32(x, ldx, ap, M, K, scale, zp)
const quantizeRows: Shift = (d, f, s, n) => {
  copy(d, f);
  d[0] = f[0]! + s * f[1]! * 4; d[2] = f[2]! + (s / BLOCK) * blockBytes(f[4]!); d[3] = n;
};
// pack_a_i8(a, lda, signed, zp, zpPerRow, ap, M, K): bytes of A; a zero point per row follows its row.
const packRows: Shift = (d, f, s, n) => {
  copy(d, f);
  d[0] = f[0]! + s * f[1]!; d[5] = f[5]! + (s / BLOCK) * blockBytes(f[7]!); d[6] = n;
  if (f[3] && f[4]) d[3] = f[3]! + s;
};
