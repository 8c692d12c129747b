// POST 784 grey levels (28×28 bytes, or several digits back to back) → JSON predictions.
// wrangler picks tessera's Workers build (the `workerd` export condition) and uploads its kernels
// as compiled WebAssembly modules; the model is bundled as a Data module (see wrangler.toml).
import { InferenceSession, Tensor } from 'tessera';
import model from '../../../models/mnist/mnist-cnn.onnx';

let session; // created on the first request, reused while the isolate lives

export default {
  async fetch(request) {
    if (request.method !== 'POST') return new Response('POST 28×28 grey bytes per digit\n', { status: 405 });
    const pixels = new Uint8Array(await request.arrayBuffer());
    if (pixels.length === 0 || pixels.length % 784) return Response.json({ error: 'expected a multiple of 784 bytes' }, { status: 400 });
    session ??= await InferenceSession.create(new Uint8Array(model));
    const n = pixels.length / 784;
    const x = new Float32Array(pixels.length);
    for (let i = 0; i < x.length; i++) x[i] = pixels[i] / 255;
    const p = (await session.run({ input: new Tensor('float32', x, [n, 1, 28, 28]) })).probabilities.data;
    const results = [];
    for (let i = 0; i < n; i++) {
      const probabilities = Array.from(p.subarray(i * 10, i * 10 + 10));
      results.push({ digit: probabilities.indexOf(Math.max(...probabilities)), probabilities });
    }
    return Response.json(results);
  },
};
