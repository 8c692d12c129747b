// Two endpoints on tessera's Workers build:
//   POST /       784 grey levels (28×28 bytes, or several digits back to back) → JSON predictions
//   POST /embed  {"texts": ["…", …]} → {"dims": [n, 64], "vectors": [[…], …]} sentence embeddings
//                (mean-pooled, L2-normalised: cosine similarity is a dot product)
// wrangler picks tessera's Workers build (the `workerd` export condition) and uploads its kernels
// as compiled WebAssembly modules; the models are bundled as Data modules (see wrangler.toml), the
// tokenizer files as JSON.
import { InferenceSession, Tensor, Tokenizer, pipeline } from 'tessera';
import model from '../../../models/mnist/mnist-cnn.onnx';
import embedModel from '../../../models/hf/minilm-worker/onnx/model_quantized.onnx';
import embedConfig from '../../../models/hf/minilm-worker/config.json';
import tokenizerJson from '../../../models/hf/minilm-worker/tokenizer.json';
import tokenizerConfig from '../../../models/hf/minilm-worker/tokenizer_config.json';

let session; // created on the first request, reused while the isolate lives
let embedder;
const MAX_TEXTS = 64;

async function embed(request) {
  let body;
  try {
    body = await request.json();
  } catch {
    return Response.json({ error: 'expected a JSON body {"texts": ["…"]}' }, { status: 400 });
  }
  const texts = body?.texts;
  if (!Array.isArray(texts) || texts.length === 0 || texts.length > MAX_TEXTS || texts.some((t) => typeof t !== 'string')) {
    return Response.json({ error: `expected {"texts": [...]} with 1 to ${MAX_TEXTS} strings` }, { status: 400 });
  }
  embedder ??= await pipeline('feature-extraction', {
    model: new Uint8Array(embedModel),
    tokenizer: Tokenizer.fromJSON(tokenizerJson, tokenizerConfig),
    config: embedConfig,
  }, { dtype: 'q8' });
  const out = await embedder(texts, { pooling: 'mean', normalize: true });
  const [n, dim] = out.dims;
  const vectors = Array.from({ length: n }, (_, i) => Array.from(out.data.subarray(i * dim, (i + 1) * dim)));
  return Response.json({ dims: out.dims, vectors });
}

// GET /memory: what the embeddings model costs this isolate — the session's Wasm memory (its size,
// and the part ever used: weights packed once + activations) and the bundled model's bytes, which
// the isolate holds too (a Data module is an ArrayBuffer in its heap).
async function memory() {
  embedder ??= await pipeline('feature-extraction', {
    model: new Uint8Array(embedModel),
    tokenizer: Tokenizer.fromJSON(tokenizerJson, tokenizerConfig),
    config: embedConfig,
  }, { dtype: 'q8' });
  await embedder(['warm up the activation arena'], { pooling: 'mean', normalize: true });
  const usage = embedder.session.memoryUsage();
  const modelBytes = embedModel.byteLength, tokenizerBytes = JSON.stringify(tokenizerJson).length;
  return Response.json({ ...usage, modelBytes, tokenizerBytes, totalBytes: usage.heapHighWaterBytes + modelBytes + tokenizerBytes });
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (request.method === 'GET' && pathname === '/memory') return memory();
    if (request.method !== 'POST') return new Response('POST 28×28 grey bytes per digit to /, or {"texts": [...]} to /embed\n', { status: 405 });
    if (pathname === '/embed') return embed(request);
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
