/**
 * com.microsoft FusedMatMul (alpha, transA, transB, transBatchA, transBatchB) against
 * onnxruntime-web, with constant and fed B, batch broadcasting and vectors; the tessera-domain
 * FusedMatMul (the GEMM with an activation epilogue) is a different op and stays untouched.
 */
import { describe, expect, it } from 'vitest';
import { TesseraError } from '../../../src/api/errors.js';
import { f32, feedsOf, konst, msModel, runTessera, worstVsOrt, type MsSpec } from './encoder-harness.js';

const cases: [string, number[], number[], Record<string, number>, boolean][] = [
  ['plain 2-D, alpha 0.5', [7, 9], [9, 5], { alpha: 0.5 }, true],
  ['transB (a Linear weight), fed B', [7, 9], [5, 9], { transB: 1 }, false],
  ['transA and transB', [9, 7], [5, 9], { transA: 1, transB: 1, alpha: 1.5 }, true],
  ['batched A, 2-D B folded into one GEMM', [2, 3, 7, 9], [9, 11], {}, true],
  ['batched both, B broadcast over the first axis', [2, 3, 7, 9], [1, 3, 9, 5], { alpha: 0.125 }, false],
  ['transA on a batch', [3, 9, 7], [3, 9, 5], { transA: 1 }, false],
  ['transBatchA: [M, b, K] read as [b, M, K]', [7, 3, 9], [3, 9, 5], { transBatchA: 1 }, false],
  ['transBatchA with transA: [K, b, M]', [9, 3, 7], [3, 9, 5], { transBatchA: 1, transA: 1 }, true],
  ['transBatchB with transB: [N, b, K] (attention scores)', [2, 3, 7, 9], [5, 2, 3, 9], { transBatchB: 1, transB: 1, alpha: 0.25 }, false],
  ['transBatchB without transB, constant', [3, 7, 9], [9, 3, 5], { transBatchB: 1 }, true],
  ['A a vector', [9], [2, 9, 5], {}, false],
  ['B a vector', [2, 7, 9], [9], { alpha: 2.5 }, true],
];

describe('com.microsoft FusedMatMul vs onnxruntime-web', () => {
  for (const [name, ad, bd, attrs, constB] of cases) {
    it(name, async () => {
      const b = f32(bd, 2);
      const spec: MsSpec = { op: 'FusedMatMul', inputs: [f32(ad, 1), constB ? konst(b) : b], attrs };
      expect((await worstVsOrt(spec)).out0).toBeLessThan(1e-5);
    });
  }

  it('bad attributes and shapes name the node', async () => {
    const run = (spec: MsSpec) => runTessera(msModel(spec), feedsOf(spec)).then(() => undefined, (e: unknown) => e as TesseraError);
    const e1 = await run({ op: 'FusedMatMul', inputs: [f32([2, 3], 1), f32([3, 2], 2)], attrs: { transA: 2 }, name: 'fm' });
    expect(e1).toBeInstanceOf(TesseraError);
    expect(e1!.code).toBe('INVALID_ATTRIBUTE');
    expect(e1!.message).toMatch(/'fm'.*'transA'/);
    const e2 = await run({ op: 'FusedMatMul', inputs: [f32([2, 3], 1), f32([2, 3], 2)], name: 'fm2' });
    expect(e2!.code).toBe('SHAPE_MISMATCH');
    expect(e2!.message).toContain("'fm2'");
    const e4 = await run({ op: 'FusedMatMul', inputs: [f32([3, 2, 4], 1), f32([4, 5], 2)], attrs: { transBatchA: 1 }, name: 'fm4' });
    expect(e4!.code).toBe('SHAPE_MISMATCH');
    expect(e4!.message).toMatch(/'fm4'.*same rank/);
    const e3 = await run({ op: 'FusedMatMul', inputs: [f32([2, 3], 1), f32([3, 2], 2)], attrs: { activation: 'Relu' }, name: 'fm3' });
    expect(e3!.code).toBe('INVALID_ATTRIBUTE');
    expect(e3!.message).toMatch(/'fm3'.*'activation'/);
  });
});
