// Reductions and ArgMax/ArgMin beyond ONNX's node tests: keepdims = 0 over every axis, separated
// and negative axes, the float32 kernel paths against a float64 reference, opset-dependent axes,
// and errors that name the node.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/index.js';
import { f32, i64, rand, runNode } from './run-node.js';

/** Float64 reference of a reduction over `axes` of a row-major tensor. */
function reference(x: number[], dims: number[], axes: number[], f: (v: number[]) => number): { data: number[]; dims: number[] } {
  const keptDims = dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  const st = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const ost = keptDims.map((_, i) => keptDims.slice(i + 1).reduce((a, b) => a * b, 1));
  x.forEach((v, flat) => {
    let o = 0;
    dims.forEach((_, i) => { const idx = Math.floor(flat / st[i]!) % dims[i]!; if (!axes.includes(i)) o += idx * ost[i]!; });
    (groups.get(o) ?? groups.set(o, []).get(o)!).push(v);
  });
  const n = keptDims.reduce((a, b) => a * b, 1);
  return { data: Array.from({ length: n }, (_, o) => f(groups.get(o) ?? [])), dims: keptDims };
}

const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const KINDS: [string, (v: number[]) => number][] = [
  ['ReduceSum', sum],
  ['ReduceMean', (v) => sum(v) / v.length],
  ['ReduceMax', (v) => Math.max(...v)],
  ['ReduceMin', (v) => Math.min(...v)],
  ['ReduceProd', (v) => v.reduce((a, b) => a * b, 1)],
  ['ReduceL1', (v) => sum(v.map(Math.abs))],
  ['ReduceL2', (v) => Math.sqrt(sum(v.map((e) => e * e)))],
  ['ReduceSumSquare', (v) => sum(v.map((e) => e * e))],
  ['ReduceLogSumExp', (v) => Math.log(sum(v.map(Math.exp)))],
];

function close(got: ArrayLike<number>, want: number[], rtol = 1e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `element ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(1e-5 + rtol * Math.abs(want[i]!));
}

describe('reductions, float32', () => {
  const shapes: [number[], number[]][] = [
    [[4, 768], [1]], // LayerNorm-style: last axis, kernel rows
    [[2, 5, 19], [1]], // middle axis, kernel columns with a remainder
    [[3, 37], [0]], // first axis
    [[2, 3, 4, 5], [0, 2]], // separated axes: the JavaScript offset path
    [[2, 3, 4], [-1, -2]], // negative axes
  ];
  for (const [op, f] of KINDS)
    for (const [dims, axes] of shapes)
      it(`${op} [${dims}] over [${axes}]`, async () => {
        const n = dims.reduce((a, b) => a * b, 1);
        const x = rand(n, n).map((v) => (op === 'ReduceProd' ? 1 + v / 20 : v));
        const [y] = await runNode({ op, inputs: [f32(x, dims), { const: i64(axes, [axes.length]) }] });
        const want = reference(x, dims, axes.map((a) => (a < 0 ? a + dims.length : a)), f);
        expect(y!.dims).toEqual(want.dims);
        close(y!.data as Float32Array, want.data, 1e-4);
      });

  it('keepdims = 0 over every axis gives a scalar', async () => {
    const [y] = await runNode({ op: 'ReduceMean', inputs: [f32([1, 2, 3, 4, 5, 6], [2, 3])], attrs: { keepdims: 0 } });
    expect(y!.dims).toEqual([]);
    close(y!.data as Float32Array, [3.5]);
  });

  it('noop_with_empty_axes and no axes returns the input', async () => {
    const [y] = await runNode({ op: 'ReduceSum', inputs: [f32([1, 2, 3, 4], [2, 2])], attrs: { noop_with_empty_axes: 1 } });
    expect(y!.dims).toEqual([2, 2]);
    close(y!.data as Float32Array, [1, 2, 3, 4]);
  });

  it('axes is an attribute before opset 18 (ReduceMean) and 13 (ReduceSum)', async () => {
    const x = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    const [m] = await runNode({ op: 'ReduceMean', inputs: [x], attrs: { axes: [-1], keepdims: 0 }, opset: 13 });
    close(m!.data as Float32Array, [2, 5]);
    const [s] = await runNode({ op: 'ReduceSum', inputs: [x], attrs: { axes: [0] }, opset: 11 });
    expect(s!.dims).toEqual([1, 3]);
    close(s!.data as Float32Array, [5, 7, 9]);
  });

  it('empty sets give each reduction its identity', async () => {
    const x = f32([], [2, 0]);
    const axes = { const: i64([1], [1]) };
    const got = async (op: string) => Array.from((await runNode({ op, inputs: [x, axes], attrs: { keepdims: 0 } }))[0]!.data as Float32Array);
    expect(await got('ReduceSum')).toEqual([0, 0]);
    expect(await got('ReduceProd')).toEqual([1, 1]);
    expect(await got('ReduceMax')).toEqual([-Infinity, -Infinity]);
    expect(await got('ReduceMin')).toEqual([Infinity, Infinity]);
    expect(await got('ReduceLogSum')).toEqual([-Infinity, -Infinity]);
  });
});

describe('reductions, other dtypes', () => {
  it('int64 sums stay exact beyond 2^53', async () => {
    const big = 2n ** 60n;
    const x = new Tensor('int64', BigInt64Array.of(big, 1n, big, 3n), [2, 2]);
    const [y] = await runNode({ op: 'ReduceSum', inputs: [x, { const: i64([0], [1]) }] });
    expect(Array.from(y!.data as BigInt64Array)).toEqual([2n * big, 4n]);
  });

  it('int32 max over separated axes', async () => {
    const x = new Tensor('int32', Int32Array.from({ length: 24 }, (_, i) => (i * 7) % 11 - 5), [2, 3, 4]);
    const [y] = await runNode({ op: 'ReduceMax', inputs: [x, { const: i64([0, 2], [2]) }], attrs: { keepdims: 0 } });
    const want = reference(Array.from(x.data as Int32Array), [2, 3, 4], [0, 2], (v) => Math.max(...v));
    expect(Array.from(y!.data as Int32Array)).toEqual(want.data);
  });

  it('ReduceLogSumExp subtracts the max: no overflow at 1000', async () => {
    const x = new Tensor('float64', Float64Array.of(1000, 1000, -1000, -1000), [2, 2]);
    const [y] = await runNode({ op: 'ReduceLogSumExp', inputs: [x, { const: i64([1], [1]) }], attrs: { keepdims: 0 } });
    close(y!.data as Float64Array, [1000 + Math.log(2), -1000 + Math.log(2)]);
  });

  it('float16 ReduceMean reads and writes half bits', async () => {
    // [1, 2, 3, 4] in half precision → means 1.5 and 3.5.
    const x = new Tensor('float16', Uint16Array.of(0x3c00, 0x4000, 0x4200, 0x4400), [2, 2]);
    const [y] = await runNode({ op: 'ReduceMean', inputs: [x, { const: i64([1], [1]) }], attrs: { keepdims: 0 } });
    expect(Array.from(y!.data as Uint16Array)).toEqual([0x3e00, 0x4300]);
  });

  it('bool ReduceMin is "all"', async () => {
    const x = new Tensor('bool', Uint8Array.of(1, 1, 1, 0), [2, 2]);
    const [y] = await runNode({ op: 'ReduceMin', inputs: [x, { const: i64([1], [1]) }], opset: 20 });
    expect(y!.type).toBe('bool');
    expect(Array.from(y!.data as Uint8Array)).toEqual([1, 0]);
  });
});

describe('reduction errors name the node', () => {
  it('refuses the axes attribute where axes is an input', async () => {
    await expect(runNode({ op: 'ReduceSum', name: 'rs', inputs: [f32([1, 2], [2])], attrs: { axes: [0] }, opset: 13 }))
      .rejects.toThrow(/ReduceSum node 'rs'.*attribute 'axes'/);
  });
  it('refuses an axis out of range', async () => {
    await expect(runNode({ op: 'ReduceMean', name: 'rm', inputs: [f32([1, 2], [2]), { const: i64([2], [1]) }] }))
      .rejects.toThrow(/ReduceMean node 'rm'.*out of range/);
  });
  it('refuses repeated axes', async () => {
    await expect(runNode({ op: 'ReduceMax', name: 'mx', inputs: [f32([1, 2], [1, 2]), { const: i64([1, -1], [2]) }] }))
      .rejects.toThrow(/ReduceMax node 'mx'.*repeat/);
  });
});

describe('ArgMax / ArgMin', () => {
  const x = f32([3, 1, 3, 2, 0, 0, 5, 5], [2, 4]);
  it('first index of a tie by default, last with select_last_index', async () => {
    const [a] = await runNode({ op: 'ArgMax', inputs: [x], attrs: { axis: -1 } });
    expect(a!.dims).toEqual([2, 1]);
    expect(Array.from(a!.data as BigInt64Array)).toEqual([0n, 2n]);
    const [b] = await runNode({ op: 'ArgMax', inputs: [x], attrs: { axis: 1, keepdims: 0, select_last_index: 1 } });
    expect(b!.dims).toEqual([2]);
    expect(Array.from(b!.data as BigInt64Array)).toEqual([2n, 3n]);
    const [c] = await runNode({ op: 'ArgMin', inputs: [x], attrs: { axis: 1, keepdims: 0, select_last_index: 1 } });
    expect(Array.from(c!.data as BigInt64Array)).toEqual([1n, 1n]);
  });
  it('over the first axis of int64', async () => {
    const [a] = await runNode({ op: 'ArgMin', inputs: [i64([4, -9, 2, 7, -9, 1], [2, 3])], attrs: { axis: 0 } });
    expect(Array.from(a!.data as BigInt64Array)).toEqual([0n, 0n, 1n]);
  });
  it('NaN wins, as in numpy', async () => {
    const [a] = await runNode({ op: 'ArgMax', inputs: [f32([1, NaN, 5], [3])], attrs: { keepdims: 0 } });
    expect(Array.from(a!.data as BigInt64Array)).toEqual([1n]);
  });
  it('refuses select_last_index before opset 12', async () => {
    await expect(runNode({ op: 'ArgMax', name: 'am', inputs: [x], attrs: { select_last_index: 1 }, opset: 11 }))
      .rejects.toThrow(/ArgMax node 'am'.*select_last_index/);
  });
});
