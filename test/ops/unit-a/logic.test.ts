// Comparison, boolean, bitwise, Mod and Where beyond ONNX's node tests: three-way broadcasting,
// 64-bit and float16 operands, Python- and C-style remainders, and errors that name the node.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/index.js';
import { f32, i64, runNode } from './run-node.js';

const bools = (t: Tensor) => Array.from(t.data as Uint8Array);
const half = (bits: number[], dims: number[]) => new Tensor('float16', Uint16Array.from(bits), dims);

describe('Where', () => {
  it('broadcasts condition, X and Y three ways (float32)', async () => {
    const c = new Tensor('bool', Uint8Array.of(1, 0, 1), [1, 3]);
    const x = f32([10, 20], [2, 1]);
    const y = f32([-1], []);
    const [o] = await runNode({ op: 'Where', inputs: [c, x, y] });
    expect(o!.dims).toEqual([2, 3]);
    expect(Array.from(o!.data as Float32Array)).toEqual([10, -1, 10, 20, -1, 20]);
  });
  it('moves 8-byte elements exactly (int64 beyond 2^53) and float16 bits', async () => {
    const c = new Tensor('bool', Uint8Array.of(0, 1, 1, 0), [2, 2]);
    const big = 2n ** 62n + 1n;
    const [o] = await runNode({ op: 'Where', inputs: [c, new Tensor('int64', BigInt64Array.of(big, -big), [1, 2]), i64([7], [1])] });
    expect(Array.from(o!.data as BigInt64Array)).toEqual([7n, -big, big, 7n]);
    const [h] = await runNode({ op: 'Where', inputs: [c, half([0x3c00, 0x7e00], [2]), half([0xc000], [1])] });
    expect(Array.from(h!.data as Uint16Array)).toEqual([0xc000, 0x7e00, 0x3c00, 0xc000]);
  });
  it('refuses X and Y of different types, naming the node', async () => {
    await expect(runNode({ op: 'Where', name: 'w', inputs: [new Tensor('bool', Uint8Array.of(1), [1]), f32([1], [1]), i64([1], [1])] }))
      .rejects.toThrow(/Where node 'w'.*different types/);
  });
});

/** Broadcast reference over a row-major output: operand index from the output index. */
function bcastIndex(out: number[], dims: number[], flat: number): number {
  let idx = 0, stride = 1, rem = flat;
  const pad = out.length - dims.length;
  const coords = out.map(() => 0);
  for (let i = out.length - 1; i >= 0; i--) { coords[i] = rem % out[i]!; rem = Math.floor(rem / out[i]!); }
  for (let i = dims.length - 1; i >= 0; i--) { if (dims[i] !== 1) idx += coords[i + pad]! * stride; stride *= dims[i]!; }
  return idx;
}

describe('float32 kernels and their fallbacks', () => {
  // Up to four collapsed dims run on compare_f32 / where_32; six alternating broadcast dims do not.
  const cases: [number[], number[]][] = [[[2, 3, 37], [37]], [[2, 1, 3, 1, 2, 5], [2, 4, 1, 3, 1, 5]], [[1, 12, 4, 21], [1, 1, 1, 21]]];
  const OPS: [string, (a: number, b: number) => boolean][] = [['Equal', (a, b) => a === b], ['Less', (a, b) => a < b],
    ['Greater', (a, b) => a > b], ['LessOrEqual', (a, b) => a <= b], ['GreaterOrEqual', (a, b) => a >= b]];
  for (const [ad, bd] of cases) {
    const out = ad.map((d, i) => Math.max(d, bd[i - (ad.length - bd.length)] ?? 1));
    const n = out.reduce((p, q) => p * q, 1);
    const mk = (dims: number[], seed: number) => {
      const len = dims.reduce((p, q) => p * q, 1);
      const v = Array.from({ length: len }, (_, i) => ((i * 7 + seed) % 5) - 2);
      v[0] = NaN;
      return v;
    };
    const a = mk(ad, 1), b = mk(bd, 3);
    for (const [op, f] of OPS)
      it(`${op} [${ad}] vs [${bd}] with NaN`, async () => {
        const [o] = await runNode({ op, inputs: [f32(a, ad), f32(b, bd)] });
        expect(o!.dims).toEqual(out);
        const want = Array.from({ length: n }, (_, i) => Number(f(a[bcastIndex(out, ad, i)]!, b[bcastIndex(out, bd, i)]!)));
        expect(bools(o!)).toEqual(want);
      });
    it(`Where [${ad}] ? [${bd}] : scalar`, async () => {
      const c = new Tensor('bool', Uint8Array.from(a, (v) => (v > 0 ? 1 : 0)), ad);
      const [o] = await runNode({ op: 'Where', inputs: [c, f32(b, bd), f32([0.5], [])] });
      const want = Array.from({ length: n }, (_, i) => (a[bcastIndex(out, ad, i)]! > 0 ? b[bcastIndex(out, bd, i)]! : 0.5));
      expect(Array.from(o!.data as Float32Array)).toEqual(want);
    });
  }
});

describe('comparisons', () => {
  it('Equal on int64 with broadcasting', async () => {
    const [o] = await runNode({ op: 'Equal', inputs: [i64([1, 2, 3, 4, 5, 6], [2, 3]), i64([2, 5, 6], [3])] });
    expect(o!.type).toBe('bool');
    expect(bools(o!)).toEqual([0, 0, 0, 0, 1, 1]);
  });
  it('Greater and LessOrEqual on float16, NaN compares false', async () => {
    // 1, 2, NaN, -inf vs 1.5
    const a = half([0x3c00, 0x4000, 0x7e00, 0xfc00], [4]), b = half([0x3e00], [1]);
    expect(bools((await runNode({ op: 'Greater', inputs: [a, b] }))[0]!)).toEqual([0, 1, 0, 0]);
    expect(bools((await runNode({ op: 'LessOrEqual', inputs: [a, b] }))[0]!)).toEqual([1, 0, 0, 1]);
  });
  it('Less on uint64 above 2^63', async () => {
    const a = new Tensor('uint64', BigUint64Array.of(2n ** 63n, 1n), [2]), b = new Tensor('uint64', BigUint64Array.of(1n, 2n ** 64n - 1n), [2]);
    expect(bools((await runNode({ op: 'Less', inputs: [a, b] }))[0]!)).toEqual([0, 1]);
  });
  it('refuses mixed input types, naming the node', async () => {
    await expect(runNode({ op: 'Less', name: 'lt', inputs: [f32([1], [1]), i64([1], [1])] })).rejects.toThrow(/Less node 'lt'.*different types/);
  });
  it('refuses non-bool And', async () => {
    await expect(runNode({ op: 'And', name: 'a', inputs: [f32([1], [1]), f32([1], [1])] })).rejects.toThrow(/And node 'a'.*float32/);
  });
});

describe('IsInf, IsNaN, Not', () => {
  it('IsInf honours detect_positive / detect_negative on float64', async () => {
    const x = new Tensor('float64', Float64Array.of(Infinity, -Infinity, NaN, 1), [4]);
    expect(bools((await runNode({ op: 'IsInf', inputs: [x] }))[0]!)).toEqual([1, 1, 0, 0]);
    expect(bools((await runNode({ op: 'IsInf', inputs: [x], attrs: { detect_positive: 0 } }))[0]!)).toEqual([0, 1, 0, 0]);
    expect(bools((await runNode({ op: 'IsNaN', inputs: [x] }))[0]!)).toEqual([0, 0, 1, 0]);
  });
  it('Not flips bools', async () => {
    expect(bools((await runNode({ op: 'Not', inputs: [new Tensor('bool', Uint8Array.of(1, 0), [2])] }))[0]!)).toEqual([0, 1]);
  });
});

describe('Mod, BitShift, bitwise', () => {
  it('fmod = 0 takes the sign of the divisor, fmod = 1 of the dividend (int32 and int64)', async () => {
    const a = [-7, 7, -7, 7, 6], b = [3, -3, -3, 3, 3];
    const i32 = (v: number[]) => new Tensor('int32', Int32Array.from(v), [v.length]);
    expect(Array.from((await runNode({ op: 'Mod', inputs: [i32(a), i32(b)] }))[0]!.data as Int32Array)).toEqual([2, -2, -1, 1, 0]);
    expect(Array.from((await runNode({ op: 'Mod', inputs: [i32(a), i32(b)], attrs: { fmod: 1 } }))[0]!.data as Int32Array)).toEqual([-1, 1, -1, 1, 0]);
    expect(Array.from((await runNode({ op: 'Mod', inputs: [i64(a, [5]), i64(b, [5])] }))[0]!.data as BigInt64Array)).toEqual([2n, -2n, -1n, 1n, 0n]);
  });
  it('refuses fmod = 0 on floats', async () => {
    await expect(runNode({ op: 'Mod', name: 'm', inputs: [f32([1], [1]), f32([1], [1])] })).rejects.toThrow(/Mod node 'm'.*fmod must be 1/);
  });
  it('BitShift needs a direction and shifts uint64 exactly', async () => {
    const u = (v: bigint[]) => new Tensor('uint64', BigUint64Array.from(v), [v.length]);
    const [o] = await runNode({ op: 'BitShift', inputs: [u([1n, 2n ** 63n]), u([63n, 1n])], attrs: { direction: 'LEFT' } });
    expect(Array.from(o!.data as BigUint64Array)).toEqual([2n ** 63n, 0n]);
    await expect(runNode({ op: 'BitShift', name: 'bs', inputs: [u([1n]), u([1n])] })).rejects.toThrow(/BitShift node 'bs'.*direction/);
    await expect(runNode({ op: 'BitShift', name: 'bs', inputs: [u([1n]), u([1n])], attrs: { direction: 'UP' } })).rejects.toThrow(/'direction'.*UP/);
  });
  it('BitShift by the full width empties a uint32', async () => {
    const u = (v: number[]) => new Tensor('uint32', Uint32Array.from(v), [v.length]);
    const [o] = await runNode({ op: 'BitShift', inputs: [u([0xffffffff, 0x80000000]), u([32, 31])], attrs: { direction: 'RIGHT' } });
    expect(Array.from(o!.data as Uint32Array)).toEqual([0, 1]);
  });
  it('BitwiseNot on uint64 and BitwiseXor on int8 with broadcasting', async () => {
    const [n] = await runNode({ op: 'BitwiseNot', inputs: [new Tensor('uint64', BigUint64Array.of(0n), [1])] });
    expect(Array.from(n!.data as BigUint64Array)).toEqual([2n ** 64n - 1n]);
    const [x] = await runNode({ op: 'BitwiseXor', inputs: [new Tensor('int8', Int8Array.of(-1, 5, 0, 127), [2, 2]), new Tensor('int8', Int8Array.of(1, -128), [2])] });
    expect(Array.from(x!.data as Int8Array)).toEqual([-2, -123, 1, -1]);
  });
});
