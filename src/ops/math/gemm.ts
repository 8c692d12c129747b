/**
 * Gemm and MatMul on the packed-panel GEMM kernel. A constant B (the weights, almost always) is
 * packed once per session and shared by every plan; a computed B is packed per run into scratch.
 */
import { shapeSize } from '../../api/tensor.js';
import { BiasKind, Unary, packedBFloats } from '../../runtime/kernels.js';
import { FUSED_ACT_ATTRS, fusedActivation } from '../nn/conv.js';
import type { Bound, InputInfo, OpContext, OpDef, Prepared } from '../types.js';
import { prepareDet, prepareGemmJs, prepareMatMulJs } from './gemm-js.js';
import { broadcastShapes, requireDtype } from '../util.js';

/** Returns a pointer to B packed into panels: persistent when B is constant, else packed per call. */
function packedB(bd: Bound, b: InputInfo, ptr: number, K: number, N: number, transB: boolean, alpha: number, scratch: number) {
  const floats = packedBFloats(K, N);
  const pack = (dst: number) => {
    bd.k.pack_b_f32(ptr, dst, K, N, transB ? K : N, transB ? 1 : 0);
    if (alpha !== 1) bd.k.unary_f32(dst, dst, floats, Unary.affine, alpha, 0);
  };
  // B as stored (K×N) can be packed within its own block (pack_b_f32_inplace), for very large weights.
  const inPlace = transB ? undefined : {
    scratchBytes: Math.ceil(K * Math.ceil(N / 8) / 8),
    run: (p: number, visited: number) => {
      bd.k.pack_b_f32_inplace(p, K, N, visited);
      if (alpha !== 1) bd.k.unary_f32(p, p, floats, Unary.affine, alpha, 0);
    },
    // B still in the model file: its rows read a band at a time, straight into the panels.
    packRows: alpha === 1 ? { rows: K, rowBytes: N * 4, run: (p: number, src: number, k0: number, count: number) => bd.k.pack_b_f32_rows(src, p, count, N, K, k0) } : undefined,
  };
  if (b.constant) {
    const p = bd.persistent(`packedB:${b.name}:${ptr}:${K}x${N}:${transB}:${alpha}`, floats * 4, pack, ptr, undefined, inPlace);
    return { ptr: p, perRun: undefined };
  }
  return { ptr: scratch, perRun: () => pack(scratch) };
}

function prepareGemm(ctx: OpContext): Prepared {
  const a = ctx.input(0), b = ctx.input(1), c = ctx.inputs[2];
  if (a.dtype !== 'float32' && !ctx.node.domain) return prepareGemmJs(ctx);
  requireDtype(ctx, 0, ['float32']);
  requireDtype(ctx, 1, ['float32']);
  if (a.dims.length !== 2 || b.dims.length !== 2) ctx.fail(`A and B must be 2-D, got [${a.dims}] and [${b.dims}]`, 'SHAPE_MISMATCH');
  const transA = ctx.attrs.int('transA', 0) === 1;
  const transB = ctx.attrs.int('transB', 0) === 1;
  const alpha = ctx.attrs.float('alpha', 1);
  const beta = ctx.attrs.float('beta', 1);
  const [M, K] = transA ? [a.dims[1]!, a.dims[0]!] : [a.dims[0]!, a.dims[1]!];
  const [Kb, N] = transB ? [b.dims[1]!, b.dims[0]!] : [b.dims[0]!, b.dims[1]!];
  if (K !== Kb) ctx.fail(`inner dimensions differ: A is [${a.dims}]${transA ? 'ᵀ' : ''}, B is [${b.dims}]${transB ? 'ᵀ' : ''}`, 'SHAPE_MISMATCH');
  const { act, a: p0, b: p1 } = fusedActivation(ctx);
  // How C enters: as the kernel's per-row/per-column bias, or copied into Y and accumulated.
  let biasKind: number = BiasKind.none;
  let cMode: 'none' | 'bias' | 'full' = 'none';
  if (c && beta !== 0) {
    requireDtype(ctx, 2, ['float32']);
    const cd = c.dims;
    broadcastShapes(ctx, [cd, [M, N]]);
    const size = shapeSize(cd);
    if (c.constant && (cd.length <= 1 || (cd.length === 2 && cd[0] === 1)) && size === N) {
      biasKind = BiasKind.perColumn; cMode = 'bias';
    } else if (c.constant && cd.length === 2 && cd[1] === 1 && cd[0] === M) {
      biasKind = BiasKind.perRow; cMode = 'bias';
    } else {
      cMode = 'full';
    }
  }
  const bFloats = b.constant ? 0 : packedBFloats(K, N);
  const packA = !transA && packAPays(M, N, K);
  const aFloats = transA ? M * K : packA ? packedAFloats(M, K) : 0;
  return {
    outputs: [{ dtype: 'float32', dims: [M, N] }],
    scratchBytes: (bFloats + aFloats) * 4 || undefined,
    build: (bd) => {
      const k = bd.k;
      const [A0, B0, C0, Y] = [bd.inputs[0]!, bd.inputs[1]!, bd.inputs[2] ?? 0, bd.outputs[0]!];
      const B = packedB(bd, b, B0, K, N, transB, alpha, bd.scratch);
      const At = bd.scratch + bFloats * 4;
      let bias = 0;
      if (cMode === 'bias') {
        bias = beta === 1 ? C0 : bd.persistent(`scaledBias:${c!.name}:${C0}:${beta}`, shapeSize(c!.dims) * 4, (p) => k.unary_f32(C0, p, shapeSize(c!.dims), Unary.affine, beta, 0));
      }
      const cFull = cMode === 'full' ? broadcastInto(bd, c!, C0, Y, M, N, beta) : undefined;
      const A = transA || packA ? At : A0;
      return () => {
        B.perRun?.();
        if (transA) k.transpose2d_32(A0, At, K, M);
        if (packA) k.pack_a_f32(A0, K, At, M, K);
        cFull?.();
        k.gemm_f32(A, K, B.ptr, Y, N, M, N, K, bias, biasKind, cFull ? 1 : 0, act, p0, p1, packA ? 1 : 0);
      };
    },
  };
}

/** Writes beta·C broadcast to M×N into Y, so the GEMM can accumulate onto it. */
function broadcastInto(bd: Bound, c: InputInfo, C: number, Y: number, M: number, N: number, beta: number) {
  const cd = c.dims.length === 2 ? c.dims : c.dims.length === 1 ? [1, c.dims[0]!] : [1, 1];
  const sr = cd[0] === 1 ? 0 : cd[1]!;
  const sc = cd[1] === 1 ? 0 : 1;
  const scale = bd.persistent(`scalar:${beta}`, 4, (p) => { new Float32Array(bd.memory.buffer, p, 1)[0] = beta; });
  // Y = C * beta with C broadcast over rows/columns (binary op 2 = mul, b broadcast everywhere).
  return () => bd.k.binary_f32(C, scale, Y, 2, 1, 1, M, N, 0, 0, sr, sc, 0, 0, 0, 0);
}

function prepareMatMul(ctx: OpContext): Prepared {
  const a = ctx.input(0), b = ctx.input(1);
  if (a.dtype !== 'float32' && !ctx.node.domain) return prepareMatMulJs(ctx);
  if (ctx.node.domain === 'tessera' && ctx.attrs.int('transB', 0) === 1) return prepareMatMulTransB(ctx);
  requireDtype(ctx, 0, ['float32']);
  requireDtype(ctx, 1, ['float32']);
  if (a.dims.length === 0 || b.dims.length === 0) ctx.fail('MatMul inputs must have rank ≥ 1', 'SHAPE_MISMATCH');
  // 1-D operands are promoted to matrices and the added dim removed afterwards (numpy rules).
  const ad = a.dims.length === 1 ? [1, a.dims[0]!] : a.dims;
  const bdims = b.dims.length === 1 ? [b.dims[0]!, 1] : b.dims;
  const [M, K] = [ad[ad.length - 2]!, ad[ad.length - 1]!];
  const [Kb, N] = [bdims[bdims.length - 2]!, bdims[bdims.length - 1]!];
  if (K !== Kb) ctx.fail(`inner dimensions differ: [${a.dims}] × [${b.dims}]`, 'SHAPE_MISMATCH');
  const batchA = ad.slice(0, -2), batchB = bdims.slice(0, -2);
  const batch = broadcastShapes(ctx, [batchA, batchB]);
  const outDims = [...batch, M, N];
  if (a.dims.length === 1) outDims.splice(outDims.length - 2, 1);
  if (b.dims.length === 1) outDims.splice(outDims.length - 1, 1);
  const { act, a: p0, b: p1 } = fusedActivation(ctx);
  const bias = ctx.inputs[2];
  if (bias && (bias.dims.length !== 1 || bias.dims[0] !== N)) ctx.fail(`fused bias must be [${N}]`, 'SHAPE_MISMATCH');
  const batchCount = shapeSize(batch);
  // Weights shared across the batch (B has no batch dims): fold A's batch into M, one GEMM.
  const foldBatch = batchB.every((d) => d === 1) && shapeSize(batchA) === batchCount;
  const bConst = b.constant;
  const rows = batchCount * M;
  // Folding the batch into M keeps each item's bits: every GEMM tile sums a row alone, in k order
  // (scripts/gen-gemm.mjs), so Whisper's windows decoded as batch rows get their one-window
  // numbers (src/speech/decode-rows.ts).
  const packA = foldBatch && bConst && packAPays(rows, N, K);
  if (foldBatch && bConst && ctx.memory === 'low' && K * N * 4 >= LOW_MEMORY_MIN_BYTES) {
    return bandedMatMul(outDims, rows, K, N, packA, bias !== undefined, act, p0, p1);
  }
  return {
    outputs: [{ dtype: 'float32', dims: outDims }],
    scratchBytes: packA ? packedAFloats(rows, K) * 4 : bConst && foldBatch ? undefined : packedBFloats(K, N) * 4,
    build: (bd) => {
      const k = bd.k;
      const [A, B0, Y] = [bd.inputs[0]!, bd.inputs[1]!, bd.outputs[0]!];
      const biasPtr = bias ? bd.inputs[2]! : 0;
      const biasKind = bias ? BiasKind.perColumn : BiasKind.none;
      if (foldBatch) {
        const B = packedB(bd, b, B0, K, N, false, 1, bd.scratch);
        if (packA) {
          const P = bd.scratch;
          return () => { k.pack_a_f32(A, K, P, rows, K); k.gemm_f32(P, K, B.ptr, Y, N, rows, N, K, biasPtr, biasKind, 0, act, p0, p1, 1); };
        }
        return () => { B.perRun?.(); k.gemm_f32(A, K, B.ptr, Y, N, rows, N, K, biasPtr, biasKind, 0, act, p0, p1); };
      }
      const aStrides = batchStrides(batchA, batch, M * K);
      const bStrides = batchStrides(batchB, batch, K * N);
      const S = bd.scratch;
      return () => {
        for (let i = 0; i < batchCount; i++) {
          let rem = i, offA = 0, offB = 0;
          for (let d = batch.length - 1; d >= 0; d--) {
            const idx = rem % batch[d]!;
            rem = (rem - idx) / batch[d]!;
            offA += idx * aStrides[d]!;
            offB += idx * bStrides[d]!;
          }
          k.pack_b_f32(B0 + offB * 4, S, K, N, N, 0);
          k.gemm_f32(A + offA * 4, K, S, Y + i * M * N * 4, N, M, N, K, biasPtr, biasKind, 0, act, p0, p1);
        }
      };
    },
  };
}

/** Rows up to which x·Wᵀ runs as dot products over W's rows (gemv_nt_f32) rather than the GEMM. */
const GEMV_NT_MAX_ROWS = 4;

/**
 * tessera.FusedMatMul with transB = 1: Y = A · Bᵀ (+ bias) with B a 2-D [N, K] matrix, as
 * graph/passes/tied-weights.ts makes of a tied lm_head (B the embedding table, also read by the
 * token Gather). Up to GEMV_NT_MAX_ROWS rows read B's rows in place (gemv_nt_f32): no copy of B
 * exists. More rows run the GEMM on panels packed from Bᵀ: once per session when B is constant
 * (made by the first such plan; per band per run with memory: 'low'), per run otherwise.
 */
function prepareMatMulTransB(ctx: OpContext): Prepared {
  const a = ctx.input(0), b = ctx.input(1), bias = ctx.inputs[2];
  requireDtype(ctx, 0, ['float32']);
  requireDtype(ctx, 1, ['float32']);
  if (ctx.attrs.string('activation', '')) ctx.fail('transB takes no fused activation', 'INVALID_MODEL');
  if (a.dims.length < 1 || b.dims.length !== 2) ctx.fail(`with transB, A must have rank ≥ 1 and B rank 2; got [${a.dims}] and [${b.dims}]`, 'SHAPE_MISMATCH');
  const [N, K] = [b.dims[0]!, b.dims[1]!];
  if (a.dims[a.dims.length - 1] !== K) ctx.fail(`inner dimensions differ: [${a.dims}] × [${b.dims}]ᵀ`, 'SHAPE_MISMATCH');
  if (bias && (bias.dims.length !== 1 || bias.dims[0] !== N || bias.dtype !== 'float32')) ctx.fail(`fused bias must be float32 [${N}]`, 'SHAPE_MISMATCH');
  const outDims = a.dims.length === 1 ? [N] : [...a.dims.slice(0, -1), N];
  const rows = shapeSize(a.dims) / K;
  const gemv = rows <= GEMV_NT_MAX_ROWS;
  const banded = !gemv && b.constant && ctx.memory === 'low' && K * N * 4 >= LOW_MEMORY_MIN_BYTES;
  const packA = !gemv && packAPays(rows, N, K);
  const aBytes = packA ? packedAFloats(rows, K) * 4 : 0;
  const bBytes = gemv || (b.constant && !banded) ? 0 : packedBFloats(K, banded ? Math.min(BAND, N) : N) * 4;
  return {
    outputs: [{ dtype: 'float32', dims: outDims }],
    scratchBytes: aBytes + bBytes || undefined,
    build: (bd) => {
      const k = bd.k;
      const [A0, B0, Y] = [bd.inputs[0]!, bd.inputs[1]!, bd.outputs[0]!];
      const biasPtr = bias ? bd.inputs[2]! : 0, biasKind = bias ? BiasKind.perColumn : BiasKind.none;
      if (gemv) {
        // binary_f32 op 0 (add): Y[r, n] += bias[n], the bias broadcast over rows.
        const addBias = bias ? () => k.binary_f32(Y, biasPtr, Y, 0, 1, 1, rows, N, 0, 0, N, 1, 0, 0, 0, 1) : undefined;
        return () => { k.gemv_nt_f32(A0, rows, K, B0, N, Y, N); addBias?.(); };
      }
      const P = bd.scratch, S = bd.scratch + aBytes, A = packA ? P : A0;
      if (banded) {
        return () => {
          if (packA) k.pack_a_f32(A0, K, P, rows, K);
          for (let n0 = 0; n0 < N; n0 += BAND) {
            const w = Math.min(BAND, N - n0);
            k.pack_b_f32(B0 + n0 * K * 4, S, K, w, K, 1);
            k.gemm_f32(A, K, S, Y + n0 * 4, N, rows, w, K, bias ? biasPtr + n0 * 4 : 0, biasKind, 0, 0, 0, 0, packA ? 1 : 0);
          }
        };
      }
      const B = packedB(bd, b, B0, K, N, true, 1, S);
      return () => {
        B.perRun?.();
        if (packA) k.pack_a_f32(A0, K, P, rows, K);
        k.gemm_f32(A, K, B.ptr, Y, N, rows, N, K, biasPtr, biasKind, 0, 0, 0, 0, packA ? 1 : 0);
      };
    },
  };
}

/** memory: 'low': float32 weights from this size on are never packed whole (SessionOptions.memory). */
const LOW_MEMORY_MIN_BYTES = 1 << 20;
/** Columns of B packed per band in the low-memory path: 256 × K floats of scratch (3 MiB at K = 3072). */
const BAND = 256;

/**
 * MatMul on a constant B kept as stored (memory: 'low'): each run packs B a band of columns at a
 * time into scratch and runs the GEMM on that band, so the session never holds a packed copy (nor
 * the temporary a packed copy is written through). Same arithmetic per output as the packed path
 * (the GEMM's per-column sums do not depend on the band), at the cost of packing B every run.
 */
function bandedMatMul(outDims: number[], rows: number, K: number, N: number, packA: boolean, hasBias: boolean, act: number, p0: number, p1: number): Prepared {
  const aBytes = packA ? packedAFloats(rows, K) * 4 : 0;
  return {
    outputs: [{ dtype: 'float32', dims: outDims }],
    scratchBytes: aBytes + packedBFloats(K, Math.min(BAND, N)) * 4,
    build: (bd) => {
      const k = bd.k;
      const [A0, B0, Y] = [bd.inputs[0]!, bd.inputs[1]!, bd.outputs[0]!];
      const bias = hasBias ? bd.inputs[2]! : 0, biasKind = hasBias ? BiasKind.perColumn : BiasKind.none;
      const P = bd.scratch, S = bd.scratch + aBytes, A = packA ? P : A0;
      return () => {
        if (packA) k.pack_a_f32(A0, K, P, rows, K);
        for (let n0 = 0; n0 < N; n0 += BAND) {
          const w = Math.min(BAND, N - n0);
          k.pack_b_f32(B0 + n0 * 4, S, K, w, N, 0);
          k.gemm_f32(A, K, S, Y + n0 * 4, N, rows, w, K, bias ? bias + n0 * 4 : 0, biasKind, 0, act, p0, p1, packA ? 1 : 0);
        }
      };
    },
  };
}

/** Floats of pack_a_f32's output: rows rounded up to the 4-row tile. */
function packedAFloats(M: number, K: number): number {
  return Math.ceil(M / 4) * 4 * K;
}

/**
 * Packing A (one pass over M×K) pays when each A tile then feeds many B panels: the packed
 * micro-kernel issues fewer instructions per step (assembly/gemm.ts), which only shows on
 * real tiles, not on a row or two.
 */
export function packAPays(M: number, N: number, K: number): boolean {
  return M >= 16 && N >= 64 && K >= 16;
}

/** Element strides of a batch shape within the broadcast batch (0 where it broadcasts). */
function batchStrides(dims: readonly number[], batch: readonly number[], matrix: number): number[] {
  const out = new Array<number>(batch.length).fill(0);
  let acc = matrix;
  for (let i = dims.length - 1; i >= 0; i--) {
    const o = batch.length - dims.length + i;
    out[o] = dims[i] === 1 ? 0 : acc;
    acc *= dims[i]!;
  }
  return out;
}

export const gemmOps: OpDef[] = [
  { opType: 'Gemm', since: 7, attributes: ['alpha', 'beta', 'transA', 'transB'], prepare: prepareGemm },
  // Before opset 7 C was required and `broadcast` allowed it to broadcast; numpy rules cover both.
  { opType: 'Gemm', since: 1, attributes: ['alpha', 'beta', 'transA', 'transB', 'broadcast'], prepare: prepareGemm },
  { opType: 'FusedGemm', domain: 'tessera', since: 1, attributes: ['alpha', 'beta', 'transA', 'transB', ...FUSED_ACT_ATTRS], prepare: prepareGemm },
  { opType: 'MatMul', since: 1, attributes: [], prepare: prepareMatMul },
  { opType: 'Det', since: 11, attributes: [], prepare: prepareDet },
  // transB = 1: B is [N, K] (graph/passes/tied-weights.ts, a tied head reading the embedding table).
  { opType: 'FusedMatMul', domain: 'tessera', since: 1, attributes: [...FUSED_ACT_ATTRS, 'transB'], prepare: prepareMatMul },
];
