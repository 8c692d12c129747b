/**
 * What ONNX's node tests do not cover: errors that name the node and attribute, plans keyed by fed
 * values (NonZero, ConstantOfShape), string ops fed at run time, and dtypes beyond the tests.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { DT, model, node, valueInfo } from '../../helpers/onnx-builder.js';

type Attrs = Parameters<typeof node>[3];

async function session(op: string, inputs: [string, number, number[]][], outs: number, attrs: Attrs = {}, opset = 18) {
  return InferenceSession.create(model({
    nodes: [node(op, inputs.map(([n]) => n), Array.from({ length: outs }, (_, i) => `y${i}`), attrs, 'n1')],
    inputs: inputs.map(([n, t, d]) => valueInfo(n, t, d)),
    outputs: Array.from({ length: outs }, (_, i) => valueInfo(`y${i}`, 0)),
    opset,
  }));
}

const f32 = (data: number[], dims: number[]) => new Tensor('float32', Float32Array.from(data), dims);
const i64 = (data: number[], dims: number[]) => new Tensor('int64', BigInt64Array.from(data, BigInt), dims);

describe('errors name the node and the attribute', () => {
  it('Split: num_outputs that disagrees with the node', async () => {
    const s = await session('Split', [['x', DT.FLOAT, [4]]], 2, { num_outputs: 3 });
    await expect(s.run({ x: f32([1, 2, 3, 4], [4]) })).rejects.toThrow(/Split node 'n1': attribute 'num_outputs' is 3 but the node has 2 outputs/);
    await s.release();
  });

  it('Split: sizes that do not add up', async () => {
    const s = await session('Split', [['x', DT.FLOAT, [4]], ['split', DT.INT64, [2]]], 2);
    await expect(s.run({ x: f32([1, 2, 3, 4], [4]), split: i64([1, 2], [2]) })).rejects.toThrow(/Split node 'n1': split \[1,2\] does not add up to the axis size 4/);
    await s.release();
  });

  it('ConstantOfShape: a value with more than one element', async () => {
    const s = await session('ConstantOfShape', [['shape', DT.INT64, [1]]], 1, { value: { name: 'v', dims: [2], dataType: DT.FLOAT, floatData: [1, 2] } });
    await expect(s.run({ shape: i64([3], [1]) })).rejects.toThrow(/ConstantOfShape node 'n1': attribute 'value' must hold exactly one element/);
    await s.release();
  });

  it('ScatterElements: a reduction the opset does not have', async () => {
    const s = await session('ScatterElements', [['x', DT.FLOAT, [3]], ['i', DT.INT64, [1]], ['u', DT.FLOAT, [1]]], 1, { reduction: 'max' }, 16);
    await expect(s.run({ x: f32([1, 2, 3], [3]), i: i64([0], [1]), u: f32([5], [1]) }))
      .rejects.toThrow(/ScatterElements node 'n1': attribute 'reduction' value 'max' is not supported \(expected one of 'none', 'add', 'mul'\)/);
    await s.release();
  });

  it('GatherElements: an index out of range names the node', async () => {
    const s = await session('GatherElements', [['x', DT.FLOAT, [3]], ['i', DT.INT64, [1]]], 1);
    await expect(s.run({ x: f32([1, 2, 3], [3]), i: i64([3], [1]) })).rejects.toThrow(/GatherElements node 'n1': index 3 is out of range for axis 0 of size 3/);
    await s.release();
  });

  it('Trilu: upper must be 0 or 1', async () => {
    const s = await session('Trilu', [['x', DT.FLOAT, [2, 2]]], 1, { upper: 2 });
    await expect(s.run({ x: f32([1, 2, 3, 4], [2, 2]) })).rejects.toThrow(/Trilu node 'n1': attribute 'upper' must be 0 or 1, got 2/);
    await s.release();
  });
});

describe('plans keyed by fed values', () => {
  it('NonZero of a feed: one plan per value, each right', async () => {
    const s = await session('NonZero', [['x', DT.FLOAT, [2, 2]]], 1);
    const a = await s.run({ x: f32([1, 0, 0, 1], [2, 2]) });
    const b = await s.run({ x: f32([0, 1, 1, 1], [2, 2]) });
    const a2 = await s.run({ x: f32([1, 0, 0, 1], [2, 2]) });
    expect(a.y0!.dims).toEqual([2, 2]);
    expect(Array.from(a.y0!.data as BigInt64Array, Number)).toEqual([0, 1, 0, 1]);
    expect(b.y0!.dims).toEqual([2, 3]);
    expect(Array.from(b.y0!.data as BigInt64Array, Number)).toEqual([0, 1, 1, 1, 0, 1]);
    expect(Array.from(a2.y0!.data as BigInt64Array, Number)).toEqual([0, 1, 0, 1]);
    await s.release();
  });

  it('string ops read fed strings at plan time; separators in strings do not alias plans', async () => {
    const s = await session('StringConcat', [['a', DT.STRING, [2]], ['b', DT.STRING, [1]]], 1, {}, 20);
    const b = new Tensor('string', ['!'], [1]);
    const r1 = await s.run({ a: new Tensor('string', ['x,y', 'z'], [2]), b });
    const r2 = await s.run({ a: new Tensor('string', ['x', 'y,z'], [2]), b });
    expect(r1.y0!.data).toEqual(['x,y!', 'z!']);
    expect(r2.y0!.data).toEqual(['x!', 'y,z!']);
    await s.release();
  });
});

describe('dtypes beyond the node tests', () => {
  it('Tile and Expand on bool and int64', async () => {
    const s = await session('Tile', [['x', DT.BOOL, [2]], ['r', DT.INT64, [1]]], 1);
    const r = await s.run({ x: new Tensor('bool', Uint8Array.of(1, 0), [2]), r: i64([3], [1]) });
    expect(Array.from(r.y0!.data as Uint8Array)).toEqual([1, 0, 1, 0, 1, 0]);
    await s.release();
    const e = await session('Expand', [['x', DT.INT64, [2, 1]], ['shape', DT.INT64, [2]]], 1);
    const re = await e.run({ x: i64([-(2 ** 40), 7], [2, 1]), shape: i64([2, 2], [2]) });
    expect(Array.from(re.y0!.data as BigInt64Array)).toEqual([-(2n ** 40n), -(2n ** 40n), 7n, 7n]);
    await e.release();
  });

  it('Sum over three int64 inputs with broadcasting; Mean of one', async () => {
    const s = await session('Sum', [['a', DT.INT64, [2]], ['b', DT.INT64, [1]], ['c', DT.INT64, [2, 1]]], 1, {}, 13);
    // Sum is float-only in ONNX; tessera refuses int64 loudly.
    await expect(s.run({ a: i64([1, 2], [2]), b: i64([10], [1]), c: i64([100, 200], [2, 1]) })).rejects.toThrow(/Sum node 'n1'.*int64/);
    await s.release();
    const m = await session('Max', [['a', DT.INT64, [2]], ['b', DT.INT64, [1]], ['c', DT.INT64, [2, 1]]], 1, {}, 13);
    const r = await m.run({ a: i64([1, 20], [2]), b: i64([10], [1]), c: i64([5, 200], [2, 1]) });
    expect(r.y0!.dims).toEqual([2, 2]);
    expect(Array.from(r.y0!.data as BigInt64Array, Number)).toEqual([10, 20, 200, 200]);
    await m.release();
    const one = await session('Mean', [['a', DT.FLOAT, [2]]], 1, {}, 13);
    expect(Array.from((await one.run({ a: f32([1, 3], [2]) })).y0!.data as Float32Array)).toEqual([1, 3]);
    await one.release();
  });
});

describe('string tensors through the data-movement ops', () => {
  const strs = new Tensor('string', ['a', 'b', 'c', 'd', 'e', 'f'], [2, 3]);
  it('Transpose, Slice, Gather, Reshape and Identity of a fed string tensor', async () => {
    const t = await session('Transpose', [['x', DT.STRING, [2, 3]]], 1, { perm: [1, 0] }, 13);
    expect((await t.run({ x: strs })).y0!.data).toEqual(['a', 'd', 'b', 'e', 'c', 'f']);
    await t.release();
    const sl = await session('Slice', [['x', DT.STRING, [2, 3]], ['s', DT.INT64, [1]], ['e', DT.INT64, [1]], ['ax', DT.INT64, [1]]], 1, {}, 13);
    expect((await sl.run({ x: strs, s: i64([1], [1]), e: i64([3], [1]), ax: i64([1], [1]) })).y0!.data).toEqual(['b', 'c', 'e', 'f']);
    await sl.release();
    const g = await session('Gather', [['x', DT.STRING, [2, 3]], ['i', DT.INT64, [2]]], 1, { axis: 1 }, 13);
    const rg = await g.run({ x: strs, i: i64([2, -3], [2]) });
    expect(rg.y0!.dims).toEqual([2, 2]);
    expect(rg.y0!.data).toEqual(['c', 'a', 'f', 'd']);
    await g.release();
    const id = await session('Identity', [['x', DT.STRING, [2, 3]]], 1, {}, 13);
    expect((await id.run({ x: strs })).y0!.data).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    await id.release();
  });
});
