// What `npm run bench` measures. Each workload names a model file and how to make its feeds; both
// engines get exactly the same bytes and the same input data.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { convnetFeeds, convnetModel } from './convnet.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

function mnistBatch(n) {
  const images = readFileSync(`${root}models/mnist/heldout-images.u8`);
  const data = new Float32Array(n * 784);
  for (let i = 0; i < data.length; i++) data[i] = images[i] / 255;
  return { input: { type: 'float32', data, dims: [n, 1, 28, 28] } };
}

export const workloads = {
  'mnist-b1': { title: 'MNIST CNN, batch 1', model: `${root}models/mnist/mnist-cnn.onnx`, feeds: () => mnistBatch(1), reps: 300 },
  'convnet-b1': { title: 'Conv net 3×96×96 (4 conv + FC), batch 1', model: convnetModel(), feeds: convnetFeeds, reps: 30 },
  'mnist-b64': { title: 'MNIST CNN, batch 64', model: `${root}models/mnist/mnist-cnn.onnx`, feeds: () => mnistBatch(64), reps: 40 },
};
