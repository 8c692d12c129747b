// BERT's WordPiece tokenizer, written from the published algorithm (Google's tokenization.py,
// Hugging Face's BertNormalizer + BertPreTokenizer + WordPiece) so that ids match what the
// checkpoints were trained on. Pipeline: added tokens → normalize → pre-tokenize → WordPiece.

import { TesseraError } from '../api/errors.js';
import { Tensor } from '../api/tensor.js';
import { splitOnAddedTokens, type AddedToken } from './added-tokens.js';
import { normalizeText, preTokenize, type NormalizerOptions } from './normalize.js';
import { configFromTokenizerJson } from './tokenizer-json.js';
import { wordPiece, type WordPieceModel } from './wordpiece.js';

/** How `BertTokenizer.fromVocab` normalizes text; match the checkpoint (cased or uncased). */
export interface BertVocabOptions {
  /** Lowercase the text (uncased checkpoints). Default true. */
  doLowerCase?: boolean;
  /** Strip accents (NFD, drop Mn). Defaults to doLowerCase, as in BERT. */
  stripAccents?: boolean;
  /** Words longer than this many code points become [UNK]. Default 100. */
  maxInputCharsPerWord?: number;
  /** Put spaces around CJK ideographs. Default true. */
  handleChineseChars?: boolean;
}

/** Whether and where `encode` / `encodeBatch` cut long inputs. */
export interface TruncationOptions {
  /**
   * Cut sequences so that, specials included, they fit maxLength (pairs: longest first).
   * Defaults to true when maxLength is given, false otherwise.
   */
  truncation?: boolean;
  /** Defaults to modelMaxLength (512 unless the tokenizer.json says otherwise). */
  maxLength?: number;
}

/** `encodeBatch` options: truncation, plus padding to a rectangular batch. */
export interface BatchOptions extends TruncationOptions {
  /** true: pad to the longest sequence; 'max_length': pad to maxLength. Default false. */
  padding?: boolean | 'max_length';
}

/** BERT's three inputs, each int64 [batch, seq], named as the exported models name them. */
export interface BatchEncoding {
  /** Token ids, [CLS] … [SEP], padded with the [PAD] id. */
  input_ids: Tensor<'int64'>;
  /** 1 for real tokens, 0 for padding. */
  attention_mask: Tensor<'int64'>;
  /** Segment ids: 0 for the first text and its specials, 1 for the pair's text and final [SEP]. */
  token_type_ids: Tensor<'int64'>;
}

/** Everything a BertTokenizer needs; built by fromVocab or read from a tokenizer.json. */
export interface BertTokenizerConfig {
  /** WordPiece's vocabulary: token → id. */
  vocab: Map<string, number>;
  /** The token a word becomes when WordPiece cannot split it (usually "[UNK]"). */
  unkToken: string;
  /** Marks a piece that continues a word (usually "##"). */
  continuingSubwordPrefix: string;
  /** Words longer than this many code points become unkToken whole. */
  maxInputCharsPerWord: number;
  /** BertNormalizer's switches: clean text, CJK spacing, lowercase, strip accents. */
  normalizer: NormalizerOptions;
  /** Matched verbatim before WordPiece; their ids may extend past the vocab. */
  addedTokens: ReadonlyArray<AddedToken & { id: number }>;
  /** The special tokens by role; each must be in the vocab or added tokens (else INVALID_ARGUMENT). */
  specialTokens: { cls: string; sep: string; pad: string; mask: string; unk: string };
  /** Remove the spaces that joining tokens leaves before punctuation (" ." → "."). */
  cleanUpSpaces: boolean;
  /** The longest input, in tokens with specials, the model accepts; the default maxLength. */
  modelMaxLength: number;
}

const SPECIAL_NAMES = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

function invalid(message: string): never {
  throw new TesseraError('INVALID_ARGUMENT', message);
}

/**
 * BERT's WordPiece tokenizer, ids matching Hugging Face's. Build with `fromVocab` (vocab.txt) or
 * `fromJSON` (tokenizer.json); invalid input throws TesseraError INVALID_ARGUMENT.
 */
export class BertTokenizer {
  /** One past the largest token id (vocab plus added tokens): the size an embedding needs. */
  readonly vocabSize: number;
  /** Id of the classification token ([CLS]) that starts every encoding. */
  readonly clsTokenId: number;
  /** Id of the separator token ([SEP]) that ends each text. */
  readonly sepTokenId: number;
  /** Id of the padding token ([PAD]) that `encodeBatch` pads with. */
  readonly padTokenId: number;
  /** Id of the mask token ([MASK]) a fill-mask model predicts. */
  readonly maskTokenId: number;
  /** Id of the unknown token ([UNK]) for words WordPiece cannot split. */
  readonly unkTokenId: number;
  /** The longest input the model's position embeddings allow; the default maxLength. */
  readonly modelMaxLength: number;

  private readonly ids: Map<string, number>;
  private readonly tokens: Array<string | undefined>;
  private readonly model: WordPieceModel;
  private readonly normalizer: NormalizerOptions;
  private readonly rawAdded: string[];
  private readonly normalizedAdded: string[];
  private readonly specialIds: Set<number>;
  private readonly cleanUpSpaces: boolean;

  /** Prefer fromVocab / fromJSON; this takes an already validated configuration. */
  constructor(config: BertTokenizerConfig) {
    this.ids = new Map(config.vocab);
    for (const t of config.addedTokens) this.ids.set(t.content, t.id);
    this.tokens = [];
    for (const [token, id] of this.ids) this.tokens[id] = token;
    this.vocabSize = this.tokens.length;

    this.model = {
      vocab: config.vocab,
      unkToken: config.unkToken,
      continuingSubwordPrefix: config.continuingSubwordPrefix,
      maxInputCharsPerWord: config.maxInputCharsPerWord,
    };
    this.normalizer = { ...config.normalizer };
    this.rawAdded = config.addedTokens.filter((t) => !t.normalized).map((t) => t.content);
    this.normalizedAdded = config.addedTokens.filter((t) => t.normalized).map((t) => t.content);
    this.specialIds = new Set(config.addedTokens.filter((t) => t.special).map((t) => t.id));
    this.cleanUpSpaces = config.cleanUpSpaces;
    this.modelMaxLength = config.modelMaxLength;

    const idOf = (role: string, token: string): number => {
      const id = this.ids.get(token);
      if (id === undefined) invalid(`BertTokenizer: the ${role} token "${token}" is not in the vocabulary`);
      return id;
    };
    const s = config.specialTokens;
    this.unkTokenId = idOf('unknown', s.unk);
    this.clsTokenId = idOf('CLS', s.cls);
    this.sepTokenId = idOf('SEP', s.sep);
    this.padTokenId = idOf('padding', s.pad);
    this.maskTokenId = idOf('mask', s.mask);
  }

  /** From a vocab.txt (one token per line, id = line number) or its lines. */
  static fromVocab(vocabText: string | readonly string[], options: BertVocabOptions = {}): BertTokenizer {
    const lines = typeof vocabText === 'string' ? vocabText.split('\n') : [...vocabText];
    // A trailing newline ends the last line; it does not add an empty token.
    if (typeof vocabText === 'string' && lines[lines.length - 1] === '') lines.pop();
    const vocab = new Map<string, number>();
    // Later duplicates win, as in both reference loaders (Python dict, Rust HashMap).
    lines.forEach((line, id) => vocab.set(line.endsWith('\r') ? line.slice(0, -1) : line, id));

    const lowercase = options.doLowerCase ?? true;
    const maxChars = options.maxInputCharsPerWord ?? 100;
    if (!Number.isSafeInteger(maxChars) || maxChars < 1) invalid(`BertTokenizer: maxInputCharsPerWord must be a positive integer, got ${maxChars}`);
    const addedTokens = SPECIAL_NAMES.map((content) => {
      const id = vocab.get(content);
      if (id === undefined) invalid(`BertTokenizer.fromVocab: the vocabulary has no ${content}`);
      return { content, id, special: true, normalized: false };
    });
    return new BertTokenizer({
      vocab,
      unkToken: '[UNK]',
      continuingSubwordPrefix: '##',
      maxInputCharsPerWord: maxChars,
      normalizer: {
        cleanText: true,
        handleChineseChars: options.handleChineseChars ?? true,
        lowercase,
        stripAccents: options.stripAccents ?? lowercase,
      },
      addedTokens,
      specialTokens: { cls: '[CLS]', sep: '[SEP]', pad: '[PAD]', mask: '[MASK]', unk: '[UNK]' },
      cleanUpSpaces: true,
      modelMaxLength: 512,
    });
  }

  /** From a Hugging Face tokenizer.json (text or parsed) describing a BERT WordPiece tokenizer. */
  static fromJSON(json: string | object): BertTokenizer {
    return new BertTokenizer(configFromTokenizerJson(json));
  }

  /** The id of a token (exact match, no normalization), or undefined if it is not in the vocab. */
  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** The token with this id, or undefined if no token has it. */
  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  /** WordPiece tokens of `text`, without [CLS]/[SEP]; added tokens in the text stay whole. */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const raw of splitOnAddedTokens(text, this.rawAdded)) {
      if (raw.added) {
        out.push(raw.text);
        continue;
      }
      const normalized = normalizeText(raw.text, this.normalizer);
      for (const part of splitOnAddedTokens(normalized, this.normalizedAdded)) {
        if (part.added) out.push(part.text);
        else for (const word of preTokenize(part.text)) out.push(...wordPiece(word, this.model));
      }
    }
    return out;
  }

  /** [CLS] text [SEP] (pair [SEP]) as ids. */
  encode(text: string, pair?: string, options: TruncationOptions = {}): number[] {
    return this.encodeWithTypes(text, pair, this.truncationLimit(options)).ids;
  }

  /** Rectangular int64 tensors [batch, seq] ready to feed a BERT model. */
  encodeBatch(inputs: ReadonlyArray<string | readonly [string, string]>, options: BatchOptions = {}): BatchEncoding {
    const { padding = false } = options;
    const limit = this.truncationLimit(options);
    const rows = inputs.map((input) => (typeof input === 'string'
      ? this.encodeWithTypes(input, undefined, limit)
      : this.encodeWithTypes(input[0], input[1], limit)));
    const longest = rows.reduce((m, r) => Math.max(m, r.ids.length), 0);

    let seqLen = longest;
    if (padding === 'max_length') {
      seqLen = options.maxLength ?? this.modelMaxLength;
      if (longest > seqLen) invalid(`BertTokenizer.encodeBatch: a sequence has ${longest} tokens, more than maxLength ${seqLen}; pass truncation: true`);
    } else if (!padding && rows.some((r) => r.ids.length !== longest)) {
      invalid(`BertTokenizer.encodeBatch: sequences have different lengths (${rows.map((r) => r.ids.length).join(', ')}); pass padding: true to make a tensor`);
    }

    const size = rows.length * seqLen;
    const ids = new BigInt64Array(size).fill(BigInt(this.padTokenId));
    const mask = new BigInt64Array(size);
    const types = new BigInt64Array(size);
    rows.forEach((row, b) => {
      for (let i = 0; i < row.ids.length; i++) {
        ids[b * seqLen + i] = BigInt(row.ids[i]!);
        mask[b * seqLen + i] = 1n;
        types[b * seqLen + i] = BigInt(row.typeIds[i]!);
      }
    });
    const dims = [rows.length, seqLen];
    return {
      input_ids: new Tensor('int64', ids, dims),
      attention_mask: new Tensor('int64', mask, dims),
      token_type_ids: new Tensor('int64', types, dims),
    };
  }

  /** Text from ids: ## pieces joined to their word, specials dropped unless asked for. */
  decode(ids: ArrayLike<number | bigint>, { skipSpecialTokens = true }: { skipSpecialTokens?: boolean } = {}): string {
    const prefix = this.model.continuingSubwordPrefix;
    let text = '';
    let first = true;
    for (let i = 0; i < ids.length; i++) {
      const id = Number(ids[i]);
      const token = this.tokens[id];
      if (token === undefined) throw new TesseraError('INVALID_ARGUMENT', `BertTokenizer.decode: id ${String(ids[i])} is not in the vocabulary`);
      if (skipSpecialTokens && this.specialIds.has(id)) continue;
      if (first) text = token;
      else text += token.startsWith(prefix) ? token.slice(prefix.length) : ` ${token}`;
      first = false;
    }
    return this.cleanUpSpaces ? cleanUpTokenization(text) : text;
  }

  private truncationLimit({ truncation, maxLength }: TruncationOptions): number | undefined {
    if (maxLength !== undefined && (!Number.isSafeInteger(maxLength) || maxLength < 1)) {
      invalid(`BertTokenizer: maxLength must be a positive integer, got ${maxLength}`);
    }
    return (truncation ?? maxLength !== undefined) ? maxLength ?? this.modelMaxLength : undefined;
  }

  private toIds(text: string): number[] {
    // Every token tokenize() returns is a vocab entry or an added token, so the lookup succeeds.
    return this.tokenize(text).map((t) => this.ids.get(t)!);
  }

  private encodeWithTypes(text: string, pair: string | undefined, limit: number | undefined) {
    let a = this.toIds(text);
    let b = pair === undefined ? undefined : this.toIds(pair);
    if (limit !== undefined) {
      const specials = b === undefined ? 2 : 3;
      if (limit < specials) invalid(`BertTokenizer: maxLength ${limit} leaves no room for the ${specials} special tokens`);
      [a, b] = truncateLongestFirst(a, b, limit - specials);
    }
    const ids = [this.clsTokenId, ...a, this.sepTokenId];
    const typeIds = ids.map(() => 0);
    if (b !== undefined) {
      ids.push(...b, this.sepTokenId);
      typeIds.push(...b.map(() => 1), 1);
    }
    return { ids, typeIds };
  }
}

/**
 * Hugging Face's longest-first rule (tokenizers' truncate_encodings): only the longer sequence is
 * cut while that suffices; otherwise both get half the budget, the second taking the odd token.
 */
export function truncateLongestFirst(a: number[], b: number[] | undefined, budget: number): [number[], number[] | undefined] {
  if (b === undefined) return [a.slice(0, budget), undefined];
  if (a.length + b.length <= budget) return [a, b];
  const swap = a.length > b.length;
  let short = Math.min(a.length, b.length);
  let long = short > budget ? short : Math.max(short, budget - short);
  if (short + long > budget) {
    short = Math.floor(budget / 2);
    long = short + (budget % 2);
  }
  const [na, nb] = swap ? [long, short] : [short, long];
  return [a.slice(0, na), b.slice(0, nb)];
}

/** transformers' clean_up_tokenization: undo the spaces that joining put before punctuation. */
function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(' .', '.').replaceAll(' ?', '?').replaceAll(' !', '!').replaceAll(' ,', ',')
    .replaceAll(" ' ", "'").replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}
