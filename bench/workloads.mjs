// What `npm run bench` measures. Each workload names a model file and how to make its feeds; both
// engines get exactly the same bytes and the same input data.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { convnetFeeds, convnetModel } from './convnet.mjs';
import { quantizeDynamic } from '../dist/node/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function mnistBatch(n) {
  const images = readFileSync(`${root}models/mnist/heldout-images.u8`);
  const data = new Float32Array(n * 784);
  for (let i = 0; i < data.length; i++) data[i] = images[i] / 255;
  return { input: { type: 'float32', data, dims: [n, 1, 28, 28] } };
}

// Quantized at bench time (dynamic int8, as onnxruntime's quantize_dynamic emits) into the ignored
// bench/out/, so that both engines load the same file; resolved before timing. Remade once per
// build (older than dist/ means made by an older quantizer).
function quantized(name, makeFloat) {
  return async () => {
    const out = `${root}bench/out/${name}.onnx`;
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(`${root}dist/node/index.js`).mtimeMs) {
      mkdirSync(`${root}bench/out`, { recursive: true });
      writeFileSync(out, quantizeDynamic(await makeFloat()).bytes);
    }
    return out;
  };
}

// BERT-base (random weights) from scripts/make-bert.mjs, when that generator is in the tree.
const haveBert = existsSync(`${root}scripts/make-bert.mjs`);

/** BERT-base MLM made by scripts/make-bert.mjs on first use, into the ignored bench/out/. */
async function bertBase() {
  const path = `${root}bench/out/bert-base-mlm.onnx`;
  if (!existsSync(path)) {
    const { makeBert } = await import('../scripts/make-bert.mjs');
    mkdirSync(`${root}bench/out`, { recursive: true });
    writeFileSync(path, makeBert());
  }
  return path;
}

function bertFeeds(batch, seq) {
  const n = batch * seq;
  const ids = new BigInt64Array(n), mask = new BigInt64Array(n).fill(1n), types = new BigInt64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(1000 + ((i * 7919) % 29000));
  return {
    input_ids: { type: 'int64', data: ids, dims: [batch, seq] },
    attention_mask: { type: 'int64', data: mask, dims: [batch, seq] },
    token_type_ids: { type: 'int64', data: types, dims: [batch, seq] },
  };
}

export const workloads = {
  'mnist-b1': { title: 'MNIST CNN, batch 1', model: `${root}models/mnist/mnist-cnn.onnx`, feeds: () => mnistBatch(1), reps: 300 },
  'convnet-b1': { title: 'Conv net 3×96×96 (4 conv + FC), batch 1', model: convnetModel(), feeds: convnetFeeds, reps: 30 },
  'mnist-b64': { title: 'MNIST CNN, batch 64', model: `${root}models/mnist/mnist-cnn.onnx`, feeds: () => mnistBatch(64), reps: 40 },
  'mnist-b64-int8': {
    title: 'MNIST CNN, batch 64, dynamic int8 dense layers',
    model: quantized('mnist-cnn-int8', () => readFileSync(`${root}models/mnist/mnist-cnn.onnx`)),
    feeds: () => mnistBatch(64), reps: 40,
  },
  'bert-base': { title: 'BERT-base MLM, 1×128', model: bertBase, feeds: () => bertFeeds(1, 128), reps: 8, warmup: 2 },
  ...(haveBert && {
    'bert-base-int8': {
      title: 'BERT-base MLM, 1×128, dynamic int8',
      model: quantized('bert-base-mlm-int8', async () => (await import('../scripts/make-bert.mjs')).makeBert()),
      feeds: () => bertFeeds(1, 128), reps: 8, warmup: 2,
    },
  }),
};
