/**
 * com.microsoft MatMulNBits with bits = 4: Y = A · dequant(B)ᵀ (+ bias), B block-quantized along K
 * as onnxruntime's int4 quantizer writes it (B uint8 [N, n_blocks, block_size/2], scales [N·n_blocks]
 * or [N, n_blocks], zero points packed uint8 or float, default 8). The weights stay packed in
 * memory for the whole session (½ byte per weight, no load-time copy). A decode step (≤ 16 rows)
 * streams them through `gemv_q4_f32`, which dequantizes in registers (4 rows per pass over the
 * weights); prefill dequantizes a band of columns at a time into the f32 GEMM's panel layout (eight
 * columns at a time in SIMD: assembly/dequant_q4.ts) and
 * runs `gemm_f32` on it, so it goes at GEMM speed. Arithmetic is float32-grade (onnxruntime's
 * accuracy_level 0 … 3), except that with accuracy_level 4 — onnxruntime's "int8 compute" — decode
 * rows are quantized to int8 per block and multiplied with integer dot products (as llama.cpp's Q8
 * blocks; within 1e-2 of Σ|x·w| of the float product). For block sizes that are multiples of 32
 * and integer zero points (what onnxruntime's and transformers.js' quantizers write) both first
 * repack the weights once (assembly/gemv_q4x.ts, 4 columns per dot-product vector; the repacked
 * bytes replace the file's); accuracy_level 0 … 3 then quantizes decode rows to 16 bits per block
 * (assembly/gemv_q4x16.ts: each x off by ≤ 2^-16 of its block's largest, finer than float16 would
 * hold it, exact integer sums): ~2.5× the float kernel's speed per token (docs/decode-kernels.md).
 * Block 16, blocks over 256 and float zero points keep the float kernels.
 */
import { shapeSize } from '../../api/tensor.js';
import { BiasKind, packedBFloats, q4PrepFloats, q4PrepI8Bytes } from '../../runtime/kernels.js';
import { packAPays } from '../math/gemm.js';
import type { Bound, OpContext, OpDef, Prepared } from '../types.js';
import { requireDtype } from '../util.js';

/** Rows up to this many run as GEMV passes of 4 rows; more go through dequantized panels + GEMM. */
export const Q4_GEMV_MAX_ROWS = 16;
/** Rows up to which the repacked paths (int8 and 16-bit x) run a GEMV (one pass over the weights for all rows). */
export const Q4X_GEMV_MAX_ROWS = 4;
/** Bytes of dequantized panels per GEMM call in prefill: a band that stays in L2. */
const PANEL_BYTES = 256 << 10;

function prepareMatMulNBits(ctx: OpContext): Prepared {
  const a = ctx.input(0), b = ctx.input(1), sc = ctx.input(2);
  const zpIn = ctx.inputs[3], gIdx = ctx.inputs[4], biasIn = ctx.inputs[5];
  const K = ctx.attrs.int('K', -1), N = ctx.attrs.int('N', -1);
  const bits = ctx.attrs.int('bits', 4), bs = ctx.attrs.int('block_size', -1);
  const int8x = ctx.attrs.int('accuracy_level', 0) === 4;
  if (K <= 0 || N <= 0) ctx.fail(`attributes K and N must be positive, got K=${K}, N=${N}`, 'INVALID_ATTRIBUTE');
  if (bits !== 4) ctx.fail(`bits=${bits}: tessera's MatMulNBits supports 4-bit weights`, 'UNSUPPORTED_OP');
  if (bs < 16 || (bs & (bs - 1)) !== 0) ctx.fail(`block_size must be a power of two ≥ 16, got ${bs}`, 'INVALID_ATTRIBUTE');
  requireDtype(ctx, 0, ['float32']);
  requireDtype(ctx, 1, ['uint8']);
  requireDtype(ctx, 2, ['float32']);
  const nb = Math.ceil(K / bs);
  if (a.dims.length < 1 || a.dims[a.dims.length - 1] !== K) ctx.fail(`A [${a.dims}] must end in K=${K}`, 'SHAPE_MISMATCH');
  if (shapeSize(b.dims) !== N * nb * (bs / 2) || (b.dims.length === 3 && (b.dims[0] !== N || b.dims[1] !== nb))) {
    ctx.fail(`B is [${b.dims}]; expected [${N}, ${nb}, ${bs / 2}] for K=${K}, N=${N}, block_size=${bs}`, 'SHAPE_MISMATCH');
  }
  if (shapeSize(sc.dims) !== N * nb) ctx.fail(`scales is [${sc.dims}]; expected ${N * nb} values ([${N}, ${nb}])`, 'SHAPE_MISMATCH');
  let zpKind = 0;
  if (zpIn) {
    if (zpIn.dtype === 'uint8') {
      zpKind = 1;
      if (shapeSize(zpIn.dims) !== N * Math.ceil(nb / 2)) ctx.fail(`zero_points (uint8) is [${zpIn.dims}]; expected ${N * Math.ceil(nb / 2)} bytes (two 4-bit points per byte)`, 'SHAPE_MISMATCH');
    } else {
      requireDtype(ctx, 3, ['float32']);
      zpKind = 2;
      if (shapeSize(zpIn.dims) !== N * nb) ctx.fail(`zero_points is [${zpIn.dims}]; expected ${N * nb} values`, 'SHAPE_MISMATCH');
    }
  }
  if (gIdx) {
    // Deprecated act-order groups: only the identity order (k / block_size) is the same op.
    const v = gIdx.value;
    const identity = v !== undefined && v.length === K && Array.prototype.every.call(v, (g: number | bigint, k: number) => Number(g) === Math.floor(k / bs));
    if (!identity) ctx.fail(`g_idx '${gIdx.name}' reorders the quantization groups; tessera supports only g_idx[k] = k / block_size`, 'UNSUPPORTED_OP');
  }
  if (biasIn) {
    requireDtype(ctx, 5, ['float32']);
    if (shapeSize(biasIn.dims) !== N) ctx.fail(`bias is [${biasIn.dims}]; expected [${N}]`, 'SHAPE_MISMATCH');
  }
  const rows = shapeSize(a.dims) / K;
  const outDims = [...a.dims.slice(0, -1), N];
  // Block sizes the repacked kernels take and integer zero points: every plan of this node (decode
  // and prefill) reads the weights repacked once, which replace the originals. int8 compute
  // (accuracy_level 4) quantizes decode rows to int8, every other level to 16 bits (blocks ≤ 256:
  // gemv_q4x_i16's i32 bounds hold to 1024, the tests cover 32 … 256).
  const x16 = !int8x && zpKind !== 2 && bs % 32 === 0 && bs <= 256;
  const repack = x16 || (int8x && zpKind !== 2 && bs % 32 === 0);
  const gemv = rows <= (repack ? Q4X_GEMV_MAX_ROWS : Q4_GEMV_MAX_ROWS);
  const nc = Math.min(Math.ceil(N / 8) * 8, Math.max(8, Math.floor(PANEL_BYTES / (K * 4 * 8)) * 8));
  const m4 = Math.min(4, rows);
  // Prefill: A is packed once per run (pack_a_f32: every band's GEMM reads the packed tiles, the
  // same bits as plain A, fewer instructions per step), after the band's panels.
  const panelBytes = packedBFloats(K, nc) * 4;
  const packA = !gemv && packAPays(rows, N, K);
  const scratchBytes = gemv ? (repack || int8x ? q4PrepI8Bytes(m4, K, bs) : q4PrepFloats(m4, K, bs) * 4)
    : panelBytes + (packA ? Math.ceil(rows / 4) * 4 * K * 4 : 0);
  return {
    outputs: [{ dtype: 'float32', dims: outDims }],
    scratchBytes,
    build: (bd) => {
      const k = bd.k;
      const [A, B, S] = [bd.inputs[0]!, bd.inputs[1]!, bd.inputs[2]!];
      const Z = zpIn ? bd.inputs[3]! : 0, bias = biasIn ? bd.inputs[5]! : 0, Y = bd.outputs[0]!;
      const X = bd.scratch;
      if (repack) return repacked(bd, { K, N, bs, nb, zpKind, rows, nc, bias, A, B, S, Z, Y, X, x16, packA, panelBytes, key: `${b.name}:${sc.name}:${zpIn?.name ?? ''}` });
      if (rows === 1 && N >= 4) return oneRow(bd, { K, N, bs, nb, zpKind, int8x, bias, A, B, S, Z, Y, X, key: `${b.name}:${sc.name}:${zpIn?.name ?? ''}` });
      if (gemv && int8x) {
        return () => {
          for (let r = 0; r < rows; r += 4) {
            const m = Math.min(4, rows - r);
            k.gemv_q4_prep_x_i8(A + r * K * 4, K, m, K, bs, X);
            k.gemv_q4_i8(X, m, K, N, bs, B, S, Z, zpKind, bias, Y + r * N * 4, N, 0, 0, 0);
          }
        };
      }
      if (gemv) {
        return () => {
          for (let r = 0; r < rows; r += 4) {
            const m = Math.min(4, rows - r);
            k.gemv_q4_prep_x(A + r * K * 4, K, m, K, bs, X);
            k.gemv_q4_f32(X, m, K, N, bs, B, S, Z, zpKind, bias, Y + r * N * 4, N, 0, 0, 0);
          }
        };
      }
      const P = X + panelBytes;
      return () => {
        if (packA) k.pack_a_f32(A, K, P, rows, K);
        const a = packA ? P : A;
        for (let n0 = 0; n0 < N; n0 += nc) {
          const w = Math.min(nc, N - n0);
          k.dequant_q4_panels_x8(B, S, Z, zpKind, K, bs, n0, w, X);
          k.gemm_f32(a, K, X, Y + n0 * 4, N, rows, w, K, bias ? bias + n0 * 4 : 0, bias ? BiasKind.perColumn : BiasKind.none, 0, 0, 0, 0, packA ? 1 : 0);
        }
      };
    },
  };
}

interface Repacked { K: number; N: number; bs: number; nb: number; zpKind: number; rows: number; nc: number; bias: number; A: number; B: number; S: number; Z: number; Y: number; X: number; x16: boolean; packA: boolean; panelBytes: number; key: string }

/**
 * Integer compute over the weights repacked at load (assembly/gemv_q4x.ts: 4-column groups, one
 * integer dot-product vector per group and block), x quantized per block to 16 bits (`x16`:
 * q4x_prep_x16, gemv_q4x_i16[_rows]; the default) or int8 (accuracy_level 4: q4x_prep_x,
 * gemv_q4x_i8[_rows]): one row through the GEMV (split between threads), 2 … 4 rows in one pass
 * through its `_rows` form, more rows through dequantized panels (`dequant_q4x_panels`, the same
 * values as `dequant_q4_panels`) and the f32 GEMM (A packed once where that pays). The repacked
 * nibbles, scales and zero points are three session blocks that replace B, scales and zero_points
 * when this node is their only reader, so the weights are held once.
 */
function repacked(bd: Bound, o: Repacked): () => void {
  const k = bd.k;
  const G = Math.ceil(o.N / 4);
  // N a multiple of 4: the repacked nibbles are exactly B's bytes, so a large B (the lm_head) is
  // repacked within its own block, a group at a time, instead of through a temporary copy.
  const inPlace = o.N % 4 === 0 ? { scratchBytes: o.nb * o.bs * 2, run: (p: number, s: number) => k.q4x_pack_inplace(p, o.N, o.K, o.bs, s) } : undefined;
  const w = bd.persistent(`q4x:w:${o.key}`, G * o.nb * o.bs * 2, (p) => k.q4x_pack(o.B, o.N, o.K, o.bs, p), o.B, false, inPlace);
  const s4 = bd.persistent(`q4x:s:${o.key}`, G * o.nb * 16, (p) => k.q4x_pack_meta(o.S, o.Z, o.zpKind, o.N, o.K, o.bs, p, 0), o.S);
  // No zero points in the file (symmetric, transformers.js' default): none repacked, the kernels use 8.
  const z4 = o.zpKind === 0 ? 0 : bd.persistent(`q4x:z:${o.key}`, G * o.nb * 4, (p) => k.q4x_pack_meta(o.S, o.Z, o.zpKind, o.N, o.K, o.bs, 0, p), o.Z);
  const { K, N, bs, rows, nc, bias, A, Y, X } = o;
  const prep = o.x16 ? k.q4x_prep_x16 : k.q4x_prep_x;
  const gemv = o.x16 ? k.gemv_q4x_i16 : k.gemv_q4x_i8;
  const gemvRows = o.x16 ? k.gemv_q4x_i16_rows : k.gemv_q4x_i8_rows;
  if (rows === 1) {
    return () => {
      prep(A, K, bs, X);
      gemv(X, K, N, bs, w, s4, z4, Y);
      if (bias) k.bias_act_rows(Y, N, 1, N, bias, 0, 0, 0);
    };
  }
  if (rows <= Q4X_GEMV_MAX_ROWS) {
    // 2 … 4 rows (batched decoding, short prompts): one pass over the weights for all of them.
    const stride = q4PrepI8Bytes(1, K, bs);
    return () => {
      for (let r = 0; r < rows; r++) prep(A + r * K * 4, K, bs, X + r * stride);
      gemvRows(X, stride, rows, K, N, bs, w, s4, z4, Y, N);
      if (bias) k.bias_act_rows(Y, N, rows, N, bias, 0, 0, 0);
    };
  }
  const P = X + o.panelBytes;
  return () => {
    if (o.packA) k.pack_a_f32(A, K, P, rows, K);
    const a = o.packA ? P : A;
    for (let n0 = 0; n0 < N; n0 += nc) {
      const c = Math.min(nc, N - n0);
      k.dequant_q4x_panels(w, s4, z4, K, bs, n0, c, X);
      k.gemm_f32(a, K, X, Y + n0 * 4, N, rows, c, K, bias ? bias + n0 * 4 : 0, bias ? BiasKind.perColumn : BiasKind.none, 0, 0, 0, 0, o.packA ? 1 : 0);
    }
  };
}

interface OneRow { K: number; N: number; bs: number; nb: number; zpKind: number; int8x: boolean; bias: number; A: number; B: number; S: number; Z: number; Y: number; X: number; key: string }

/**
 * One decode row: the first 4·⌊N/4⌋ columns four at a time (`gemv_q4_*_n4`, their scales and
 * zero points regrouped once per session by `q4_group_meta`), the last N mod 4 by the general
 * kernel, then bias.
 */
function oneRow(bd: Bound, o: OneRow): () => void {
  const k = bd.k;
  const G = Math.floor(o.N / 4), n4 = 4 * G, metaBytes = Math.ceil(o.N / 4) * o.nb * 16;
  const zp = o.zpKind !== 0;
  const s4 = bd.persistent(`q4meta:${o.key}:${o.S}:${o.Z}`, metaBytes * (zp ? 2 : 1), (p) => k.q4_group_meta(o.S, o.Z, o.zpKind, o.N, o.K, o.bs, p, zp ? p + metaBytes : 0));
  const z4 = zp ? s4 + metaBytes : 0;
  const colB = o.nb * (o.bs / 2);
  const zpShift = o.zpKind === 1 ? n4 * Math.ceil(o.nb / 2) : o.zpKind === 2 ? n4 * o.nb * 4 : 0;
  const [wR, sR, zR, yR] = [o.B + n4 * colB, o.S + n4 * o.nb * 4, o.Z ? o.Z + zpShift : 0, o.Y + n4 * 4];
  const rest = o.N - n4;
  if (o.int8x) {
    return () => {
      k.gemv_q4_prep_x_i8(o.A, o.K, 1, o.K, o.bs, o.X);
      k.gemv_q4_i8_n4(o.X, o.K, G, o.bs, o.B, s4, z4, o.Y);
      if (rest) k.gemv_q4_i8(o.X, 1, o.K, rest, o.bs, wR, sR, zR, o.zpKind, 0, yR, rest, 0, 0, 0);
      if (o.bias) k.bias_act_rows(o.Y, o.N, 1, o.N, o.bias, 0, 0, 0);
    };
  }
  return () => {
    k.gemv_q4_prep_x(o.A, o.K, 1, o.K, o.bs, o.X);
    k.gemv_q4_f32_n4(o.X, o.K, G, o.bs, o.B, s4, z4, o.Y);
    if (rest) k.gemv_q4_f32(o.X, 1, o.K, rest, o.bs, wR, sR, zR, o.zpKind, 0, yR, rest, 0, 0, 0);
    if (o.bias) k.bias_act_rows(o.Y, o.N, 1, o.N, o.bias, 0, 0, 0);
  };
}

export const matmulNBitsOps: OpDef[] = [
  { opType: 'MatMulNBits', domain: 'com.microsoft', since: 1, attributes: ['K', 'N', 'bits', 'block_size', 'accuracy_level'], prepare: prepareMatMulNBits },
];
