/**
 * MatMulInteger and QLinearMatMul on the int8 GEMM kernel (assembly/gemm_i8.ts). A constant B
 * (the weights) is zero-point-shifted and packed once per session, over its initializer, as one-byte
 * panels the GEMM widens as it loads them (or i16 panels where b − zp does not fit a byte); a computed B is
 * packed per run into scratch, and A (widened, its zero point subtracted) every run. QLinearMatMul requantizes the i32 accumulators in JavaScript.
 */
import { TesseraError } from '../../api/errors.js';
import { shapeSize } from '../../api/tensor.js';
import { packedAI8Bytes, packedBI8Bytes } from '../../runtime/kernels.js';
import { floatReader, roundHalfEven, saturator } from '../../math/quant-math.js';
import type { Bound, InputInfo, OpContext, OpDef, Prepared } from '../types.js';
import { broadcastShapes, broadcastStrides, requireDtype } from '../util.js';

const BYTES = ['uint8', 'int8'];

/** A zero point or scale that is one value (per tensor) or `n` values (per row / per column). */
export function perTensorOr(ctx: OpContext, x: InputInfo | undefined, n: number, what: string): boolean {
  if (!x) return false;
  const size = shapeSize(x.dims);
  if (size === 1) return false;
  if (size === n && x.dims.filter((d) => d !== 1).length <= 1) return true;
  return ctx.fail(`${what} '${x.name}' has shape [${x.dims}]; tessera takes one value or ${n} (one per ${what.includes('b_') || what.includes('w_') ? 'column' : 'row'})`, 'UNSUPPORTED_OP');
}

/** Returns B's packed panels: persistent when B and its zero point are constant, else per run. */
export function packedBI8(bd: Bound, b: InputInfo, bzp: InputInfo | undefined, ptr: number, zpPtr: number, perCol: boolean,
  K: number, N: number, transB: boolean, scratch: number, key: string) {
  const pack = (dst: number) => bd.k.pack_b_i8(ptr, dst, K, N, transB ? K : N, transB ? 1 : 0, b.dtype === 'int8' ? 1 : 0, zpPtr, perCol ? 1 : 0);
  if (b.constant && (!bzp || bzp.constant)) {
    return { ptr: bd.persistent(`packedBI8:${b.name}:${bzp?.name ?? ''}:${key}`, packedBI8Bytes(K, N), pack), perRun: undefined };
  }
  return { ptr: scratch, perRun: () => pack(scratch) };
}

/** Bytes of pack_b_q8's one-byte panels: ceil(N/8)·8 columns × K rounded up to 8. */
export const packedBQ8Bytes = (K: number, N: number): number => Math.ceil(N / 8) * 8 * (Math.ceil(K / 8) * 8);

/**
 * A constant int8 weight packed once for the session, in the one layout that serves both the GEMM
 * (prefill) and the decode GEMV: pack_b_q8's one-byte panels (`q8`) when every w − w_zero_point
 * fits int8 (int8 weights with zero point 0, quantize_dynamic's default, or uint8 around 128), else
 * pack_b_i8's i16 panels. The panels replace the initializer when this node is its only reader
 * (Bound.persistent), so the weight is held once, at one byte a weight when `q8`. Whether it fits
 * is decided once, while the initializer is still there, and kept in a 4-byte block — or, for a
 * signed weight whose zero points are all 0 (which always fits), from the zero points alone: then
 * the weight need not be in memory yet, and one still in the model file is packed from it a band
 * of rows at a time (pack_b_q8_rows, Engine.deferWeight) without being read raw first.
 */
export function packedWeightI8(bd: Bound, b: InputInfo, bzp: InputInfo | undefined, ptr: number, zpPtr: number, perCol: boolean,
  K: number, N: number, transB: boolean): { ptr: number; q8: boolean } {
  const k = bd.k, signed = b.dtype === 'int8' ? 1 : 0, ldb = transB ? K : N, tB = transB ? 1 : 0, zpc = perCol ? 1 : 0;
  const key = `${b.name}:${bzp?.name ?? ''}:${K}x${N}:${tB}`;
  const q8 = () => (dst: number) => { k.pack_b_q8(ptr, dst, K, N, ldb, tB, signed, zpPtr, zpc); };
  if (signed && zeroPointsZero(bd, zpPtr, perCol ? N : 1)) {
    const packRows = transB ? undefined : {
      rows: K, rowBytes: N,
      run: (dst: number, src: number, k0: number, count: number) => {
        // Cannot fail: a signed weight minus zero points of 0 is itself.
        if (k.pack_b_q8_rows(src, dst, count, N, K, k0, signed, zpPtr, zpc) !== 1) throw new TesseraError('INTERNAL', `int8 weight '${b.name}' did not fit its one-byte panels`);
      },
    };
    return { ptr: bd.persistent(`packedBQ8:${key}`, packedBQ8Bytes(K, N), q8(), ptr, undefined, packRows && { packRows }), q8: true };
  }
  const flag = bd.persistent(`q8fits:${key}`, 4, (dst) => {
    (bd.view('int32', dst, 1)() as Int32Array)[0] = k.fits_q8(ptr, K, N, ldb, tB, signed, zpPtr, zpc);
  });
  if ((bd.view('int32', flag, 1)() as Int32Array)[0] === 1) {
    const q = bd.persistent(`packedBQ8:${key}`, packedBQ8Bytes(K, N), q8(), ptr);
    return { ptr: q, q8: true };
  }
  const w = bd.persistent(`packedBI8:${key}`, packedBI8Bytes(K, N), (dst) => k.pack_b_i8(ptr, dst, K, N, ldb, tB, signed, zpPtr, zpc), ptr);
  return { ptr: w, q8: false };
}

/** Whether the `n` zero points at `zpPtr` (none when 0) are all 0: a signed weight then fits int8 as it is. */
function zeroPointsZero(bd: Bound, zpPtr: number, n: number): boolean {
  if (zpPtr === 0) return true;
  const z = bd.view('int8', zpPtr, n)() as Int8Array;
  for (let i = 0; i < n; i++) if (z[i] !== 0) return false;
  return true;
}

interface MatMulShape { M: number; K: number; N: number; batch: number[]; sa: number[]; sb: number[]; count: number; outDims: number[] }

function matmulShape(ctx: OpContext, a: InputInfo, b: InputInfo): MatMulShape {
  if (a.dims.length === 0 || b.dims.length === 0) ctx.fail('inputs must have rank ≥ 1', 'SHAPE_MISMATCH');
  const ad = a.dims.length === 1 ? [1, a.dims[0]!] : a.dims;
  const bd = b.dims.length === 1 ? [b.dims[0]!, 1] : b.dims;
  const [M, K] = [ad[ad.length - 2]!, ad[ad.length - 1]!];
  const [Kb, N] = [bd[bd.length - 2]!, bd[bd.length - 1]!];
  if (K !== Kb) ctx.fail(`inner dimensions differ: [${a.dims}] × [${b.dims}]`, 'SHAPE_MISMATCH');
  const batchA = ad.slice(0, -2), batchB = bd.slice(0, -2);
  const batch = broadcastShapes(ctx, [batchA, batchB]);
  const outDims = [...batch, M, N];
  if (a.dims.length === 1) outDims.splice(outDims.length - 2, 1);
  if (b.dims.length === 1) outDims.splice(outDims.length - 1, 1);
  return { M, K, N, batch, sa: broadcastStrides(batchA, batch), sb: broadcastStrides(batchB, batch), count: shapeSize(batch), outDims };
}

/**
 * The integer product of every batch into `c` (i32, batch-major M×N): the shared core of
 * MatMulInteger and QLinearMatMul.
 */
function integerMatMul(ctx: OpContext, ai: number, bi: number, azi: number, bzi: number) {
  const a = ctx.input(ai), b = ctx.input(bi);
  requireDtype(ctx, ai, BYTES);
  requireDtype(ctx, bi, BYTES);
  const az = ctx.inputs[azi], bz = ctx.inputs[bzi];
  if (az && az.dtype !== a.dtype) ctx.fail(`a_zero_point '${az.name}' is ${az.dtype}, A is ${a.dtype}`, 'INVALID_MODEL');
  if (bz && bz.dtype !== b.dtype) ctx.fail(`b_zero_point '${bz.name}' is ${bz.dtype}, B is ${b.dtype}`, 'INVALID_MODEL');
  const s = matmulShape(ctx, a, b);
  const azRow = perTensorOr(ctx, az, s.M, 'a_zero_point'), bzCol = perTensorOr(ctx, bz, s.N, 'b_zero_point');
  const bBatched = s.sb.some((x) => x !== 0);
  // Scratch: A packed (widened, a_zp subtracted) | B packed when it is not constant.
  const aBytes = packedAI8Bytes(s.M, s.K);
  const packScratch = aBytes + (b.constant && !bBatched && (!bz || bz.constant) ? 0 : packedBI8Bytes(s.K, s.N));
  const run = (bd: Bound, c: number, scratchA: number): (() => void) => {
    const scratch = scratchA + aBytes;
    const A = bd.inputs[ai]!, B = bd.inputs[bi]!, zA = az ? bd.inputs[azi]! : 0, zB = bz ? bd.inputs[bzi]! : 0;
    const signed = a.dtype === 'int8' ? 1 : 0;
    const { M, K, N, batch, sa, sb, count } = s;
    const offsets: [number, number][] = [];
    for (let t = 0; t < count; t++) {
      let rem = t, oa = 0, ob = 0;
      for (let d = batch.length - 1; d >= 0; d--) {
        const i = rem % batch[d]!;
        rem = (rem - i) / batch[d]!;
        oa += i * sa[d]!; ob += i * sb[d]!;
      }
      offsets.push([A + oa * M * K, B + ob * K * N]);
    }
    if (!bBatched && b.constant && (!bz || bz.constant)) {
      const p = packedWeightI8(bd, b, bz, B, zB, bzCol, K, N, false);
      const gemm = p.q8 ? bd.k.gemm_q8_i32 : bd.k.gemm_i16_i32;
      return () => {
        for (let t = 0; t < count; t++) {
          bd.k.pack_a_i8(offsets[t]![0], K, signed, zA, azRow ? 1 : 0, scratchA, M, K);
          gemm(scratchA, p.ptr, c + t * M * N * 4, N, M, N, K);
        }
      };
    }
    if (!bBatched) {
      const p = packedBI8(bd, b, bz, B, zB, bzCol, K, N, false, scratch, 'mm');
      return () => {
        p.perRun?.();
        for (let t = 0; t < count; t++) {
          bd.k.pack_a_i8(offsets[t]![0], K, signed, zA, azRow ? 1 : 0, scratchA, M, K);
          bd.k.gemm_i16_i32(scratchA, p.ptr, c + t * M * N * 4, N, M, N, K);
        }
      };
    }
    return () => {
      for (let t = 0; t < count; t++) {
        bd.k.pack_b_i8(offsets[t]![1], scratch, K, N, N, 0, b.dtype === 'int8' ? 1 : 0, zB, bzCol ? 1 : 0);
        bd.k.pack_a_i8(offsets[t]![0], K, signed, zA, azRow ? 1 : 0, scratchA, M, K);
        bd.k.gemm_i16_i32(scratchA, scratch, c + t * M * N * 4, N, M, N, K);
      }
    };
  };
  return { shape: s, packScratch, run, azRow, bzCol };
}

function prepareMatMulInteger(ctx: OpContext): Prepared {
  const m = integerMatMul(ctx, 0, 1, 2, 3);
  return {
    outputs: [{ dtype: 'int32', dims: m.shape.outDims }],
    scratchBytes: m.packScratch,
    build: (bd) => m.run(bd, bd.outputs[0]!, bd.scratch),
  };
}

function prepareQLinearMatMul(ctx: OpContext): Prepared {
  // Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
  const m = integerMatMul(ctx, 0, 3, 2, 5);
  const as = ctx.input(1), bs = ctx.input(4), ys = ctx.input(6), yz = ctx.input(7);
  for (const i of [1, 4, 6]) requireDtype(ctx, i, ['float32', 'float16']);
  requireDtype(ctx, 7, BYTES);
  const { M, N, count, outDims } = m.shape;
  const asRow = perTensorOr(ctx, as, M, 'a_scale'), bsCol = perTensorOr(ctx, bs, N, 'b_scale');
  const cBytes = count * M * N * 4;
  const outType = yz.dtype, sat = saturator(outType);
  return {
    outputs: [{ dtype: outType, dims: outDims }],
    scratchBytes: cBytes + m.packScratch,
    build: (bd) => {
      const gemm = m.run(bd, bd.scratch, bd.scratch + cBytes);
      const vc = bd.view('int32', bd.scratch, count * M * N), vy = bd.view(outType, bd.outputs[0]!, count * M * N);
      const vas = bd.view(as.dtype, bd.inputs[1]!, asRow ? M : 1), vbs = bd.view(bs.dtype, bd.inputs[4]!, bsCol ? N : 1);
      const vys = bd.view(ys.dtype, bd.inputs[6]!, 1), vyz = bd.view(outType, bd.inputs[7]!, 1);
      const ra = floatReader(as.dtype), rb = floatReader(bs.dtype), ry = floatReader(ys.dtype);
      const mult = new Float64Array(M * N);
      return () => {
        gemm();
        const AS = vas(), BS = vbs(), Y0 = ry(vys(), 0), Z = vyz()[0] as number;
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) mult[i * N + j] = Math.fround(Math.fround(ra(AS, asRow ? i : 0) * rb(BS, bsCol ? j : 0)) / Y0);
        }
        const C = vc(), Y = vy();
        for (let t = 0, o = 0; t < count; t++) {
          for (let e = 0; e < M * N; e++, o++) Y[o] = sat(roundHalfEven((C[o] as number) * mult[e]!) + Z);
        }
      };
    },
  };
}

export const quantGemmOps: OpDef[] = [
  { opType: 'MatMulInteger', since: 10, attributes: [], prepare: prepareMatMulInteger },
  { opType: 'QLinearMatMul', since: 10, attributes: [], prepare: prepareQLinearMatMul },
];
