/**
 * The depthwise conv net (models/mobile-det: depthwise 3×3/5×5, 1×1 and 3×3 convs, the direct conv
 * of its head, HardSwish, squeeze-excite multiplies, Resize, ConvTranspose) at 1, 2 and 3 threads:
 * every split it takes gives bit-identical probabilities, at batch 1 and at batch 2 (planes and
 * im2col panels across images).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { poolStats } from '../../src/runtime/threads/index.js';

const bytes = new Uint8Array(readFileSync(new URL('../../models/mobile-det/mobile-det.onnx', import.meta.url)));
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function image(n: number, h: number, w: number, seed: number): Tensor {
  const data = new Float32Array(n * 3 * h * w);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 32;
  }
  return new Tensor('float32', data, [n, 3, h, w]);
}

describe('mobile-det at 1, 2 and 3 threads', () => {
  const sessions: InferenceSession[] = [];
  beforeAll(async () => {
    for (const threads of [1, 2, 3]) sessions.push(await InferenceSession.create(bytes, { threads }));
  });
  afterAll(async () => { for (const s of sessions) await s.release(); });

  it.each([[1, 224, 320], [2, 160, 128]])('gives bit-identical outputs at batch %i, %i×%i', async (n, h, w) => {
    const feeds = { image: image(n, h, w, 7 + n) };
    const outs: Float32Array[] = [];
    for (const s of sessions) {
      const before = poolStats().itemsHanded;
      outs.push((await s.run(feeds)).prob!.data as Float32Array);
      const handed = poolStats().itemsHanded - before;
      if (s.threads === 1) expect(handed).toBe(0);
      else expect(handed).toBeGreaterThan(10); // convs of every kind, element-wise ops: many splits
    }
    expect(outs[0]!.length).toBe(n * h * w);
    for (const o of outs.slice(1)) expect(bits(o).equals(bits(outs[0]!))).toBe(true);
  });
});
