/**
 * The MNIST CNN after dynamic int8 quantization (src/quantize): the quantized model is standard
 * ONNX, so onnxruntime-web runs it too and must agree with tessera; its accuracy on the 2,000
 * held-out digits is compared with the float model's (the number is in docs/quantization.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { quantizeDynamic } from '../../src/quantize/index.js';
import { batchOf, heldout, mnistModel, mnistReference } from '../helpers/mnist.js';
import { ortRun, ortSession } from '../helpers/ort.js';

async function accuracy(session: InferenceSession, data: ReturnType<typeof heldout>): Promise<number> {
  let correct = 0;
  for (let start = 0; start < data.count; start += 250) {
    const n = Math.min(250, data.count - start);
    const out = await session.run({ input: new Tensor('float32', batchOf(data.images, start, n), [n, 1, 28, 28]) });
    const p = out.probabilities!.data as Float32Array;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (p[i * 10 + c]! > p[i * 10 + best]!) best = c;
      if (best === data.labels[start + i]) correct++;
    }
  }
  return correct;
}

for (const perChannel of [false, true]) {
  describe(`MNIST CNN, dynamic int8${perChannel ? ' per channel' : ''}`, () => {
    const data = heldout();
    const { bytes, report } = quantizeDynamic(mnistModel(), { perChannel });
    let session: InferenceSession;
    beforeAll(async () => { session = await InferenceSession.create(bytes); });
    afterAll(async () => { await session.release(); });

    it('replaces both Gemms with DynamicQuantizeLinear → MatMulInteger → Cast → Mul (+ Add)', () => {
      expect(report.quantized).toHaveLength(2);
      expect(report.skipped).toEqual([]);
      expect(report.bytesAfter).toBeLessThan(report.bytesBefore);
    });

    it('agrees with onnxruntime-web on the same quantized model', async () => {
      const ort = await ortSession(bytes);
      for (const [start, n] of [[0, 1], [100, 7], [data.count - 64, 64]] as const) {
        const input = new Tensor('float32', batchOf(data.images, start, n), [n, 1, 28, 28]);
        const a = (await session.run({ input })).probabilities!.data as Float32Array;
        const b = (await ortRun(ort, { input })).probabilities!.data as Float32Array;
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
        expect(worst).toBeLessThan(1e-4);
      }
      await ort.release();
    });

    it('keeps the accuracy on the held-out digits within 0.5 points of the float model', async () => {
      const correct = await accuracy(session, data);
      const float = mnistReference().heldout_correct as number;
      console.log(`MNIST int8${perChannel ? ' per-channel' : ''}: ${correct}/${data.count} correct (float: ${float}/${data.count})`);
      expect(Math.abs(correct - float)).toBeLessThanOrEqual(10);
    });
  });
}
