// Tokenizer: any Hugging Face tokenizer.json (WordPiece, byte-level BPE, SentencePiece-style BPE
// with byte fallback, Unigram) with its tokenizer_config.json. The tokenization itself is
// @huggingface/tokenizers (what transformers.js v4 runs); this class adds what a model needs
// around it, the way Hugging Face's Rust library and transformers do it: truncation that keeps the
// special tokens (longest first for pairs), padding from the config into int64 tensors, token
// offsets into the original text (offsets.ts), chat templates (chat-template.ts) and loading from
// a folder, URL or hub repository (pretrained.ts).

import { TesseraError } from '../api/errors.js';
import { Tensor } from '../api/tensor.js';
import { ChatTemplates, type ChatMessage, type ChatTemplateOptions } from './chat-template.js';
import { createCore, parseJsonObject, type CoreTokenizer } from './hf-core.js';
import { surfaceRules, tokensWithOffsets, type SpannedToken, type SurfaceRules } from './offsets.js';
import { readTokenizerFiles, type TokenizerPretrainedOptions } from './pretrained.js';
import { truncatePair } from './truncate.js';
import {
  readChatTemplates, readModelMaxLength, readSide, readSpecialTokens, wantsTokenTypeIds, type SpecialTokens,
} from './tokenizer-config.js';

type Json = Record<string, unknown>;

/** Options of `Tokenizer.encode`. */
export interface TokenizerEncodeOptions {
  /** Add the model's special tokens ([CLS] … [SEP], <bos>, …) as its post-processor says. Default true. */
  addSpecialTokens?: boolean;
  /** A second text (question + context, premise + hypothesis), encoded as a pair. */
  textPair?: string;
  /** Cut the texts (not the special tokens) to fit maxLength; pairs longest first. Default: true when maxLength is given. */
  truncation?: boolean;
  /** Longest result in tokens, specials included. Default: modelMaxLength when truncating. */
  maxLength?: number;
}

/** Options of `Tokenizer.encodeBatch`. */
export interface TokenizerBatchOptions {
  /**
   * true or 'longest' (default): pad to the longest row; 'max_length': pad to maxLength; false:
   * rows must already have one length.
   */
  padding?: boolean | 'longest' | 'max_length';
  /** Cut rows to maxLength (specials kept, pairs longest first). Default: true when maxLength is given. */
  truncation?: boolean;
  /** Longest row in tokens, specials included. Default: modelMaxLength. */
  maxLength?: number;
  /** Add the model's special tokens. Default true. */
  addSpecialTokens?: boolean;
  /** Return token_type_ids; default: when the model takes them (BERT-like tokenizers). */
  returnTokenTypeIds?: boolean;
}

/** Model-ready inputs: int64 tensors [batch, seq], named as exported models name them. */
export interface TokenizerBatchEncoding {
  /** Token ids, padded with the pad token. */
  input_ids: Tensor<'int64'>;
  /** 1 for tokens, 0 for padding. */
  attention_mask: Tensor<'int64'>;
  /** Segment ids (0 for the first text, 1 for the pair's); only for tokenizers whose models take them. */
  token_type_ids?: Tensor<'int64'>;
}

/** One encoded row before padding: ids and segment ids (what `pad` takes). */
export interface EncodedRow {
  /** Token ids. */
  ids: number[];
  /** Segment id of each token (0: first text and its specials; 1: the pair's). */
  typeIds: number[];
}

/**
 * One text (or pair) encoded with where each token came from. `offsets[i]` is the range of the
 * caller's text token i stands for, in UTF-16 code units (`text.slice(start, end)`); for a pair,
 * tokens with sequenceIds[i] === 1 point into the second text. Special tokens the post-processor
 * added have sequence id null and range [0, 0]. A token that is part of a character (byte-level
 * BPE splits emoji into bytes) covers the whole character; trim_offsets tokenizers (Llama 3,
 * RoBERTa) leave the spaces out of a token's range — all as Hugging Face's Rust tokenizers does.
 */
export interface EncodingWithOffsets extends EncodedRow {
  /** The tokens, as the vocabulary spells them. */
  tokens: string[];
  /** [start, end) of each token in its text, UTF-16 code units. */
  offsets: Array<[number, number]>;
  /** 0: from the text, 1: from the pair, null: a special token. */
  sequenceIds: Array<0 | 1 | null>;
}

/** Options of `Tokenizer.decode`. */
export interface TokenizerDecodeOptions {
  /** Leave out special tokens (<bos>, [CLS], <|im_end|>, …). Default false, as transformers. */
  skipSpecialTokens?: boolean;
  /** Remove the spaces word-joining leaves before punctuation. Default: tokenizer_config.json's clean_up_tokenization_spaces (true when absent). */
  cleanUpTokenizationSpaces?: boolean;
}

/** An id list or an int64/int32 tensor row, as models return them. */
export type TokenIds = ArrayLike<number | bigint>;

function invalid(message: string): never {
  throw new TesseraError('INVALID_ARGUMENT', message);
}

function checkLength(where: string, n: number | undefined): void {
  if (n !== undefined && (!Number.isSafeInteger(n) || n < 1)) invalid(`${where}: maxLength must be a positive integer, got ${n}`);
}

/**
 * A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json). Build with `fromJSON` or
 * `fromPretrained`; ids match Hugging Face's Rust `tokenizers`. Bad input throws TesseraError.
 */
export class Tokenizer {
  /** The longest input the model accepts (tokenizer_config.json's model_max_length; Infinity when unset). */
  readonly modelMaxLength: number;
  /** Which side `encodeBatch` pads ('right' unless the config says 'left', as decoder LMs often do). */
  readonly paddingSide: 'left' | 'right';
  /** Which side truncation cuts ('right' unless the config says 'left'). */
  readonly truncationSide: 'left' | 'right';
  /** Whether `encodeBatch` returns token_type_ids by default. */
  readonly returnsTokenTypeIds: boolean;
  /** One past the largest token id (vocabulary plus added tokens). */
  readonly vocabSize: number;

  /** @internal The @huggingface/tokenizers object doing the work. */
  readonly core: CoreTokenizer;
  private readonly special: SpecialTokens;
  private readonly specialIds: Set<number>;
  private readonly templates: ChatTemplates;
  private readonly cleanUp: boolean;
  private readonly addedCount: { single: number; pair: number };
  private readonly where = 'Tokenizer';
  private readonly rules: SurfaceRules;

  private constructor(json: Json, config: Json) {
    this.core = createCore(json, config, this.where);
    this.special = readSpecialTokens(config, this.where);
    // A tokenizer.json saved with padding settings names its pad token there.
    const padding = json.padding as Json | null | undefined;
    if (this.special.pad === undefined && typeof padding?.pad_token === 'string') this.special.pad = padding.pad_token;
    this.modelMaxLength = readModelMaxLength(config);
    this.paddingSide = readSide(config.padding_side, padding?.direction === 'Left' ? 'left' : 'right');
    this.truncationSide = readSide(config.truncation_side, 'right');
    this.returnsTokenTypeIds = wantsTokenTypeIds(config, json);
    this.templates = new ChatTemplates(readChatTemplates(config, this.where), this.special, this.where);
    this.cleanUp = config.clean_up_tokenization_spaces !== false;
    this.specialIds = new Set(this.core.added_tokens.filter((t) => t.special).map((t) => t.id));
    this.vocabSize = this.core.model.vocab.length;
    this.rules = surfaceRules(json);
    this.addedCount = {
      single: this.postProcess([], null, true).ids.length,
      pair: this.postProcess([], [], true).ids.length,
    };
  }

  /**
   * From a parsed or textual tokenizer.json and, optionally, tokenizer_config.json (special tokens,
   * padding side, model_max_length, chat_template, …).
   * @throws TesseraError INVALID_ARGUMENT when a file is not JSON or the tokenizer cannot be built.
   */
  static fromJSON(tokenizerJson: string | object, tokenizerConfig?: string | object): Tokenizer {
    const json = parseJsonObject(tokenizerJson, 'tokenizer.json', 'Tokenizer.fromJSON');
    const config = tokenizerConfig === undefined ? {} : parseJsonObject(tokenizerConfig, 'tokenizer_config.json', 'Tokenizer.fromJSON');
    return new Tokenizer(json, config);
  }

  /**
   * From a model folder: a local directory (Node), a URL base, or a hub repository id `org/name`
   * read from `<host>/<repo>/resolve/<revision>/`. Reads tokenizer.json and, when present,
   * tokenizer_config.json and special_tokens_map.json; downloads are cached like models.
   * @throws TesseraError INVALID_ARGUMENT naming the file that is missing or broken.
   */
  static async fromPretrained(location: string | URL, options: TokenizerPretrainedOptions = {}): Promise<Tokenizer> {
    const { json, config } = await readTokenizerFiles(location, options);
    return new Tokenizer(json, config);
  }

  // ---- special tokens ----------------------------------------------------------------------

  /** The beginning-of-sequence token (<s>, <bos>, <|begin_of_text|>), if any. */
  get bosToken(): string | undefined { return this.special.bos; }
  /** Its id. */
  get bosTokenId(): number | undefined { return this.idOf(this.special.bos); }
  /** The end-of-sequence token (</s>, <eos>, <|im_end|>, …), if any. */
  get eosToken(): string | undefined { return this.special.eos; }
  /** Its id. */
  get eosTokenId(): number | undefined { return this.idOf(this.special.eos); }
  /** The padding token (pad_token, else eos_token, as transformers.js), if any. */
  get padToken(): string | undefined { return this.special.pad ?? this.special.eos; }
  /** Its id: what encodeBatch pads input_ids with. */
  get padTokenId(): number | undefined { return this.idOf(this.padToken); }
  /** The unknown token ([UNK], <unk>), if any. */
  get unkToken(): string | undefined { return this.special.unk; }
  /** Its id. */
  get unkTokenId(): number | undefined { return this.idOf(this.special.unk); }
  /** The separator token ([SEP], </s>), if any. */
  get sepToken(): string | undefined { return this.special.sep; }
  /** Its id. */
  get sepTokenId(): number | undefined { return this.idOf(this.special.sep); }
  /** The classification token ([CLS], <s>), if any. */
  get clsToken(): string | undefined { return this.special.cls; }
  /** Its id. */
  get clsTokenId(): number | undefined { return this.idOf(this.special.cls); }
  /** The mask token ([MASK], <mask>), if any. */
  get maskToken(): string | undefined { return this.special.mask; }
  /** Its id. */
  get maskTokenId(): number | undefined { return this.idOf(this.special.mask); }
  /** Ids of every added token marked special (what skipSpecialTokens drops). */
  get allSpecialIds(): number[] { return [...this.specialIds]; }
  /** Whether the tokenizer has a chat template of its own. */
  get hasChatTemplate(): boolean { return this.templates.available; }

  /** The id of a token (exact vocabulary or added-token entry), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.core.token_to_id(token);
  }

  /** The token with this id, or undefined. */
  idToToken(id: number): string | undefined {
    return this.core.id_to_token(id);
  }

  /** Tokens of ids, undefined for ids no token has. */
  convertIdsToTokens(ids: TokenIds): Array<string | undefined> {
    return Array.from(ids, (id) => this.core.id_to_token(Number(id)));
  }

  /** Ids of tokens, undefined for tokens not in the vocabulary. */
  convertTokensToIds(tokens: readonly string[]): Array<number | undefined> {
    return tokens.map((t) => this.core.token_to_id(t));
  }

  /** Whether the id is a special added token. */
  isSpecialId(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** token → id for the whole vocabulary, added tokens included. */
  getVocab(): Map<string, number> {
    return this.core.get_vocab(true);
  }

  // ---- encoding ----------------------------------------------------------------------------

  /** The tokens of `text` (no special tokens added), as the vocabulary spells them. */
  tokenize(text: string): string[] {
    this.checkText(text, 'tokenize');
    return this.core.encode_text(text) ?? [];
  }

  /** Token ids of a text (or a pair), special tokens added unless addSpecialTokens is false. */
  encode(text: string, options: TokenizerEncodeOptions = {}): number[] {
    return this.encodeRow(text, options.textPair, options, 'encode').ids;
  }

  /** ids and segment ids of one text or pair, truncated as asked. */
  encodeRow(text: string, textPair: string | undefined, options: Omit<TokenizerEncodeOptions, 'textPair'>, where = 'encodeRow'): EncodedRow {
    this.checkText(text, where);
    if (textPair !== undefined) this.checkText(textPair, where);
    const { addSpecialTokens = true } = options;
    let a = this.core.encode_text(text) ?? [];
    let b = textPair === undefined ? null : this.core.encode_text(textPair) ?? [];
    const limit = this.truncationLimit(options, where);
    if (limit !== undefined) {
      const added = addSpecialTokens ? (b === null ? this.addedCount.single : this.addedCount.pair) : 0;
      if (limit < added) invalid(`Tokenizer.${where}: maxLength ${limit} leaves no room for the ${added} special tokens`);
      [a, b] = truncatePair(a, b, limit - added, this.truncationSide);
    }
    return this.postProcess(a, b, addSpecialTokens);
  }

  /**
   * Like encodeRow, with each token's string and its range in the text it came from (see
   * EncodingWithOffsets); what token classification and question answering need to point
   * into the caller's text. The ids are the same as encode's.
   */
  encodeWithOffsets(text: string, options: TokenizerEncodeOptions = {}): EncodingWithOffsets {
    const where = 'encodeWithOffsets';
    this.checkText(text, where);
    if (options.textPair !== undefined) this.checkText(options.textPair, where);
    const { addSpecialTokens = true } = options;
    let a = tokensWithOffsets(this.core, this.rules, text);
    let b = options.textPair === undefined ? null : tokensWithOffsets(this.core, this.rules, options.textPair);
    const limit = this.truncationLimit(options, where);
    if (limit !== undefined) {
      const added = addSpecialTokens ? (b === null ? this.addedCount.single : this.addedCount.pair) : 0;
      if (limit < added) invalid(`Tokenizer.${where}: maxLength ${limit} leaves no room for the ${added} special tokens`);
      [a, b] = truncatePair(a, b, limit - added, this.truncationSide);
    }
    // The post-processor places stand-ins for the texts' tokens; anything else it adds is special.
    const stand = (seq: 0 | 1, list: SpannedToken[]) => list.map((_, i) => `\u0000${seq}:${i}`);
    const placed = this.postProcess(stand(0, a), b && stand(1, b), addSpecialTokens, false);
    const tokens: string[] = [];
    const offsets: Array<[number, number]> = [];
    const sequenceIds: Array<0 | 1 | null> = [];
    for (const t of placed.tokens) {
      const m = /^\u0000([01]):(\d+)$/.exec(t);
      const spanned = m ? (m[1] === '0' ? a : b!)[Number(m[2])]! : undefined;
      tokens.push(spanned ? spanned.token : t);
      offsets.push(spanned ? [spanned.start, spanned.end] : [0, 0]);
      sequenceIds.push(m ? (Number(m[1]) as 0 | 1) : null);
    }
    return { ids: tokens.map((t) => this.idOfToken(t)), typeIds: placed.typeIds, tokens, offsets, sequenceIds };
  }

  /**
   * Texts or [text, pair] tuples → int64 tensors [batch, seq]: input_ids, attention_mask and, for
   * models that take them, token_type_ids. Rows are padded on `paddingSide` with `padTokenId`.
   */
  encodeBatch(inputs: ReadonlyArray<string | readonly [string, string]>, options: TokenizerBatchOptions = {}): TokenizerBatchEncoding {
    if (!Array.isArray(inputs) || inputs.length === 0) invalid('Tokenizer.encodeBatch: pass a non-empty array of texts or [text, pair] tuples');
    const rows = inputs.map((input, i) => {
      if (typeof input === 'string') return this.encodeRow(input, undefined, options, 'encodeBatch');
      if (Array.isArray(input) && input.length === 2) return this.encodeRow(input[0], input[1], options, 'encodeBatch');
      return invalid(`Tokenizer.encodeBatch: input ${i} should be a string or a [text, pair] tuple, got ${JSON.stringify(input)}`);
    });
    return this.pad(rows, options);
  }

  /** Pads encoded rows (from encodeRow or encodeWithOffsets) into tensors, as encodeBatch does. */
  pad(rows: readonly EncodedRow[], options: Pick<TokenizerBatchOptions, 'padding' | 'maxLength' | 'returnTokenTypeIds'> = {}): TokenizerBatchEncoding {
    const { padding = true, returnTokenTypeIds = this.returnsTokenTypeIds } = options;
    checkLength('Tokenizer.pad', options.maxLength);
    if (rows.length === 0) invalid('Tokenizer.pad: no rows');
    const longest = rows.reduce((m, r) => Math.max(m, r.ids.length), 0);
    let seq = longest;
    if (padding === 'max_length') {
      seq = options.maxLength ?? this.modelMaxLength;
      if (!Number.isFinite(seq)) invalid("Tokenizer: padding 'max_length' needs maxLength (the tokenizer has no model_max_length)");
      if (longest > seq) invalid(`Tokenizer: a row has ${longest} tokens, more than maxLength ${seq}; pass truncation: true`);
    } else if (padding === false && rows.some((r) => r.ids.length !== longest)) {
      invalid(`Tokenizer: rows have different lengths (${rows.map((r) => r.ids.length).join(', ')}); pass padding: true to make a tensor`);
    }
    const padId = this.padTokenId;
    if (padId === undefined && rows.some((r) => r.ids.length < seq)) invalid('Tokenizer: padding needs a pad token, and the tokenizer has neither pad_token nor eos_token');
    const size = rows.length * seq;
    const ids = new BigInt64Array(size).fill(BigInt(padId ?? 0));
    const mask = new BigInt64Array(size);
    const types = new BigInt64Array(size);
    rows.forEach((row, r) => {
      const start = r * seq + (this.paddingSide === 'left' ? seq - row.ids.length : 0);
      for (let i = 0; i < row.ids.length; i++) {
        ids[start + i] = BigInt(row.ids[i]!);
        mask[start + i] = 1n;
        types[start + i] = BigInt(row.typeIds[i] ?? 0);
      }
    });
    const dims = [rows.length, seq];
    const out: TokenizerBatchEncoding = {
      input_ids: new Tensor('int64', ids, dims),
      attention_mask: new Tensor('int64', mask, dims),
    };
    if (returnTokenTypeIds) out.token_type_ids = new Tensor('int64', types, dims);
    return out;
  }

  // ---- decoding ----------------------------------------------------------------------------

  /**
   * Text of token ids, through the tokenizer's decoder. Ids no token has are left out (as the
   * Rust library does: models often have more output rows than the tokenizer has tokens).
   */
  decode(ids: TokenIds, options: TokenizerDecodeOptions = {}): string {
    const { skipSpecialTokens = false, cleanUpTokenizationSpaces = this.cleanUp } = options;
    const list: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i];
      const id = typeof v === 'bigint' ? Number(v) : v;
      if (!Number.isInteger(id)) invalid(`Tokenizer.decode: ids[${i}] is not an integer: ${String(v)}`);
      if (id! < 0 || this.core.model.vocab[id!] === undefined) continue;
      if (skipSpecialTokens && this.specialIds.has(id!)) continue;
      list.push(id!);
    }
    if (list.length === 0) return '';
    return this.core.decode(list, { skip_special_tokens: false, clean_up_tokenization_spaces: cleanUpTokenizationSpaces });
  }

  /** decode for each row: arrays of ids, or a 2-D tensor [batch, seq]. */
  batchDecode(batch: ReadonlyArray<TokenIds> | Tensor, options: TokenizerDecodeOptions = {}): string[] {
    if (batch instanceof Tensor) {
      if (batch.dims.length !== 2) invalid(`Tokenizer.batchDecode: expected a [batch, seq] tensor, got dims [${batch.dims.join(', ')}]`);
      const [n, seq] = batch.dims as [number, number];
      const data = batch.data as ArrayLike<number | bigint> & { subarray(a: number, b: number): ArrayLike<number | bigint> };
      return Array.from({ length: n }, (_, i) => this.decode(data.subarray(i * seq, (i + 1) * seq), options));
    }
    return batch.map((ids) => this.decode(ids, options));
  }

  // ---- chat --------------------------------------------------------------------------------

  /** The chat rendered with tokenizer_config.json's chat_template: the prompt text (tokenize: false)… */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions & { tokenize: false }): string;
  /** … or its token ids (the default), special tokens taken from the text only. */
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): number[];
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string | number[] {
    const text = this.templates.render(messages, options);
    // The template writes the special tokens itself, so none are added (as transformers does).
    return options.tokenize === false ? text : this.encode(text, { addSpecialTokens: false });
  }

  // ---- internals ---------------------------------------------------------------------------

  private idOf(token: string | undefined): number | undefined {
    return token === undefined ? undefined : this.core.token_to_id(token);
  }

  private checkText(text: unknown, where: string): void {
    if (typeof text !== 'string') invalid(`Tokenizer.${where}: expected a string, got ${text === null ? 'null' : typeof text}`);
  }

  private truncationLimit({ truncation, maxLength }: { truncation?: boolean; maxLength?: number }, where: string): number | undefined {
    checkLength(`Tokenizer.${where}`, maxLength);
    if (!(truncation ?? maxLength !== undefined)) return undefined;
    const limit = maxLength ?? this.modelMaxLength;
    return Number.isFinite(limit) ? limit : undefined;
  }

  private idOfToken(t: string): number {
    const { added_tokens_map: added, model } = this.core;
    const id = added.get(t)?.id ?? model.tokens_to_ids.get(t) ?? model.unk_token_id;
    if (id === undefined) throw new TesseraError('INVALID_ARGUMENT', `Tokenizer: the token ${JSON.stringify(t)} is not in the vocabulary and the tokenizer has no unknown token`);
    return id;
  }

  /** Places the special tokens (post-processor) and turns tokens into ids (unless toIds is false). */
  private postProcess(a: string[], b: string[] | null, addSpecialTokens: boolean, toIds?: true): EncodedRow;
  private postProcess(a: string[], b: string[] | null, addSpecialTokens: boolean, toIds: false): { tokens: string[]; typeIds: number[] };
  private postProcess(a: string[], b: string[] | null, addSpecialTokens: boolean, toIds = true): EncodedRow | { tokens: string[]; typeIds: number[] } {
    const pp = this.core.post_processor;
    let tokens: string[];
    let typeIds: number[] | undefined;
    if (pp) {
      const out = pp(a, b, addSpecialTokens);
      // Some post-processors (ByteLevel) hand the pair back instead of joining it.
      tokens = out.tokens_pair ? [...out.tokens, ...out.tokens_pair] : out.tokens;
      typeIds = out.token_type_ids;
      if (out.tokens_pair && !typeIds) typeIds = [...out.tokens.map(() => 0), ...out.tokens_pair.map(() => 1)];
    } else {
      tokens = b ? [...a, ...b] : a;
    }
    if (!typeIds || typeIds.length !== tokens.length) typeIds = [...a.map(() => 0), ...(b ?? []).map(() => 1)].slice(0, tokens.length);
    while (typeIds.length < tokens.length) typeIds.push(0);
    if (!toIds) return { tokens, typeIds };
    return { ids: tokens.map((t) => this.idOfToken(t)), typeIds };
  }
}
