/**
 * Strided copies for any element type, moving bits rather than values: 8-byte elements travel as
 * two 32-bit lanes, so int64 is exact and NaN payloads survive.
 */
import { bytesPerElement } from '../../api/tensor.js';
import type { DType } from '../../graph/ir.js';
import type { Bound, Step } from '../types.js';

type Lane = Uint8Array | Uint16Array | Uint32Array;

function laneView(bd: Bound, ptr: number, elements: number, bpe: number): () => Lane {
  const lanes = bpe === 8 ? elements * 2 : elements;
  const dtype = bpe === 1 ? 'uint8' : bpe === 2 ? 'uint16' : 'uint32';
  return bd.view(dtype, ptr, lanes) as () => Lane;
}

/**
 * dst[i] (contiguous over `dims`) = src[srcOffset + Σ idx_k · srcStrides_k], in elements.
 * `srcElements` bounds the source view.
 */
export function stridedCopy(bd: Bound, dtype: DType, src: number, srcElements: number, srcOffset: number, dst: number,
  dims: readonly number[], srcStrides: readonly number[]): Step {
  const bpe = bytesPerElement(dtype);
  let d = [...dims], s = [...srcStrides];
  if (bpe === 8) { d = [...d, 2]; s = [...s.map((x) => x * 2), 1]; }
  const n = d.reduce((a, b) => a * b, 1);
  if (n === 0) return () => {};
  // Contiguous inner runs under at most three forward-strided outer dimensions (Transposes that
  // keep the last axis, Slices of whole runs): one Wasm call, not a JavaScript copy per row.
  const r0 = dims.length;
  if (r0 >= 1 && r0 <= 4 && srcStrides[r0 - 1] === 1 && srcStrides.every((x) => x >= 0)) {
    const rowBytes = dims[r0 - 1]! * bpe;
    const od = dims.slice(0, -1), os = srcStrides.slice(0, -1).map((x) => x * bpe);
    while (od.length < 3) { od.unshift(1); os.unshift(0); }
    const k = bd.k, from = src + srcOffset * bpe;
    return () => k.copy_rows(from, dst, rowBytes, od[0]!, os[0]!, od[1]!, os[1]!, od[2]!, os[2]!, rowBytes);
  }
  const vs = laneView(bd, src, Math.max(srcElements, 1), bpe), vd = laneView(bd, dst, n / (bpe === 8 ? 2 : 1), bpe);
  const rank = d.length;
  const last = d[rank - 1]!, lastStride = s[rank - 1]!;
  const outerDims = d.slice(0, -1), outerStrides = s.slice(0, -1);
  const outer = n / last;
  const idx = new Array<number>(rank - 1).fill(0);
  const start = bpe === 8 ? srcOffset * 2 : srcOffset;
  return () => {
    const S = vs(), D = vd();
    let o = 0, base = start;
    idx.fill(0);
    for (let r = 0; r < outer; r++) {
      if (lastStride === 1) D.set(S.subarray(base, base + last), o);
      else for (let j = 0, p = base; j < last; j++, p += lastStride) D[o + j] = S[p]!;
      o += last;
      for (let k = outerDims.length - 1; k >= 0; k--) {
        base += outerStrides[k]!;
        if (++idx[k]! < outerDims[k]!) break;
        base -= outerStrides[k]! * outerDims[k]!;
        idx[k] = 0;
      }
    }
  };
}

/** Copies `bytes` bytes inside Wasm memory. */
export function copyBytes(bd: Bound, src: number, dst: number, bytes: number): Step {
  let whole: Uint8Array | undefined;
  return () => {
    if (whole?.buffer !== bd.memory.buffer) whole = new Uint8Array(bd.memory.buffer);
    whole.copyWithin(dst, src, src + bytes);
  };
}
