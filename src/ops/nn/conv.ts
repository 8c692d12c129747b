/**
 * Conv (1-D and 2-D, groups, dilation, pads, auto_pad) as im2col into packed GEMM panels followed
 * by the register-tiled GEMM with the bias and activation fused into its epilogue.
 */
import { shapeSize } from '../../api/tensor.js';
import { Act, Binary, BiasKind, Unary, packedBFloats, type Kernels } from '../../runtime/kernels.js';
import { windowGeometry } from './conv-geometry.js';
import type { Bound, OpContext, OpDef, Prepared } from '../types.js';
import { requireDtype } from '../util.js';

/** Packed-panel budget of one batched conv GEMM (bytes); about half this machine's L2. */
const FOLD_BYTES = 1 << 20;
/**
 * Packed-panel budget of one image's im2col (bytes). A larger image is lowered in bands of output
 * rows, each an im2col + GEMM whose panels stay in L2 (1 MiB per core here): written once, read
 * by every row tile while still cached. Unbanded, a 160×160 head conv's 29 MB of panels went
 * to DRAM and back twice (2.5× slower).
 */
const BAND_BYTES = 512 << 10;
/**
 * Bands only while the weights (re-read by every band's GEMM) also fit in L2: ResNet's
 * 256×2304 and 512×4608 convs measured 5–10% slower banded, 64×576 at 56² 2.3× faster.
 */
const BAND_MAX_WEIGHT_BYTES = 512 << 10;
/**
 * Up to this many output channels a group-1 conv runs as conv2d_direct_f32 (no im2col). Measured
 * on 3×3 convs at 40²–160²: level with banded im2col + GEMM at M = 8 (≈21 GFLOP/s), slower at
 * M = 16; it needs no scratch and no second pass over memory.
 */
const DIRECT_MAX_M = 8;

/** assembly/gemm.ts's A_L2_BYTES: an A up to this size stays in L2 while the GEMM's B panels pass. */
const A_L2_BYTES = 512 << 10;

const CONV_ATTRS = ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'] as const;

/** Activation fused by graph/passes/fuse-activation.ts, stored as internal attributes. */
export const FUSED_ACT_ATTRS = ['activation', 'activation_params'] as const;

/**
 * A BatchNormalization folded in by graph/passes/fuse-conv-bn.ts: inputs 3–6 are its scale, B,
 * mean and var, `bn_epsilon` its epsilon. Constant parameters are folded into the weights and
 * bias once per session; fed ones become a per-channel affine after the GEMM.
 */
interface FoldedBn { eps: number; constant: boolean }

function foldedBn(ctx: OpContext, M: number): FoldedBn | undefined {
  if (!ctx.attrs.has('bn_epsilon')) return undefined;
  for (let i = 3; i <= 6; i++) {
    const t = ctx.input(i);
    if (t.dtype !== 'float32') ctx.fail(`folded BatchNormalization input ${i - 2} must be float32, got ${t.dtype}`, 'INVALID_MODEL');
    if (t.dims.length !== 1 || t.dims[0] !== M) ctx.fail(`folded BatchNormalization input ${i - 2} must have shape [${M}], got [${t.dims.join(', ')}]`, 'SHAPE_MISMATCH');
  }
  const consts = [1, 3, 4, 5, 6].every((i) => ctx.input(i).constant && ctx.input(i).value) && (!ctx.inputs[2] || (ctx.inputs[2].constant && !!ctx.inputs[2].value));
  return { eps: ctx.attrs.float('bn_epsilon', 1e-5), constant: consts };
}

/** W'[m] = W[m]·s[m], b'[m] = (b[m] − mean[m])·s[m] + B[m], s = scale / √(var + ε), in float64. */
function foldBnIntoWeights(ctx: OpContext, M: number, eps: number): { w: Float32Array; b: Float32Array } {
  const v = (i: number) => ctx.input(i).value as Float32Array;
  const W = v(1), K = W.length / M, bias = ctx.inputs[2] ? v(2) : undefined;
  const [gamma, beta, mean, variance] = [v(3), v(4), v(5), v(6)];
  const w = new Float32Array(W.length), b = new Float32Array(M);
  for (let m = 0; m < M; m++) {
    const sc = gamma[m]! / Math.sqrt(variance[m]! + eps);
    for (let j = m * K; j < (m + 1) * K; j++) w[j] = W[j]! * sc;
    b[m] = ((bias ? bias[m]! : 0) - mean[m]!) * sc + beta[m]!;
  }
  return { w, b };
}

/** Per-run scale and shift of fed BN parameters: scale = γ/√(var+ε), shift = β − mean·scale. */
function bnAffine(k: Kernels, [gamma, beta, mean, variance]: number[], eps: number, M: number, scale: number, shift: number): void {
  const vec = [1, 1, 1, M, 0, 0, 0, 1, 0, 0, 0, 1] as const;
  k.unary_f32(variance!, shift, M, Unary.affine, 1, eps);
  k.unary_f32(shift, shift, M, Unary.sqrt, 0, 0);
  k.binary_f32(gamma!, shift, scale, Binary.div, ...vec);
  k.binary_f32(mean!, scale, shift, Binary.mul, ...vec);
  k.binary_f32(beta!, shift, shift, Binary.sub, ...vec);
}

export function fusedActivation(ctx: OpContext): { act: number; a: number; b: number } {
  const name = ctx.attrs.string('activation', '');
  if (!name) return { act: Act.none, a: 0, b: 0 };
  const p = ctx.attrs.floats('activation_params') ?? [];
  const code = (Act as Record<string, number>)[name];
  if (code === undefined) ctx.fail(`unknown fused activation '${name}'`, 'INTERNAL' as never);
  return { act: code!, a: p[0] ?? 0, b: p[1] ?? 0 };
}

function prepareConv(ctx: OpContext): Prepared {
  const x = ctx.input(0), w = ctx.input(1), bias = ctx.inputs[2];
  requireDtype(ctx, 0, ['float32']);
  requireDtype(ctx, 1, ['float32']);
  if (x.dims.length > 4 && w.dims.length === x.dims.length) return prepareConvNd(ctx);
  if (x.dims.length < 3 || x.dims.length > 4) {
    ctx.fail(`tessera supports 1-D and 2-D convolution (input rank 3 or 4); got input dims [${x.dims.join(', ')}]`, 'UNSUPPORTED_OP');
  }
  if (w.dims.length !== x.dims.length) ctx.fail(`weight rank ${w.dims.length} does not match input rank ${x.dims.length}`, 'SHAPE_MISMATCH');
  const group = ctx.attrs.int('group', 1);
  const [N, C] = [x.dims[0]!, x.dims[1]!];
  const [M, Cg] = [w.dims[0]!, w.dims[1]!];
  if (group < 1 || C % group !== 0 || M % group !== 0 || Cg * group !== C) {
    ctx.fail(`group=${group} does not fit input channels ${C}, weight [${w.dims.join(', ')}]`, 'SHAPE_MISMATCH');
  }
  if (bias && (bias.dims.length !== 1 || bias.dims[0] !== M)) ctx.fail(`bias must have shape [${M}], got [${bias.dims.join(', ')}]`, 'SHAPE_MISMATCH');
  // Treat 1-D convolution as 2-D with a height of 1.
  const oneD = x.dims.length === 3;
  const spatial = oneD ? [1, x.dims[2]!] : [x.dims[2]!, x.dims[3]!];
  const kernelDims = oneD ? [1, w.dims[2]!] : [w.dims[2]!, w.dims[3]!];
  const declared = ctx.attrs.ints('kernel_shape');
  if (declared && declared.join() !== w.dims.slice(2).join()) ctx.fail(`kernel_shape [${declared}] does not match the weight's [${w.dims.slice(2)}]`, 'SHAPE_MISMATCH');
  const geo = oneD ? windowGeometry1d(ctx, spatial[1]!, kernelDims[1]!) : windowGeometry(ctx, spatial, kernelDims);
  const [OH, OW] = geo.out as [number, number];
  const [H, W] = spatial as [number, number];
  const [kh, kw] = kernelDims as [number, number];
  const Mg = M / group;
  const K = Cg * kh * kw;
  const P = OH * OW;
  const { act, a, b } = fusedActivation(ctx);
  const bn = foldedBn(ctx, M);
  const postAffine = !!bn && !bn.constant; // fed BN parameters: affine (+ activation) after the GEMM
  const gemmAct = postAffine ? Act.none : act;
  const outDims = oneD ? [N, M, OW] : [N, M, OH, OW];
  // Images per GEMM: as many as keep the packed panels within FOLD_BYTES (so they stay in L2).
  // Folding the batch fills whole 8-wide panels and amortises per-call work on small late
  // layers; it costs one copy of the output back to NCHW, so a single image goes straight to Y.
  const NB = Math.max(1, Math.min(N, Math.floor(FOLD_BYTES / (packedBFloats(K, P) * 4))));
  const folded = NB > 1;
  // Depthwise (one input and one output channel per group): direct kernel, no im2col, no GEMM.
  const depthwise = group > 1 && Cg === 1 && Mg === 1;
  // Few output channels (a detector head's 3×3 → 8): im2col would write K·P floats for a GEMM of
  // at most 8 rows; the direct kernel reads each input tap once per 4 channels instead.
  // Measured: 1×1 and shallow stems (K < 64) are faster through pack + GEMM.
  const direct = group === 1 && M <= DIRECT_MAX_M && P >= 64 && kh * kw > 1 && K >= 64;
  // Output rows per band when one image's panels exceed BAND_BYTES (single-image GEMMs only).
  const bandRows = folded || Mg * K * 4 > BAND_MAX_WEIGHT_BYTES ? OH : Math.max(1, Math.min(OH, Math.floor(BAND_BYTES / (packedBFloats(K, OW) * 4))));
  const panelBytes = depthwise || direct ? 0 : packedBFloats(K, NB * Math.min(OH, bandRows) * OW) * 4;
  // Weights bigger than the GEMM keeps in L2 as A (assembly/gemm.ts A_L2_BYTES), 1-D, constant:
  // packed once (gemmConv). 1-D only, where the stems of audio models (Whisper) are; 2-D convs keep
  // their weights as stored (no second copy while a model's weights load).
  const packWeights = oneD && group === 1 && !bn && !folded && !depthwise && !direct && !!w.constant && Mg * K * 4 > A_L2_BYTES;
  const packedABytes = Math.ceil(M / 4) * 4 * K * 4;
  const gemmBytes = depthwise || direct ? 0 : folded ? panelBytes + Mg * NB * P * 4 : panelBytes;
  const scratchBytes = gemmBytes + (postAffine ? 2 * M * 4 : 0);
  return {
    outputs: [{ dtype: 'float32', dims: outDims }],
    scratchBytes,
    build: (bd) => {
      let [X, Wt, B] = [bd.inputs[0]!, bd.inputs[1]!, bias ? bd.inputs[2]! : 0];
      const [Y, S, k] = [bd.outputs[0]!, bd.scratch, bd.k];
      if (shapeSize(outDims) === 0) return () => {};
      if (bn?.constant) {
        // Folded once per session (keyed by the weight's and BN's constant addresses).
        const key = `convbn:${bd.inputs.join(',')}:${bn.eps}`;
        let cache: { w: Float32Array; b: Float32Array } | undefined;
        const get = () => (cache ??= foldBnIntoWeights(ctx, M, bn.eps));
        Wt = bd.persistent(`${key}:w`, M * K * 4, (p) => new Float32Array(bd.memory.buffer, p, M * K).set(get().w));
        B = bd.persistent(`${key}:b`, M * 4, (p) => new Float32Array(bd.memory.buffer, p, M).set(get().b));
      }
      const biasKind = B ? BiasKind.perRow : BiasKind.none;
      const conv = depthwise ? dwConv(k, X, Wt, B, Y) : direct ? directConv(k, X, Wt, B, Y) : gemmConv(k, X, Wt, B, biasKind, Y, S, bd);
      if (!postAffine) return conv;
      const bnPtrs = bd.inputs.slice(3, 7) as number[], scale = S + gemmBytes, shift = scale + M * 4;
      return () => {
        conv();
        bnAffine(k, bnPtrs, bn!.eps, M, scale, shift);
        k.channel_affine_f32(Y, Y, scale, shift, N, M, P, act, a, b);
      };
    },
  };

  function dwConv(k: Kernels, X: number, Wt: number, B: number, Y: number): () => void {
    const [sh, sw] = geo.strides as [number, number];
    const [dh, dw] = geo.dilations as [number, number];
    const [pt, pl] = [geo.pads[0]!, geo.pads[1]!];
    return () => k.dwconv2d_f32(X, Wt, B, Y, N * C, C, H, W, OH, OW, kh, kw, sh, sw, dh, dw, pt, pl, gemmAct, a, b);
  }

  function directConv(k: Kernels, X: number, Wt: number, B: number, Y: number): () => void {
    const [sh, sw] = geo.strides as [number, number];
    const [dh, dw] = geo.dilations as [number, number];
    const [pt, pl] = [geo.pads[0]!, geo.pads[1]!];
    return () => {
      for (let n = 0; n < N; n++) k.conv2d_direct_f32(X + n * C * H * W * 4, Wt, B, Y + n * M * P * 4, C, H, W, M, OH, OW, kh, kw, sh, sw, dh, dw, pt, pl, gemmAct, a, b);
    };
  }

  function gemmConv(k: Kernels, X: number, Wt: number, B: number, biasKind: number, Y: number, S: number, bd: Bound): () => void {
    const [sh, sw] = geo.strides as [number, number];
    const [dh, dw] = geo.dilations as [number, number];
    const [pt, pl] = [geo.pads[0]!, geo.pads[1]!];
    const act = gemmAct;
    if (!folded && packWeights) {
      // A 1-D conv whose weights are past the GEMM's L2 size for A (Whisper's second stem: 384 ×
      // 1,152 floats): packed once for the session (pack_a_f32), so the GEMM's row bands read A
      // contiguously instead of 4 strided rows per step: 72 → 52 ms per tiny window alone, the
      // same products in the same order (gemm_f32 gives the same bits for both forms of A).
      // The stored weight is kept (not `replaces`d): a plan for another batch size may fold images
      // into one GEMM and read it in place.
      const packed = bd.persistent(`conv-a:${Wt}:${M}:${K}`, packedABytes, (ptr) => k.pack_a_f32(Wt, K, ptr, M, K));
      return () => {
        for (let n = 0; n < N; n++) {
          k.im2col_packed_f32(X + n * C * H * W * 4, S, C, H, W, kh, kw, sh, sw, dh, dw, pt, pl, OH, OW);
          k.gemm_f32(packed, K, S, Y + n * M * P * 4, P, M, P, K, B, biasKind, 0, act, a, b, 1);
        }
      };
    }
    if (!folded) {
      // One im2col + GEMM call per band of output rows (the whole image when it fits): a negative
      // top pad shifts the window origin down to the band (the kernel clips rows against the whole
      // image); a 1×1 unpadded stride-1 band is packed straight from a slice of x.
      return () => {
        for (let n = 0; n < N; n++) {
          for (let g = 0; g < group; g++) {
            const xg = X + ((n * C + g * Cg) * H * W) * 4, yg = Y + ((n * M + g * Mg) * P) * 4;
            const wg = Wt + g * Mg * K * 4, bg = B ? B + g * Mg * 4 : 0;
            for (let o0 = 0; o0 < OH; o0 += bandRows) {
              k.conv2d_im2col_gemm_f32(xg, wg, bg, yg + o0 * OW * 4, S, Cg, H, W, Mg, kh, kw, sh, sw, dh, dw,
                pt - o0 * sh, pl, Math.min(bandRows, OH - o0), OW, P, act, a, b);
            }
          }
        }
      };
    }
    const T = S + panelBytes; // GEMM output [Mg][nb][P] before it is put back in NCHW order
    return () => {
      for (let n0 = 0; n0 < N; n0 += NB) {
        const nb = Math.min(NB, N - n0), cols = nb * P;
        for (let g = 0; g < group; g++) {
          k.im2col_packed_batch_f32(X + ((n0 * C + g * Cg) * H * W) * 4, S, nb, C * H * W, Cg, H, W, kh, kw, sh, sw, dh, dw, pt, pl, OH, OW);
          k.gemm_f32(Wt + g * Mg * K * 4, K, S, T, cols, Mg, cols, K, B ? B + g * Mg * 4 : 0, biasKind, 0, act, a, b);
          k.unbatch_rows_f32(T, Y + ((n0 * M + g * Mg) * P) * 4, nb, Mg, P, M * P);
        }
      }
    };
  }
}

/** 3-D and higher: a direct convolution in TypeScript (rare in the models tessera targets). */
function prepareConvNd(ctx: OpContext): Prepared {
  const x = ctx.input(0), w = ctx.input(1), bias = ctx.inputs[2];
  const sd = x.dims.length - 2, group = ctx.attrs.int('group', 1);
  const [N, C] = [x.dims[0]!, x.dims[1]!], [M, Cg] = [w.dims[0]!, w.dims[1]!];
  if (group < 1 || C % group !== 0 || M % group !== 0 || Cg * group !== C) ctx.fail(`group=${group} does not fit input channels ${C}, weight [${w.dims.join(', ')}]`, 'SHAPE_MISMATCH');
  if (bias && (bias.dims.length !== 1 || bias.dims[0] !== M)) ctx.fail(`bias must have shape [${M}], got [${bias.dims.join(', ')}]`, 'SHAPE_MISMATCH');
  const declared = ctx.attrs.ints('kernel_shape');
  if (declared && declared.join() !== w.dims.slice(2).join()) ctx.fail(`kernel_shape [${declared}] does not match the weight's [${w.dims.slice(2)}]`, 'SHAPE_MISMATCH');
  const { act, a, b } = fusedActivation(ctx);
  if (act !== Act.none && act !== Act.relu && act !== Act.clip && act !== Act.leakyRelu) ctx.fail(`fused activation ${act} on an N-D convolution`, 'UNSUPPORTED_OP');
  const bn = foldedBn(ctx, M);
  const inSp = x.dims.slice(2), kSp = w.dims.slice(2), geo = windowGeometry(ctx, inSp, kSp), outSp = geo.out;
  const inN = shapeSize(inSp), outN = shapeSize(outSp), kN = shapeSize(kSp), Mg = M / group;
  // Per (output position, kernel position): the input offset, or -1 in the pads.
  const map = new Int32Array(outN * kN), op = new Array<number>(sd).fill(0);
  for (let o = 0; o < outN; o++) {
    const kp = new Array<number>(sd).fill(0);
    for (let k = 0; k < kN; k++) {
      let off = 0;
      for (let d = 0; d < sd; d++) {
        const i = op[d]! * geo.strides[d]! - geo.pads[d]! + kp[d]! * geo.dilations[d]!;
        if (i < 0 || i >= inSp[d]!) { off = -1; break; }
        off = off * inSp[d]! + i;
      }
      map[o * kN + k] = off;
      for (let d = sd - 1; d >= 0; d--) { if (++kp[d]! < kSp[d]!) break; kp[d] = 0; }
    }
    for (let d = sd - 1; d >= 0; d--) { if (++op[d]! < outSp[d]!) break; op[d] = 0; }
  }
  return {
    outputs: [{ dtype: 'float32', dims: [N, M, ...outSp] }],
    build(bd) {
      const xv = bd.view('float32', bd.inputs[0]!, N * C * inN), wv = bd.view('float32', bd.inputs[1]!, M * Cg * kN);
      const bv = bias ? bd.view('float32', bd.inputs[2]!, M) : undefined, yv = bd.view('float32', bd.outputs[0]!, N * M * outN);
      const bnv = bn ? [3, 4, 5, 6].map((i) => bd.view('float32', bd.inputs[i]!, M)) : [];
      const bnScale = new Float64Array(bn ? M : 0), bnShift = new Float64Array(bn ? M : 0);
      return () => {
        const X = xv() as Float32Array, W = wv() as Float32Array, Y = yv() as Float32Array, B = bv?.() as Float32Array | undefined;
        if (bn) {
          const [gamma, beta, mean, variance] = bnv.map((v) => v() as Float32Array);
          for (let m = 0; m < M; m++) {
            bnScale[m] = gamma![m]! / Math.sqrt(variance![m]! + bn.eps);
            bnShift[m] = beta![m]! - mean![m]! * bnScale[m]!;
          }
        }
        for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) {
          const g = Math.floor(m / Mg), yo = (n * M + m) * outN;
          for (let o = 0; o < outN; o++) {
            let s = B ? B[m]! : 0;
            for (let c = 0; c < Cg; c++) {
              const xo = (n * C + g * Cg + c) * inN, wo = (m * Cg + c) * kN;
              for (let k = 0, mi = o * kN; k < kN; k++, mi++) { const off = map[mi]!; if (off >= 0) s += X[xo + off]! * W[wo + k]!; }
            }
            if (bn) s = s * bnScale[m]! + bnShift[m]!;
            if (act === Act.relu) s = Math.max(s, 0);
            else if (act === Act.clip) s = Math.min(Math.max(s, a), b);
            else if (act === Act.leakyRelu) s = s < 0 ? a * s : s;
            Y[yo + o] = s;
          }
        }
      };
    },
  };
}

/** 1-D attributes mapped onto the 2-D geometry with a unit height. */
function windowGeometry1d(ctx: OpContext, W: number, kw: number) {
  const g = windowGeometry(ctx, [W], [kw]);
  return { kernel: [1, kw], strides: [1, g.strides[0]!], dilations: [1, g.dilations[0]!], pads: [0, g.pads[0]!, 0, g.pads[1]!], out: [1, g.out[0]!] };
}

export const convOps: OpDef[] = [
  { opType: 'Conv', since: 1, attributes: CONV_ATTRS, prepare: prepareConv },
  { opType: 'FusedConv', domain: 'tessera', since: 1, attributes: [...CONV_ATTRS, ...FUSED_ACT_ATTRS, 'bn_epsilon'], prepare: prepareConv },
];
