/**
 * A graph large enough that every parallel split is taken: convolutions split along output
 * positions (N-panels), a MatMul along N, a Gemm with few columns along M rows, and large
 * element-wise ops in chunks. Outputs are bit-identical at 1, 2 and 3 threads and agree with
 * onnxruntime-web.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { poolStats } from '../../src/runtime/threads/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../helpers/ort.js';

function values(n: number, seed: number, scale: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * scale;
  });
}

// x [2,3,64,64] → Conv 3→32 3×3 pad 1 + Relu → Sigmoid (262 144 elements) → Conv 32→64 3×3 stride 2
// → Conv group 2 → Reshape [128, 1024] → MatMul [1024, 400] + bias → Relu → Gemm transB [24, 400]
// + C [128, 1] (a per-row bias; few columns, so split along M rows).
const bytes = model({
  inputs: [valueInfo('x', DT.FLOAT, [2, 3, 64, 64])],
  outputs: [valueInfo('y', DT.FLOAT, [128, 24]), valueInfo('act', DT.FLOAT, [2, 32, 64, 64])],
  initializers: [
    floatTensor('w1', [32, 3, 3, 3], values(32 * 27, 1, 0.6)), floatTensor('b1', [32], values(32, 2, 0.2)),
    floatTensor('w2', [64, 32, 3, 3], values(64 * 288, 3, 0.2)), floatTensor('b2', [64], values(64, 4, 0.2)),
    floatTensor('w3', [64, 32, 3, 3], values(64 * 288, 5, 0.2)),
    floatTensor('shape', [2], [128, 1024]),
    floatTensor('wm', [1024, 400], values(1024 * 400, 6, 0.05)), floatTensor('bm', [400], values(400, 7, 0.1)),
    floatTensor('wg', [24, 400], values(24 * 400, 8, 0.1)), floatTensor('cg', [128, 1], values(128, 9, 0.1)),
  ].map((t) => t.name === 'shape' ? { name: 'shape', dims: [2], dataType: DT.INT64, int64Data: [128, 1024] } : t),
  nodes: [
    node('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: [1, 1, 1, 1] }),
    node('Relu', ['c1'], ['r1']),
    node('Sigmoid', ['r1'], ['act']),
    node('Conv', ['act', 'w2', 'b2'], ['c2'], { pads: [1, 1, 1, 1], strides: [2, 2] }),
    node('Conv', ['c2', 'w3'], ['c3'], { pads: [1, 1, 1, 1], group: 2 }),
    node('Reshape', ['c3', 'shape'], ['flat']),
    node('MatMul', ['flat', 'wm'], ['m']),
    node('Add', ['m', 'bm'], ['mb']),
    node('Relu', ['mb'], ['mr']),
    node('Gemm', ['mr', 'wg', 'cg'], ['y'], { transB: 1 }),
  ],
});

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('a conv/GEMM graph at 1, 2 and 3 threads', () => {
  const sessions: InferenceSession[] = [];
  const x = new Tensor('float32', Float32Array.from(values(2 * 3 * 64 * 64, 10, 2)), [2, 3, 64, 64]);
  beforeAll(async () => {
    for (const threads of [1, 2, 3]) sessions.push(await InferenceSession.create(bytes, { threads }));
  });
  afterAll(async () => { for (const s of sessions) await s.release(); });

  it('splits its kernels and gives bit-identical outputs', async () => {
    const results = [];
    for (const s of sessions) {
      const before = poolStats().itemsHanded;
      results.push(await s.run({ x }));
      const handed = poolStats().itemsHanded - before;
      // 3 convs + MatMul + Gemm + Sigmoid, each split into threads-1 items for the pool.
      expect(handed).toBeGreaterThanOrEqual(s.threads === 1 ? 0 : 6 * (s.threads - 1));
      if (s.threads === 1) expect(handed).toBe(0);
    }
    for (const name of ['y', 'act']) {
      const a = results[0]![name]!.data as Float32Array;
      expect(a.length).toBeGreaterThan(0);
      for (const r of results.slice(1)) expect(bits(r[name]!.data as Float32Array).equals(bits(a))).toBe(true);
    }
  });

  it('agrees with onnxruntime-web', async () => {
    const ort = await ortSession(bytes);
    const theirs = await ortRun(ort, { x });
    const ours = await sessions[2]!.run({ x });
    for (const name of ['y', 'act']) {
      const a = ours[name]!.data as Float32Array, b = theirs[name]!.data as Float32Array;
      let worst = 0, scale = 0;
      for (let i = 0; i < a.length; i++) { worst = Math.max(worst, Math.abs(a[i]! - b[i]!)); scale = Math.max(scale, Math.abs(b[i]!)); }
      expect(worst / Math.max(scale, 1)).toBeLessThan(1e-4);
    }
    await ort.release();
  });
});
