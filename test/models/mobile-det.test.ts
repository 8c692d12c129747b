/**
 * models/mobile-det: a MobileNetV3 + FPN + ConvTranspose detector (depthwise 3×3/5×5 at stride
 * 1/2, 1×1 projections, HardSwish, squeeze-excite, Resize, ConvTranspose) with seeded random
 * weights. The bench runs it at 640×640; here smaller inputs keep the test quick.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { ortRun, ortSession } from '../helpers/ort.js';

const bytes = new Uint8Array(readFileSync(new URL('../../models/mobile-det/mobile-det.onnx', import.meta.url)));

function image(n: number, h: number, w: number): Tensor {
  let s = 12345;
  const data = Float32Array.from({ length: n * 3 * h * w }, () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  return new Tensor('float32', data, [n, 3, h, w]);
}

describe('mobile-det (MobileNetV3 detector) vs onnxruntime-web', () => {
  it.each([[1, 160, 160], [2, 96, 128]])('batch %i, %i×%i', async (n, h, w) => {
    const feeds = { image: image(n, h, w) };
    const s = await InferenceSession.create(bytes);
    const ours = (await s.run(feeds)).prob!;
    await s.release();
    const ort = await ortSession(bytes);
    const theirs = (await ortRun(ort, feeds)).prob!;
    await ort.release();
    expect(ours.dims).toEqual([n, 1, h, w]);
    expect(ours.dims).toEqual(theirs.dims);
    const a = ours.data as Float32Array, b = theirs.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThan(1e-4);
  });
});
