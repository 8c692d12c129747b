// fill-mask on the small BERT committed in models/bert/ (loaded by scripts/demo.mjs, `npm start`),
// and on a real checkpoint when BERT_DIR names a directory exported by
// `optimum-cli export onnx --model bert-base-uncased <dir>` (model.onnx + tokenizer.json/vocab.txt).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BertTokenizer, pipeline } from '../dist/node/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bertDir = `${root}models/bert/`;

const SENTENCES = [
  'Hello, my dog is [MASK].',
  'A [MASK] in the hand is worth two in the bush.',
  'You will be [MASK] for a long time.',
  'Never put off until tomorrow what you can do [MASK].',
];

function show(text, results) {
  console.log(`  ${text}`);
  const perMask = Array.isArray(results[0]) ? results : [results];
  perMask.forEach((list, m) => {
    const label = perMask.length > 1 ? `mask ${m + 1}: ` : '';
    console.log(`    ${label}${list.map((r) => `${r.token_str} ${(100 * r.score).toFixed(1)}%`).join(' · ')}`);
  });
}

async function run(unmasker, sentences) {
  const t = performance.now();
  for (const text of sentences) show(text, await unmasker.unmask(text, { top_k: 5 }));
  console.log(`  (${((performance.now() - t) / sentences.length).toFixed(1)} ms per sentence; the MLM head ran on the [MASK] rows only)`);
}

export async function bertDemo() {
  const reference = JSON.parse(readFileSync(`${bertDir}reference.json`, 'utf8'));
  const c = reference.config;
  console.log(`\nfill-mask with a TOY BERT (models/bert/bert-fortunes.onnx): ${c.layers} layers, hidden ${c.hidden}, `
    + `vocabulary ${c.vocab}, trained only ${reference.steps} steps (${c.minutes} min on 2 shared CPU cores, MLM loss `
    + `${reference.loss.toFixed(2)}) on Debian's fortune cookies.`);
  console.log('  It is NOT bert-base and has not learnt English: its guesses are mostly frequent tokens. It is here');
  console.log("  to run the whole path (tokenizer → tessera → top-k); its scores equal PyTorch's for this model.");
  const unmasker = await pipeline('fill-mask', {
    model: `${bertDir}bert-fortunes.onnx`,
    vocab: readFileSync(`${bertDir}vocab.txt`, 'utf8'),
    maxLength: c.seq,
  });
  await run(unmasker, SENTENCES);
  await unmasker.release();

  const dir = process.env.BERT_DIR;
  if (!dir) {
    console.log('  (for bert-base-uncased: `optimum-cli export onnx --model bert-base-uncased bert-onnx/` then `BERT_DIR=bert-onnx npm start`)');
    return;
  }
  const model = [join(dir, 'model.onnx'), join(dir, 'onnx', 'model.onnx')].find(existsSync);
  if (!model) throw new Error(`BERT_DIR=${dir}: no model.onnx or onnx/model.onnx there`);
  const json = join(dir, 'tokenizer.json');
  const tokenizer = existsSync(json)
    ? BertTokenizer.fromJSON(readFileSync(json, 'utf8'))
    : BertTokenizer.fromVocab(readFileSync(join(dir, 'vocab.txt'), 'utf8'));
  console.log(`\nfill-mask with ${model}:`);
  const real = await pipeline('fill-mask', { model, tokenizer });
  await run(real, SENTENCES);
  await real.release();
}
