// Nearest-neighbour resize of the last two axes of 4-byte elements (f32, i32: a bit-exact gather).
// TypeScript computes the source row and column of every output row and column once per shape
// (all ONNX nearest modes and coordinate transforms reduce to these tables). An output row whose
// source row equals the previous one's is a copy of it; an exact ×2 in width (cols[j] = j/2)
// duplicates lanes with shuffles; an identity width copies the row; other widths gather.

// x: NC planes of H×W, y: NC planes of OH×OW; rows: OH i32 source rows, cols: OW i32 source columns.
export function resize_nearest_32(x: usize, y: usize, NC: i32, H: i32, W: i32, OH: i32, OW: i32, rows: usize, cols: usize): void {
  let x2 = OW == 2 * W;
  let same = OW == W;
  for (let j = 0; j < OW; j++) {
    const c = load<i32>(cols + (<usize>j << 2));
    if (c != j >> 1) x2 = false;
    if (c != j) same = false;
  }
  const rowB = <usize>OW << 2;
  const planeB = (<usize>H * <usize>W) << 2;
  let d = y;
  for (let p = 0; p < NC; p++) {
    const xp = x + <usize>p * planeB;
    let prev = -1;
    for (let oh = 0; oh < OH; oh++) {
      const ih = load<i32>(rows + (<usize>oh << 2));
      if (ih == prev) {
        memory.copy(d, d - rowB, rowB);
      } else {
        const s = xp + ((<usize>ih * <usize>W) << 2);
        if (same) {
          memory.copy(d, s, rowB);
        } else if (x2) {
          let j = 0;
          for (; j + 4 <= W; j += 4) {
            const v = v128.load(s + (<usize>j << 2));
            const o = d + (<usize>j << 3);
            v128.store(o, i32x4.shuffle(v, v, 0, 0, 1, 1));
            v128.store(o, i32x4.shuffle(v, v, 2, 2, 3, 3), 16);
          }
          for (; j < W; j++) {
            const v = load<i32>(s + (<usize>j << 2));
            store<i32>(d + (<usize>j << 3), v);
            store<i32>(d + (<usize>j << 3), v, 4);
          }
        } else {
          for (let j = 0; j < OW; j++) store<i32>(d + (<usize>j << 2), load<i32>(s + (<usize>load<i32>(cols + (<usize>j << 2)) << 2)));
        }
      }
      prev = ih;
      d += rowB;
    }
  }
}
