#!/usr/bin/env node
// bert-base-uncased's tokenizer.json and tokenizer_config.json, built offline from its vocab.txt
// (rebuilt by make-vocab.mjs) in the exact shape Hugging Face's `tokenizers` saves for that
// checkpoint: BertNormalizer (clean_text, handle_chinese_chars, lowercase, strip_accents from
// lowercase), BertPreTokenizer, WordPiece (##, [UNK], 100 chars per word), TemplateProcessing
// [CLS] $A [SEP] / [CLS] $A [SEP] $B:1 [SEP]:1, WordPiece decoder with cleanup; special tokens
// [PAD] [UNK] [CLS] [SEP] [MASK] as added tokens. Tests build it in memory (≈ 20 ms); the CLI
// writes a model folder for tools that want files (transformers.js, the Rust tokenizers).
//
// CLI: node scripts/make-bert-tokenizer.mjs <folder>

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeVocabTokens } from './make-vocab.mjs';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** tokenizer.json as an object, from the vocabulary's tokens in id order. */
export function bertTokenizerJson(tokens = makeVocabTokens()) {
  const vocab = {};
  tokens.forEach((t, id) => { vocab[t] = id; });
  const id = (t) => vocab[t];
  const special = (t) => ({ id: id(t), content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const s = (t, type_id) => ({ SpecialToken: { id: t, type_id } });
  const seq = (x, type_id) => ({ Sequence: { id: x, type_id } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map(special).sort((a, b) => a.id - b.id),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [s('[CLS]', 0), seq('A', 0), s('[SEP]', 0)],
      pair: [s('[CLS]', 0), seq('A', 0), s('[SEP]', 0), seq('B', 1), s('[SEP]', 1)],
      special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [id(t)], tokens: [t] }])),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

/** tokenizer_config.json as transformers saves it for bert-base-uncased. */
export function bertTokenizerConfig() {
  return {
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    do_lower_case: true,
    mask_token: '[MASK]',
    model_max_length: 512,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node scripts/make-bert-tokenizer.mjs <folder>');
    process.exit(1);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(bertTokenizerJson()));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(bertTokenizerConfig(), null, 2));
  console.log(`wrote ${dir}/tokenizer.json and tokenizer_config.json`);
}
