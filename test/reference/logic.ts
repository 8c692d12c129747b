// Scalar references of compare_f32 and where_32 over the kernels' 4-D broadcast layout.
export const CMP = { eq: 0, lt: 1, gt: 2, le: 3, ge: 4 } as const;

function* walk(d: number[], ...strides: number[][]): Generator<number[]> {
  for (let i0 = 0; i0 < d[0]!; i0++)
    for (let i1 = 0; i1 < d[1]!; i1++)
      for (let i2 = 0; i2 < d[2]!; i2++)
        for (let i3 = 0; i3 < d[3]!; i3++)
          yield strides.map((s) => i0 * s[0]! + i1 * s[1]! + i2 * s[2]! + i3 * s[3]!);
}

export function compare(a: Float32Array, b: Float32Array, op: number, d: number[], as: number[], bs: number[]): Uint8Array {
  const out: number[] = [];
  for (const [ia, ib] of walk(d, as, bs)) {
    const x = a[ia!]!, y = b[ib!]!;
    out.push(Number(op === 0 ? x === y : op === 1 ? x < y : op === 2 ? x > y : op === 3 ? x <= y : x >= y));
  }
  return Uint8Array.from(out);
}

export function where(c: Uint8Array, x: Uint32Array, y: Uint32Array, d: number[], cs: number[], xs: number[], ys: number[]): Uint32Array {
  const out: number[] = [];
  for (const [ic, ix, iy] of walk(d, cs, xs, ys)) out.push(c[ic!] ? x[ix!]! : y[iy!]!);
  return Uint32Array.from(out);
}
