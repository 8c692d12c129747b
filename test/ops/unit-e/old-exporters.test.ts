/**
 * Details of models exported by older toolchains (paddle2onnx, tf2onnx, torch at opsets 9-11) that
 * the zoo models (test/models/zoo.test.ts) brought up, each pinned down on a one- or two-node graph.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { DT, model, node, valueInfo } from '../../helpers/onnx-builder.js';

const f32 = (v: number[], dims: number[]) => new Tensor('float32', Float32Array.from(v), dims);

describe('Dropout with a mask output (paddle2onnx, opset 9)', () => {
  const graph = (maskIsOutput: boolean) => model({
    nodes: [node('Dropout', ['x'], ['d', 'mask'], { ratio: 0.1 }, 'drop'), node('Relu', ['d'], ['y'])],
    inputs: [valueInfo('x', DT.FLOAT, [2, 3])],
    outputs: [valueInfo('y', DT.FLOAT), ...(maskIsOutput ? [valueInfo('mask', DT.FLOAT)] : [])],
    opset: 9,
  });
  const x = f32([-1, 2, -3, 4, 5, -6], [2, 3]);

  it('is an alias when nothing reads the mask: no step runs for it', async () => {
    const s = await InferenceSession.create(graph(false));
    const out = await s.run({ x }, { profile: true });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([0, 2, 0, 4, 5, 0]);
    expect(s.lastProfile!.nodes.map((n) => n.opType)).toEqual(['Relu']);
    await s.release();
  });

  it('still fills the mask (typed like the input before opset 12) when it is a graph output', async () => {
    const s = await InferenceSession.create(graph(true));
    const out = await s.run({ x });
    expect(out.mask!.type).toBe('float32');
    expect(Array.from(out.mask!.data as Float32Array)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Array.from(out.y!.data as Float32Array)).toEqual([0, 2, 0, 4, 5, 0]);
    await s.release();
  });
});

describe('Upsample (opset 9)', () => {
  const graph = (scales: number[]) => model({
    nodes: [node('Upsample', ['x', 'scales'], ['y'], { mode: 'nearest' }, 'up')],
    inputs: [valueInfo('x', DT.FLOAT, [1, 1, 2, 2])],
    outputs: [valueInfo('y', DT.FLOAT)],
    initializers: [{ name: 'scales', dims: [4], dataType: DT.FLOAT, floatData: scales }],
    opset: 9,
  });

  it('repeats pixels by a non-integer scale the asymmetric, floor way', async () => {
    const s = await InferenceSession.create(graph([1, 1, 1.5, 2]));
    const y = (await s.run({ x: f32([1, 2, 3, 4], [1, 1, 2, 2]) })).y!;
    expect(y.dims).toEqual([1, 1, 3, 4]);
    expect(Array.from(y.data as Float32Array)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4]);
    await s.release();
  });

  it('refuses a scale below 1, naming the node (only Resize may shrink)', async () => {
    await expect(InferenceSession.create(graph([1, 1, 0.5, 1])).then((s) => s.run({ x: f32([1, 2, 3, 4], [1, 1, 2, 2]) })))
      .rejects.toThrow(/Upsample.*'up'.*must all be ≥ 1|'up'.*Upsample.*must all be ≥ 1/);
  });
});

describe("Resize coordinate_transformation_mode 'tf_half_pixel_for_nn' (tf2onnx, opset 11)", () => {
  const graph = (opset: number, nearestMode?: string) => model({
    nodes: [node('Resize', ['x', 'roi', 'scales'], ['y'], {
      mode: 'nearest', coordinate_transformation_mode: 'tf_half_pixel_for_nn', ...(nearestMode ? { nearest_mode: nearestMode } : {}),
    }, 'tf_nn')],
    inputs: [valueInfo('x', DT.FLOAT, [1, 1, 1, 4])],
    outputs: [valueInfo('y', DT.FLOAT)],
    initializers: [
      { name: 'roi', dims: [0], dataType: DT.FLOAT, floatData: [] },
      { name: 'scales', dims: [4], dataType: DT.FLOAT, floatData: [1, 1, 1, 1.5] },
    ],
    opset,
  });
  const x = f32([10, 20, 30, 40], [1, 1, 1, 4]);

  it('maps output x to (x + 0.5) / scale, then rounds by nearest_mode', async () => {
    // 6 outputs; sources 1/3, 1, 5/3, 7/3, 3, 11/3.
    const floor = await InferenceSession.create(graph(11, 'floor'));
    expect(Array.from((await floor.run({ x })).y!.data as Float32Array)).toEqual([10, 20, 20, 30, 40, 40]);
    const round = await InferenceSession.create(graph(11));
    expect(Array.from((await round.run({ x })).y!.data as Float32Array)).toEqual([10, 20, 30, 30, 40, 40]);
    await floor.release();
    await round.release();
  });

  it('is refused from opset 13, which dropped it, naming the attribute', async () => {
    await expect(InferenceSession.create(graph(13)).then((s) => s.run({ x }))).rejects.toThrow(/coordinate_transformation_mode/);
  });
});

describe('ConvTranspose with constant weights (DBNet head) runs as GEMM + scatter', () => {
  // Same op, weights as an initializer (GEMM path) and as a fed input (direct scatter path).
  const graph = (constantW: boolean, attrs: Record<string, number | number[]>, wDims: number[], w: number[], bias: number[]) => model({
    nodes: [node('ConvTranspose', ['x', 'w', 'b'], ['y'], attrs, 'deconv')],
    inputs: [valueInfo('x', DT.FLOAT, ['n', 4, 'h', 'w']), ...(constantW ? [] : [valueInfo('w', DT.FLOAT, wDims)])],
    outputs: [valueInfo('y', DT.FLOAT)],
    initializers: [
      ...(constantW ? [{ name: 'w', dims: wDims, dataType: DT.FLOAT, floatData: w }] : []),
      { name: 'b', dims: [bias.length], dataType: DT.FLOAT, floatData: bias },
    ],
    opset: 11,
  });
  const rand = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.5);
  const cases: [string, Record<string, number | number[]>, number[]][] = [
    ['k2 s2 (DBNet)', { kernel_shape: [2, 2], strides: [2, 2] }, [4, 3, 2, 2]],
    ['k3 s2 p1 output_padding 1', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }, [4, 3, 3, 3]],
    ['2 groups, dilation 2, uneven pads', { kernel_shape: [3, 2], strides: [1, 3], group: 2, dilations: [2, 1], pads: [2, 0, 1, 1] }, [4, 2, 3, 2]],
  ];

  it.each(cases)('%s: the same as the direct path at batch 2', async (_, attrs, wDims) => {
    const w = rand(wDims.reduce((a, b) => a * b, 1), 3), M = wDims[1]! * ((attrs.group as number | undefined) ?? 1), bias = rand(M, 5);
    const gemm = await InferenceSession.create(graph(true, attrs, wDims, w, bias));
    const direct = await InferenceSession.create(graph(false, attrs, wDims, w, bias));
    const x = f32(rand(2 * 4 * 5 * 7, 9), [2, 4, 5, 7]);
    const a = (await gemm.run({ x })).y!;
    const b = (await direct.run({ x, w: f32(w, wDims) })).y!;
    expect(a.dims).toEqual(b.dims);
    const ya = a.data as Float32Array, yb = b.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < yb.length; i++) worst = Math.max(worst, Math.abs(ya[i]! - yb[i]!));
    expect(worst).toBeLessThan(1e-5);
    // The weights are transposed once per session: a second run with other data agrees too.
    const x2 = f32(rand(2 * 4 * 5 * 7, 11), [2, 4, 5, 7]);
    const a2 = (await gemm.run({ x: x2 })).y!.data as Float32Array, b2 = (await direct.run({ x: x2, w: f32(w, wDims) })).y!.data as Float32Array;
    for (let i = 0; i < b2.length; i++) expect(Math.abs(a2[i]! - b2[i]!)).toBeLessThan(1e-5);
    await gemm.release();
    await direct.release();
  });
});

describe('Resize over H and W of NCHW (detector necks) takes flat loops', () => {
  // The same data as [N·C, H, W] goes through the general N-D path: both must agree exactly.
  const graph = (dims: number[], scales: number[], attrs: Record<string, string | number>) => model({
    nodes: [node('Resize', ['x', 'roi', 'scales'], ['y'], attrs, 'neck')],
    inputs: [valueInfo('x', DT.FLOAT, dims)],
    outputs: [valueInfo('y', DT.FLOAT)],
    initializers: [
      { name: 'roi', dims: [0], dataType: DT.FLOAT, floatData: [] },
      { name: 'scales', dims: [scales.length], dataType: DT.FLOAT, floatData: scales },
    ],
    opset: 11,
  });
  const modes: Record<string, string | number>[] = [
    { mode: 'linear', coordinate_transformation_mode: 'half_pixel' },
    { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
    { mode: 'cubic', coordinate_transformation_mode: 'pytorch_half_pixel', exclude_outside: 1 },
    { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
  ];

  it.each(modes)('%o: 4-D equals the general path', async (attrs) => {
    const data = Array.from({ length: 2 * 3 * 5 * 7 }, (_, i) => Math.cos(i * 0.7) * 3);
    const four = await InferenceSession.create(graph([2, 3, 5, 7], [1, 1, 1.6, 0.75], attrs));
    const three = await InferenceSession.create(graph([6, 5, 7], [1, 1.6, 0.75], attrs));
    const a = (await four.run({ x: f32(data, [2, 3, 5, 7]) })).y!;
    const b = (await three.run({ x: f32(data, [6, 5, 7]) })).y!;
    expect(a.dims).toEqual([2, 3, 8, 5]);
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from(b.data as Float32Array));
    await four.release();
    await three.release();
  });
});
