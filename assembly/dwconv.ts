// Depthwise convolution (group = C, one filter per channel) read straight from NCHW: no im2col,
// whose per-group GEMM would have M = 1. Output rows are computed 8 columns (two f32x4) at a time
// over the interior columns (windows inside the input; the last block ends at the interior's end,
// overlapping the one before), border columns in scalar. 3×3 and 5×5 undilated windows at
// horizontal stride 1 or 2 are unrolled (every tap an immediate offset, a full 3×3 filter held in
// registers). Planes with fewer than 8 interior columns go block by block with out-of-image lanes
// masked to zero (loads may touch neighbouring rows, never below address 0 nor more than 16 bytes
// past the last plane — else scalar, as are strides other than 1 and 2). Bias and the activation
// are applied before the store. Large planes are bound by memory traffic, small ones by the
// scalar borders, hence the care there.
import { act_f32x4, lane0, madd } from './activation';
import { conv_act_f32x4 } from './conv_act';
import { storeN } from './gemm_epilogue';
import { firstTap, endTap } from './window';

// @ts-ignore: decorator
@inline function taps4(s: usize, sw: i32): v128 {
  return sw == 1 ? v128.load(s) : i32x4.shuffle(v128.load(s), v128.load(s, 16), 0, 2, 4, 6);
}

// Taps j = 0, 1, 2 (dw = 1) of one window row for 4 outputs, summed on their own; sw is a literal
// at every call. Adding each row's sum to the accumulator, rather than chaining every tap through
// it, shortens the dependent-add chain (9 or 25 adds per block otherwise); measured a few % faster.
// @ts-ignore: decorator
@inline function row3(s: usize, sw: i32, w0: v128, w1: v128, w2: v128): v128 {
  if (sw == 1) return madd(v128.load(s, 8), w2, madd(v128.load(s, 4), w1, f32x4.mul(v128.load(s), w0)));
  const t0 = i32x4.shuffle(v128.load(s), v128.load(s, 16), 0, 2, 4, 6);
  const t1 = i32x4.shuffle(v128.load(s, 4), v128.load(s, 20), 0, 2, 4, 6);
  const t2 = i32x4.shuffle(v128.load(s, 8), v128.load(s, 24), 0, 2, 4, 6);
  return madd(t2, w2, madd(t1, w1, f32x4.mul(t0, w0)));
}

// Taps j = 3, 4 (the rest of a 5-wide row), summed on their own.
// @ts-ignore: decorator
@inline function row2at12(s: usize, sw: i32, w3: v128, w4: v128): v128 {
  if (sw == 1) return madd(v128.load(s, 16), w4, f32x4.mul(v128.load(s, 12), w3));
  const t3 = i32x4.shuffle(v128.load(s, 12), v128.load(s, 28), 0, 2, 4, 6);
  const t4 = i32x4.shuffle(v128.load(s, 16), v128.load(s, 32), 0, 2, 4, 6);
  return madd(t4, w4, f32x4.mul(t3, w3));
}

// Lanes whose input column (in cols) lies in [0, W): all-ones, else zero.
// @ts-ignore: decorator
@inline function inRow(cols: v128, W: v128): v128 {
  return v128.and(i32x4.ge_s(cols, i32x4.splat(0)), i32x4.lt_s(cols, W));
}

// One output at window origin (h0, w0), taps clipped to the input.
// @ts-ignore: decorator
@inline function dwAt(xp: usize, wp: usize, W: i32, h0: i32, iLo: i32, iHi: i32, dh: i32, w0: i32, kw: i32, dw: i32, init: f32): f32 {
  let jLo = firstTap(w0, dw);
  let jHi = endTap(w0, kw, dw, W);
  let acc = init;
  for (let i = iLo; i < iHi; i++) {
    const s = xp + ((<usize>(h0 + i * dh) * <usize>W + <usize>w0) << 2);
    const wr = wp + ((<usize>(i * kw)) << 2);
    for (let j = jLo; j < jHi; j++) acc += load<f32>(s + (<usize>(j * dw) << 2)) * load<f32>(wr + (<usize>j << 2));
  }
  return acc;
}

// Interior block, 3-wide rows (rows iLo…iHi−1 of the filter at wr, input rows from r).
// @ts-ignore: decorator
@inline function block3(r: usize, rStep: usize, wr: usize, rows: i32, sw: i32, sw4: usize, acc: v128, second: bool): v128 {
  let s = second ? r + sw4 : r;
  for (let i = 0; i < rows; i++) {
    acc = f32x4.add(acc, row3(s, sw, v128.load32_splat(wr), v128.load32_splat(wr, 4), v128.load32_splat(wr, 8)));
    s += rStep; wr += 12;
  }
  return acc;
}

// x: NC planes of H×W (plane p is channel p % C), w: C × kh × kw, bias: C floats or 0,
// y: NC planes of OH×OW.
export function dwconv2d_f32(x: usize, w: usize, bias: usize, y: usize, NC: i32, C: i32, H: i32, W: i32,
  OH: i32, OW: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32,
  act: i32, a: f32, b: f32): void {
  const simd = sw == 1 || sw == 2;
  const lo = min((padLeft + sw - 1) / sw, OW);
  const last = W - 1 - (kw - 1) * dw + padLeft; // largest ow·sw whose window fits
  const hi = max(lo, last < 0 ? 0 : min(last / sw + 1, OW));
  const planeB = (<usize>H * <usize>W) << 2;
  const rowB = <usize>W << 2;
  const dwB = <usize>dw << 2;
  const sw4 = <usize>(4 * sw) << 2;
  const kk = kh * kw;
  const k3 = kw == 3 && dw == 1;
  const k5 = kw == 5 && dw == 1;
  const full3 = k3 && kh == 3; // a whole 3×3 filter fits in registers
  // Rows with at least 8 interior columns: scalar borders (usually a column or two) around whole
  // blocks; narrower planes go block by block with masked lanes.
  const wide = simd && hi - lo >= 8;
  const xEnd = <i64>x + <i64>NC * <i64>planeB + 16;
  const laneCols = i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(sw));
  const Wv = i32x4.splat(W);
  for (let p = 0; p < NC; p++) {
    const c = p % C;
    const xp = x + <usize>p * planeB;
    const wp = w + ((<usize>c * <usize>kk) << 2);
    const b0: f32 = bias != 0 ? load<f32>(bias + (<usize>c << 2)) : 0;
    const bv = f32x4.splat(b0);
    const yp = y + <usize>p * ((<usize>OH * <usize>OW) << 2);
    // 3×3 weights, used when a row's window is whole vertically.
    let w00 = bv; let w01 = bv; let w02 = bv; let w10 = bv; let w11 = bv; let w12 = bv; let w20 = bv; let w21 = bv; let w22 = bv;
    if (full3) {
      w00 = v128.load32_splat(wp); w01 = v128.load32_splat(wp, 4); w02 = v128.load32_splat(wp, 8);
      w10 = v128.load32_splat(wp, 12); w11 = v128.load32_splat(wp, 16); w12 = v128.load32_splat(wp, 20);
      w20 = v128.load32_splat(wp, 24); w21 = v128.load32_splat(wp, 28); w22 = v128.load32_splat(wp, 32);
    }
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - padTop;
      let iLo = firstTap(h0, dh);
      let iHi = endTap(h0, kh, dh, H);
      if (iHi < iLo) iHi = iLo;
      const rows = iHi - iLo;
      const xRow = xp + <usize>(h0 + iLo * dh) * rowB;
      const wRow = wp + ((<usize>(iLo * kw)) << 2);
      const rStep = <usize>dh * rowB;
      const yrow = yp + ((<usize>oh * <usize>OW) << 2);
      const whole3 = full3 && rows == 3;
      for (let ow = 0; ow < OW;) {
        let n = min(8, OW - ow);
        let interior = false;
        if (wide) {
          // Scalar border columns, then 8-column blocks over [lo, hi), the last one ending at hi
          // (it may recompute a few columns of the block before it).
          if (ow < lo || ow >= hi) {
            const end = ow < lo ? lo : OW;
            for (; ow < end; ow++) {
              store<f32>(yrow + (<usize>ow << 2), lane0(act_f32x4(f32x4.splat(dwAt(xp, wp, W, h0, iLo, iHi, dh, ow * sw - padLeft, kw, dw, b0)), act, a, b)));
            }
            continue;
          }
          if (ow + 8 > hi) ow = hi - 8;
          interior = true;
          n = 8;
        }
        const c0 = ow * sw - padLeft;
        const r = xRow + <usize>c0 * 4;
        let acc0 = bv; let acc1 = bv;
        if (interior) {
          if (whole3) {
            const r1 = r + rStep; const r2 = r1 + rStep;
            if (sw == 1) {
              acc0 = f32x4.add(f32x4.add(row3(r, 1, w00, w01, w02), row3(r1, 1, w10, w11, w12)), f32x4.add(row3(r2, 1, w20, w21, w22), acc0));
              acc1 = f32x4.add(f32x4.add(row3(r + 16, 1, w00, w01, w02), row3(r1 + 16, 1, w10, w11, w12)), f32x4.add(row3(r2 + 16, 1, w20, w21, w22), acc1));
            } else {
              acc0 = f32x4.add(f32x4.add(row3(r, 2, w00, w01, w02), row3(r1, 2, w10, w11, w12)), f32x4.add(row3(r2, 2, w20, w21, w22), acc0));
              acc1 = f32x4.add(f32x4.add(row3(r + 32, 2, w00, w01, w02), row3(r1 + 32, 2, w10, w11, w12)), f32x4.add(row3(r2 + 32, 2, w20, w21, w22), acc1));
            }
          } else if (k3) {
            if (sw == 1) { acc0 = block3(r, rStep, wRow, rows, 1, sw4, acc0, false); acc1 = block3(r, rStep, wRow, rows, 1, sw4, acc1, true); }
            else { acc0 = block3(r, rStep, wRow, rows, 2, sw4, acc0, false); acc1 = block3(r, rStep, wRow, rows, 2, sw4, acc1, true); }
          } else if (k5) {
            let s = r; let wr = wRow;
            if (sw == 1) {
              for (let i = 0; i < rows; i++) {
                const v0 = v128.load32_splat(wr); const v1 = v128.load32_splat(wr, 4); const v2 = v128.load32_splat(wr, 8);
                const v3 = v128.load32_splat(wr, 12); const v4 = v128.load32_splat(wr, 16);
                acc0 = f32x4.add(acc0, f32x4.add(row3(s, 1, v0, v1, v2), row2at12(s, 1, v3, v4)));
                acc1 = f32x4.add(acc1, f32x4.add(row3(s + 16, 1, v0, v1, v2), row2at12(s + 16, 1, v3, v4)));
                s += rStep; wr += 20;
              }
            } else {
              for (let i = 0; i < rows; i++) {
                const v0 = v128.load32_splat(wr); const v1 = v128.load32_splat(wr, 4); const v2 = v128.load32_splat(wr, 8);
                const v3 = v128.load32_splat(wr, 12); const v4 = v128.load32_splat(wr, 16);
                acc0 = f32x4.add(acc0, f32x4.add(row3(s, 2, v0, v1, v2), row2at12(s, 2, v3, v4)));
                acc1 = f32x4.add(acc1, f32x4.add(row3(s + 32, 2, v0, v1, v2), row2at12(s + 32, 2, v3, v4)));
                s += rStep; wr += 20;
              }
            }
          } else {
            let s0 = r; let wr = wRow;
            for (let i = 0; i < rows; i++) {
              let s = s0;
              for (let j = 0; j < kw; j++) {
                const wv = v128.load32_splat(wr);
                acc0 = madd(taps4(s, sw), wv, acc0);
                acc1 = madd(taps4(s + sw4, sw), wv, acc1);
                s += dwB; wr += 4;
              }
              s0 += rStep;
            }
          }
        } else {
          // Narrow plane: masked SIMD when every load stays in [x, end of x + 16 bytes).
          const lowB = <i64>xRow + <i64>c0 * 4;
          const highB = <i64>xRow + <i64>(rows - 1) * <i64>rStep + (<i64>(c0 + 7 * sw + (kw - 1) * dw + 2)) * 4;
          if (simd && (rows == 0 || (lowB >= 0 && highB <= xEnd))) {
            const cols0 = i32x4.add(laneCols, i32x4.splat(c0));
            const cols1 = i32x4.add(cols0, i32x4.splat(4 * sw));
            let s0 = r; let wr = wRow;
            for (let i = 0; i < rows; i++) {
              let s = s0;
              for (let j = 0; j < kw; j++) {
                const dj = i32x4.splat(j * dw);
                const wv = v128.load32_splat(wr);
                acc0 = madd(v128.and(taps4(s, sw), inRow(i32x4.add(cols0, dj), Wv)), wv, acc0);
                acc1 = madd(v128.and(taps4(s + sw4, sw), inRow(i32x4.add(cols1, dj), Wv)), wv, acc1);
                s += dwB; wr += 4;
              }
              s0 += rStep;
            }
          } else {
            for (let o = ow; o < ow + n; o++) {
              store<f32>(yrow + (<usize>o << 2), lane0(act_f32x4(f32x4.splat(dwAt(xp, wp, W, h0, iLo, iHi, dh, o * sw - padLeft, kw, dw, b0)), act, a, b)));
            }
            ow += 8;
            continue;
          }
        }
        const d = yrow + (<usize>ow << 2);
        if (n == 8) { v128.store(d, conv_act_f32x4(acc0, act, a, b)); v128.store(d, conv_act_f32x4(acc1, act, a, b), 16); }
        else { storeN(d, conv_act_f32x4(acc0, act, a, b), n); storeN(d + 16, conv_act_f32x4(acc1, act, a, b), n - 4); }
        ow += 8;
      }
    }
  }
}
