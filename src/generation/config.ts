/**
 * Generation options, named and defaulted as transformers.js's GenerationConfig (itself Hugging
 * Face transformers'), for the parameters tessera implements. Options given to a call override
 * the model folder's generation_config.json, which overrides these defaults.
 */
import { TesseraError } from '../api/errors.js';
import type { BaseStreamer } from './streamers.js';

/** What one generation does; every field is optional. */
export interface GenerationConfig {
  /** New tokens at most (default 20 when neither it nor `max_length` is set). */
  max_new_tokens?: number | null;
  /** Prompt plus new tokens at most (transformers' older limit; `max_new_tokens` wins). */
  max_length?: number;
  /** End-of-sequence tokens are suppressed until this many new tokens exist. */
  min_new_tokens?: number | null;
  /** Sample from the distribution (true) or take the most likely token (false, default). */
  do_sample?: boolean;
  /** Divide logits by this before sampling (default 1). */
  temperature?: number;
  /** Sample only from the k most likely tokens (default 50; 0 = all). */
  top_k?: number;
  /** Sample only from the smallest set whose probability reaches p (default 1 = all). */
  top_p?: number;
  /** Drop tokens less likely than min_p × the most likely one's probability (default 0 = none). */
  min_p?: number;
  /** >1 discourages tokens already present (prompt and generated), as CTRL's penalty (default 1). */
  repetition_penalty?: number;
  /** Never repeat an n-gram of this size (default 0 = off). */
  no_repeat_ngram_size?: number;
  /** Token(s) that end generation; a list as generation_config.json may give. */
  eos_token_id?: number | number[] | null;
  /** Padding token for batched prompts of unequal length (default: the first EOS token). */
  pad_token_id?: number | null;
  /** Text that ends generation once the generated text contains it (pipeline only: needs the tokenizer). */
  stop_strings?: string | string[] | null;
  /** Seed of the sampling RNG (Mulberry32): same seed, same tokens. Default: a random seed. */
  seed?: number;
  /** Receives the prompt, then each new token: transformers.js's put(ids) / end() contract. */
  streamer?: BaseStreamer | null;
  /** Stops generation between tokens; what was generated so far is returned. */
  signal?: AbortSignal;
}

/** The defaults (transformers.js's). */
export const GENERATION_DEFAULTS = {
  max_length: 20, do_sample: false, temperature: 1, top_k: 50, top_p: 1, min_p: 0,
  repetition_penalty: 1, no_repeat_ngram_size: 0,
} as const;

/** A config with every limit resolved and every value checked. */
export interface ResolvedConfig {
  maxNewTokens: number;
  minNewTokens: number;
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repetitionPenalty: number;
  noRepeatNgramSize: number;
  eos: number[];
  padTokenId: number;
  seed: number | undefined;
}

/** Merges and validates: `fail` names the option; the prompt length turns max_length into a count. */
export function resolveConfig(layers: readonly (GenerationConfig | undefined)[], promptLength: number): ResolvedConfig {
  const c: GenerationConfig = Object.assign({}, GENERATION_DEFAULTS, ...layers.map((l) => l ?? {}));
  const num = (name: keyof GenerationConfig, v: unknown, ok: (x: number) => boolean, what: string): number => {
    if (typeof v !== 'number' || !ok(v)) throw new TesseraError('INVALID_ARGUMENT', `generation option ${name} must be ${what}, got ${String(v)}`);
    return v;
  };
  const int = (x: number) => Number.isInteger(x) && x >= 0;
  const explicitMax = layers.some((l) => l?.max_new_tokens != null);
  const maxNewTokens = explicitMax
    ? num('max_new_tokens', c.max_new_tokens, int, 'a non-negative integer')
    : Math.max(0, num('max_length', c.max_length, int, 'a non-negative integer') - promptLength);
  const eosRaw = c.eos_token_id;
  const eos = eosRaw == null ? [] : (Array.isArray(eosRaw) ? eosRaw : [eosRaw]);
  for (const e of eos) num('eos_token_id', e, int, 'a token id or a list of them');
  const seed = c.seed === undefined ? undefined : num('seed', c.seed, Number.isFinite, 'a finite number');
  return {
    maxNewTokens,
    minNewTokens: c.min_new_tokens == null ? 0 : num('min_new_tokens', c.min_new_tokens, int, 'a non-negative integer'),
    doSample: !!c.do_sample,
    temperature: num('temperature', c.temperature, (x) => x > 0, 'a positive number'),
    topK: num('top_k', c.top_k, int, 'a non-negative integer'),
    topP: num('top_p', c.top_p, (x) => x > 0 && x <= 1, 'in (0, 1]'),
    minP: num('min_p', c.min_p, (x) => x >= 0 && x <= 1, 'in [0, 1]'),
    repetitionPenalty: num('repetition_penalty', c.repetition_penalty, (x) => x > 0, 'a positive number'),
    noRepeatNgramSize: num('no_repeat_ngram_size', c.no_repeat_ngram_size, int, 'a non-negative integer'),
    eos,
    padTokenId: c.pad_token_id ?? eos[0] ?? 0,
    seed,
  };
}
