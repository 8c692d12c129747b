/**
 * NonMaxSuppression. How many boxes survive depends on the data, so the boxes and scores must be
 * known at plan time (constants, or values computed from graph inputs up to the planner's size
 * limit); the plan is keyed by them.
 */
import type { OpContext, OpDef } from './types.js';

function scalar(ctx: OpContext, i: number, fallback: number): number {
  const x = ctx.inputs[i];
  if (!x) return fallback;
  const v = x.value;
  if (v === undefined) ctx.fail(`input ${i} ('${x.name}') must be known at plan time`, 'UNSUPPORTED_OP');
  return (v as ArrayLike<number | bigint>).length ? Number((v as ArrayLike<number | bigint>)[0]) : fallback;
}

const nonMaxSuppression: OpDef = {
  opType: 'NonMaxSuppression', since: 10, attributes: ['center_point_box'],
  prepare(ctx) {
    const boxes = ctx.input(0), scores = ctx.input(1);
    if (boxes.dims.length !== 3 || boxes.dims[2] !== 4) ctx.fail(`boxes must be [batch, boxes, 4], got [${boxes.dims}]`, 'SHAPE_MISMATCH');
    const [B, N] = boxes.dims as [number, number];
    if (scores.dims.length !== 3 || scores.dims[0] !== B || scores.dims[2] !== N) {
      ctx.fail(`scores must be [${B}, classes, ${N}], got [${scores.dims}]`, 'SHAPE_MISMATCH');
    }
    const C = scores.dims[1]!;
    const center = ctx.attrs.int('center_point_box', 0);
    if (center !== 0 && center !== 1) throw ctx.attrs.error('center_point_box', `must be 0 or 1, got ${center}`);
    const bv = boxes.value as ArrayLike<number> | undefined, sv = scores.value as ArrayLike<number> | undefined;
    if (bv === undefined || sv === undefined) {
      ctx.fail('boxes and scores must be known at plan time (tessera decides the output size then)', 'UNSUPPORTED_OP');
    }
    const maxOut = scalar(ctx, 2, 0), iouMax = scalar(ctx, 3, 0);
    const scoreMin = ctx.inputs[4] ? scalar(ctx, 4, 0) : -Infinity;
    // Corners as [y1, x1, y2, x2] with y1 ≤ y2, x1 ≤ x2.
    const corner = (b: number, i: number): [number, number, number, number] => {
      const o = (b * N + i) * 4;
      const [a, c, d, e] = [bv![o]!, bv![o + 1]!, bv![o + 2]!, bv![o + 3]!];
      if (center) return [c - e / 2, a - d / 2, c + e / 2, a + d / 2];
      return [Math.min(a, d), Math.min(c, e), Math.max(a, d), Math.max(c, e)];
    };
    const iou = (p: number[], q: number[]) => {
      const h = Math.max(0, Math.min(p[2]!, q[2]!) - Math.max(p[0]!, q[0]!));
      const w = Math.max(0, Math.min(p[3]!, q[3]!) - Math.max(p[1]!, q[1]!));
      const inter = h * w;
      const union = (p[2]! - p[0]!) * (p[3]! - p[1]!) + (q[2]! - q[0]!) * (q[3]! - q[1]!) - inter;
      return union > 0 ? inter / union : 0;
    };
    const picked: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        const cand: number[] = [];
        for (let i = 0; i < N; i++) if (sv![(b * C + c) * N + i]! > scoreMin) cand.push(i);
        cand.sort((i, j) => sv![(b * C + c) * N + j]! - sv![(b * C + c) * N + i]! || i - j);
        const kept: [number, number, number, number][] = [];
        for (const i of cand) {
          if (kept.length >= maxOut) break;
          const box = corner(b, i);
          if (kept.every((k) => iou(k, box) <= iouMax)) { kept.push(box); picked.push(b, c, i); }
        }
      }
    }
    const out = BigInt64Array.from(picked, BigInt);
    return { outputs: [{ dtype: 'int64', dims: [picked.length / 3, 3] }], dataFree: true, evaluate: () => [out] };
  },
};

export const detectionOps: OpDef[] = [nonMaxSuppression];
