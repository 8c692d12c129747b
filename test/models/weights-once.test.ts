/**
 * A weight read by one MatMul is held once: freed when its packed copy is made, and every later
 * shape reuses the packed copy. A weight with two readers stays.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';

const K = 24, N = 40;
const w = Array.from({ length: K * N }, (_, i) => ((i * 7919) % 101) / 50 - 1);

function reference(x: Float32Array, rows: number): Float32Array {
  const y = new Float32Array(rows * N);
  for (let r = 0; r < rows; r++) for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += x[r * K + k]! * w[k * N + n]!;
    y[r * N + n] = s;
  }
  return y;
}

const internals = (s: InferenceSession) => s as unknown as { graph: { consts: Map<string, { released?: boolean }> } };

describe('weights held once', () => {
  it('frees a single-reader weight after packing and stays right across shapes', async () => {
    const s = await InferenceSession.create(model({
      nodes: [node('MatMul', ['x', 'W'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT, ['n', K])], outputs: [valueInfo('y', DT.FLOAT, ['n', N])],
      initializers: [floatTensor('W', [K, N], w)],
    }));
    for (const rows of [1, 5, 1, 9]) {
      const x = Float32Array.from({ length: rows * K }, (_, i) => Math.sin(i + rows));
      const y = (await s.run({ x: new Tensor('float32', x, [rows, K]) })).y!.data as Float32Array;
      const want = reference(x, rows);
      for (let i = 0; i < want.length; i++) expect(y[i]).toBeCloseTo(want[i]!, 4);
      expect(internals(s).graph.consts.get('W')?.released).toBe(true);
    }
    await s.release();
  });

  it('keeps a weight that two nodes read', async () => {
    const s = await InferenceSession.create(model({
      nodes: [node('MatMul', ['x', 'W'], ['y']), node('Add', ['z', 'W'], ['w2'])],
      inputs: [valueInfo('x', DT.FLOAT, [2, K]), valueInfo('z', DT.FLOAT, [K, N])], outputs: [valueInfo('y', DT.FLOAT, [2, N]), valueInfo('w2', DT.FLOAT, [K, N])],
      initializers: [floatTensor('W', [K, N], w)],
    }));
    const z = new Tensor('float32', Float32Array.from(w), [K, N]);
    const out = await s.run({ x: new Tensor('float32', new Float32Array(2 * K).fill(1), [2, K]), z });
    expect(internals(s).graph.consts.get('W')?.released).toBeUndefined();
    const w2 = out.w2!.data as Float32Array;
    for (let i = 0; i < w.length; i++) expect(w2[i]).toBeCloseTo(2 * w[i]!, 5);
    await s.release();
  });
});
