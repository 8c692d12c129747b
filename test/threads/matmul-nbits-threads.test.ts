/**
 * MatMulNBits decode steps (one row on the repacked weights: gemv_q4x_i16 for accuracy_level 0,
 * gemv_q4x_i8 for accuracy_level 4; gemv_q4_f32_n4 for block 16, which the repacked kernels do not
 * take; split between 4-column groups in parallel-q4.ts) at 1, 2 and 3 threads: bit-identical
 * outputs, and the pool takes part. N = 1027 ends in a partial group.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { poolStats } from '../../src/runtime/threads/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { randomQ4 } from '../reference/q4.js';
import { rng } from '../../scripts/rng.mjs';

const K = 512, N = 1027;

function q4Model(level: number, zp: boolean, bs = 32): Uint8Array {
  const q = randomQ4(K, N, bs, zp ? 1 : 0, rng(level + (zp ? 10 : 0)));
  const inputs = ['A', 'B', 'scales', ...(zp ? ['zp'] : [])];
  return model({
    inputs: [valueInfo('A', DT.FLOAT, ['S', K])],
    outputs: [valueInfo('Y', DT.FLOAT, ['S', N])],
    initializers: [
      { name: 'B', dims: [N, q.nb, bs / 2], dataType: DT.UINT8, rawData: q.w },
      floatTensor('scales', [N * q.nb], [...q.scales]),
      ...(zp ? [{ name: 'zp', dims: [N * Math.ceil(q.nb / 2)], dataType: DT.UINT8, rawData: q.zpBytes! }] : []),
    ],
    nodes: [{ ...node('MatMulNBits', inputs, ['Y'], { K, N, bits: 4, block_size: bs, accuracy_level: level }), domain: 'com.microsoft' }],
    extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
  });
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('MatMulNBits decode at 1, 2 and 3 threads', () => {
  const sessions: InferenceSession[] = [];
  afterAll(async () => { for (const s of sessions) await s.release(); });

  for (const [level, zp, bs] of [[0, false, 32], [0, true, 64], [0, false, 16], [4, true, 32], [4, false, 32]] as const) {
    it(`accuracy_level ${level}, block ${bs}${zp ? ', uint8 zero points' : ''}: bit-identical, pool used`, async () => {
      const bytes = q4Model(level, zp, bs);
      const r = rng(3);
      const x = new Tensor('float32', Float32Array.from({ length: K }, () => 2 * r() - 1), [1, K]);
      const outs: Float32Array[] = [];
      for (const threads of [1, 2, 3]) {
        const s = await InferenceSession.create(bytes, { threads });
        sessions.push(s);
        const before = poolStats().itemsHanded;
        outs.push((await s.run({ A: x })).Y!.data as Float32Array);
        if (threads > 1) expect(poolStats().itemsHanded - before).toBeGreaterThan(0);
      }
      expect(bits(outs[1]!).equals(bits(outs[0]!))).toBe(true);
      expect(bits(outs[2]!).equals(bits(outs[0]!))).toBe(true);
    });
  }
});
