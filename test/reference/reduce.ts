// Scalar reference of reduce_f32: y[o, i] = post(⊕_r x[o, r, i]) in float64.
export const REDUCE_OP = { sum: 0, sumsquare: 1, l1: 2, max: 3, min: 4, prod: 5 } as const;
export const REDUCE_POST = { none: 0, scale: 1, sqrt: 2, log: 3 } as const;

export function reduce(x: Float32Array, outer: number, R: number, inner: number, op: number, post: number, scale: number): Float64Array {
  const y = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let acc = op === 3 ? -Infinity : op === 4 ? Infinity : op === 5 ? 1 : 0;
      for (let r = 0; r < R; r++) {
        const v = x[(o * R + r) * inner + i]!;
        if (op === 0) acc += v;
        else if (op === 1) acc += v * v;
        else if (op === 2) acc += Math.abs(v);
        else if (op === 3) acc = Math.max(acc, v);
        else if (op === 4) acc = Math.min(acc, v);
        else acc *= v;
      }
      y[o * inner + i] = post === 1 ? acc * scale : post === 2 ? Math.sqrt(acc) : post === 3 ? Math.log(acc) : acc;
    }
  return y;
}
