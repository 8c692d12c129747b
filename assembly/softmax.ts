// Softmax / LogSoftmax over the contiguous last axis. Max is subtracted first so exp never
// overflows; x may equal y (each pass reads a row before it writes it).
import { exp_f32x4, log_f32x4, lane0 } from './activation';

// @ts-ignore: decorator
@inline function row_max(p: usize, cols: i32): f32 {
  let m0 = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= cols; i += 4) m0 = f32x4.max(m0, v128.load(p + (<usize>i << 2)));
  let m = max(max(f32x4.extract_lane(m0, 0), f32x4.extract_lane(m0, 1)),
    max(f32x4.extract_lane(m0, 2), f32x4.extract_lane(m0, 3)));
  for (; i < cols; i++) m = max(m, load<f32>(p + (<usize>i << 2)));
  return m;
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

export function softmax_f32(x: usize, y: usize, rows: i32, cols: i32): void {
  const rowB = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xp = x + <usize>r * rowB;
    const yp = y + <usize>r * rowB;
    const m = row_max(xp, cols);
    const mv = f32x4.splat(m);
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const e = exp_f32x4(f32x4.sub(v128.load(xp + (<usize>i << 2)), mv));
      v128.store(yp + (<usize>i << 2), e);
      acc = f32x4.add(acc, e);
    }
    let sum = hsum(acc);
    for (; i < cols; i++) {
      const e = lane0(exp_f32x4(f32x4.splat(load<f32>(xp + (<usize>i << 2)) - m)));
      store<f32>(yp + (<usize>i << 2), e);
      sum += e;
    }
    const inv: f32 = <f32>1 / sum;
    const iv = f32x4.splat(inv);
    i = 0;
    for (; i + 4 <= cols; i += 4) {
      const q = yp + (<usize>i << 2);
      v128.store(q, f32x4.mul(v128.load(q), iv));
    }
    for (; i < cols; i++) {
      const q = yp + (<usize>i << 2);
      store<f32>(q, load<f32>(q) * inv);
    }
  }
}

// y = x − max − log Σ exp(x − max): no division, no exp of the output.
export function log_softmax_f32(x: usize, y: usize, rows: i32, cols: i32): void {
  const rowB = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xp = x + <usize>r * rowB;
    const yp = y + <usize>r * rowB;
    const m = row_max(xp, cols);
    const mv = f32x4.splat(m);
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      acc = f32x4.add(acc, exp_f32x4(f32x4.sub(v128.load(xp + (<usize>i << 2)), mv)));
    }
    let sum = hsum(acc);
    for (; i < cols; i++) sum += lane0(exp_f32x4(f32x4.splat(load<f32>(xp + (<usize>i << 2)) - m)));
    // (x − max) − log Σ, not x − (max + log Σ): the latter rounds at max's scale.
    const ls = lane0(log_f32x4(f32x4.splat(sum)));
    const lv = f32x4.splat(ls);
    i = 0;
    for (; i + 4 <= cols; i += 4) {
      v128.store(yp + (<usize>i << 2), f32x4.sub(f32x4.sub(v128.load(xp + (<usize>i << 2)), mv), lv));
    }
    for (; i < cols; i++) store<f32>(yp + (<usize>i << 2), (load<f32>(xp + (<usize>i << 2)) - m) - ls);
  }
}
