// Whole-pipeline workloads for `npm run bench`: feature-extraction (tokenize → run → mean pool →
// normalize) in tessera's pipeline() against transformers.js v4 running on onnxruntime-web (wasm,
// one thread), both reading the same model folder. The folder, MiniLM-L6's shape (384 hidden, 6
// layers, 12 heads, 1536 FFN, bert-base-uncased's 30,522-token vocabulary) with seeded random
// weights, is made on first use into the ignored bench/out/ (scripts/make-bert.mjs with head
// 'none', scripts/make-bert-tokenizer.mjs, quantizeDynamic for onnx/model_quantized.onnx).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { useOrtWebForTransformersJs } from './transformers-js-on-ort-web.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
export const MINILM = { layers: 6, hidden: 384, heads: 12, intermediate: 1536, vocab: 30522, maxPosition: 512 };

/** bench/out/minilm-l6/ in the Hugging Face layout; returns the folder's parent and name. */
export async function minilmFolder() {
  const dir = `${root}bench/out/minilm-l6/`;
  if (!existsSync(`${dir}onnx/model_quantized.onnx`)) {
    const { makeBert } = await import('../scripts/make-bert.mjs');
    const { bertTokenizerJson, bertTokenizerConfig } = await import('../scripts/make-bert-tokenizer.mjs');
    const { quantizeDynamic } = await import('../dist/node/index.js');
    mkdirSync(`${dir}onnx`, { recursive: true });
    const model = makeBert({ ...MINILM, head: 'none', seed: 7 });
    writeFileSync(`${dir}onnx/model.onnx`, model);
    writeFileSync(`${dir}tokenizer.json`, JSON.stringify(bertTokenizerJson()));
    writeFileSync(`${dir}tokenizer_config.json`, JSON.stringify(bertTokenizerConfig()));
    writeFileSync(`${dir}config.json`, JSON.stringify({
      architectures: ['BertModel'], model_type: 'bert', hidden_size: MINILM.hidden, num_hidden_layers: MINILM.layers,
      num_attention_heads: MINILM.heads, intermediate_size: MINILM.intermediate, vocab_size: MINILM.vocab,
      max_position_embeddings: MINILM.maxPosition, type_vocab_size: 2, hidden_act: 'gelu', layer_norm_eps: 1e-12,
    }));
    writeFileSync(`${dir}onnx/model_quantized.onnx`, quantizeDynamic(model).bytes);
  }
  return { parent: `${root}bench/out/`, name: 'minilm-l6', path: dir };
}

// Sentences of search-query to paragraph length (8 to ~40 tokens), as embedding calls see them.
export const SENTENCES = [
  'How do I reset my password?',
  'The quick brown fox jumps over the lazy dog near the river bank.',
  'Machine learning models can be compressed with quantization to run faster in the browser.',
  'Best pizza places open late downtown',
  'WebAssembly lets code written in many languages run at near-native speed on the web, in Node and on edge workers.',
  'What is the capital of Australia?',
  'She sells sea shells by the sea shore, and the shells she sells are surely sea shells.',
  'Cloudflare Workers run JavaScript at the edge, close to the users who send the requests.',
];

/** One process's measurement of a pipeline workload: the same JSON line as child.mjs prints. */
export async function measurePipeline(engine, name, w, threads) {
  const { parent, name: folder, path } = await minilmFolder();
  const texts = SENTENCES.slice(0, w.pipeline.batch);
  const options = { pooling: 'mean', normalize: true };
  const t0 = performance.now();
  let extractor;
  if (engine === 'tessera') {
    const { pipeline } = await import('../dist/node/index.js');
    extractor = await pipeline('feature-extraction', path, { dtype: w.pipeline.dtype, threads });
  } else {
    await useOrtWebForTransformersJs(threads);
    const tjs = await import('@huggingface/transformers');
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = parent;
    extractor = await tjs.pipeline('feature-extraction', folder, {
      // A device object naming '' for the 'model' file: no device mapping, our executionProviders kept.
      dtype: w.pipeline.dtype, device: { model: '' }, session_options: { executionProviders: ['wasm'] },
    });
  }
  await extractor(texts, options);
  const firstResultMs = performance.now() - t0;
  for (let i = 0; i < (w.warmup ?? 3); i++) await extractor(texts, options);
  const times = [];
  for (let i = 0; i < w.reps; i++) {
    const t = performance.now();
    await extractor(texts, options);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const peakRss = (process.resourceUsage?.().maxRSS ?? 0) * 1024;
  return { engine, workload: name, threads, medianMs: times[times.length >> 1], firstResultMs, rssBytes: process.memoryUsage().rss, peakRssBytes: peakRss };
}

/** The bench's feature-extraction workloads: batch 1 and 8, fp32 and q8. */
export const pipelineWorkloads = Object.fromEntries([1, 8].flatMap((batch) => ['fp32', 'q8'].map((dtype) => [
  `embed-b${batch}${dtype === 'q8' ? '-q8' : ''}`,
  {
    title: `feature-extraction pipeline, MiniLM-L6 shape, ${batch} sentence${batch > 1 ? 's' : ''}, ${dtype} (vs transformers.js v4)`,
    pipeline: { task: 'feature-extraction', batch, dtype },
    reps: batch === 1 ? 40 : 12,
    warmup: 3,
  },
])));
