/**
 * GridSample (opset 16: 4-D, bilinear/nearest/bicubic; opset 20+: N-D, linear/nearest/cubic).
 * Every output point reads normalised coordinates from the grid (last axis in reverse dim order:
 * x, y, z…), maps them to pixel space (align_corners), folds out-of-range ones by padding_mode, then
 * gathers the 1, 2^r or 4^r neighbours with tensor-product weights. Runs in TypeScript, in float64,
 * with the coordinates rounded to float32 as ONNX's reference (and PyTorch) compute them.
 */
import type { OpDef } from '../types.js';
import { FLOAT_TYPES, readFloats, writeFloats } from '../float-io.js';
import { product, requireDtype, stridesOf } from '../util.js';

type Padding = 'zeros' | 'border' | 'reflection';

/** Reflects x into [lo, hi] by the nearer border, repeatedly. */
function reflect(x: number, lo: number, hi: number): number {
  const rng = hi - lo;
  if (rng <= 0) return lo; // a size-1 axis with align_corners: every coordinate reflects onto its one pixel
  if (x < lo) { const dx = lo - x, n = Math.trunc(dx / rng), r = dx - n * rng; return n % 2 === 0 ? lo + r : hi - r; }
  if (x > hi) { const dx = x - hi, n = Math.trunc(dx / rng), r = dx - n * rng; return n % 2 === 0 ? hi - r : lo + r; }
  return x;
}

/** Round half to even (np.rint, C nearbyint). */
function rint(x: number): number {
  const f = Math.floor(x), d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function cubicCoeffs(t: number, out: Float64Array): void {
  const a = -0.75, x = Math.abs(t);
  out[0] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a;
  out[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
  out[2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1;
  out[3] = ((a * (2 - x) - 5 * a) * (2 - x) + 8 * a) * (2 - x) - 4 * a;
}

const gridSample: OpDef = {
  opType: 'GridSample', since: 16, attributes: ['align_corners', 'mode', 'padding_mode'],
  prepare(ctx) {
    requireDtype(ctx, 0, FLOAT_TYPES);
    requireDtype(ctx, 1, FLOAT_TYPES);
    const x = ctx.input(0), grid = ctx.input(1);
    const legacy = ctx.opset < 20;
    const mode = legacy
      ? ({ bilinear: 'linear', nearest: 'nearest', bicubic: 'cubic' } as const)[ctx.attrs.oneOf('mode', ['bilinear', 'nearest', 'bicubic'], 'bilinear')]
      : ctx.attrs.oneOf('mode', ['linear', 'nearest', 'cubic'], 'linear');
    const padding = ctx.attrs.oneOf<Padding>('padding_mode', ['zeros', 'border', 'reflection'], 'zeros');
    const align = ctx.attrs.int('align_corners', 0);
    if (align !== 0 && align !== 1) throw ctx.attrs.error('align_corners', `must be 0 or 1, got ${align}`);
    const r = x.dims.length - 2;
    if (r < 1 || (legacy && r !== 2)) ctx.fail(`input must be ${legacy ? '4-D [N, C, H, W] before opset 20' : 'at least 3-D [N, C, D1, …]'}, got [${x.dims}]`, 'SHAPE_MISMATCH');
    if (mode === 'cubic' && r !== 2) ctx.fail(`cubic sampling is defined for 2 spatial dims, got ${r}`, 'UNSUPPORTED_OP');
    const [N, C] = x.dims as [number, number];
    if (grid.dims.length !== r + 2 || grid.dims[0] !== N || grid.dims[r + 1] !== r) {
      ctx.fail(`grid (input 1, '${grid.name}') must have shape [${N}, …${r} output dims…, ${r}], got [${grid.dims}]`, 'SHAPE_MISMATCH');
    }
    const spatial = x.dims.slice(2), outSpatial = grid.dims.slice(1, r + 1);
    if (spatial.some((d) => d === 0) && product(outSpatial) > 0 && N * C > 0) ctx.fail(`cannot sample from an input with an empty spatial axis [${x.dims}]`, 'SHAPE_MISMATCH');
    const plane = product(spatial), points = product(outSpatial), xs = stridesOf(spatial);
    const n = product(x.dims), gn = product(grid.dims), yn = N * C * points;
    const lo = spatial.map(() => (align ? 0 : -0.5)), hi = spatial.map((d) => (align ? d - 1 : d - 0.5));
    const taps = mode === 'nearest' ? 1 : mode === 'linear' ? 2 : 4, corners = taps ** r;
    // Fold an integer index into range (or −1 for a zero pixel) per padding mode.
    const fold = (i: number, k: number): number => {
      const d = spatial[k]!;
      if (padding === 'zeros') return i >= 0 && i < d ? i : -1;
      if (padding === 'border') return Math.min(Math.max(i, 0), d - 1);
      return Math.trunc(reflect(i, lo[k]!, hi[k]!));
    };
    return {
      outputs: [{ dtype: x.dtype, dims: [N, C, ...outSpatial] }],
      build(b) {
        const xv = b.view(x.dtype, b.inputs[0]!, n), gv = b.view(grid.dtype, b.inputs[1]!, gn), yv = b.view(x.dtype, b.outputs[0]!, yn);
        const X = new Float64Array(n), G = new Float64Array(gn), Y = new Float64Array(yn);
        const coord = new Float64Array(r), base = new Int32Array(r), w = new Float64Array(r * taps), tmp = new Float64Array(4);
        const offs = new Int32Array(corners), ws = new Float64Array(corners);
        return () => {
          readFloats(x.dtype, xv(), X); readFloats(grid.dtype, gv(), G);
          for (let bi = 0; bi < N; bi++) {
            for (let p = 0; p < points; p++) {
              const go = (bi * points + p) * r;
              for (let k = 0; k < r; k++) {
                const g = G[go + r - 1 - k]!, d = spatial[k]!;
                let c = Math.fround(align ? ((g + 1) / 2) * (d - 1) : ((g + 1) * d - 1) / 2);
                if (mode === 'nearest') c = rint(c); // half to even in every rank: what the node tests expect
                if (c < lo[k]! || c > hi[k]!) {
                  if (padding === 'border') c = Math.min(Math.max(c, 0), d - 1);
                  else if (padding === 'reflection') c = Math.fround(reflect(c, lo[k]!, hi[k]!));
                }
                coord[k] = c;
                if (mode === 'nearest') { base[k] = Math.trunc(c); w[k] = 1; continue; }
                const f = Math.floor(c), t = c - f;
                if (mode === 'linear') { base[k] = f; w[k * 2] = 1 - t; w[k * 2 + 1] = t; } else { base[k] = f - 1; cubicCoeffs(t, tmp); w.set(tmp, k * 4); }
              }
              // Tensor-product neighbours: offset into the plane (−1 when any index reads a zero pad) and weight.
              for (let q = 0; q < corners; q++) {
                let rest = q, off = 0, wt = 1;
                for (let k = r - 1; k >= 0; k--) {
                  const t = rest % taps; rest = (rest - t) / taps;
                  const i = fold(base[k]! + t, k);
                  if (i < 0 || off < 0) off = -1; else off += i * xs[k]!;
                  wt *= w[k * taps + t]!;
                }
                offs[q] = off; ws[q] = wt;
              }
              for (let c = 0; c < C; c++) {
                const xo = (bi * C + c) * plane;
                let s = 0;
                for (let q = 0; q < corners; q++) if (offs[q]! >= 0) s += ws[q]! * X[xo + offs[q]!]!;
                Y[(bi * C + c) * points + p] = s;
              }
            }
          }
          writeFloats(x.dtype, Y, yv());
        };
      },
    };
  },
};

export const gridSampleOps: readonly OpDef[] = [gridSample];
