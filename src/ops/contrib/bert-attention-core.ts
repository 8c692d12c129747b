/**
 * What com.microsoft Attention and MultiHeadAttention share: onnxruntime's mask conventions turned
 * into the additive float mask tessera's fused attention kernel (attention_f32) reads, and the
 * calls of that kernel over Q/K/V laid out in any of the layouts these ops accept (heads side by
 * side [B, S, N·H], packed [B, S, N, 3, H], or per head [B, N, T, H] as past/present are).
 *
 * Masks follow onnxruntime's CPU kernel (contrib_ops/cpu/bert/attention_helper.h, PrepareMask):
 * a raw 0/1 mask (2-D [B, T] or 3-D [B, S, T]) gives mask_filter_value where it is 0; 1-D key
 * lengths [B] mask keys at or after the end, [2B] adds start positions (keys before them masked);
 * unidirectional masks key j for query i when j > past + i with the lowest float32. The 4-D
 * Megatron form [B, 1, M, M] (which onnxruntime's CPU kernel refuses; its CUDA kernel reads
 * rows past … past + S − 1, columns 0 … T − 1) is supported the CUDA way. attention_bias
 * [B|1, N|1, S, T] is added on top.
 */
import type { Kernels } from '../../runtime/kernels.js';
import type { InputInfo, OpContext } from '../types.js';
import { requireDtype } from '../util.js';

/** float32's lowest value: what onnxruntime writes for a causally masked key. */
const LOWEST = -3.4028234663852886e38;

/** Where one of Q, K, V or the output lives: element strides between batches, heads and rows. */
export interface HeadLayout {
  ptr: number;
  batch: number;
  head: number;
  row: number;
}

/** How the kernel reads the additive mask: element strides over [B, N, S, T] (0 broadcasts). */
export interface MaskStrides {
  ptr: number;
  mb: number;
  mh: number;
  mq: number;
  mk: number;
}

/**
 * softmax(scale·q·kᵀ + mask)·v for every batch and head. One kernel call when every operand keeps
 * heads side by side and batches contiguous, else one call per head (or per batch and head), each
 * a B = 1 / H = 1 view of the same memory.
 */
export function runHeads(k: Kernels, q: HeadLayout, kk: HeadLayout, v: HeadLayout, out: HeadLayout, mask: MaskStrides | undefined,
  scratch: number, B: number, N: number, S: number, T: number, d: number, scale: number): void {
  const all = [q, kk, v, out];
  const lens = [S, T, T, S];
  const headsSideBySide = all.every((l) => l.head === d);
  const batchesContiguous = all.every((l, i) => l.batch === lens[i]! * l.row);
  const m = mask ?? { ptr: 0, mb: 0, mh: 0, mq: 0, mk: 0 };
  const mp = (b: number, h: number) => (mask ? m.ptr + (b * m.mb + h * m.mh) * 4 : 0);
  if (headsSideBySide && batchesContiguous) {
    k.attention_f32(q.ptr, kk.ptr, v.ptr, mp(0, 0), out.ptr, scratch, B, N, S, T, d, q.row, kk.row, v.row, out.row, m.mb, m.mh, m.mq, m.mk, scale);
    return;
  }
  const at = (l: HeadLayout, b: number, h: number) => l.ptr + (b * l.batch + h * l.head) * 4;
  if (batchesContiguous) {
    for (let h = 0; h < N; h++) {
      k.attention_f32(at(q, 0, h), at(kk, 0, h), at(v, 0, h), mp(0, h), at(out, 0, h), scratch, B, 1, S, T, d, q.row, kk.row, v.row, out.row, m.mb, 0, m.mq, m.mk, scale);
    }
    return;
  }
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < N; h++) {
      k.attention_f32(at(q, b, h), at(kk, b, h), at(v, b, h), mp(b, h), at(out, b, h), scratch, 1, 1, S, T, d, q.row, kk.row, v.row, out.row, 0, 0, m.mq, m.mk, scale);
    }
  }
}

/** The mask inputs of one node, checked at plan time. */
export interface MaskPlan {
  /** 'keys': a [B, T] float mask; 'rows': [B, S, T]; 'full': [B, N, S, T]; 'bias': attention_bias as is. */
  kind: 'none' | 'keys' | 'rows' | 'full' | 'bias';
  floats: number;
  /** Fills the float mask from the int mask and attention bias views (per run), or undefined. */
  fill?: (dst: Float32Array, mask: Int32Array | undefined, bias: Float32Array | undefined) => void;
  strides: (ptr: number) => MaskStrides;
}

/**
 * Plans the additive mask for B batches, N heads, S queries and T = P + L keys from the int32
 * mask input `maskAt` and the float attention_bias input `biasAt` (either may be absent).
 */
export function planMask(ctx: OpContext, maskAt: number, biasAt: number, B: number, N: number, S: number, P: number, T: number,
  causal: boolean, filter: number): MaskPlan {
  const mask = ctx.inputs[maskAt], bias = ctx.inputs[biasAt];
  let maskForm: 'none' | 'lengths' | 'startEnd' | 'raw2' | 'raw3' | 'raw4' = 'none';
  let M = 0;
  if (mask) {
    requireDtype(ctx, maskAt, ['int32']);
    const md = mask.dims;
    if (md.length === 1 && md[0] === B) maskForm = 'lengths';
    else if (md.length === 1 && md[0] === 2 * B) maskForm = 'startEnd';
    else if (md.length === 2 && md[0] === B && md[1] === T) maskForm = 'raw2';
    else if (md.length === 3 && md[0] === B && md[1] === S && md[2] === T) maskForm = 'raw3';
    else if (md.length === 4 && md[0] === B && md[1] === 1 && md[2] === md[3] && md[2]! >= T) { maskForm = 'raw4'; M = md[3]!; }
    else if (md.length === 1 && md[0] === 3 * B + 2) ctx.fail(`mask '${mask.name}' [${md}] is the packed (3·batch + 2) index form, which tessera does not support`, 'UNSUPPORTED_OP');
    else ctx.fail(`mask '${mask.name}' has shape [${md}]; expected [${B}], [${2 * B}], [${B}, ${T}], [${B}, ${S}, ${T}] or [${B}, 1, M, M] with M ≥ ${T}`, 'SHAPE_MISMATCH');
  }
  let bh = 0, bb = 0;
  if (bias) {
    requireDtype(ctx, biasAt, ['float32']);
    const d = bias.dims;
    if (d.length !== 4 || (d[0] !== 1 && d[0] !== B) || (d[1] !== 1 && d[1] !== N) || d[2] !== S || d[3] !== T) {
      ctx.fail(`attention_bias '${bias.name}' must be [${B} or 1, ${N} or 1, ${S}, ${T}], got [${d}]`, 'SHAPE_MISMATCH');
    }
    bb = d[0] === 1 ? 0 : (d[1]! * S * T);
    bh = d[1] === 1 ? 0 : S * T;
  }
  const keyOnly = maskForm === 'lengths' || maskForm === 'startEnd' || maskForm === 'raw2';
  const hasMask = maskForm !== 'none' || causal;
  if (!hasMask && !bias) return { kind: 'none', floats: 0, strides: () => ({ ptr: 0, mb: 0, mh: 0, mq: 0, mk: 0 }) };
  if (!hasMask) return { kind: 'bias', floats: 0, strides: (ptr) => ({ ptr, mb: bb, mh: bh, mq: T, mk: 1 }) };
  // One [B, S, T] (or [B, T]) plane per batch of mask values, as PrepareMask writes it.
  const maskRow = (b: number, i: number, m: Int32Array | undefined, dst: Float32Array, o: number) => {
    for (let j = 0; j < T; j++) dst[o + j] = 0;
    if (m) {
      switch (maskForm) {
        case 'raw2': for (let j = 0; j < T; j++) if (!(m[b * T + j]! > 0)) dst[o + j] = filter; break;
        case 'raw3': for (let j = 0; j < T; j++) if (!(m[(b * S + i) * T + j]! > 0)) dst[o + j] = filter; break;
        case 'raw4': for (let j = 0; j < T; j++) if (!(m[(b * M + P + i) * M + j]! > 0)) dst[o + j] = filter; break;
        case 'lengths': case 'startEnd': {
          for (let j = Math.max(0, m[b]!); j < T; j++) dst[o + j] = filter;
          if (maskForm === 'startEnd') for (let j = 0, e = Math.min(m[b + B]!, T); j < e; j++) dst[o + j] = filter;
          break;
        }
      }
    }
    if (causal) for (let j = P + i + 1; j < T; j++) dst[o + j] = LOWEST;
  };
  if (keyOnly && !causal && !bias) {
    return {
      kind: 'keys', floats: B * T,
      fill: (dst, m) => { for (let b = 0; b < B; b++) maskRow(b, 0, m, dst, b * T); },
      strides: (ptr) => ({ ptr, mb: T, mh: 0, mq: 0, mk: 1 }),
    };
  }
  if (!bias) {
    return {
      kind: 'rows', floats: B * S * T,
      fill: (dst, m) => { for (let b = 0; b < B; b++) for (let i = 0; i < S; i++) maskRow(b, i, m, dst, (b * S + i) * T); },
      strides: (ptr) => ({ ptr, mb: S * T, mh: 0, mq: T, mk: 1 }),
    };
  }
  return {
    kind: 'full', floats: B * N * S * T,
    fill: (dst, m, ab) => {
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < S; i++) {
          const o = ((b * N) * S + i) * T;
          maskRow(b, i, m, dst, o);
          for (let h = N - 1; h >= 0; h--) {
            const oh = ((b * N + h) * S + i) * T, ob = b * bb + h * bh + i * T;
            for (let j = 0; j < T; j++) dst[oh + j] = dst[o + j]! + ab![ob + j]!;
          }
        }
      }
    },
    strides: (ptr) => ({ ptr, mb: N * S * T, mh: S * T, mq: T, mk: 1 }),
  };
}

/** Rounds a byte count up to the 64-byte blocks the kernels' scratch is carved in. */
export function align64(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

/** Checks num_heads against a hidden size; returns the head size. */
export function headSize(ctx: OpContext, heads: number, hidden: number, what: string): number {
  if (!(heads > 0)) throw ctx.attrs.error('num_heads', heads === 0 ? 'is required (a positive number of heads)' : `must be positive, got ${heads}`);
  if (hidden % heads !== 0) throw ctx.attrs.error('num_heads', `(${heads}) must divide the ${what} (${hidden})`);
  return hidden / heads;
}

/** The scale attribute: absent or 0 means 1/√head_size, as onnxruntime reads it. */
export function scaleOf(ctx: OpContext, d: number): number {
  const s = ctx.attrs.float('scale', 0);
  if (!Number.isFinite(s)) throw ctx.attrs.error('scale', `must be a finite number, got ${s}`);
  return s === 0 ? 1 / Math.sqrt(d) : s;
}

/** Shared reading of mask_filter_value and unidirectional. */
export function maskAttrs(ctx: OpContext): { filter: number; causal: boolean } {
  const filter = ctx.attrs.float('mask_filter_value', -10000);
  if (Number.isNaN(filter)) throw ctx.attrs.error('mask_filter_value', 'must be a number, got NaN');
  const u = ctx.attrs.int('unidirectional', 0);
  if (u !== 0 && u !== 1) throw ctx.attrs.error('unidirectional', `must be 0 or 1, got ${u}`);
  return { filter, causal: u === 1 };
}

/** Checks an optional float input's exact shape. */
export function requireShape(ctx: OpContext, i: number, t: InputInfo, dims: readonly number[], what: string): void {
  requireDtype(ctx, i, ['float32']);
  if (t.dims.length !== dims.length || t.dims.some((d, j) => d !== dims[j])) ctx.fail(`${what} '${t.name}' must be [${dims}], got [${t.dims}]`, 'SHAPE_MISMATCH');
}

/**
 * Writes present = concat(past, new) per batch and head into [B, N, T, H] at dst: the past's P
 * rows, then the L new rows read from `src` (a layout over [B, L] rows with heads at `src.head`;
 * its `ptr` is an element offset into `src` here).
 */
export function concatPresent(dst: Float32Array, past: Float32Array | undefined, src: Float32Array, srcLayout: HeadLayout,
  B: number, N: number, P: number, L: number, H: number): void {
  const T = P + L;
  // Last head first: should a runtime give present the past's memory, every past block is read
  // before anything lands on it (block i moves to i·T·H ≥ i·P·H; set() copes with the overlap).
  for (let b = B - 1; b >= 0; b--) {
    for (let h = N - 1; h >= 0; h--) {
      const o = (b * N + h) * T * H;
      if (past && P) dst.set(past.subarray((b * N + h) * P * H, (b * N + h + 1) * P * H), o);
      for (let j = 0; j < L; j++) {
        const s = srcLayout.ptr + b * srcLayout.batch + h * srcLayout.head + j * srcLayout.row;
        dst.set(src.subarray(s, s + H), o + (P + j) * H);
      }
    }
  }
}
