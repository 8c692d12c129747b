// TopK beyond ONNX's node tests: ties keep the lower index in both directions, a middle axis,
// k = 0, k as an attribute before opset 10, and errors that name the node.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/index.js';
import { f32, i64, runNode } from './run-node.js';

const K = (k: number) => ({ const: i64([k], [1]) });

describe('TopK', () => {
  it('ties keep the lower index first, largest and smallest', async () => {
    const x = f32([2, 5, 2, 5, 1], [5]);
    const [v, i] = await runNode({ op: 'TopK', inputs: [x, K(3)], outputs: 2 });
    expect(Array.from(v!.data as Float32Array)).toEqual([5, 5, 2]);
    expect(Array.from(i!.data as BigInt64Array)).toEqual([1n, 3n, 0n]);
    const [s, j] = await runNode({ op: 'TopK', inputs: [x, K(3)], attrs: { largest: 0 }, outputs: 2 });
    expect(Array.from(s!.data as Float32Array)).toEqual([1, 2, 2]);
    expect(Array.from(j!.data as BigInt64Array)).toEqual([4n, 0n, 2n]);
  });
  it('along a middle axis', async () => {
    // [2, 3, 2]: per (batch, column) pick the top 2 of 3 rows.
    const x = f32([1, 6, 3, 5, 2, 4, 9, 7, 8, 8, 7, 9], [2, 3, 2]);
    const [v, i] = await runNode({ op: 'TopK', inputs: [x, K(2)], attrs: { axis: 1 }, outputs: 2 });
    expect(v!.dims).toEqual([2, 2, 2]);
    expect(Array.from(v!.data as Float32Array)).toEqual([3, 6, 2, 5, 9, 9, 8, 8]);
    expect(Array.from(i!.data as BigInt64Array)).toEqual([1n, 0n, 2n, 1n, 0n, 2n, 1n, 1n]);
  });
  it('k = 0 gives empty outputs; int64 values stay exact', async () => {
    const [v] = await runNode({ op: 'TopK', inputs: [i64([3, 1], [1, 2]), K(0)], outputs: 2 });
    expect(v!.dims).toEqual([1, 0]);
    const big = 2n ** 60n;
    const x = new Tensor('int64', BigInt64Array.of(big, big + 1n, big - 1n), [3]);
    const [w, i] = await runNode({ op: 'TopK', inputs: [x, K(2)], outputs: 2 });
    expect(Array.from(w!.data as BigInt64Array)).toEqual([big + 1n, big]);
    expect(Array.from(i!.data as BigInt64Array)).toEqual([1n, 0n]);
  });
  it('k is an attribute before opset 10', async () => {
    const [v] = await runNode({ op: 'TopK', inputs: [f32([1, 3, 2], [1, 3])], attrs: { k: 2 }, opset: 9, outputs: 2 });
    expect(Array.from(v!.data as Float32Array)).toEqual([3, 2]);
  });
  it('refuses k larger than the axis, naming the node', async () => {
    await expect(runNode({ op: 'TopK', name: 'tk', inputs: [f32([1, 2], [2]), K(3)], outputs: 2 })).rejects.toThrow(/TopK node 'tk'.*k = 3/);
  });
  it('refuses largest before opset 11', async () => {
    await expect(runNode({ op: 'TopK', name: 'tk', inputs: [f32([1, 2], [2]), K(1)], attrs: { largest: 0 }, opset: 10, outputs: 2 }))
      .rejects.toThrow(/TopK node 'tk'.*'largest'/);
  });
});
