/**
 * MatMul and Gemm for the types the GEMM kernel does not take (float64, float16, 32- and 64-bit
 * integers): a plain JavaScript triple loop, accumulated in float64 or BigInt. These appear in
 * tests and shape arithmetic, not in hot paths.
 */
import { shapeSize } from '../../api/tensor.js';
import type { DType } from '../../graph/ir.js';
import { floatToHalf, halfToFloat } from './cast.js';
import type { OpContext, Prepared } from '../types.js';
import { broadcastShapes, broadcastStrides, requireDtype } from '../util.js';
import { isBig } from '../values.js';

const TYPES = ['float64', 'float16', 'int32', 'int64', 'uint32', 'uint64'];

type Acc = { zero: number | bigint; read: (v: unknown) => number | bigint; write: (v: number | bigint) => unknown; mul: (a: never, b: never) => number | bigint };

function arith(dtype: DType): Acc {
  if (isBig(dtype)) {
    const wrap = dtype === 'uint64' ? (v: bigint) => BigInt.asUintN(64, v) : (v: bigint) => BigInt.asIntN(64, v);
    return { zero: 0n, read: (v) => v as bigint, write: (v) => wrap(v as bigint), mul: (a: bigint, b: bigint) => a * b };
  }
  if (dtype === 'float16') return { zero: 0, read: (v) => halfToFloat(v as number), write: (v) => floatToHalf(v as number), mul: (a: number, b: number) => a * b };
  return { zero: 0, read: (v) => v as number, write: (v) => v, mul: (a: number, b: number) => a * b };
}

const add = (a: number | bigint, b: number | bigint) => ((a as number) + (b as number)) as number | bigint;

export function prepareMatMulJs(ctx: OpContext): Prepared {
  const a = ctx.input(0), b = ctx.input(1);
  requireDtype(ctx, 0, TYPES);
  if (b.dtype !== a.dtype) ctx.fail(`inputs have different types (${a.dtype} and ${b.dtype})`, 'INVALID_MODEL');
  if (a.dims.length === 0 || b.dims.length === 0) ctx.fail('MatMul inputs must have rank ≥ 1', 'SHAPE_MISMATCH');
  const ad = a.dims.length === 1 ? [1, a.dims[0]!] : a.dims;
  const bd0 = b.dims.length === 1 ? [b.dims[0]!, 1] : b.dims;
  const [M, K] = [ad[ad.length - 2]!, ad[ad.length - 1]!];
  const [Kb, N] = [bd0[bd0.length - 2]!, bd0[bd0.length - 1]!];
  if (K !== Kb) ctx.fail(`inner dimensions differ: [${a.dims}] × [${b.dims}]`, 'SHAPE_MISMATCH');
  const batchA = ad.slice(0, -2), batchB = bd0.slice(0, -2);
  const batch = broadcastShapes(ctx, [batchA, batchB]);
  const outDims = [...batch, M, N];
  if (a.dims.length === 1) outDims.splice(outDims.length - 2, 1);
  if (b.dims.length === 1) outDims.splice(outDims.length - 1, 1);
  const sa = broadcastStrides(batchA, batch), sb = broadcastStrides(batchB, batch);
  const count = shapeSize(batch);
  const ar = arith(a.dtype);
  return {
    outputs: [{ dtype: a.dtype, dims: outDims }],
    build: (bd) => {
      const va = bd.view(a.dtype, bd.inputs[0]!, shapeSize(a.dims)), vb = bd.view(b.dtype, bd.inputs[1]!, shapeSize(b.dims));
      const vy = bd.view(a.dtype, bd.outputs[0]!, count * M * N);
      return () => {
        const A = va(), B = vb(), Y = vy();
        for (let t = 0; t < count; t++) {
          let rem = t, offA = 0, offB = 0;
          for (let d = batch.length - 1; d >= 0; d--) {
            const i = rem % batch[d]!;
            rem = (rem - i) / batch[d]!;
            offA += i * sa[d]!; offB += i * sb[d]!;
          }
          offA *= M * K; offB *= K * N;
          for (let i = 0; i < M; i++) {
            for (let j = 0; j < N; j++) {
              let acc = ar.zero;
              for (let k = 0; k < K; k++) acc = add(acc, ar.mul(ar.read(A[offA + i * K + k]) as never, ar.read(B[offB + k * N + j]) as never));
              Y[t * M * N + i * N + j] = ar.write(acc) as never;
            }
          }
        }
      };
    },
  };
}

export function prepareGemmJs(ctx: OpContext): Prepared {
  const a = ctx.input(0), b = ctx.input(1), c = ctx.inputs[2];
  requireDtype(ctx, 0, TYPES);
  if (b.dtype !== a.dtype || (c && c.dtype !== a.dtype)) ctx.fail('A, B and C must share one type', 'INVALID_MODEL');
  if (a.dims.length !== 2 || b.dims.length !== 2) ctx.fail(`A and B must be 2-D, got [${a.dims}] and [${b.dims}]`, 'SHAPE_MISMATCH');
  const transA = ctx.attrs.int('transA', 0) === 1, transB = ctx.attrs.int('transB', 0) === 1;
  const alpha = ctx.attrs.float('alpha', 1), beta = ctx.attrs.float('beta', 1);
  const [M, K] = transA ? [a.dims[1]!, a.dims[0]!] : [a.dims[0]!, a.dims[1]!];
  const [Kb, N] = transB ? [b.dims[1]!, b.dims[0]!] : [b.dims[0]!, b.dims[1]!];
  if (K !== Kb) ctx.fail(`inner dimensions differ: A is [${a.dims}], B is [${b.dims}]`, 'SHAPE_MISMATCH');
  if (c) broadcastShapes(ctx, [c.dims, [M, N]]);
  const cs = c ? broadcastStrides(c.dims, [M, N]) : [0, 0];
  const big = isBig(a.dtype);
  const ar = arith(a.dtype);
  const scale = (v: number | bigint, s: number) => (big ? (v as bigint) * BigInt(Math.trunc(s)) : (v as number) * s);
  return {
    outputs: [{ dtype: a.dtype, dims: [M, N] }],
    build: (bd) => {
      const va = bd.view(a.dtype, bd.inputs[0]!, M * K), vb = bd.view(b.dtype, bd.inputs[1]!, K * N);
      const vc = c ? bd.view(c.dtype, bd.inputs[2]!, shapeSize(c.dims)) : undefined;
      const vy = bd.view(a.dtype, bd.outputs[0]!, M * N);
      return () => {
        const A = va(), B = vb(), C = vc?.(), Y = vy();
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let acc = ar.zero;
            for (let k = 0; k < K; k++) {
              const x = A[transA ? k * M + i : i * K + k], y = B[transB ? j * K + k : k * N + j];
              acc = add(acc, ar.mul(ar.read(x) as never, ar.read(y) as never));
            }
            let r = scale(acc, alpha);
            if (C && beta !== 0) r = add(r, scale(ar.read(C[i * cs[0]! + j * cs[1]!]), beta));
            Y[i * N + j] = ar.write(r) as never;
          }
        }
      };
    },
  };
}

/** Det of the trailing square matrices: LU with partial pivoting, in float64. */
export function prepareDet(ctx: OpContext): Prepared {
  const x = ctx.input(0);
  requireDtype(ctx, 0, ['float32', 'float64', 'float16']);
  const r = x.dims.length;
  if (r < 2 || x.dims[r - 1] !== x.dims[r - 2]) ctx.fail(`input must end in square matrices, got [${x.dims}]`, 'SHAPE_MISMATCH');
  const n = x.dims[r - 1]!, count = shapeSize(x.dims.slice(0, -2));
  const half = x.dtype === 'float16';
  return {
    outputs: [{ dtype: x.dtype, dims: x.dims.slice(0, -2) }],
    build: (bd) => {
      const vx = bd.view(x.dtype, bd.inputs[0]!, count * n * n), vy = bd.view(x.dtype, bd.outputs[0]!, count);
      const a = new Float64Array(n * n);
      return () => {
        const X = vx(), Y = vy();
        for (let m = 0; m < count; m++) {
          for (let i = 0; i < n * n; i++) a[i] = half ? halfToFloat(X[m * n * n + i] as number) : (X[m * n * n + i] as number);
          let det = 1;
          for (let c = 0; c < n && det !== 0; c++) {
            let p = c;
            for (let i = c + 1; i < n; i++) if (Math.abs(a[i * n + c]!) > Math.abs(a[p * n + c]!)) p = i;
            if (a[p * n + c] === 0) { det = 0; break; }
            if (p !== c) {
              for (let j = 0; j < n; j++) { const t = a[c * n + j]!; a[c * n + j] = a[p * n + j]!; a[p * n + j] = t; }
              det = -det;
            }
            const piv = a[c * n + c]!;
            det *= piv;
            for (let i = c + 1; i < n; i++) {
              const f = a[i * n + c]! / piv;
              for (let j = c + 1; j < n; j++) a[i * n + j] = a[i * n + j]! - f * a[c * n + j]!;
            }
          }
          Y[m] = half ? floatToHalf(det) : det;
        }
      };
    },
  };
}
