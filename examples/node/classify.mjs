// Classify the first digits of the held-out set with the MNIST CNN and print them beside their
// labels. Usage: node classify.mjs [count]
import { readFile } from 'node:fs/promises';
import { InferenceSession, Tensor } from 'tessera';

const dir = new URL('../../models/mnist/', import.meta.url);
const n = Number(process.argv[2] ?? 10);
const images = await readFile(new URL('heldout-images.u8', dir));
const labels = await readFile(new URL('heldout-labels.u8', dir));

const session = await InferenceSession.create(new URL('mnist-cnn.onnx', dir).pathname);
const x = new Float32Array(n * 784);
for (let i = 0; i < x.length; i++) x[i] = images[i] / 255;
const t0 = performance.now();
const { probabilities } = await session.run({ input: new Tensor('float32', x, [n, 1, 28, 28]) });
const ms = performance.now() - t0;

let correct = 0;
for (let i = 0; i < n; i++) {
  const p = probabilities.data.subarray(i * 10, i * 10 + 10);
  const digit = p.indexOf(Math.max(...p));
  if (digit === labels[i]) correct++;
  console.log(`#${i}: ${digit} (${(p[digit] * 100).toFixed(1)}%)  label ${labels[i]}`);
}
console.log(`${correct}/${n} correct, batch of ${n} in ${ms.toFixed(1)} ms`);
await session.release();
