// Comparisons of f32 into bool bytes and Where over 4-byte elements, both with 4-D broadcasting in
// the layout of binary_f32: dims d0…d3, element strides per operand (0 = broadcast), output
// contiguous. Inner strides of 0 or 1 take the f32x4 paths; any other stride runs scalar.
// compare_f32 op: 0 eq, 1 lt, 2 gt, 3 le, 4 ge (NaN compares false, as in IEEE).

// @ts-ignore: decorator
@inline function cmp4(op: i32, a: v128, b: v128): v128 {
  if (op == 0) return f32x4.eq(a, b);
  if (op == 1) return f32x4.lt(a, b);
  if (op == 2) return f32x4.gt(a, b);
  if (op == 3) return f32x4.le(a, b);
  return f32x4.ge(a, b);
}

// @ts-ignore: decorator
@inline function cmp1(op: i32, a: f32, b: f32): u8 {
  if (op == 0) return <u8>(a == b);
  if (op == 1) return <u8>(a < b);
  if (op == 2) return <u8>(a > b);
  if (op == 3) return <u8>(a <= b);
  return <u8>(a >= b);
}

/** 16 comparisons per step; `la`/`lb` are literals (load a vector, or use the splat). */
// @ts-ignore: decorator
@inline function compareVec(op: i32, la: bool, lb: bool, a: usize, b: usize, y: usize, n: i32): i32 {
  const one = i8x16.splat(1);
  const va = v128.load32_splat(a), vb = v128.load32_splat(b);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const pa = a + (<usize>i << 2), pb = b + (<usize>i << 2);
    const m0 = cmp4(op, la ? v128.load(pa) : va, lb ? v128.load(pb) : vb);
    const m1 = cmp4(op, la ? v128.load(pa, 16) : va, lb ? v128.load(pb, 16) : vb);
    const m2 = cmp4(op, la ? v128.load(pa, 32) : va, lb ? v128.load(pb, 32) : vb);
    const m3 = cmp4(op, la ? v128.load(pa, 48) : va, lb ? v128.load(pb, 48) : vb);
    const w = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3));
    v128.store(y + <usize>i, v128.and(w, one));
  }
  return i;
}

// @ts-ignore: decorator
@inline function compareRow(op: i32, a: usize, b: usize, y: usize, n: i32, sa: i32, sb: i32): void {
  let i = 0;
  if (sa == 1 && sb == 1) i = compareVec(op, true, true, a, b, y, n);
  else if (sa == 1 && sb == 0) i = compareVec(op, true, false, a, b, y, n);
  else if (sa == 0 && sb == 1) i = compareVec(op, false, true, a, b, y, n);
  for (; i < n; i++) {
    store<u8>(y + <usize>i, cmp1(op, load<f32>(a + (<usize>(i * sa) << 2)), load<f32>(b + (<usize>(i * sb) << 2))));
  }
}

// @ts-ignore: decorator
@inline function compare4d(op: i32, a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32,
  as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void {
  let py = y;
  for (let i0 = 0; i0 < d0; i0++)
    for (let i1 = 0; i1 < d1; i1++)
      for (let i2 = 0; i2 < d2; i2++) {
        const oa = <usize>(i0 * as0 + i1 * as1 + i2 * as2) << 2;
        const ob = <usize>(i0 * bs0 + i1 * bs1 + i2 * bs2) << 2;
        compareRow(op, a + oa, b + ob, py, d3, as3, bs3);
        py += <usize>d3;
      }
}

export function compare_f32(a: usize, b: usize, y: usize, op: i32, d0: i32, d1: i32, d2: i32, d3: i32,
  as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void {
  // Literal op codes so that each inlined copy folds its comparison.
  if (op == 0) compare4d(0, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3);
  else if (op == 1) compare4d(1, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3);
  else if (op == 2) compare4d(2, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3);
  else if (op == 3) compare4d(3, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3);
  else compare4d(4, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3);
}

/** Four selections per step; `lx`/`ly` are literals (load a vector, or use the splat). */
// @ts-ignore: decorator
@inline function whereVec(lx: bool, ly: bool, c: usize, x: usize, y: usize, o: usize, n: i32): i32 {
  const vx = v128.load32_splat(x), vy = v128.load32_splat(y), zero = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const bytes = v128.load32_zero(c + <usize>i);
    const m = i32x4.ne(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(bytes)), zero);
    const p = <usize>i << 2;
    v128.store(o + p, v128.bitselect(lx ? v128.load(x + p) : vx, ly ? v128.load(y + p) : vy, m));
  }
  return i;
}

// @ts-ignore: decorator
@inline function whereRow(c: usize, x: usize, y: usize, o: usize, n: i32, sc: i32, sx: i32, sy: i32): void {
  let i = 0;
  if (sc == 0) {
    // One condition for the whole row: a copy (or fill) from X or from Y.
    const take = load<u8>(c) != 0;
    const src = take ? x : y, ss = take ? sx : sy;
    if (ss == 1) for (; i + 4 <= n; i += 4) v128.store(o + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
    else if (ss == 0) {
      const vs = v128.load32_splat(src);
      for (; i + 4 <= n; i += 4) v128.store(o + (<usize>i << 2), vs);
    }
    for (; i < n; i++) store<u32>(o + (<usize>i << 2), load<u32>(src + (<usize>(i * ss) << 2)));
    return;
  }
  if (sc == 1) {
    if (sx == 1 && sy == 1) i = whereVec(true, true, c, x, y, o, n);
    else if (sx == 1 && sy == 0) i = whereVec(true, false, c, x, y, o, n);
    else if (sx == 0 && sy == 1) i = whereVec(false, true, c, x, y, o, n);
    else if (sx == 0 && sy == 0) i = whereVec(false, false, c, x, y, o, n);
  }
  for (; i < n; i++) {
    const v = load<u8>(c + <usize>(i * sc)) ? load<u32>(x + (<usize>(i * sx) << 2)) : load<u32>(y + (<usize>(i * sy) << 2));
    store<u32>(o + (<usize>i << 2), v);
  }
}

export function where_32(c: usize, x: usize, y: usize, o: usize, d0: i32, d1: i32, d2: i32, d3: i32,
  cs0: i32, cs1: i32, cs2: i32, cs3: i32, xs0: i32, xs1: i32, xs2: i32, xs3: i32,
  ys0: i32, ys1: i32, ys2: i32, ys3: i32): void {
  let po = o;
  for (let i0 = 0; i0 < d0; i0++)
    for (let i1 = 0; i1 < d1; i1++)
      for (let i2 = 0; i2 < d2; i2++) {
        const oc = <usize>(i0 * cs0 + i1 * cs1 + i2 * cs2);
        const ox = <usize>(i0 * xs0 + i1 * xs1 + i2 * xs2) << 2;
        const oy = <usize>(i0 * ys0 + i1 * ys1 + i2 * ys2) << 2;
        whereRow(c + oc, x + ox, y + oy, po, d3, cs3, xs3, ys3);
        po += <usize>d3 << 2;
      }
}
