// Reads a Hugging Face tokenizer.json into a BertTokenizer configuration. Only the BERT shape is
// accepted (WordPiece model, BertNormalizer, BertPreTokenizer, [CLS] A [SEP] B [SEP] template):
// anything else would tokenize differently from the model's training, so it is refused with an
// error naming what was found instead of being approximated.

import { TesseraError } from '../api/errors.js';
import type { AddedToken } from './added-tokens.js';
import type { BertTokenizerConfig } from './bert-tokenizer.js';

type Json = Record<string, unknown>;

function fail(message: string): never {
  throw new TesseraError('INVALID_ARGUMENT', `BertTokenizer.fromJSON: ${message}`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names a component for an error message: its "type", or what it is instead. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (isObject(value)) return typeof value.type === 'string' ? `'${value.type}'` : 'an object without "type"';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function optional<T>(obj: Json, key: string, kind: 'string' | 'number' | 'boolean', fallback: T): T {
  const value = obj[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== kind) fail(`"${key}" should be a ${kind}, found ${JSON.stringify(value)}`);
  return value as T;
}

interface WordPieceJson {
  vocab: Map<string, number>;
  unkToken: string;
  prefix: string;
  maxInputCharsPerWord: number;
}

function readModel(model: unknown): WordPieceJson {
  if (!isObject(model)) fail(`"model" should be a WordPiece model, found ${describe(model)}`);
  // Old files may omit "type"; a WordPiece model is then recognised by its own fields.
  const untypedWordPiece = model.type === undefined && 'continuing_subword_prefix' in model;
  if (model.type !== 'WordPiece' && !untypedWordPiece) {
    fail(`model should be 'WordPiece', found ${describe(model)}`);
  }
  if (!isObject(model.vocab)) fail(`model.vocab should map tokens to ids, found ${describe(model.vocab)}`);
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(model.vocab)) {
    if (!Number.isSafeInteger(id) || (id as number) < 0) fail(`model.vocab["${token}"] is not an id: ${JSON.stringify(id)}`);
    vocab.set(token, id as number);
  }
  return {
    vocab,
    unkToken: optional(model, 'unk_token', 'string', '[UNK]'),
    prefix: optional(model, 'continuing_subword_prefix', 'string', '##'),
    maxInputCharsPerWord: optional(model, 'max_input_chars_per_word', 'number', 100),
  };
}

function readNormalizer(normalizer: unknown) {
  if (!isObject(normalizer) || normalizer.type !== 'BertNormalizer') {
    fail(`normalizer should be 'BertNormalizer', found ${describe(normalizer)}`);
  }
  const lowercase = optional(normalizer, 'lowercase', 'boolean', true);
  return {
    cleanText: optional(normalizer, 'clean_text', 'boolean', true),
    handleChineseChars: optional(normalizer, 'handle_chinese_chars', 'boolean', true),
    lowercase,
    // null means "follow lowercase", as in BERT's original uncased/cased split.
    stripAccents: optional(normalizer, 'strip_accents', 'boolean', lowercase),
  };
}

/** The [CLS]/[SEP] names, from whichever BERT-shaped post-processor the file carries. */
function readPostProcessor(pp: unknown): { cls: string; sep: string } {
  if (pp === undefined || pp === null) return { cls: '[CLS]', sep: '[SEP]' };
  if (!isObject(pp)) fail(`post_processor should be an object, found ${describe(pp)}`);
  if (pp.type === 'BertProcessing') {
    const cls = pp.cls, sep = pp.sep;
    if (!Array.isArray(cls) || typeof cls[0] !== 'string' || !Array.isArray(sep) || typeof sep[0] !== 'string') {
      fail('BertProcessing post_processor needs "cls" and "sep" as [token, id]');
    }
    return { cls: cls[0], sep: sep[0] };
  }
  if (pp.type === 'TemplateProcessing') return readTemplate(pp);
  return fail(`post_processor should be 'BertProcessing' or 'TemplateProcessing', found ${describe(pp)}`);
}

type Piece = { special?: string; sequence?: string; typeId: number };

function templatePieces(template: unknown, name: string): Piece[] {
  if (!Array.isArray(template)) fail(`TemplateProcessing "${name}" should be an array`);
  return template.map((p: unknown) => {
    const special = isObject(p) && isObject(p.SpecialToken) ? p.SpecialToken : undefined;
    const sequence = isObject(p) && isObject(p.Sequence) ? p.Sequence : undefined;
    const body = special ?? sequence;
    if (!body) fail(`TemplateProcessing "${name}" has a piece that is neither SpecialToken nor Sequence`);
    return special
      ? { special: String(special.id), typeId: Number(special.type_id ?? 0) }
      : { sequence: String(sequence!.id), typeId: Number(sequence!.type_id ?? 0) };
  });
}

function readTemplate(pp: Json): { cls: string; sep: string } {
  const single = templatePieces(pp.single, 'single');
  const pair = templatePieces(pp.pair, 'pair');
  const cls = single[0]?.special;
  const sep = single[2]?.special;
  const bertSingle = single.length === 3 && cls !== undefined && single[1]?.sequence === 'A' && sep !== undefined
    && single.every((p) => p.typeId === 0);
  const expectedPair = [cls, 'A', sep, 'B', sep];
  const bertPair = pair.length === 5
    && pair.every((p, i) => (p.special ?? p.sequence) === expectedPair[i] && p.typeId === (i < 3 ? 0 : 1));
  if (!bertSingle || !bertPair) {
    const show = (ps: Piece[]) => ps.map((p) => `${p.special ?? `$${p.sequence}`}:${p.typeId}`).join(' ');
    fail(`TemplateProcessing should be "CLS $A:0 SEP" / "CLS $A:0 SEP $B:1 SEP:1", found "${show(single)}" / "${show(pair)}"`);
  }
  return { cls: cls!, sep: sep! };
}

function readAddedTokens(list: unknown): Array<AddedToken & { id: number }> {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) fail(`"added_tokens" should be an array, found ${describe(list)}`);
  return list.map((t: unknown) => {
    if (!isObject(t) || typeof t.content !== 'string' || !Number.isSafeInteger(t.id)) {
      fail(`added_tokens entries need "id" and "content", found ${JSON.stringify(t)}`);
    }
    // single_word restricts matches to word boundaries; not implemented, so refused, not ignored.
    if (t.single_word === true) fail(`added token "${t.content}" has single_word: true, which is not supported`);
    return { id: t.id as number, content: t.content, special: t.special === true, normalized: t.normalized === true };
  });
}

export function configFromTokenizerJson(input: string | object): BertTokenizerConfig {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (cause) {
      throw new TesseraError('INVALID_ARGUMENT', 'BertTokenizer.fromJSON: the text is not JSON', { cause });
    }
  }
  if (!isObject(json)) fail(`expected a tokenizer.json object, found ${describe(json)}`);

  const model = readModel(json.model);
  const normalizer = readNormalizer(json.normalizer);
  if (!isObject(json.pre_tokenizer) || json.pre_tokenizer.type !== 'BertPreTokenizer') {
    fail(`pre_tokenizer should be 'BertPreTokenizer', found ${describe(json.pre_tokenizer)}`);
  }
  const decoder = json.decoder;
  if (decoder !== undefined && decoder !== null) {
    if (!isObject(decoder) || decoder.type !== 'WordPiece') fail(`decoder should be 'WordPiece', found ${describe(decoder)}`);
    const prefix = optional(decoder, 'prefix', 'string', model.prefix);
    if (prefix !== model.prefix) fail(`decoder prefix "${prefix}" differs from the model's "${model.prefix}"`);
  }
  const { cls, sep } = readPostProcessor(json.post_processor);

  const added = readAddedTokens(json.added_tokens);
  for (const t of added) {
    const existing = model.vocab.get(t.content);
    if (existing !== undefined && existing !== t.id) {
      fail(`added token "${t.content}" has id ${t.id} but model.vocab says ${existing}`);
    }
  }

  const padding = isObject(json.padding) ? json.padding : {};
  const truncation = isObject(json.truncation) ? json.truncation : {};
  return {
    vocab: model.vocab,
    unkToken: model.unkToken,
    continuingSubwordPrefix: model.prefix,
    maxInputCharsPerWord: model.maxInputCharsPerWord,
    normalizer,
    addedTokens: added,
    specialTokens: {
      cls, sep, unk: model.unkToken, mask: '[MASK]',
      pad: optional(padding, 'pad_token', 'string', '[PAD]'),
    },
    cleanUpSpaces: isObject(decoder) ? optional(decoder, 'cleanup', 'boolean', true) : true,
    modelMaxLength: optional(truncation, 'max_length', 'number', 512),
  };
}
