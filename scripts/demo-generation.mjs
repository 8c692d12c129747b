// The end of `npm start`: a streamed text generation through pipeline('text-generation'), on the
// built package (dist/). It runs models/decoders/toy-lm (a toy LM trained on a small public-domain
// corpus by models/decoders/train_toy.py) when that folder exists, else the committed tiny-qwen3
// export, whose weights are random: its tokens are noise and the demo says so. Point it at a real
// exported folder (optimum layout: tokenizer.json, onnx/model_q4.onnx, …) with
//   TESSERA_LM=/path/to/Qwen3-0.6B-ONNX TESSERA_LM_DTYPE=q4 npm start
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pipeline } from '../dist/node/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export async function generationDemo() {
  const user = process.env.TESSERA_LM;
  const toy = `${root}models/decoders/toy-lm`;
  const folder = user ?? (existsSync(toy) ? toy : `${root}models/decoders/tiny-qwen3`);
  const label = user ? `your model (${user})` : existsSync(toy) ? 'a toy LM trained here on a small public-domain corpus (a toy: expect babble)' : 'tiny-qwen3 with random weights (untrained: the tokens are noise; set TESSERA_LM to a real export)';
  const gen = await pipeline('text-generation', folder, { dtype: process.env.TESSERA_LM_DTYPE ?? 'fp32' });
  console.log(`\nText generation — ${label}; KV cache ${gen.model.kvCache}:`);
  const prompt = 'Once upon a time';
  process.stdout.write(`  ${prompt}`);
  const t = performance.now();
  let pieces = 0;
  for await (const piece of gen.stream(prompt, { max_new_tokens: 48, do_sample: true, temperature: 0.8, top_k: 40, seed: 7 })) {
    process.stdout.write(piece.replace(/\n/g, '\n  '));
    pieces++;
  }
  const s = gen.model.stats;
  console.log(`\n  (${s.steps} steps, ${((performance.now() - t) / s.steps).toFixed(1)} ms per token, ${s.plans} plans, ${pieces} streamed pieces)\n`);
  await gen.dispose();
}
