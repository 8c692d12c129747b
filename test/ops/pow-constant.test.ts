/**
 * Pow by a constant scalar exponent (RMSNorm's x², 33 nodes of a Qwen3 prefill) runs on the unary
 * kernel (one multiply for 2) instead of a scalar pow per element in the broadcasting loop: the
 * same values as Math.pow rounded to float32, including negative bases, zero, infinities and NaN.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';

describe('Pow by a constant exponent', () => {
  for (const e of [2, 0.5, 3, -1.5]) {
    it(`x ** ${e} equals Math.pow in float32`, async () => {
      const bytes = model({
        nodes: [node('Pow', ['x', 'e'], ['y'])],
        inputs: [valueInfo('x', DT.FLOAT, [3, 'n'])], outputs: [valueInfo('y', DT.FLOAT, [3, 'n'])],
        initializers: [floatTensor('e', [], [e])], opset: 15,
      });
      const s = await InferenceSession.create(bytes);
      const x = Float32Array.from({ length: 3 * 7 }, (_, i) => (i - 9) * 0.731);
      x[0] = 0; x[1] = Infinity; x[2] = -Infinity; x[3] = NaN;
      const y = (await s.run({ x: new Tensor('float32', x, [3, 7]) })).y!.data as Float32Array;
      for (let i = 0; i < x.length; i++) {
        const want = Math.fround(Math.pow(x[i]!, e));
        if (Number.isNaN(want)) expect(y[i], `x = ${x[i]}`).toBeNaN();
        else if (y[i] !== want) expect(Math.abs(y[i]! - want), `x = ${x[i]}`).toBeLessThanOrEqual(Math.abs(want) * 2e-7);
      }
      await s.release();
    });
  }
});
