// `npm start`: what tessera does, on the models bundled in models/. Runs the built package
// (dist/), exactly what a user imports.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InferenceSession, Tensor } from '../dist/node/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const mnistDir = `${root}models/mnist/`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => performance.now();

function batchOf(images, start, n) {
  const out = new Float32Array(n * 784);
  for (let i = 0; i < n * 784; i++) out[i] = images[start * 784 + i] / 255;
  return out;
}

function argmax(p, offset, n) {
  let best = 0;
  for (let i = 1; i < n; i++) if (p[offset + i] > p[offset + best]) best = i;
  return best;
}

/** Digits drawn side by side, two pixel rows per text row. */
function drawDigits(images, indices, captions) {
  const shades = ' .:-=+*#%@';
  const lines = [];
  for (let r = 0; r < 28; r += 2) {
    lines.push(indices.map((d) => {
      let row = '';
      for (let c = 0; c < 28; c++) {
        const v = (images[d * 784 + r * 28 + c] + images[d * 784 + (r + 1) * 28 + c]) / 2 / 256;
        row += shades[Math.floor(v * shades.length)];
      }
      return row;
    }).join('   '));
  }
  lines.push(captions.map((c) => c.padEnd(28)).join('   '));
  return lines.join('\n');
}

async function mnistDemo() {
  const images = readFileSync(`${mnistDir}heldout-images.u8`);
  const labels = readFileSync(`${mnistDir}heldout-labels.u8`);
  const reference = JSON.parse(readFileSync(`${mnistDir}reference.json`, 'utf8'));
  const count = labels.length;

  let t = now();
  const session = await InferenceSession.create(`${mnistDir}mnist-cnn.onnx`);
  const loadMs = now() - t;
  console.log(`MNIST CNN (models/mnist): loaded in ${loadMs.toFixed(1)} ms, kernels: ${session.wasmVariant === 'relaxed' ? 'relaxed SIMD' : 'SIMD128'}`);
  console.log(`  input '${session.inputNames[0]}' [batch, 1, 28, 28] → output '${session.outputNames[0]}' [batch, 10]`);

  // Accuracy over all held-out digits, batches of 64.
  let correct = 0;
  const probs = new Float32Array(count * 10);
  for (let start = 0; start < count; start += 64) {
    const n = Math.min(64, count - start);
    const out = await session.run({ input: new Tensor('float32', batchOf(images, start, n), [n, 1, 28, 28]) });
    const p = out.probabilities.data;
    probs.set(p, start * 10);
    for (let i = 0; i < n; i++) if (argmax(p, i * 10, 10) === labels[start + i]) correct++;
  }
  console.log(`  accuracy on ${count} held-out digits: ${(100 * correct / count).toFixed(2)}% (${correct}/${count}); PyTorch measured ${(100 * reference.heldout_accuracy).toFixed(2)}% (${reference.heldout_correct}/${count})`);

  // Latency: batch 1 and batch 64, median of repeated runs after a warm-up.
  for (const n of [1, 64]) {
    const input = new Tensor('float32', batchOf(images, 0, n), [n, 1, 28, 28]);
    for (let i = 0; i < 5; i++) await session.run({ input });
    const times = [];
    const reps = n === 1 ? 200 : 30;
    for (let i = 0; i < reps; i++) {
      t = now();
      await session.run({ input });
      times.push(now() - t);
    }
    const ms = median(times);
    console.log(`  batch ${String(n).padStart(2)}: ${ms.toFixed(3)} ms per run, ${(ms / n).toFixed(3)} ms per image (median of ${reps})`);
  }

  // A few digits, including the first one the model gets wrong, drawn as text.
  const shown = [0, 1, 2];
  for (let i = 0; i < count; i++) if (argmax(probs, i * 10, 10) !== labels[i]) { shown.push(i); break; }
  const captions = shown.map((d) => {
    const guess = argmax(probs, d * 10, 10);
    return `#${d}: ${guess} (${(100 * probs[d * 10 + guess]).toFixed(1)}%) label ${labels[d]}${guess === labels[d] ? '' : ' ✗'}`;
  });
  console.log(`\n${drawDigits(images, shown, captions)}\n`);
  await session.release();
}

await mnistDemo();
const extra = new URL('./demo-bert.mjs', import.meta.url);
try {
  const { bertDemo } = await import(extra.href);
  await bertDemo();
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
}
const generation = new URL('./demo-generation.mjs', import.meta.url);
const { generationDemo } = await import(generation.href);
await generationDemo();
const speech = new URL('./demo-speech.mjs', import.meta.url);
const { speechDemo } = await import(speech.href);
await speechDemo();
