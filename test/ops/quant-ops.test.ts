/**
 * Integer ops beyond the ONNX node tests' shapes: ConvInteger with groups, strides, dilations,
 * pads and per-channel weight zero points, and a batched MatMulInteger with per-row / per-column
 * zero points, against plain loops.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { DT, model, node, valueInfo } from '../helpers/onnx-builder.js';

function rnd(n: number, seed: number, lo: number, hi: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return lo + Math.floor((s / 2 ** 32) * (hi - lo + 1)); });
}
const t8 = (name: string, dims: number[], type: number, v: number[]) =>
  ({ name, dims, dataType: type, rawData: type === DT.INT8 ? new Uint8Array(Int8Array.from(v).buffer) : Uint8Array.from(v) });

describe('integer ops against plain loops', () => {
  it('ConvInteger: 2 groups, stride 2, dilation 2, asymmetric pads, per-channel int8 weight zero points', async () => {
    const [N, C, H, W, M, G, k] = [2, 4, 9, 8, 6, 2, 3], Cg = C / G, Mg = M / G;
    const [sh, sw, dh, dw, pt, pl, pb, pr] = [2, 1, 2, 1, 1, 2, 0, 1];
    const x = rnd(N * C * H * W, 1, 0, 255), w = rnd(M * Cg * k * k, 2, -128, 127), wz = rnd(M, 3, -5, 5), xz = 17;
    const OH = Math.floor((H + pt + pb - ((k - 1) * dh + 1)) / sh) + 1, OW = Math.floor((W + pl + pr - ((k - 1) * dw + 1)) / sw) + 1;
    const bytes = model({
      nodes: [node('ConvInteger', ['x', 'w', 'xz', 'wz'], ['y'], { group: G, strides: [sh, sw], dilations: [dh, dw], pads: [pt, pl, pb, pr] })],
      inputs: [valueInfo('x', DT.UINT8, [N, C, H, W])], outputs: [valueInfo('y', DT.INT32)],
      initializers: [t8('w', [M, Cg, k, k], DT.INT8, w), t8('xz', [], DT.UINT8, [xz]), t8('wz', [M], DT.INT8, wz)],
    });
    const s = await InferenceSession.create(bytes);
    const y = (await s.run({ x: new Tensor('uint8', Uint8Array.from(x), [N, C, H, W]) })).y!;
    expect(y.dims).toEqual([N, M, OH, OW]);
    const want: number[] = [];
    for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const g = Math.floor(m / Mg);
      let acc = 0;
      for (let c = 0; c < Cg; c++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        const ih = oh * sh - pt + i * dh, iw = ow * sw - pl + j * dw;
        const xv = ih >= 0 && ih < H && iw >= 0 && iw < W ? x[((n * C + g * Cg + c) * H + ih) * W + iw]! : xz;
        acc += (xv - xz) * (w[((m * Cg + c) * k + i) * k + j]! - wz[m]!);
      }
      want.push(acc);
    }
    expect(Array.from(y.data as Int32Array)).toEqual(want);
    await s.release();
  });

  it('MatMulInteger: batch-broadcast computed B, per-row A and per-column B zero points', async () => {
    const [T, M, K, N] = [3, 5, 11, 9];
    const a = rnd(T * M * K, 4, -128, 127), b = rnd(K * N, 5, 0, 255), az = rnd(M, 6, -3, 3), bz = rnd(N, 7, 100, 140);
    const bytes = model({
      nodes: [node('MatMulInteger', ['a', 'b', 'az', 'bz'], ['y'])],
      inputs: [valueInfo('a', DT.INT8, [T, M, K]), valueInfo('b', DT.UINT8, [1, K, N])], outputs: [valueInfo('y', DT.INT32)],
      initializers: [t8('az', [M], DT.INT8, az), t8('bz', [N], DT.UINT8, bz)],
    });
    const s = await InferenceSession.create(bytes);
    const y = (await s.run({ a: new Tensor('int8', Int8Array.from(a), [T, M, K]), b: new Tensor('uint8', Uint8Array.from(b), [1, K, N]) })).y!;
    expect(y.dims).toEqual([T, M, N]);
    const want: number[] = [];
    for (let t = 0; t < T; t++) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let q = 0; q < K; q++) acc += (a[(t * M + i) * K + q]! - az[i]!) * (b[q * N + j]! - bz[j]!);
      want.push(acc);
    }
    expect(Array.from(y.data as Int32Array)).toEqual(want);
    await s.release();
  });
});
