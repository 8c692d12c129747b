// What `npm run bench` measures. Each workload names a model file and how to make its feeds; both
// engines get exactly the same bytes and the same input data.
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantizeDynamic } from '../dist/node/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function mnistBatch(n) {
  const images = readFileSync(`${root}models/mnist/heldout-images.u8`);
  const data = new Float32Array(n * 784);
  for (let i = 0; i < data.length; i++) data[i] = images[i] / 255;
  return { input: { type: 'float32', data, dims: [n, 1, 28, 28] } };
}

// Quantized at bench time (dynamic int8, as onnxruntime's quantize_dynamic emits), written to the
// temp directory so that both engines load the same file.
function quantized(src, name) {
  const out = join(tmpdir(), `tessera-bench-${name}.onnx`);
  writeFileSync(out, quantizeDynamic(readFileSync(src)).bytes);
  return out;
}

export const workloads = {
  'mnist-b1': { title: 'MNIST CNN, batch 1', model: `${root}models/mnist/mnist-cnn.onnx`, feeds: () => mnistBatch(1), reps: 300 },
  'mnist-b64': { title: 'MNIST CNN, batch 64', model: `${root}models/mnist/mnist-cnn.onnx`, feeds: () => mnistBatch(64), reps: 40 },
  'mnist-b64-int8': {
    title: 'MNIST CNN, batch 64, dynamic int8 dense layers',
    get model() { return quantized(`${root}models/mnist/mnist-cnn.onnx`, 'mnist-int8'); },
    feeds: () => mnistBatch(64), reps: 40,
  },
};
