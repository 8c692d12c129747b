// Shared by the Whisper model tests: seeded log-mel-like features and float helpers.
import { Tensor } from '../../src/api/tensor.js';

/** [1, 80, 3000] features from a seeded LCG in [-1, 1): one Whisper window's input, reproducible. */
export function features(seed: number): Tensor {
  const x = new Float32Array(80 * 3000);
  let s = seed;
  for (let i = 0; i < x.length; i++) { s = (s * 1103515245 + 12345) >>> 0; x[i] = (s / 2 ** 32) * 2 - 1; }
  return new Tensor('float32', x, [1, 80, 3000]);
}

/** Index of the largest value (the first of ties). */
export const argmax = (a: Float32Array): number => a.reduce((best, x, i) => (x > a[best]! ? i : best), 0);

/** A Float32Array's bit patterns, for bit-for-bit comparisons. */
export const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
