// Reductions over the middle axis of an [outer, R, inner] view: y[o, i] = post(⊕_r x[o, r, i]).
// inner = 1 (ReduceMean over the last axis, LayerNorm-style) reduces contiguous rows with four
// vector accumulators; inner > 1 accumulates 16 columns at a time, walking r down the rows.
// op: 0 sum, 1 sum of squares, 2 sum of |x|, 3 max, 4 min, 5 product.
// post: 0 none, 1 multiply by `scale` (mean), 2 sqrt (L2), 3 log (LogSum).
// max/min propagate NaN (f32x4.max/min and f32.max/min all do). Every call writes outer·inner
// outputs; R = 0 gives the op's identity (0, 0, 0, −∞, +∞, 1) before `post`.
import { madd } from './activation';

// @ts-ignore: decorator
@inline function identity(op: i32): f32 {
  return op == 3 ? -Infinity : op == 4 ? Infinity : op == 5 ? <f32>1 : <f32>0;
}

// @ts-ignore: decorator
@inline function step4(op: i32, acc: v128, v: v128): v128 {
  if (op == 0) return f32x4.add(acc, v);
  if (op == 1) return madd(v, v, acc);
  if (op == 2) return f32x4.add(acc, f32x4.abs(v));
  if (op == 3) return f32x4.max(acc, v);
  if (op == 4) return f32x4.min(acc, v);
  return f32x4.mul(acc, v);
}

// @ts-ignore: decorator
@inline function step1(op: i32, acc: f32, v: f32): f32 {
  if (op == 0) return acc + v;
  if (op == 1) return acc + v * v;
  if (op == 2) return acc + Mathf.abs(v);
  if (op == 3) return Mathf.max(acc, v);
  if (op == 4) return Mathf.min(acc, v);
  return acc * v;
}

/** Combines two partial results of the same op (partial sums of squares or |x| just add). */
// @ts-ignore: decorator
@inline function merge4(op: i32, a: v128, b: v128): v128 {
  return step4(op <= 2 ? 0 : op, a, b);
}

// @ts-ignore: decorator
@inline function hreduce(op: i32, v: v128): f32 {
  const m = op <= 2 ? 0 : op;
  return step1(m, step1(m, f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
    step1(m, f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// @ts-ignore: decorator
@inline function finish(post: i32, v: f32, scale: f32): f32 {
  if (post == 1) return v * scale;
  if (post == 2) return Mathf.sqrt(v);
  if (post == 3) return Mathf.log(v);
  return v;
}

// @ts-ignore: decorator
@inline function reduceRows(op: i32, x: usize, y: usize, rows: i32, R: i32, post: i32, scale: f32): void {
  const id = f32x4.splat(identity(op));
  for (let o = 0; o < rows; o++) {
    const xp = x + ((<usize>o * <usize>R) << 2);
    let a0 = id, a1 = id, a2 = id, a3 = id;
    let r = 0;
    for (; r + 16 <= R; r += 16) {
      const p = xp + (<usize>r << 2);
      a0 = step4(op, a0, v128.load(p));
      a1 = step4(op, a1, v128.load(p, 16));
      a2 = step4(op, a2, v128.load(p, 32));
      a3 = step4(op, a3, v128.load(p, 48));
    }
    for (; r + 4 <= R; r += 4) a0 = step4(op, a0, v128.load(xp + (<usize>r << 2)));
    let s = hreduce(op, merge4(op, merge4(op, a0, a1), merge4(op, a2, a3)));
    for (; r < R; r++) s = step1(op, s, load<f32>(xp + (<usize>r << 2)));
    store<f32>(y + (<usize>o << 2), finish(post, s, scale));
  }
}

// @ts-ignore: decorator
@inline function reduceCols(op: i32, x: usize, y: usize, outer: i32, R: i32, inner: i32, post: i32, scale: f32): void {
  const id = f32x4.splat(identity(op));
  const rowB = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * <usize>R * rowB;
    const yo = y + <usize>o * rowB;
    let i = 0;
    for (; i + 16 <= inner; i += 16) {
      let a0 = id, a1 = id, a2 = id, a3 = id;
      let p = xo + (<usize>i << 2);
      for (let r = 0; r < R; r++, p += rowB) {
        a0 = step4(op, a0, v128.load(p));
        a1 = step4(op, a1, v128.load(p, 16));
        a2 = step4(op, a2, v128.load(p, 32));
        a3 = step4(op, a3, v128.load(p, 48));
      }
      const q = yo + (<usize>i << 2);
      for (let l = 0; l < 4; l++) {
        const a = l == 0 ? a0 : l == 1 ? a1 : l == 2 ? a2 : a3;
        store<f32>(q + (<usize>(l * 4) << 2), finish(post, f32x4.extract_lane(a, 0), scale));
        store<f32>(q + (<usize>(l * 4 + 1) << 2), finish(post, f32x4.extract_lane(a, 1), scale));
        store<f32>(q + (<usize>(l * 4 + 2) << 2), finish(post, f32x4.extract_lane(a, 2), scale));
        store<f32>(q + (<usize>(l * 4 + 3) << 2), finish(post, f32x4.extract_lane(a, 3), scale));
      }
    }
    for (; i + 4 <= inner; i += 4) {
      let a = id;
      let p = xo + (<usize>i << 2);
      for (let r = 0; r < R; r++, p += rowB) a = step4(op, a, v128.load(p));
      const q = yo + (<usize>i << 2);
      store<f32>(q, finish(post, f32x4.extract_lane(a, 0), scale));
      store<f32>(q + 4, finish(post, f32x4.extract_lane(a, 1), scale));
      store<f32>(q + 8, finish(post, f32x4.extract_lane(a, 2), scale));
      store<f32>(q + 12, finish(post, f32x4.extract_lane(a, 3), scale));
    }
    for (; i < inner; i++) {
      let s = identity(op);
      let p = xo + (<usize>i << 2);
      for (let r = 0; r < R; r++, p += rowB) s = step1(op, s, load<f32>(p));
      store<f32>(yo + (<usize>i << 2), finish(post, s, scale));
    }
  }
}

// @ts-ignore: decorator
@inline function reduceAny(op: i32, x: usize, y: usize, outer: i32, R: i32, inner: i32, post: i32, scale: f32): void {
  if (inner == 1) reduceRows(op, x, y, outer, R, post, scale);
  else reduceCols(op, x, y, outer, R, inner, post, scale);
}

export function reduce_f32(x: usize, y: usize, outer: i32, R: i32, inner: i32, op: i32, post: i32, scale: f32): void {
  // Literal op codes so that each inlined copy folds its op branches away.
  if (op == 0) reduceAny(0, x, y, outer, R, inner, post, scale);
  else if (op == 1) reduceAny(1, x, y, outer, R, inner, post, scale);
  else if (op == 2) reduceAny(2, x, y, outer, R, inner, post, scale);
  else if (op == 3) reduceAny(3, x, y, outer, R, inner, post, scale);
  else if (op == 4) reduceAny(4, x, y, outer, R, inner, post, scale);
  else reduceAny(5, x, y, outer, R, inner, post, scale);
}
