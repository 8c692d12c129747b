/**
 * RNN family, GridSample, Col2Im, MaxUnpool, DeformConv and string Equal beyond ONNX's node tests:
 * a bidirectional RNN with ragged sequence_lens against a loop written here, and errors that name
 * the node and the attribute or input.
 */
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { DT, model, node, valueInfo } from '../../helpers/onnx-builder.js';
import { f32, i64, rand, runNode } from '../unit-a/run-node.js';

describe('RNN family', () => {
  it('bidirectional RNN with sequence_lens: reverse starts at each sequence end, padding steps are zero', async () => {
    const S = 3, B = 2, I = 2, H = 2;
    const x = rand(S * B * I, 11), w = rand(H * I, 12), r = rand(H * H, 13), bias = rand(2 * H, 14), lens = [3, 2];
    const [y, yh] = await runNode({
      op: 'RNN', opset: 14, outputs: 2, attrs: { hidden_size: H, direction: 'bidirectional' },
      inputs: [f32(x, [S, B, I]), f32([...w, ...w], [2, H, I]), f32([...r, ...r], [2, H, H]), f32([...bias, ...bias], [2, 2 * H]), i64(lens, [B])],
    });
    const want = new Array<number>(S * 2 * B * H).fill(0), wantH = new Array<number>(2 * B * H).fill(0);
    for (let d = 0; d < 2; d++) {
      for (let b = 0; b < B; b++) {
        let h = [0, 0];
        for (let s = 0; s < lens[b]!; s++) {
          const t = d ? lens[b]! - 1 - s : s;
          h = [0, 1].map((j) => Math.tanh(bias[j]! + bias[H + j]! + [0, 1].reduce((a, k) => a + w[j * I + k]! * x[(t * B + b) * I + k]! + r[j * H + k]! * h[k]!, 0)));
          h.forEach((v, j) => { want[((t * 2 + d) * B + b) * H + j] = v; });
        }
        h.forEach((v, j) => { wantH[(d * B + b) * H + j] = v; });
      }
    }
    expect(y!.dims).toEqual([S, 2, B, H]);
    (Array.from(y!.data as Float32Array)).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    (Array.from(yh!.data as Float32Array)).forEach((v, i) => expect(v).toBeCloseTo(wantH[i]!, 5));
  });

  it('activations are read per direction with their alpha/beta; an unknown one names the attribute', async () => {
    const T = onnxProto.onnx.AttributeProto.AttributeType;
    const build = (acts: string[], alpha: number[]) => {
      const n = node('RNN', ['x', 'w', 'r'], ['y'], { hidden_size: 1 }, 'rnn');
      n.attribute!.push({ name: 'activations', type: T.STRINGS, strings: acts.map((a) => new TextEncoder().encode(a)) },
        { name: 'activation_alpha', type: T.FLOATS, floats: alpha });
      return model({ nodes: [n], inputs: [valueInfo('x', DT.FLOAT, [2, 1, 1]), valueInfo('w', DT.FLOAT, [1, 1, 1]), valueInfo('r', DT.FLOAT, [1, 1, 1])], outputs: [valueInfo('y', DT.FLOAT)], opset: 14 });
    };
    const feeds = { x: f32([-2, 3], [2, 1, 1]), w: f32([1], [1, 1, 1]), r: f32([0], [1, 1, 1]) };
    const s = await InferenceSession.create(build(['LeakyRelu'], [0.5]));
    expect(Array.from((await s.run(feeds)).y!.data as Float32Array)).toEqual([-1, 3]);
    await s.release();
    const bad = await InferenceSession.create(build(['Swish'], []));
    await expect(bad.run(feeds)).rejects.toThrow(/RNN node 'rnn': attribute 'activations' function 'Swish' is not supported/);
    await bad.release();
  });

  const x = f32(rand(4), [1, 2, 2]);
  it('refuses an unknown direction, a missing hidden_size and a mis-shaped W', async () => {
    await expect(runNode({ op: 'GRU', opset: 14, name: 'g', attrs: { hidden_size: 1, direction: 'sideways' }, inputs: [x, f32(rand(6), [1, 3, 2]), f32(rand(3), [1, 3, 1])] }))
      .rejects.toThrow(/GRU node 'g': attribute 'direction' value 'sideways' is not supported/);
    await expect(runNode({ op: 'LSTM', opset: 14, name: 'l', inputs: [x, f32(rand(8), [1, 4, 2]), f32(rand(4), [1, 4, 1])] }))
      .rejects.toThrow(/LSTM node 'l': attribute 'hidden_size' is required/);
    await expect(runNode({ op: 'RNN', opset: 14, name: 'r', attrs: { hidden_size: 2 }, inputs: [x, f32(rand(2), [1, 1, 2]), f32(rand(4), [1, 2, 2])] }))
      .rejects.toThrow(/RNN node 'r': W \(input 1, 'in1'\) must have shape \[1,2,2\], got \[1,1,2\]/);
  });
});

describe('image ops', () => {
  const img = f32(rand(16), [1, 1, 4, 4]);
  it('GridSample: mode names follow the opset; a grid of the wrong rank names the input', async () => {
    const grid = f32(rand(8), [1, 2, 2, 2]);
    await expect(runNode({ op: 'GridSample', opset: 20, name: 'gs', attrs: { mode: 'bilinear' }, inputs: [img, grid] }))
      .rejects.toThrow(/GridSample node 'gs': attribute 'mode' value 'bilinear' is not supported \(expected one of 'linear', 'nearest', 'cubic'\)/);
    const [y] = await runNode({ op: 'GridSample', opset: 16, attrs: { mode: 'bilinear', align_corners: 1 }, inputs: [img, f32([-1, -1, 1, 1], [1, 1, 2, 2])] });
    const X = img.data as Float32Array;
    expect(Array.from(y!.data as Float32Array)).toEqual([X[0]!, X[15]!]); // corners map exactly onto corner pixels
    await expect(runNode({ op: 'GridSample', opset: 20, name: 'gs', inputs: [img, f32(rand(12), [1, 2, 2, 3])] }))
      .rejects.toThrow(/GridSample node 'gs': grid \(input 1, 'in1'\) must have shape \[1, …2 output dims…, 2\]/);
  });

  it('GridSample: reflection on a size-1 axis with align_corners reads its one pixel (no 0/0); an empty input is refused', async () => {
    const [y] = await runNode({ op: 'GridSample', opset: 20, attrs: { padding_mode: 'reflection', align_corners: 1 }, inputs: [f32([7, 8], [1, 1, 1, 2]), f32([1.5, 3, -0.2, 1], [1, 1, 2, 2])] });
    expect(Array.from(y!.data as Float32Array).every((v) => v >= 7 && v <= 8)).toBe(true);
    await expect(runNode({ op: 'GridSample', opset: 20, name: 'gs', inputs: [f32([], [1, 1, 0, 2]), f32([0, 0], [1, 1, 1, 2])] }))
      .rejects.toThrow(/GridSample node 'gs': cannot sample from an input with an empty spatial axis/);
  });

  it('Col2Im sums overlapping blocks; a column count that does not fit names the input', async () => {
    // 1-D image of 3, block 2, stride 1: columns (a0, a1) at 0 and (b0, b1) at 1 → [a0, a1 + b0, b1].
    const [y] = await runNode({ op: 'Col2Im', opset: 18, inputs: [f32([1, 2, 10, 20], [1, 2, 2]), { const: i64([3], [1]) }, { const: i64([2], [1]) }] });
    expect(Array.from(y!.data as Float32Array)).toEqual([1, 12, 20]);
    await expect(runNode({ op: 'Col2Im', opset: 18, name: 'c', inputs: [f32([1, 2, 3], [1, 1, 3]), { const: i64([3], [1]) }, { const: i64([2], [1]) }] }))
      .rejects.toThrow(/Col2Im node 'c': input \(input 0, 'in0'\) must be \[N, C·2, 2\]/);
  });

  it('MaxUnpool refuses an index beyond the output, naming the node', async () => {
    await expect(runNode({ op: 'MaxUnpool', opset: 11, name: 'u', attrs: { kernel_shape: [2] }, inputs: [f32([1], [1, 1, 1]), i64([2], [1, 1, 1])] }))
      .rejects.toThrow(/MaxUnpool node 'u': index 2 at position 0 is outside the unpooled output \[1,1,2\]/);
  });

  it('DeformConv with zero offsets is a plain convolution; offset_group must divide the channels', async () => {
    const w = rand(4, 21);
    const [y] = await runNode({ op: 'DeformConv', opset: 19, inputs: [img, f32(w, [1, 1, 2, 2]), f32(new Array(2 * 4 * 9).fill(0), [1, 8, 3, 3])] });
    const X = img.data as Float32Array, want: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) want.push(w[0]! * X[i * 4 + j]! + w[1]! * X[i * 4 + j + 1]! + w[2]! * X[(i + 1) * 4 + j]! + w[3]! * X[(i + 1) * 4 + j + 1]!);
    (Array.from(y!.data as Float32Array)).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    await expect(runNode({ op: 'DeformConv', opset: 19, name: 'dc', attrs: { offset_group: 2 }, inputs: [img, f32(w, [1, 1, 2, 2]), f32(new Array(144).fill(0), [1, 16, 3, 3])] }))
      .rejects.toThrow(/DeformConv node 'dc': attribute 'offset_group' 2 must divide the 1 input channels/);
  });
});

describe('Equal on strings', () => {
  it('compares broadcast string tensors, and only from opset 19', async () => {
    const a = new Tensor('string', ['x', 'y', 'z'], [3]), b = new Tensor('string', ['y'], [1]);
    const [y] = await runNode({ op: 'Equal', opset: 19, inputs: [a, b] });
    expect(Array.from(y!.data as Uint8Array)).toEqual([0, 1, 0]);
    await expect(runNode({ op: 'Equal', opset: 18, name: 'eq', inputs: [a, b] })).rejects.toThrow(/Equal node 'eq': compares strings only from opset 19/);
  });
});
