// Normalisation, Pad and Resize beyond ONNX's node tests: BatchNormalization with constant
// parameters (precomputed scale/shift) equals the per-run path, and unsupported attributes fail
// naming the node and the attribute.
import { describe, expect, it } from 'vitest';
import { f32, rand, runNode } from '../unit-a/run-node.js';

describe('BatchNormalization', () => {
  it('gives the same numbers with constant and fed parameters', async () => {
    const C = 5, x = f32(rand(2 * C * 6, 3), [2, C, 2, 3]);
    const p = [f32(rand(C, 4), [C]), f32(rand(C, 5), [C]), f32(rand(C, 6), [C]), f32(rand(C, 7).map((v) => Math.abs(v) + 0.1), [C])];
    const [fed] = await runNode({ op: 'BatchNormalization', inputs: [x, ...p], opset: 15 });
    const [con] = await runNode({ op: 'BatchNormalization', inputs: [x, ...p.map((t) => ({ const: t }))], opset: 15 });
    const want = Array.from(x.data as Float32Array, (v, i) => {
      const c = Math.floor(i / 6) % C, [g, b, m, s] = p.map((t) => (t.data as Float32Array)[c]!);
      return (v - m!) / Math.sqrt(s! + 1e-5) * g! + b!;
    });
    expect(Array.from(fed!.data as Float32Array)).toEqual(Array.from(con!.data as Float32Array));
    (Array.from(con!.data as Float32Array)).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
  });
  it('refuses a training_mode other than 0 or 1, naming node and attribute', async () => {
    const t = f32([1], [1]);
    await expect(runNode({ op: 'BatchNormalization', name: 'bn', inputs: [f32([1], [1, 1]), t, t, t, t], attrs: { training_mode: 2 }, opset: 15 }))
      .rejects.toThrow(/BatchNormalization node 'bn': attribute 'training_mode' must be 0 or 1, got 2/);
  });
  it('training_mode normalises with batch statistics and blends the running ones by momentum', async () => {
    const [y, mean, vr] = await runNode({
      op: 'BatchNormalization', opset: 15, outputs: 3, attrs: { training_mode: 1, epsilon: 0, momentum: 0.5 },
      inputs: [f32([1, 3, 10, 20], [2, 2]), f32([1, 2], [2]), f32([0, 1], [2]), f32([4, 4], [2]), f32([2, 2], [2])],
    });
    // Channel 0: {1, 10} mean 5.5 var 20.25; channel 1: {3, 20} mean 11.5 var 72.25.
    const want = [-1, 2 * -1 + 1, 1, 2 * 1 + 1];
    (Array.from(y!.data as Float32Array)).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    expect(Array.from(mean!.data as Float32Array)).toEqual([4.75, 7.75]);
    expect(Array.from(vr!.data as Float32Array)).toEqual([11.125, 37.125]);
  });
});

describe('errors name the node and attribute', () => {
  it('Pad mode', async () => {
    await expect(runNode({ op: 'Pad', name: 'p', inputs: [f32([1, 2], [2]), { const: f32([1, 1], [2]) }], attrs: { mode: 'mirror' }, opset: 13 }))
      .rejects.toThrow(/Pad node 'p'.*mode/);
  });
  it('Resize antialias: refused for nearest; linear halving averages the whole footprint', async () => {
    await expect(runNode({ op: 'Resize', name: 'r', inputs: [f32([1, 2, 3, 4], [1, 1, 2, 2]), '', { const: f32([1, 1, 0.5, 0.5], [4]) }], attrs: { antialias: 1, mode: 'nearest' }, opset: 18 }))
      .rejects.toThrow(/Resize node 'r': attribute 'antialias' applies to linear and cubic modes, not nearest/);
    // 1-D [1, 2, 3, 4] → 2 at scale 0.5: the triangle stretched to 2 pixels either side of 0.5 and 2.5 weighs
    // four inputs ¼ ¾ ¾ ¼ (edges repeat), normalised by 2.
    const [y] = await runNode({ op: 'Resize', inputs: [f32([1, 2, 3, 4], [4]), '', { const: f32([0.5], [1]) }], attrs: { antialias: 1, mode: 'linear' }, opset: 18 });
    const want = [(0.25 * 1 + 0.75 * 1 + 0.75 * 2 + 0.25 * 3) / 2, (0.25 * 2 + 0.75 * 3 + 0.75 * 4 + 0.25 * 4) / 2];
    (Array.from(y!.data as Float32Array)).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
  });
  it('LRN size', async () => {
    await expect(runNode({ op: 'LRN', name: 'l', inputs: [f32([1, 2], [1, 2])], opset: 13 })).rejects.toThrow(/LRN node 'l'.*size/);
  });
});
