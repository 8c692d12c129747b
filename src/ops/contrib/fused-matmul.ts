/**
 * `com.microsoft` FusedMatMul: Y = alpha · op(A) · op(B) with numpy batch broadcasting, where op
 * may transpose the matrix (transA/transB) and, with transBatchA/B, move the first axis behind the
 * batch axes ([d0, b…, k] read as [b…, d0, k]) — what onnxruntime's optimizer makes of
 * MatMul(Transpose(x)) and MatMul·Mul(alpha). (tessera's own `tessera` FusedMatMul, the GEMM with
 * an activation epilogue, is a different op in src/ops/math/gemm.ts.)
 *
 * Runs on the packed-panel GEMM: B is packed per matrix with its transpose folded into pack_b_f32
 * and alpha folded into the packed panels (once per session when B is a constant). A is used in
 * place when it is already row-major [b…, M, K]; a transposed A goes through transpose2d_32 into
 * scratch; a batch-transposed operand is gathered into scratch in JavaScript first.
 */
import { shapeSize } from '../../api/tensor.js';
import { BiasKind, Unary, packedBFloats } from '../../runtime/kernels.js';
import type { Bound, OpDef } from '../types.js';
import { broadcastShapes, requireDtype, stridesOf } from '../util.js';

/** The logical [batch…, rows, cols] view of an operand and how it sits in memory. */
interface Operand {
  batch: number[];
  rows: number;
  cols: number;
  /** Element strides of the logical batch axes, rows and cols in the physical tensor. */
  strides: number[];
  /** Physical layout is already row-major [batch…, rows, cols]. */
  plain: boolean;
  /** Physical layout is row-major [batch…, cols, rows] (a plain transpose of each matrix). */
  transposed: boolean;
}

function operand(dims: readonly number[], trans: boolean, transBatch: boolean, vectorIsRow: boolean): Operand {
  if (dims.length === 1) {
    // A vector: a row of A ([1, K]) or a column of B ([K, 1]); transposes do nothing to it.
    return vectorIsRow
      ? { batch: [], rows: 1, cols: dims[0]!, strides: [dims[0]!, 1], plain: true, transposed: false }
      : { batch: [], rows: dims[0]!, cols: 1, strides: [1, 1], plain: true, transposed: false };
  }
  const r = dims.length, st = stridesOf(dims);
  // Physical axes that play batch, "first matrix axis" and "last matrix axis".
  const batchAxes = transBatch ? dims.slice(1, r - 1).map((_, i) => i + 1) : dims.slice(0, r - 2).map((_, i) => i);
  const first = transBatch ? 0 : r - 2, last = r - 1;
  const [rowAxis, colAxis] = trans ? [last, first] : [first, last];
  return {
    batch: batchAxes.map((a) => dims[a]!), rows: dims[rowAxis]!, cols: dims[colAxis]!,
    strides: [...batchAxes.map((a) => st[a]!), st[rowAxis]!, st[colAxis]!],
    plain: !transBatch && !trans, transposed: !transBatch && trans,
  };
}

/** Copies a strided logical view into a dense row-major buffer (the rare batch-transposed case). */
function gather(src: Float32Array, dst: Float32Array, dims: readonly number[], strides: readonly number[]): void {
  const n = shapeSize(dims), r = dims.length;
  const idx = new Array<number>(r).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    dst[i] = src[off]!;
    for (let a = r - 1; a >= 0; a--) {
      idx[a]!++;
      off += strides[a]!;
      if (idx[a]! < dims[a]!) break;
      off -= strides[a]! * dims[a]!;
      idx[a] = 0;
    }
  }
}

/** Element offsets of each broadcast batch index into an operand with `batch` dims (0 where it broadcasts). */
function batchOffsets(batch: readonly number[], out: readonly number[], matrix: number): number[] {
  const count = shapeSize(out), offs = new Array<number>(count);
  const own = stridesOf(batch).map((s) => s * matrix);
  for (let i = 0; i < count; i++) {
    let rem = i, off = 0;
    for (let d = out.length - 1; d >= 0; d--) {
      const idx = rem % out[d]!;
      rem = (rem - idx) / out[d]!;
      const a = d - (out.length - batch.length);
      if (a >= 0 && batch[a] !== 1) off += idx * own[a]!;
    }
    offs[i] = off;
  }
  return offs;
}

const fusedMatMul: OpDef = {
  opType: 'FusedMatMul', domain: 'com.microsoft', since: 1, attributes: ['alpha', 'transA', 'transB', 'transBatchA', 'transBatchB'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['float32']);
    requireDtype(ctx, 1, ['float32']);
    const a = ctx.input(0), b = ctx.input(1);
    const flag = (name: string) => {
      const v = ctx.attrs.int(name, 0);
      if (v !== 0 && v !== 1) throw ctx.attrs.error(name, `must be 0 or 1, got ${v}`);
      return v === 1;
    };
    const alpha = ctx.attrs.float('alpha', 1);
    if (!Number.isFinite(alpha)) throw ctx.attrs.error('alpha', `must be a finite number, got ${alpha}`);
    const [tA, tB, tbA, tbB] = [flag('transA'), flag('transB'), flag('transBatchA'), flag('transBatchB')];
    if (a.dims.length === 0 || b.dims.length === 0) ctx.fail('inputs must have rank ≥ 1', 'SHAPE_MISMATCH');
    if ((tbA || tbB) && (a.dims.length < 3 || a.dims.length !== b.dims.length)) {
      ctx.fail(`with transBatchA/transBatchB both inputs must have the same rank ≥ 3, got [${a.dims}] and [${b.dims}]`, 'SHAPE_MISMATCH');
    }
    const A = operand(a.dims, tA, tbA, true), B = operand(b.dims, tB, tbB, false);
    const M = A.rows, K = A.cols, N = B.cols;
    if (B.rows !== K) ctx.fail(`inner dimensions differ: [${a.dims}] gives ${M}×${K}, [${b.dims}] gives ${B.rows}×${N} (transA ${+tA}, transB ${+tB}, transBatchA ${+tbA}, transBatchB ${+tbB})`, 'SHAPE_MISMATCH');
    const batch = broadcastShapes(ctx, [A.batch, B.batch]);
    const outDims = [...batch, M, N];
    if (a.dims.length === 1) outDims.splice(outDims.length - 2, 1);
    if (b.dims.length === 1) outDims.splice(outDims.length - 1, 1);
    const count = shapeSize(batch), aCount = shapeSize(A.batch), bCount = shapeSize(B.batch);
    const panel = packedBFloats(K, N);
    // B packed once per session when it is a constant; A copied to scratch unless already plain.
    const bPersistent = b.constant;
    const aFloats = A.plain ? 0 : aCount * M * K;
    const bDense = B.plain || B.transposed ? 0 : bCount * K * N;
    const bPacked = bPersistent ? 0 : bCount * panel;
    const foldRows = bCount === 1 && aCount === count && A.batch.length === batch.length;
    return {
      outputs: [{ dtype: 'float32', dims: outDims }],
      scratchBytes: (aFloats + bDense + bPacked) * 4 || undefined,
      build(bd: Bound) {
        const k = bd.k, A0 = bd.inputs[0]!, B0 = bd.inputs[1]!, Y = bd.outputs[0]!;
        const aBuf = bd.scratch, bDenseBuf = aBuf + aFloats * 4, bPackBuf = bDenseBuf + bDense * 4;
        const aView = !A.plain && !A.transposed ? bd.view('float32', A0, shapeSize(a.dims)) : undefined;
        const aDst = aView ? bd.view('float32', aBuf, aFloats) : undefined;
        const bView = bDense ? bd.view('float32', B0, shapeSize(b.dims)) : undefined;
        const bDst = bDense ? bd.view('float32', bDenseBuf, bDense) : undefined;
        // Packs every B matrix (its batch in B's own layout) into dst, alpha folded in.
        const packAll = (dst: number) => {
          if (bView) gather(bView() as Float32Array, bDst!() as Float32Array, [...B.batch, K, N], B.strides);
          const src = bDense ? bDenseBuf : B0;
          for (let i = 0; i < bCount; i++) {
            const p = dst + i * panel * 4;
            if (B.transposed) k.pack_b_f32(src + i * K * N * 4, p, K, N, K, 1);
            else k.pack_b_f32(src + i * K * N * 4, p, K, N, N, 0);
            if (alpha !== 1) k.unary_f32(p, p, panel, Unary.affine, alpha, 0);
          }
        };
        const packed = bPersistent
          ? bd.persistent(`msFusedMatMulB:${b.name}:${B0}:${K}x${N}:${+tB}${+tbB}:${alpha}`, bCount * panel * 4, packAll, B0)
          : bPackBuf;
        const prepA = () => {
          if (aView) gather(aView() as Float32Array, aDst!() as Float32Array, [...A.batch, M, K], A.strides);
          else if (A.transposed) for (let i = 0; i < aCount; i++) k.transpose2d_32(A0 + i * M * K * 4, aBuf + i * M * K * 4, K, M);
        };
        const aPtr = A.plain ? A0 : aBuf;
        if (foldRows) {
          // One GEMM over every batch's rows: B has no batch of its own. Each item keeps the bits
          // it gets alone: the GEMM sums every row the same way whatever its tile.
          const rows = count * M;
          return () => {
            if (!bPersistent) packAll(packed);
            prepA();
            k.gemm_f32(aPtr, K, packed, Y, N, rows, N, K, 0, BiasKind.none, 0, 0, 0, 0);
          };
        }
        const aOff = batchOffsets(A.batch, batch, M * K), bOff = batchOffsets(B.batch, batch, panel);
        return () => {
          if (!bPersistent) packAll(packed);
          prepA();
          for (let i = 0; i < count; i++) {
            k.gemm_f32(aPtr + aOff[i]! * 4, K, packed + bOff[i]! * 4, Y + i * M * N * 4, N, M, N, K, 0, BiasKind.none, 0, 0, 0, 0);
          }
        };
      },
    };
  },
};

/** com.microsoft FusedMatMul, for src/ops/contrib/index.ts. */
export const contribFusedMatMulOps: readonly OpDef[] = [fusedMatMul];
