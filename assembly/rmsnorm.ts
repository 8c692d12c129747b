// RMS normalisation (SimplifiedLayerNormalization, SkipSimplifiedLayerNormalization: the norms of
// Llama/Qwen/Gemma exports), with the residual sum folded in: s = x (+ skip) (+ bias) per row,
// y = s / sqrt(mean(s²) + ε) · γ. One pass builds s (kept in `sum` when the caller wants it, else
// in y) and Σs² in four accumulators; a second scales it while the row is still in cache.
import { madd } from './activation';

// x, skip, sum, y: rows × cols, dense; bias, gamma: cols; invStd: rows (each 0 = absent).
export function rmsnorm_f32(x: usize, skip: usize, bias: usize, sum: usize, y: usize, gamma: usize, invStd: usize,
  rows: i32, cols: i32, eps: f32): void {
  const rowB = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xp = x + <usize>r * rowB, yp = y + <usize>r * rowB;
    // Where s lives: x itself when nothing is added, else the sum output or y.
    const sp = skip == 0 && bias == 0 ? xp : sum != 0 ? sum + <usize>r * rowB : yp;
    const kp = skip + <usize>r * rowB;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let i = 0;
    for (; i + 8 <= cols; i += 8) {
      const o = <usize>i << 2;
      let s0 = v128.load(xp + o), s1 = v128.load(xp + o, 16);
      if (skip) { s0 = f32x4.add(s0, v128.load(kp + o)); s1 = f32x4.add(s1, v128.load(kp + o, 16)); }
      if (bias) { s0 = f32x4.add(s0, v128.load(bias + o)); s1 = f32x4.add(s1, v128.load(bias + o, 16)); }
      if (sp != xp) { v128.store(sp + o, s0); v128.store(sp + o, s1, 16); }
      if (i & 8) { a2 = madd(s0, s0, a2); a3 = madd(s1, s1, a3); } else { a0 = madd(s0, s0, a0); a1 = madd(s1, s1, a1); }
    }
    let ss = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
    for (; i < cols; i++) {
      const o = <usize>i << 2;
      let s = load<f32>(xp + o);
      if (skip) s += load<f32>(kp + o);
      if (bias) s += load<f32>(bias + o);
      if (sp != xp) store<f32>(sp + o, s);
      ss += s * s;
    }
    const inv: f32 = <f32>1 / Mathf.sqrt(ss / <f32>cols + eps);
    if (invStd) store<f32>(invStd + (<usize>r << 2), inv);
    if (sum != 0 && sp != sum + <usize>r * rowB) memory.copy(sum + <usize>r * rowB, xp, rowB);
    const iv = f32x4.splat(inv);
    i = 0;
    for (; i + 4 <= cols; i += 4) {
      const o = <usize>i << 2;
      v128.store(yp + o, f32x4.mul(f32x4.mul(v128.load(sp + o), iv), v128.load(gamma + o)));
    }
    for (; i < cols; i++) {
      const o = <usize>i << 2;
      store<f32>(yp + o, load<f32>(sp + o) * inv * load<f32>(gamma + o));
    }
  }
}

// @ts-ignore: decorator
@inline function hsum(a: v128): f32 {
  return (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
}
