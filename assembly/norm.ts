// Normalisations. BatchNormalization arrives folded to per-channel scale/shift (the runtime does
// scale = γ/√(var+ε), shift = β − mean·scale once at load), hence channel_affine.
import { act_f32x4, madd } from './activation';
import { loadN, storeN } from './gemm_epilogue';

export function channel_affine_f32(x: usize, y: usize, scale: usize, shift: usize, N: i32, C: i32,
  HW: i32, act: i32, a: f32, b: f32): void {
  let xp = x; let yp = y;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const s = v128.load32_splat(scale + (<usize>c << 2));
      const t = v128.load32_splat(shift + (<usize>c << 2));
      let i = 0;
      for (; i + 4 <= HW; i += 4) {
        let v = madd(v128.load(xp), s, t);
        if (act == 1) v = f32x4.max(v, f32x4.splat(0));
        else if (act != 0) v = act_f32x4(v, act, a, b);
        v128.store(yp, v);
        xp += 16; yp += 16;
      }
      if (i < HW) {
        const r = HW - i;
        const v = act_f32x4(madd(loadN(xp, r), s, t), act, a, b);
        storeN(yp, v, r);
        xp += <usize>r << 2; yp += <usize>r << 2;
      }
    }
  }
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// Two passes (mean, then Σ(x − mean)²) rather than E[x²] − E[x]²: the one-pass form cancels
// badly when |mean| ≫ std, which happens in transformer residual streams. Each sum runs in four
// accumulators, 16 floats a step: one accumulator waited on the add's latency every step (BERT-
// base's 128×768 rows ≈ 2× slower that way).
export function layernorm_f32(x: usize, y: usize, gamma: usize, beta: usize, rows: i32, cols: i32, eps: f32): void {
  const rowB = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xp = x + <usize>r * rowB;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let i = 0;
    for (; i + 16 <= cols; i += 16) {
      const p = xp + (<usize>i << 2);
      a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16));
      a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
    }
    for (; i + 4 <= cols; i += 4) a0 = f32x4.add(a0, v128.load(xp + (<usize>i << 2)));
    let sum = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
    for (; i < cols; i++) sum += load<f32>(xp + (<usize>i << 2));
    normalizeRow(xp, y + <usize>r * rowB, gamma, beta, cols, sum, eps);
  }
}

// LayerNormalization(a + b) with the residual Add folded in (the add-layernorm graph pass): each
// row's sums s = a + b are stored into y while the mean's sum runs over them, then y is normalised
// in place while the row is still in cache. The same float32 operations in the same order as
// binary_f32's Add followed by layernorm_f32, so the same bits; one pass over memory fewer.
export function add_layernorm_f32(a: usize, b: usize, y: usize, gamma: usize, beta: usize, rows: i32, cols: i32, eps: f32): void {
  const rowB = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const ap = a + <usize>r * rowB, bp = b + <usize>r * rowB, yp = y + <usize>r * rowB;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let i = 0;
    for (; i + 16 <= cols; i += 16) {
      const o = <usize>i << 2;
      const s0 = f32x4.add(v128.load(ap + o), v128.load(bp + o));
      const s1 = f32x4.add(v128.load(ap + o, 16), v128.load(bp + o, 16));
      const s2 = f32x4.add(v128.load(ap + o, 32), v128.load(bp + o, 32));
      const s3 = f32x4.add(v128.load(ap + o, 48), v128.load(bp + o, 48));
      v128.store(yp + o, s0); v128.store(yp + o, s1, 16); v128.store(yp + o, s2, 32); v128.store(yp + o, s3, 48);
      a0 = f32x4.add(a0, s0); a1 = f32x4.add(a1, s1); a2 = f32x4.add(a2, s2); a3 = f32x4.add(a3, s3);
    }
    for (; i + 4 <= cols; i += 4) {
      const o = <usize>i << 2;
      const s = f32x4.add(v128.load(ap + o), v128.load(bp + o));
      v128.store(yp + o, s);
      a0 = f32x4.add(a0, s);
    }
    let sum = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
    for (; i < cols; i++) {
      const o = <usize>i << 2;
      const s = load<f32>(ap + o) + load<f32>(bp + o);
      store<f32>(yp + o, s);
      sum += s;
    }
    normalizeRow(yp, yp, gamma, beta, cols, sum, eps);
  }
}

// One row from the sum of its elements: variance, then y = (x − mean)·rstd·γ (+ β). xp may be yp
// (every element is read before it is written).
// @ts-ignore: decorator
@inline function normalizeRow(xp: usize, yp: usize, gamma: usize, beta: usize, cols: i32, sum: f32, eps: f32): void {
  const invN: f32 = <f32>1 / <f32>cols;
  const mean = sum * invN;
  const mv = f32x4.splat(mean);
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let i = 0;
  for (; i + 16 <= cols; i += 16) {
    const p = xp + (<usize>i << 2);
    const d0 = f32x4.sub(v128.load(p), mv), d1 = f32x4.sub(v128.load(p, 16), mv);
    const d2 = f32x4.sub(v128.load(p, 32), mv), d3 = f32x4.sub(v128.load(p, 48), mv);
    a0 = madd(d0, d0, a0); a1 = madd(d1, d1, a1); a2 = madd(d2, d2, a2); a3 = madd(d3, d3, a3);
  }
  for (; i + 4 <= cols; i += 4) {
    const d = f32x4.sub(v128.load(xp + (<usize>i << 2)), mv);
    a0 = madd(d, d, a0);
  }
  let ss = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; i < cols; i++) { const d = load<f32>(xp + (<usize>i << 2)) - mean; ss += d * d; }
  const rstd: f32 = <f32>1 / Mathf.sqrt(ss * invN + eps);
  const rv = f32x4.splat(rstd);
  i = 0;
  for (; i + 4 <= cols; i += 4) {
    const o = <usize>i << 2;
    let v = f32x4.mul(f32x4.mul(f32x4.sub(v128.load(xp + o), mv), rv), v128.load(gamma + o));
    if (beta) v = f32x4.add(v, v128.load(beta + o));
    v128.store(yp + o, v);
  }
  for (; i < cols; i++) {
    const o = <usize>i << 2;
    let v = (load<f32>(xp + o) - mean) * rstd * load<f32>(gamma + o);
    if (beta) v += load<f32>(beta + o);
    store<f32>(yp + o, v);
  }
}
