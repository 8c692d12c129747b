/**
 * Detection ops: RoiAlign, and NonMaxSuppression. How many boxes NMS keeps depends on the data,
 * so its boxes and scores must be known at plan time (constants, or values computed from graph
 * inputs up to the planner's size limit); the plan is keyed by them.
 */
import { TesseraError } from '../../api/errors.js';
import type { OpContext, OpDef } from '../types.js';
import { requireDtype } from '../util.js';

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
    // The values are read as numbers: float16 / bfloat16 bits would be misread, so those types are
    // refused here and the op is retried on widened float32 copies (ops/widen.ts).
    for (const i of [0, 1, 3, 4]) if (ctx.inputs[i]) requireDtype(ctx, i, ['float32', 'float64']);
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

/**
 * RoiAlign: bilinear samples on a regular grid inside each bin, averaged (or their largest
 * weighted corner, as onnxruntime's 'max' mode does), per region of interest.
 */
const roiAlign: OpDef = {
  opType: 'RoiAlign', since: 10,
  attributes: ['coordinate_transformation_mode', 'mode', 'output_height', 'output_width', 'sampling_ratio', 'spatial_scale'],
  prepare(ctx) {
    const x = ctx.input(0), rois = ctx.input(1), bi = ctx.input(2);
    requireDtype(ctx, 0, ['float32', 'float64']);
    if (x.dims.length !== 4) ctx.fail(`X must be [N, C, H, W], got [${x.dims}]`, 'SHAPE_MISMATCH');
    const R = rois.dims[0]!;
    if (rois.dims.length !== 2 || rois.dims[1] !== 4) ctx.fail(`rois must be [num_rois, 4], got [${rois.dims}]`, 'SHAPE_MISMATCH');
    if (bi.dims.length !== 1 || bi.dims[0] !== R) ctx.fail(`batch_indices must be [${R}], got [${bi.dims}]`, 'SHAPE_MISMATCH');
    const a = ctx.attrs;
    if (ctx.opset < 16 && a.has('coordinate_transformation_mode')) throw a.error('coordinate_transformation_mode', 'exists from opset 16');
    const halfPixel = ctx.opset >= 16 && a.oneOf('coordinate_transformation_mode', ['half_pixel', 'output_half_pixel'], 'half_pixel') === 'half_pixel';
    const max = a.oneOf('mode', ['avg', 'max'], 'avg') === 'max';
    const PH = a.int('output_height', 1), PW = a.int('output_width', 1), ratio = a.int('sampling_ratio', 0), scale = a.float('spatial_scale', 1);
    const [N, C, H, W] = x.dims as [number, number, number, number];
    const outDims = [R, C, PH, PW];
    const label = `RoiAlign node '${ctx.node.name}'`;
    return {
      outputs: [{ dtype: x.dtype, dims: outDims }],
      build: (bd) => {
        const vx = bd.view(x.dtype, bd.inputs[0]!, N * C * H * W), vr = bd.view(rois.dtype, bd.inputs[1]!, R * 4);
        const vb = bd.view(bi.dtype, bd.inputs[2]!, R), vy = bd.view(x.dtype, bd.outputs[0]!, R * C * PH * PW);
        return () => {
          const X = vx() as Float32Array, RO = vr() as Float32Array, B = vb(), Y = vy() as Float32Array;
          for (let r = 0; r < R; r++) {
            const b = Number(B[r]);
            if (!(b >= 0 && b < N)) throw new TesseraError('INVALID_FEED', `${label}: batch index ${b} is out of range for ${N} images`);
            const off = halfPixel ? 0.5 : 0;
            const x0 = RO[r * 4]! * scale - off, y0 = RO[r * 4 + 1]! * scale - off;
            let rw = RO[r * 4 + 2]! * scale - off - x0, rh = RO[r * 4 + 3]! * scale - off - y0;
            if (!halfPixel) { rw = Math.max(rw, 1); rh = Math.max(rh, 1); }
            const bh = rh / PH, bw = rw / PW;
            const gh = ratio > 0 ? ratio : Math.ceil(rh / PH), gw = ratio > 0 ? ratio : Math.ceil(rw / PW);
            const count = Math.max(gh * gw, 1);
            for (let c = 0; c < C; c++) {
              const plane = (b * C + c) * H * W;
              for (let ph = 0; ph < PH; ph++) {
                for (let pw = 0; pw < PW; pw++) {
                  let acc = 0, first = true;
                  for (let iy = 0; iy < gh; iy++) {
                    for (let ix = 0; ix < gw; ix++) {
                      let yy = y0 + ph * bh + ((iy + 0.5) * bh) / gh, xx = x0 + pw * bw + ((ix + 0.5) * bw) / gw;
                      let v1 = 0, v2 = 0, v3 = 0, v4 = 0;
                      if (!(yy < -1 || yy > H || xx < -1 || xx > W)) {
                        yy = Math.max(yy, 0); xx = Math.max(xx, 0);
                        let yl = Math.floor(yy), xl = Math.floor(xx), yh: number, xh: number;
                        if (yl >= H - 1) { yh = yl = H - 1; yy = yl; } else yh = yl + 1;
                        if (xl >= W - 1) { xh = xl = W - 1; xx = xl; } else xh = xl + 1;
                        const ly = yy - yl, lx = xx - xl, hy = 1 - ly, hx = 1 - lx;
                        v1 = hy * hx * X[plane + yl * W + xl]!; v2 = hy * lx * X[plane + yl * W + xh]!;
                        v3 = ly * hx * X[plane + yh * W + xl]!; v4 = ly * lx * X[plane + yh * W + xh]!;
                      }
                      if (max) { const m = Math.max(v1, v2, v3, v4); acc = first ? m : Math.max(acc, m); first = false; }
                      else acc += v1 + v2 + v3 + v4;
                    }
                  }
                  Y[((r * C + c) * PH + ph) * PW + pw] = max ? acc : acc / count;
                }
              }
            }
          }
        };
      },
    };
  },
};

export const detectionOps: OpDef[] = [nonMaxSuppression, roiAlign];
