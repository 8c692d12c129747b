/** The committed MNIST model and its held-out digits (models/mnist/README.md). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../models/mnist/', import.meta.url));

export const mnistModelPath = `${dir}mnist-cnn.onnx`;
export const mnistModel = (): Uint8Array => readFileSync(mnistModelPath);
export const mnistReference = () => JSON.parse(readFileSync(`${dir}reference.json`, 'utf8'));

export function heldout(): { images: Uint8Array; labels: Uint8Array; count: number } {
  const images = readFileSync(`${dir}heldout-images.u8`);
  const labels = readFileSync(`${dir}heldout-labels.u8`);
  return { images, labels, count: labels.length };
}

/** Digits [start, start+n) as a float32 NCHW batch scaled to [0, 1], as the model was trained. */
export function batchOf(images: Uint8Array, start: number, n: number): Float32Array {
  const out = new Float32Array(n * 784);
  for (let i = 0; i < n * 784; i++) out[i] = images[start * 784 + i]! / 255;
  return out;
}
