/**
 * com.microsoft SkipLayerNormalization against onnxruntime-web: with and without beta and bias,
 * skip broadcast over the batch, 2-D input, the input_skip_bias_sum output; mean and inv_std_var
 * (training outputs) against a float64 reference from the same sums.
 */
import { describe, expect, it } from 'vitest';
import { TesseraError } from '../../../src/api/errors.js';
import { f32, feedsOf, konst, msModel, runTessera, worstVsOrt, type In, type MsSpec } from './encoder-harness.js';

const [B, S, H] = [2, 5, 37];
const x = f32([B, S, H], 1, -3, 3), skip = f32([B, S, H], 2, -3, 3), gamma = konst(f32([H], 3, 0.5, 1.5));
const beta = konst(f32([H], 4)), bias = konst(f32([H], 5));

describe('com.microsoft SkipLayerNormalization vs onnxruntime-web', () => {
  const cases: [string, In[], string[], Record<string, number>?][] = [
    ['input + skip, gamma and beta (one add_layernorm pass)', [x, skip, gamma, beta], ['out0']],
    ['no beta, epsilon 1e-5', [x, skip, gamma], ['out0'], { epsilon: 1e-5 }],
    ['with bias', [x, skip, gamma, beta, bias], ['out0']],
    ['bias, no beta, and the sum output', [x, skip, gamma, '', bias], ['out0', '', '', 'out3']],
    ['sum output without bias', [x, skip, gamma, beta], ['out0', '', '', 'out3']],
    ['skip [1, S, H] broadcast over the batch', [x, f32([1, S, H], 6), gamma, beta, bias], ['out0', '', '', 'out3']],
    ['skip [S, H] broadcast over the batch', [x, f32([S, H], 7), gamma, beta], ['out0']],
    ['2-D input [tokens, hidden]', [f32([7, H], 8), f32([7, H], 9), gamma, beta, bias], ['out0']],
  ];
  for (const [name, inputs, outputs, attrs] of cases) {
    it(name, async () => {
      const w = await worstVsOrt({ op: 'SkipLayerNormalization', inputs, outputs, attrs });
      for (const v of Object.values(w)) expect(v).toBeLessThan(1e-5);
    });
  }

  it('mean and inv_std_var match a float64 reference', async () => {
    const spec: MsSpec = { op: 'SkipLayerNormalization', inputs: [x, skip, gamma, beta, bias], outputs: ['out0', 'mean', 'inv', 'sum'] };
    const r = await runTessera(msModel(spec), feedsOf(spec));
    expect([...r.mean!.dims]).toEqual([B, S, 1]);
    const X = x.data as Float32Array, K = skip.data as Float32Array, Bi = bias.const.data as Float32Array;
    const mean = r.mean!.data as Float32Array, inv = r.inv!.data as Float32Array;
    for (let row = 0; row < B * S; row++) {
      let m = 0, v = 0;
      const s = Array.from({ length: H }, (_, i) => X[row * H + i]! + K[row * H + i]! + Bi[i]!);
      for (const e of s) m += e;
      m /= H;
      for (const e of s) v += (e - m) ** 2;
      expect(Math.abs(mean[row]! - m)).toBeLessThan(1e-5);
      expect(Math.abs(inv[row]! - 1 / Math.sqrt(v / H + 1e-12)) / inv[row]!).toBeLessThan(1e-5);
    }
  });

  it('bad attributes and shapes name the node', async () => {
    const run = (spec: MsSpec) => runTessera(msModel(spec), feedsOf(spec)).then(() => undefined, (e: unknown) => e as TesseraError);
    const e1 = await run({ op: 'SkipLayerNormalization', inputs: [x, skip, gamma], attrs: { epsilon: 'small' }, name: 'sln' });
    expect(e1).toBeInstanceOf(TesseraError);
    expect(e1!.code).toBe('INVALID_ATTRIBUTE');
    expect(e1!.message).toMatch(/'sln'.*'epsilon'/);
    const e2 = await run({ op: 'SkipLayerNormalization', inputs: [x, f32([B, S, H + 1], 1), gamma], name: 'sln2' });
    expect(e2!.code).toBe('SHAPE_MISMATCH');
    expect(e2!.message).toContain("'sln2'");
  });
});
