// com.microsoft GatherBlockQuantized against onnxruntime-web: int4, uint4 and uint8 (bits 4 and 8)
// tables, with and without zero points, gather and quantize axes, int32/int64 indices.
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { expectClose, msModel, rand, runBoth } from './ms-node.js';

function ints(n: number, seed: number, lo: number, hi: number): number[] {
  return Array.from(rand(n, seed, lo, hi + 1), (v) => Math.floor(v));
}

interface Case { name: string; type: 'int4' | 'uint4' | 'uint8'; bits?: number; dims: number[]; block: number; gAxis?: number; qAxis?: number; zp: boolean; idx: number[]; idx64?: boolean }

const cases: Case[] = [
  { name: 'uint4 [vocab 10, 64], block 32, zero points', type: 'uint4', dims: [10, 64], block: 32, zp: true, idx: [3, 0, 9, 3] },
  { name: 'uint4 without zero points', type: 'uint4', dims: [6, 32], block: 16, zp: false, idx: [5, 1] },
  { name: 'int4, zero points, int64 indices incl. negative', type: 'int4', dims: [8, 48], block: 16, zp: true, idx: [-1, 2, 7], idx64: true },
  { name: 'int4 without zero points', type: 'int4', dims: [8, 32], block: 32, zp: false, idx: [0, 4] },
  { name: 'uint8 bits 4 (packed), odd number of blocks, zero points', type: 'uint8', bits: 4, dims: [7, 48], block: 16, zp: true, idx: [6, 2, 2] },
  { name: 'uint8 bits 4 without zero points', type: 'uint8', bits: 4, dims: [5, 32], block: 32, zp: false, idx: [4] },
  { name: 'uint8 bits 8, zero points', type: 'uint8', bits: 8, dims: [6, 64], block: 32, zp: true, idx: [1, 5] },
  { name: 'quantize axis 0, gather axis 1', type: 'uint4', dims: [32, 6], block: 16, gAxis: 1, qAxis: 0, zp: true, idx: [5, 0] },
];

describe('com.microsoft GatherBlockQuantized vs onnxruntime-web', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const per = c.type === 'uint8' && c.bits === 4 ? 2 : 1;
      const logical = c.dims, rank = logical.length, qAxis = c.qAxis ?? 1;
      const stored = logical.map((d, i) => (i === rank - 1 ? d / per : d));
      const n = stored.reduce((a, b) => a * b, 1);
      const [lo, hi] = c.type === 'int4' ? [-8, 7] : c.type === 'uint4' || per === 2 ? [0, 15] : [0, 255];
      const dataVals = per === 2 ? ints(n, 1, 0, 255) : ints(n, 1, lo, hi);
      const data = new Tensor(c.type, c.type === 'int4' ? Int8Array.from(dataVals) : Uint8Array.from(dataVals), stored);
      const sDims = logical.map((d, i) => (i === qAxis ? Math.ceil(d / c.block) : d));
      const sn = sDims.reduce((a, b) => a * b, 1);
      const scales = new Tensor('float32', rand(sn, 2, 0.01, 0.2), sDims);
      const inputs = [{ const: data }, new Tensor(c.idx64 ? 'int64' : 'int32', c.idx64 ? BigInt64Array.from(c.idx, BigInt) : Int32Array.from(c.idx), [c.idx.length]), { const: scales }] as Parameters<typeof runBoth>[1][number][];
      if (c.zp) {
        const zDims = sDims.map((d, i) => (per === 2 && i === rank - 1 ? Math.ceil(d / 2) : d));
        const zn = zDims.reduce((a, b) => a * b, 1);
        const zv = per === 2 ? ints(zn, 3, 0, 255) : ints(zn, 3, lo, hi);
        inputs.push({ const: new Tensor(c.type, c.type === 'int4' ? Int8Array.from(zv) : Uint8Array.from(zv), zDims) });
      }
      const attrs: Record<string, number> = { block_size: c.block, gather_axis: c.gAxis ?? 0, quantize_axis: qAxis };
      if (c.bits) attrs.bits = c.bits;
      const [mine, ref] = await runBoth('GatherBlockQuantized', inputs, attrs, 1);
      expectClose(mine[0]!, ref[0]!, 'output', 0, 0);
    });
  }

  it('refuses an index out of range and a bad block_size, naming the node', async () => {
    const data = new Tensor('uint4', new Uint8Array(64), [2, 32]), scales = new Tensor('float32', new Float32Array(2), [2, 1]);
    const idx = new Tensor('int32', Int32Array.of(2), [1]);
    const s = await InferenceSession.create(msModel('GatherBlockQuantized', [{ const: data }, idx, { const: scales }], { block_size: 32 }, 1));
    await expect(s.run({ in1: idx })).rejects.toMatchObject({ code: 'INVALID_FEED', message: expect.stringMatching(/GatherBlockQuantized node 'n'.*index 2/) });
    await s.release();
    const t = await InferenceSession.create(msModel('GatherBlockQuantized', [{ const: data }, idx, { const: scales }], { block_size: 24 }, 1));
    await expect(t.run({ in1: idx })).rejects.toMatchObject({ code: 'INVALID_ATTRIBUTE', message: expect.stringMatching(/'n'.*block_size/) });
    await t.release();
  });
});
