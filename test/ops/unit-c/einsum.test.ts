/**
 * Einsum: the float32 batched-GEMM path against the general loop (run in float64 on the same
 * numbers), and equation errors naming the node and attribute.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { DT, model, node, valueInfo } from '../../helpers/onnx-builder.js';

function rand(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s / 2 ** 32) * 2 - 1; });
}

async function einsum(equation: string, ins: Tensor[], name = 'e'): Promise<Tensor> {
  const elem = ins[0]!.type === 'float32' ? DT.FLOAT : DT.DOUBLE;
  const s = await InferenceSession.create(model({
    nodes: [node('Einsum', ins.map((_, i) => `x${i}`), ['y'], { equation }, name)],
    inputs: ins.map((t, i) => valueInfo(`x${i}`, elem, [...t.dims])),
    outputs: [valueInfo('y', elem)],
    opset: 12,
  }));
  try {
    const feeds: Record<string, Tensor> = {};
    ins.forEach((t, i) => { feeds[`x${i}`] = t; });
    return (await s.run(feeds)).y!;
  } finally {
    await s.release();
  }
}

const cases: [string, number[][]][] = [
  ['ij,jk->ik', [[5, 7], [7, 9]]],
  ['ij,kj->ik', [[4, 3], [6, 3]]],
  ['bij,bjk->bik', [[2, 3, 4], [2, 4, 5]]],
  ['bhid,bhjd->bhij', [[2, 3, 5, 4], [2, 3, 6, 4]]],
  ['bij,jk->bki', [[2, 3, 4], [4, 5]]],
  ['i,i->', [[7], [7]]],
  ['i,j->ij', [[3], [4]]],
  ['ij,jk', [[3, 2], [2, 4]]],
];

describe('Einsum', () => {
  for (const [eq, shapes] of cases) {
    it(`float32 GEMM path matches the general loop: ${eq}`, async () => {
      const data = shapes.map((d, i) => rand(d.reduce((a, b) => a * b, 1), 7 + i));
      const f = await einsum(eq, shapes.map((d, i) => new Tensor('float32', Float32Array.from(data[i]!), d)));
      const r = await einsum(eq, shapes.map((d, i) => new Tensor('float64', Float64Array.from(Float32Array.from(data[i]!)), d)));
      expect(f.dims).toEqual(r.dims);
      const got = f.data as Float32Array, want = r.data as Float64Array;
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(want[i]!)));
    });
  }

  it('diagonals and sums inside one operand run the general loop in float32 too', async () => {
    const x = new Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), [3, 3]);
    expect(Array.from((await einsum('ii->i', [x])).data as Float32Array)).toEqual([1, 5, 9]);
    expect(Array.from((await einsum('ij->', [x])).data as Float32Array)).toEqual([45]);
  });

  it('names the node and the attribute for a malformed equation', async () => {
    const x = new Tensor('float32', Float32Array.of(1, 2), [2]);
    await expect(einsum('ij->i', [x], 'bad')).rejects.toThrow(/Einsum node 'bad': attribute 'equation' 'ij->i': operand 0 has 2 labels but rank 1/);
    await expect(einsum('i->k', [x], 'bad')).rejects.toThrow(/attribute 'equation'.*output label 'k' appears in no operand/);
  });
});
