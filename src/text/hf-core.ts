// The one place tessera reaches into @huggingface/tokenizers (the pure-JS tokenizer transformers.js
// v4 uses). Its public API encodes a text or a pair and post-processes in one go; Hugging Face's
// truncation (longest first, special tokens kept) needs the two steps apart, and offsets need the
// pieces too, so this file names the few internals used, checks they are there when a tokenizer
// is built, and turns every failure of the library's constructor into a TesseraError.

import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { TesseraError } from '../api/errors.js';

type Json = Record<string, unknown>;

/** An added token as the library keeps it (tokenizer.json's "added_tokens" entries). */
export interface CoreAddedToken {
  content: string;
  id: number;
  special: boolean;
  normalized: boolean;
  lstrip: boolean;
  rstrip: boolean;
  single_word: boolean;
}

/** What a post-processor returns: the tokens with specials placed, and their segment ids. */
export interface PostProcessed {
  tokens: string[];
  token_type_ids?: number[];
  tokens_pair?: string[] | null;
}

/** The internals of @huggingface/tokenizers' Tokenizer that tessera calls (version 0.2). */
export interface CoreTokenizer {
  encode(text: string, options?: { text_pair?: string | null; add_special_tokens?: boolean; return_token_type_ids?: boolean }): { ids: number[]; tokens: string[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean | null }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
  /** Added-token split → normalize → pre-tokenize → model, without specials. */
  encode_text(text: string | null): string[] | null;
  post_processor: ((tokens: string[], pair: string[] | null, addSpecialTokens: boolean) => PostProcessed) | null;
  added_tokens: CoreAddedToken[];
  added_tokens_map: Map<string, CoreAddedToken>;
  model: { tokens_to_ids: Map<string, number>; unk_token_id: number | undefined; vocab: string[] };
  normalizer: ((text: string) => string) | null;
  pre_tokenizer: ((text: string, options?: Json) => string[]) | null;
  special_tokens: string[];
}

const MODEL_TYPES = new Set(['BPE', 'WordPiece', 'Unigram']);
const COMPONENTS = ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder'] as const;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a JSON text (or takes an object), naming `file` when it is not an object. */
export function parseJsonObject(input: string | object, file: string, where: string): Json {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (e) {
      throw new TesseraError('INVALID_ARGUMENT', `${where}: ${file} is not JSON (${(e as Error).message})`, { cause: e });
    }
  }
  if (!isObject(value)) throw new TesseraError('INVALID_ARGUMENT', `${where}: ${file} should hold a JSON object, found ${Array.isArray(value) ? 'an array' : typeof value}`);
  return value;
}

/**
 * Builds the library's tokenizer after checking what it would otherwise trip over with a bare
 * TypeError: the model and its type, the component keys (null is allowed, as the Rust library
 * writes them), the added tokens.
 */
export function createCore(json: Json, config: Json, where: string): CoreTokenizer {
  const fail = (what: string): never => {
    throw new TesseraError('INVALID_ARGUMENT', `${where}: tokenizer.json ${what}`);
  };
  const model = json.model;
  if (!isObject(model)) fail(`has no "model" object (found ${model === undefined ? 'nothing' : JSON.stringify(model).slice(0, 40)})`);
  const m = model as Json;
  if (m.type !== undefined && !MODEL_TYPES.has(m.type as string)) {
    fail(`has a model of type ${JSON.stringify(m.type)}, which tessera cannot run (known: ${[...MODEL_TYPES].join(', ')})`);
  }
  if (m.type === undefined && m.vocab === undefined) fail('has a model with neither "type" nor "vocab"');
  if (m.vocab === undefined || m.vocab === null) fail(`has a ${String(m.type ?? '')} model without "vocab"`);
  if (m.type === 'BPE' && !Array.isArray(m.merges)) fail('has a BPE model without a "merges" list');
  if (json.added_tokens !== undefined && !Array.isArray(json.added_tokens)) fail('has "added_tokens" that is not a list');
  for (const [i, t] of ((json.added_tokens as unknown[]) ?? []).entries()) {
    if (!isObject(t) || typeof t.content !== 'string' || !Number.isSafeInteger(t.id)) fail(`has added_tokens[${i}] without a string "content" and an integer "id"`);
  }
  // The library wants every component key present; a missing one means "none", as in Rust.
  const full: Json = { added_tokens: [], ...json };
  for (const key of COMPONENTS) if (full[key] === undefined) full[key] = null;

  let core: CoreTokenizer;
  try {
    core = new HFTokenizer(full, config) as unknown as CoreTokenizer;
  } catch (e) {
    throw new TesseraError('INVALID_ARGUMENT', `${where}: tokenizer.json cannot be read: ${(e as Error).message}`, { cause: e });
  }
  if (typeof core.encode_text !== 'function' || !(core.added_tokens_map instanceof Map) || !core.model?.tokens_to_ids) {
    throw new TesseraError('INTERNAL', `${where}: @huggingface/tokenizers changed its internals; tessera needs version 0.2`);
  }
  keepByteOrderMarks((core as unknown as Json).decoder);
  return core;
}

/**
 * The library's ByteFallback decoder turns each run of <0xNN> tokens into text with a default
 * TextDecoder, which drops a U+FEFF at the start of the run as a byte-order mark; the Rust
 * decoder keeps it. Its ByteLevel decoder already passes ignoreBOM; this gives ByteFallback the same.
 */
function keepByteOrderMarks(decoder: unknown): void {
  if (!decoder || typeof decoder !== 'object' && typeof decoder !== 'function') return;
  const d = decoder as Json;
  if ((d.config as Json | undefined)?.type === 'ByteFallback' && d.text_decoder instanceof TextDecoder) {
    d.text_decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  }
  if (Array.isArray(d.decoders)) d.decoders.forEach(keepByteOrderMarks);
}
