// Elementwise kernels: unary ops (activation codes + math ops) and 4-D broadcasting binary ops.
// Tails use exact-length partial loads/stores, so these kernels never read or write past a
// tensor; in-place use (y == x, or y == a/b with equal shapes) is safe because every element is
// read before it is written.
import { act_f32x4, exp_f32x4, log_f32x4, erf_f32x4, lane0, madd } from './activation';
import { loadN, storeN } from './gemm_epilogue';

// Unary op codes beyond the activation codes 0–14. Append-only.
export const OP_EXP: i32 = 20;
export const OP_LOG: i32 = 21;
export const OP_SQRT: i32 = 22;
export const OP_NEG: i32 = 23;
export const OP_ABS: i32 = 24;
export const OP_RECIPROCAL: i32 = 25;
export const OP_FLOOR: i32 = 26;
export const OP_CEIL: i32 = 27;
export const OP_ROUND: i32 = 28;
export const OP_ERF: i32 = 29;
export const OP_SIN: i32 = 30;
export const OP_COS: i32 = 31;
export const OP_SIGN: i32 = 32;
export const OP_SOFTSIGN: i32 = 33;
export const OP_POW_SCALAR: i32 = 34;
export const OP_AFFINE: i32 = 35;

function unary_vec(v: v128, op: i32, a: f32, b: f32): v128 {
  if (op < 20) return act_f32x4(v, op, a, b);
  switch (op) {
    case OP_EXP: return exp_f32x4(v);
    case OP_LOG: return log_f32x4(v);
    case OP_SQRT: return f32x4.sqrt(v);
    case OP_NEG: return f32x4.neg(v);
    case OP_ABS: return f32x4.abs(v);
    case OP_RECIPROCAL: return f32x4.div(f32x4.splat(1), v);
    case OP_FLOOR: return f32x4.floor(v);
    case OP_CEIL: return f32x4.ceil(v);
    case OP_ROUND: return f32x4.nearest(v); // IEEE roundTiesToEven, as ONNX Round requires
    case OP_ERF: return erf_f32x4(v);
    case OP_SIGN: {
      const zero = f32x4.splat(0);
      let s = v128.or(v128.and(f32x4.gt(v, zero), f32x4.splat(1)), v128.and(f32x4.lt(v, zero), f32x4.splat(-1)));
      return v128.or(s, f32x4.ne(v, v)); // NaN stays NaN
    }
    case OP_SOFTSIGN: return f32x4.div(v, f32x4.add(f32x4.splat(1), f32x4.abs(v)));
    case OP_AFFINE: return madd(v, f32x4.splat(a), f32x4.splat(b));
  }
  return v;
}

// Ops without a worthwhile SIMD form here (rare in models): libm-quality scalar code.
// @ts-ignore: decorator
@inline function unary_scalar(x: f32, op: i32, a: f32): f32 {
  if (op == OP_SIN) return Mathf.sin(x);
  if (op == OP_COS) return Mathf.cos(x);
  return Mathf.pow(x, a);
}

export function unary_f32(x: usize, y: usize, n: i32, op: i32, a: f32, b: f32): void {
  let i = 0;
  if (op == OP_POW_SCALAR && a == 2) {
    // x² is the common Pow (variance, L2 norms): one multiply, exactly what pow returns.
    for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; const v = v128.load(x + o); v128.store(y + o, f32x4.mul(v, v)); }
    if (i < n) { const o = <usize>i << 2; const v = loadN(x + o, n - i); storeN(y + o, f32x4.mul(v, v), n - i); }
    return;
  }
  if (op == OP_SIN || op == OP_COS || op == OP_POW_SCALAR) {
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, unary_scalar(load<f32>(x + o), op, a));
    }
    return;
  }
  if (op == 1) { // ReLU is by far the most common: keep it inline.
    const z = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(y + o, f32x4.max(v128.load(x + o), z)); }
  } else {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, unary_vec(v128.load(x + o), op, a, b));
    }
  }
  if (i < n) {
    const o = <usize>i << 2;
    storeN(y + o, unary_vec(loadN(x + o, n - i), op, a, b), n - i);
  }
}

// Binary op codes. Append-only.
export const BIN_ADD: i32 = 0;
export const BIN_SUB: i32 = 1;
export const BIN_MUL: i32 = 2;
export const BIN_DIV: i32 = 3;
export const BIN_MAX: i32 = 4;
export const BIN_MIN: i32 = 5;
export const BIN_POW: i32 = 6;
export const BIN_PRELU: i32 = 7;
export const BIN_SQDIFF: i32 = 8;

// @ts-ignore: decorator
@inline function bin_vec(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case BIN_ADD: return f32x4.add(a, b);
    case BIN_SUB: return f32x4.sub(a, b);
    case BIN_MUL: return f32x4.mul(a, b);
    case BIN_DIV: return f32x4.div(a, b);
    case BIN_MAX: return f32x4.max(a, b);
    case BIN_MIN: return f32x4.min(a, b);
    case BIN_PRELU: return v128.bitselect(f32x4.mul(a, b), a, f32x4.lt(a, f32x4.splat(0)));
    case BIN_SQDIFF: { const d = f32x4.sub(a, b); return f32x4.mul(d, d); }
  }
  return a;
}

// @ts-ignore: decorator
@inline function bin_scalar(op: i32, a: f32, b: f32): f32 {
  if (op == BIN_POW) return Mathf.pow(a, b);
  return lane0(bin_vec(op, f32x4.splat(a), f32x4.splat(b)));
}

// One contiguous output row of n elements; sa/sb are the inner element strides of a and b. Add,
// Sub, Mul and Div (residual adds, scalings) get loops of their own: with the op a constant,
// bin_vec folds to one instruction, where a loop over any op pays its switch on every vector
// (98k-element Add: 22 → 14 µs).
function binary_row(pa: usize, pb: usize, py: usize, n: i32, sa: i32, sb: i32, op: i32): void {
  if (!vector_row(op, sa, sb)) { binary_row_any(pa, pb, py, n, sa, sb, op); return; }
  switch (op) {
    case BIN_ADD: add_row(pa, pb, py, n, sa, sb); return;
    case BIN_SUB: sub_row(pa, pb, py, n, sa, sb); return;
    case BIN_MUL: mul_row(pa, pb, py, n, sa, sb); return;
    case BIN_DIV: div_row(pa, pb, py, n, sa, sb); return;
  }
  binary_row_any(pa, pb, py, n, sa, sb, op);
}

// One function per op: inlined into one function, binaryen would fold the four identical-looking
// copies back into one loop over a variable op before propagating the constants.
function add_row(pa: usize, pb: usize, py: usize, n: i32, sa: i32, sb: i32): void { binary_row_vec(pa, pb, py, n, sa, sb, BIN_ADD); }
function sub_row(pa: usize, pb: usize, py: usize, n: i32, sa: i32, sb: i32): void { binary_row_vec(pa, pb, py, n, sa, sb, BIN_SUB); }
function mul_row(pa: usize, pb: usize, py: usize, n: i32, sa: i32, sb: i32): void { binary_row_vec(pa, pb, py, n, sa, sb, BIN_MUL); }
function div_row(pa: usize, pb: usize, py: usize, n: i32, sa: i32, sb: i32): void { binary_row_vec(pa, pb, py, n, sa, sb, BIN_DIV); }

// Rows binary_row_vec takes: both operands contiguous, or one of them a broadcast scalar.
// @ts-ignore: decorator
@inline function vector_row(op: i32, sa: i32, sb: i32): bool {
  return op != BIN_POW && ((sa == 1 && (sb == 0 || sb == 1)) || (sa == 0 && sb == 1));
}

// The contiguous (stride 1) and broadcast (stride 0) forms of a row, for an op that is a constant
// where this is inlined.
// @ts-ignore: decorator
@inline function binary_row_vec(pa: usize, pb: usize, py: usize, n: i32, sa: i32, sb: i32, op: i32): void {
  let i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(py + o, bin_vec(op, v128.load(pa + o), v128.load(pb + o)));
    }
    if (i < n) {
      const o = <usize>i << 2;
      storeN(py + o, bin_vec(op, loadN(pa + o, n - i), loadN(pb + o, n - i)), n - i);
    }
  } else if (sa == 1) {
    const vb = v128.load32_splat(pb);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(py + o, bin_vec(op, v128.load(pa + o), vb));
    }
    if (i < n) { const o = <usize>i << 2; storeN(py + o, bin_vec(op, loadN(pa + o, n - i), vb), n - i); }
  } else {
    const va = v128.load32_splat(pa);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(py + o, bin_vec(op, va, v128.load(pb + o)));
    }
    if (i < n) { const o = <usize>i << 2; storeN(py + o, bin_vec(op, va, loadN(pb + o, n - i)), n - i); }
  }
}

// Any op, any strides: the vector forms above for the rest of the ops, else one element at a time.
function binary_row_any(pa: usize, pb: usize, py: usize, n: i32, sa: i32, sb: i32, op: i32): void {
  if (vector_row(op, sa, sb)) { binary_row_vec(pa, pb, py, n, sa, sb, op); return; }
  const saB = <usize>sa << 2;
  const sbB = <usize>sb << 2;
  for (let i = 0; i < n; i++) {
    store<f32>(py, bin_scalar(op, load<f32>(pa), load<f32>(pb)));
    pa += saB; pb += sbB; py += 4;
  }
}

export function binary_f32(a: usize, b: usize, y: usize, op: i32, d0: i32, d1: i32, d2: i32, d3: i32,
  as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void {
  let py = y;
  const rowB = <usize>d3 << 2;
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        const oa = <usize>(i0 * as0 + i1 * as1 + i2 * as2) << 2;
        const ob = <usize>(i0 * bs0 + i1 * bs1 + i2 * bs2) << 2;
        binary_row(a + oa, b + ob, py, d3, as3, bs3, op);
        py += rowB;
      }
    }
  }
}
