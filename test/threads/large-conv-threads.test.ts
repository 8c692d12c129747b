/**
 * A conv net at an odd, large input size, so that its convs run in bands of output rows: a 3→8
 * stem (K = 27) and a 1×1 conv (K = 8) whose bands are each below GEMM's own split bar, a 1×1
 * conv with HardSigmoid fused, then a ConvTranspose to one channel (col2im split by rows, X packed
 * in parallel) and a nearest Resize ×2 (split by planes). Outputs are bit-identical at 1, 2 and 3
 * threads, splits were taken, and they agree with onnxruntime-web.
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

const [H, W] = [331, 259]; // stem output 166×130: 21 580 columns, 27 rows of K → 3 bands
const bytes = model({
  inputs: [valueInfo('x', DT.FLOAT, [1, 3, H, W])],
  outputs: [valueInfo('map', DT.FLOAT, [1, 1, 331, 259]), valueInfo('up', DT.FLOAT, [1, 16, 332, 260])],
  initializers: [
    floatTensor('w1', [8, 3, 3, 3], values(8 * 27, 1, 0.6)), floatTensor('b1', [8], values(8, 2, 0.2)),
    floatTensor('w2', [16, 8, 1, 1], values(16 * 8, 3, 0.6)), floatTensor('b2', [16], values(16, 4, 0.2)),
    floatTensor('w3', [16, 1, 3, 3], values(16 * 9, 5, 0.3)), floatTensor('b3', [1], [0.1]),
    floatTensor('scales', [4], [1, 1, 2, 2]),
  ],
  nodes: [
    node('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: [1, 1, 1, 1], strides: [2, 2] }),
    node('Relu', ['c1'], ['r1']),
    node('Conv', ['r1', 'w2', 'b2'], ['c2']),
    node('HardSigmoid', ['c2'], ['h2']),
    node('ConvTranspose', ['h2', 'w3', 'b3'], ['map'], { strides: [2, 2], pads: [1, 1, 1, 1] }),
    node('Resize', ['h2', '', 'scales'], ['up'], { mode: 'nearest' }),
  ],
});

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('a banded conv net at 1, 2 and 3 threads', () => {
  const sessions: InferenceSession[] = [];
  const x = new Tensor('float32', Float32Array.from(values(3 * H * W, 10, 2)), [1, 3, H, W]);
  beforeAll(async () => {
    for (const threads of [1, 2, 3]) sessions.push(await InferenceSession.create(bytes, { threads }));
  });
  afterAll(async () => { for (const s of sessions) await s.release(); });

  it('splits every step and gives bit-identical outputs', async () => {
    const results = [];
    for (const s of sessions) {
      const before = poolStats().itemsHanded;
      results.push(await s.run({ x }));
      const handed = poolStats().itemsHanded - before;
      // 3 stem bands, 2 bands of the 1×1 conv, HardSigmoid, X packed, the GEMM, col2im, Resize.
      if (s.threads === 1) expect(handed).toBe(0);
      else expect(handed).toBeGreaterThanOrEqual(10 * (s.threads - 1));
    }
    for (const name of ['map', 'up']) {
      const a = results[0]![name]!.data as Float32Array;
      for (const r of results.slice(1)) expect(bits(r[name]!.data as Float32Array).equals(bits(a)), name).toBe(true);
    }
  });

  it('agrees with onnxruntime-web', async () => {
    const ort = await ortSession(bytes);
    const theirs = await ortRun(ort, { x });
    const ours = await sessions[1]!.run({ x });
    for (const name of ['map', 'up']) {
      const a = ours[name]!.data as Float32Array, b = theirs[name]!.data as Float32Array;
      expect(a.length).toBe(b.length);
      let worst = 0, scale = 0;
      for (let i = 0; i < a.length; i++) { worst = Math.max(worst, Math.abs(a[i]! - b[i]!)); scale = Math.max(scale, Math.abs(b[i]!)); }
      expect(worst / Math.max(scale, 1), name).toBeLessThan(1e-4);
    }
    await ort.release();
  });
});
