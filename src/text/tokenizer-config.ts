// What tokenizer_config.json (and special_tokens_map.json) add to a tokenizer.json: the special
// tokens by role, padding and truncation sides, the longest input, the chat templates and whether
// the model takes token_type_ids. Read the way transformers (Python) and transformers.js read them.

import { TesseraError } from '../api/errors.js';

type Json = Record<string, unknown>;

/** The special tokens by role; each is undefined when the tokenizer has none. */
export interface SpecialTokens {
  bos?: string;
  eos?: string;
  unk?: string;
  sep?: string;
  pad?: string;
  cls?: string;
  mask?: string;
}

/** transformers' VERY_LARGE_INTEGER (int(1e30)) and anything near it mean "no limit". */
const NO_LIMIT = 1e18;

/**
 * Tokenizer classes that return token_type_ids in transformers.js v4 (return_token_type_ids = true);
 * others return only input_ids and attention_mask.
 */
const TYPE_ID_CLASSES = new Set([
  'Albert', 'Bert', 'ConvBert', 'Deberta', 'DebertaV2', 'Electra', 'HerBERT', 'MobileBert', 'RoFormer',
  'SqueezeBert', 'XLM',
]);

/** A token field: "…", {"content": "…"} (AddedToken dumps, with or without __type) or null. */
export function tokenContent(value: unknown, where: string, key: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as Json).content === 'string') return (value as Json).content as string;
  throw new TesseraError('INVALID_ARGUMENT', `${where}: tokenizer_config.json's "${key}" should be a token (a string or {"content": …}), found ${JSON.stringify(value)}`);
}

/** The role tokens: tokenizer_config.json first, then special_tokens_map.json. */
export function readSpecialTokens(config: Json, where: string): SpecialTokens {
  const pick = (key: string) => tokenContent(config[key], where, key);
  return {
    bos: pick('bos_token'), eos: pick('eos_token'), unk: pick('unk_token'), sep: pick('sep_token'),
    pad: pick('pad_token'), cls: pick('cls_token'), mask: pick('mask_token'),
  };
}

/** model_max_length, Infinity when absent or "very large" (as transformers writes "no limit"). */
export function readModelMaxLength(config: Json): number {
  const n = config.model_max_length;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 && n < NO_LIMIT ? Math.floor(n) : Infinity;
}

/** 'left' or 'right' from a config key, else the fallback. */
export function readSide(value: unknown, fallback: 'left' | 'right'): 'left' | 'right' {
  return value === 'left' || value === 'right' ? value : fallback;
}

/**
 * Whether encodeBatch returns token_type_ids: model_input_names when the config lists them, else
 * the tokenizer class (as transformers.js decides), else whether the post-processor gives the
 * second text its own segment (BertProcessing, or a template with a type_id 1).
 */
export function wantsTokenTypeIds(config: Json, json: Json): boolean {
  if (Array.isArray(config.model_input_names)) return config.model_input_names.includes('token_type_ids');
  if (typeof config.tokenizer_class === 'string' && config.tokenizer_class !== 'PreTrainedTokenizerFast') {
    return TYPE_ID_CLASSES.has(config.tokenizer_class.replace(/(TokenizerFast|Tokenizer)$/, ''));
  }
  if (Object.keys(config).length > 0) return false;
  return postProcessorSplitsSegments(json.post_processor);
}

function postProcessorSplitsSegments(pp: unknown): boolean {
  if (!pp || typeof pp !== 'object') return false;
  const p = pp as Json;
  if (p.type === 'BertProcessing') return true;
  if (p.type === 'Sequence' && Array.isArray(p.processors)) return p.processors.some(postProcessorSplitsSegments);
  if (p.type === 'TemplateProcessing' && Array.isArray(p.pair)) {
    return p.pair.some((piece: Json) => Object.values(piece ?? {}).some((v) => (v as Json)?.type_id === 1));
  }
  return false;
}

/**
 * chat_template as transformers stores it: one template, or a list of {name, template} (tool_use,
 * rag, default…) turned into a record. Undefined when the config has none.
 */
export function readChatTemplates(config: Json, where: string): string | Record<string, string> | undefined {
  const t = config.chat_template;
  if (t === undefined || t === null) return undefined;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const out: Record<string, string> = Object.create(null);
    for (const item of t) {
      if (!item || typeof item.name !== 'string' || typeof item.template !== 'string') {
        throw new TesseraError('INVALID_ARGUMENT', `${where}: tokenizer_config.json's "chat_template" list should hold {"name", "template"} strings, found ${JSON.stringify(item).slice(0, 80)}`);
      }
      out[item.name] = item.template;
    }
    return out;
  }
  throw new TesseraError('INVALID_ARGUMENT', `${where}: tokenizer_config.json's "chat_template" should be a string or a list of named templates, found ${typeof t}`);
}
