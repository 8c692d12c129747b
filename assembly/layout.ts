// Layout changes. transpose2d_32 moves 4-byte elements (f32 or i32 alike) and serves every
// 2-D-reducible Transpose/permutation the runtime lowers to it.

// 32×32 blocks (4 KiB in, 4 KiB out) keep both the read rows and the written columns in L1; inside a
// block, 4×4 sub-tiles are transposed in registers with shuffles.
const TB: i32 = 32;

export function transpose2d_32(x: usize, y: usize, rows: i32, cols: i32): void {
  const xs = <usize>cols << 2; // input row stride, bytes
  const ys = <usize>rows << 2; // output row stride, bytes
  for (let i0 = 0; i0 < rows; i0 += TB) {
    const iE = min(i0 + TB, rows);
    for (let j0 = 0; j0 < cols; j0 += TB) {
      const jE = min(j0 + TB, cols);
      let i = i0;
      for (; i + 4 <= iE; i += 4) {
        let j = j0;
        for (; j + 4 <= jE; j += 4) {
          const s = x + <usize>i * xs + (<usize>j << 2);
          const r0 = v128.load(s); const r1 = v128.load(s + xs);
          const r2 = v128.load(s + 2 * xs); const r3 = v128.load(s + 3 * xs);
          const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
          const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
          const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
          const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
          const d = y + <usize>j * ys + (<usize>i << 2);
          v128.store(d, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
          v128.store(d + ys, i32x4.shuffle(t0, t1, 2, 3, 6, 7));
          v128.store(d + 2 * ys, i32x4.shuffle(t2, t3, 0, 1, 4, 5));
          v128.store(d + 3 * ys, i32x4.shuffle(t2, t3, 2, 3, 6, 7));
        }
        for (; j < jE; j++) {
          for (let q = i; q < i + 4; q++) {
            store<u32>(y + <usize>j * ys + (<usize>q << 2), load<u32>(x + <usize>q * xs + (<usize>j << 2)));
          }
        }
      }
      for (; i < iE; i++) {
        for (let j = j0; j < jE; j++) {
          store<u32>(y + <usize>j * ys + (<usize>i << 2), load<u32>(x + <usize>i * xs + (<usize>j << 2)));
        }
      }
    }
  }
}

// Rows of contiguous bytes gathered from up to three strided outer dimensions: row r =
// (i0·n1 + i1)·n2 + i2 goes to dst + r·dstStride from src + i0·s0 + i1·s1 + i2·s2 (bytes). What a
// Transpose keeping its last axis, a Slice of whole inner runs and each input of a Concat reduce
// to: one call instead of a JavaScript copy per row.
export function copy_rows(src: usize, dst: usize, rowBytes: i32, n0: i32, s0: i32, n1: i32, s1: i32, n2: i32, s2: i32, dstStride: i32): void {
  const rb = <usize>rowBytes, ds = <usize>dstStride;
  let d = dst;
  for (let i0 = 0; i0 < n0; i0++) {
    const p0 = src + <usize>i0 * <usize>s0;
    for (let i1 = 0; i1 < n1; i1++) {
      const p1 = p0 + <usize>i1 * <usize>s1;
      for (let i2 = 0; i2 < n2; i2++) {
        memory.copy(d, p1 + <usize>i2 * <usize>s2, rb);
        d += ds;
      }
    }
  }
}
