// Draw on a 280×280 canvas; every stroke is shrunk to 28×28 and classified by the MNIST CNN.
import { InferenceSession, Tensor } from 'tessera';

const pad = document.getElementById('pad');
const ctx = pad.getContext('2d');
const bars = document.getElementById('bars');
const guess = document.getElementById('guess');
const status = document.getElementById('status');

const fills = [];
for (let d = 0; d < 10; d++) {
  const label = Object.assign(document.createElement('span'), { textContent: d });
  const bar = Object.assign(document.createElement('div'), { className: 'bar' });
  const fill = document.createElement('div');
  fill.style.width = '0%';
  bar.append(fill);
  const pct = Object.assign(document.createElement('span'), { textContent: '0%' });
  bars.append(label, bar, pct);
  fills.push({ bar, fill, pct });
}

function clear() {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
  guess.textContent = '?';
  for (const f of fills) { f.fill.style.width = '0%'; f.pct.textContent = '0%'; f.bar.className = 'bar'; }
}
clear();

const session = await InferenceSession.create(new URL('../../models/mnist/mnist-cnn.onnx', import.meta.url).href);
status.textContent = 'ready';

/** The canvas as the model's input: 28×28 grey levels in [0, 1], white ink on black. */
function input() {
  const small = new OffscreenCanvas(28, 28).getContext('2d', { willReadFrequently: true });
  small.drawImage(pad, 0, 0, 28, 28);
  const rgba = small.getImageData(0, 0, 28, 28).data;
  const x = new Float32Array(784);
  for (let i = 0; i < 784; i++) x[i] = rgba[i * 4] / 255;
  return new Tensor('float32', x, [1, 1, 28, 28]);
}

let pending = false;
async function predict() {
  if (pending) return;
  pending = true;
  const p = (await session.run({ input: input() })).probabilities.data;
  pending = false;
  let best = 0;
  for (let d = 0; d < 10; d++) {
    if (p[d] > p[best]) best = d;
    fills[d].fill.style.width = `${(p[d] * 100).toFixed(1)}%`;
    fills[d].pct.textContent = `${(p[d] * 100).toFixed(0)}%`;
  }
  fills.forEach((f, d) => { f.bar.className = d === best ? 'bar best' : 'bar'; });
  guess.textContent = String(best);
  document.body.dataset.prediction = String(best);
}

let drawing = false;
pad.addEventListener('pointerdown', (e) => { drawing = true; stroke(e); });
pad.addEventListener('pointermove', (e) => { if (drawing) stroke(e); });
addEventListener('pointerup', () => { drawing = false; });
document.getElementById('clear').addEventListener('click', clear);

function stroke(e) {
  ctx.fillStyle = '#fff';
  ctx.beginPath();
  ctx.arc(e.offsetX, e.offsetY, 11, 0, Math.PI * 2);
  ctx.fill();
  predict();
}

// For tests and the curious: draw 28×28 grey levels (0–255) scaled up onto the pad and classify.
window.tessera = {
  async drawDigit(pixels) {
    clear();
    const img = new ImageData(28, 28);
    for (let i = 0; i < 784; i++) img.data.set([pixels[i], pixels[i], pixels[i], 255], i * 4);
    const tmp = new OffscreenCanvas(28, 28);
    tmp.getContext('2d').putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(tmp, 0, 0, pad.width, pad.height);
    await predict();
    return Number(guess.textContent);
  },
};
document.body.dataset.ready = 'true';
