import { packRowsQ8 } from './gemv_q8';

// pack_b_f32's panels written a band of rows at a time (a weight read from the model file in
// bands at its first packing, straight into its final block: no raw copy to permute in place and
// no packed copy beside it; src/runtime/engine.ts). `src`: `rows` rows of N floats (rows k0 …
// k0 + rows − 1 of a K×N matrix); `dst`: the whole matrix's panels (pack_b_f32's layout: panel j
// holds K rows of 8 floats, starting at float j·K·8, zero past N). Writes only those rows of every
// panel; panel-outer, so each panel gets `rows` × 32 contiguous bytes.
export function pack_b_f32_rows(src: usize, dst: usize, rows: i32, N: i32, K: i32, k0: i32): void {
  const full = N >> 3, ldb = <usize>N << 2;
  for (let j = 0; j < full; j++) {
    let s = src + (<usize>j << 5);
    let d = dst + ((<usize>j * <usize>K + <usize>k0) << 5);
    for (let r = 0; r < rows; r++) {
      v128.store(d, v128.load(s));
      v128.store(d, v128.load(s, 16), 16);
      s += ldb; d += 32;
    }
  }
  const rest = N - (full << 3);
  if (rest == 0) return;
  let d = dst + ((<usize>full * <usize>K + <usize>k0) << 5);
  for (let r = 0; r < rows; r++) {
    const s = src + <usize>r * ldb + (<usize>full << 5);
    for (let c = 0; c < 8; c++) store<f32>(d + (<usize>c << 2), c < rest ? load<f32>(s + (<usize>c << 2)) : 0);
    d += 32;
  }
}

// pack_b_q8's one-byte panels (assembly/gemv_q8.ts) written a band of rows at a time, as above: `src`
// holds rows k0 … k0 + rows − 1 of a K×N int8/uint8 weight (N bytes each); k0 is a multiple of 8,
// and so is `rows` unless the band ends at K. Returns 0 when some b − zp there does not fit i8 (the
// caller checks that it cannot happen before choosing this layout: a signed weight, zero point 0).
export function pack_b_q8_rows(src: usize, dst: usize, rows: i32, N: i32, K: i32, k0: i32, signed: i32,
  zp: usize, zpPerCol: i32): i32 {
  return packRowsQ8(src, dst, K, N, N, signed, zp, zpPerCol, k0, k0 + rows) ? 1 : 0;
}
