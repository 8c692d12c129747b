/**
 * token-classification (alias ner), as transformers.js v4 runs it
 * (pipelines/token-classification.js): one padded, truncated batch; per token the arg-max label
 * (first on ties), skipped when in ignore_labels (default ['O']) or when the token decodes to ''
 * (special and padding tokens); score = that label's softmax probability (float32). With
 * aggregation_strategy 'simple', consecutive tokens are grouped by BIOES tag exactly as its
 * groupEntities does: a token continues the open group only if its tag matches and its prefix is
 * not B-/S-; E- closes the group; the group's word is the decode of its ids, its score the mean.
 */
import { TesseraError } from '../api/errors.js';
import { type PipelineBase, type PipelineParts, checkTextModel, makePipeline, textFeeds, textList } from './base.js';
import { softmax } from './math.js';

/** One token's prediction (aggregation_strategy 'none'). */
export interface TokenClassificationToken {
  /** The label, e.g. 'B-PER'. */
  entity: string;
  /** Its softmax probability. */
  score: number;
  /** The token's position in input_ids (special tokens included). */
  index: number;
  /** The token decoded alone (a continuation piece keeps its '##'). */
  word: string;
}

/** One entity of aggregation_strategy 'simple'. */
export interface TokenClassificationGroup {
  /** The tag without its B-/I-/E-/S- prefix, e.g. 'PER'. */
  entity_group: string;
  /** The mean of the tokens' scores. */
  score: number;
  /** The group's tokens decoded together. */
  word: string;
}

/** Options of one token-classification call. */
export interface TokenClassificationOptions {
  /** Labels left out of the result. Default ['O']. */
  ignore_labels?: string[];
  /** 'none' (default): one result per token; 'simple': B-/I- pieces grouped into entities. */
  aggregation_strategy?: 'none' | 'simple';
}

/** A list of tokens or of entities per text (a single text gives its list). */
export type TokenClassificationOutput = TokenClassificationToken[] | TokenClassificationGroup[];

/** `await ner(texts, { ignore_labels, aggregation_strategy })`. */
export type TokenClassificationPipeline = ((texts: string | string[], options?: TokenClassificationOptions) => Promise<TokenClassificationOutput | TokenClassificationOutput[]>) & PipelineBase;

/**
 * The kept tokens of one sequence: `logits` holds `ids.length` rows of `labels` values from `offset`.
 * `decode` decodes ids with special tokens skipped.
 */
export function classifyTokens(
  logits: ArrayLike<number>, offset: number, labels: number, ids: readonly number[],
  labelOf: (i: number) => string, ignoreLabels: readonly string[], decode: (ids: number[]) => string,
): TokenClassificationToken[] {
  const tokens: TokenClassificationToken[] = [];
  for (let j = 0; j < ids.length; j++) {
    const row = offset + j * labels;
    let best = 0;
    for (let k = 1; k < labels; k++) if (logits[row + k]! > logits[row + best]!) best = k;
    const entity = labelOf(best);
    if (ignoreLabels.includes(entity)) continue;
    const word = decode([ids[j]!]);
    if (word === '') continue; // a special token
    tokens.push({ entity, score: softmax(logits, row, labels)[best]!, index: j, word });
  }
  return tokens;
}

/** A label's BIOES prefix and tag ('B-PER' → ['B', 'PER']; no prefix counts as I-). */
export function splitTag(entity: string): [string, string] {
  const p = entity[0];
  return entity[1] === '-' && (p === 'B' || p === 'I' || p === 'E' || p === 'S') ? [p, entity.slice(2)] : ['I', entity];
}

/** transformers.js' 'simple' aggregation of one sequence's kept tokens. */
export function groupEntities(tokens: readonly TokenClassificationToken[], ids: readonly number[], decode: (ids: number[]) => string): TokenClassificationGroup[] {
  const groups: Array<{ tag: string; start: number; end: number }> = [];
  let open: string | null = null;
  tokens.forEach((t, i) => {
    const [prefix, tag] = splitTag(t.entity);
    if (open === tag && prefix !== 'B' && prefix !== 'S') {
      groups[groups.length - 1]!.end = i + 1;
      if (prefix === 'E') open = null;
    } else {
      groups.push({ tag, start: i, end: i + 1 });
      open = prefix === 'S' ? null : tag;
    }
  });
  return groups.map(({ tag, start, end }) => {
    let sum = 0;
    const groupIds: number[] = [];
    for (let i = start; i < end; i++) { sum += tokens[i]!.score; groupIds.push(ids[tokens[i]!.index]!); }
    return { entity_group: tag, score: sum / (end - start), word: decode(groupIds) };
  });
}

/** Wraps loaded parts as the token-classification callable; checks the model has logits. */
export function tokenClassification(task: string, parts: PipelineParts): TokenClassificationPipeline {
  checkTextModel(task, parts.session, ['logits']);
  const { session, tokenizer, config } = parts;
  const labelOf = (i: number) => (config.id2label ? (config.id2label[i] as string) : `LABEL_${i}`);
  const decode = (ids: number[]) => tokenizer.decode(ids, { skipSpecialTokens: true });
  const call = async (texts: string | string[], options: TokenClassificationOptions = {}) => {
    const { ignore_labels = ['O'], aggregation_strategy = 'none' } = options;
    if (aggregation_strategy !== 'none' && aggregation_strategy !== 'simple') {
      throw new TesseraError('INVALID_ARGUMENT', `${task}: aggregation_strategy must be 'none' or 'simple', got ${JSON.stringify(aggregation_strategy)}`);
    }
    if (!Array.isArray(ignore_labels) || ignore_labels.some((l) => typeof l !== 'string')) {
      throw new TesseraError('INVALID_ARGUMENT', `${task}: ignore_labels must be an array of label names`);
    }
    const list = textList(task, texts);
    const enc = tokenizer.encodeBatch(list, { padding: true, truncation: true });
    const logits = (await session.run(textFeeds(session, enc), ['logits'])).logits!;
    const [batch, seq] = enc.input_ids.dims as [number, number];
    if (logits.type !== 'float32' || logits.dims.length !== 3 || logits.dims[0] !== batch || logits.dims[1] !== seq) {
      throw new TesseraError('INVALID_MODEL', `${task}: the model's logits are ${logits.type} [${logits.dims.join(', ')}], not float32 [${batch}, ${seq}, labels]`);
    }
    const labels = logits.dims[2]!;
    const out: TokenClassificationOutput[] = [];
    for (let b = 0; b < batch; b++) {
      const ids = Array.from(enc.input_ids.data.subarray(b * seq, (b + 1) * seq), Number);
      const tokens = classifyTokens(logits.data as Float32Array, b * seq * labels, labels, ids, labelOf, ignore_labels, decode);
      out.push(aggregation_strategy === 'simple' ? groupEntities(tokens, ids, decode) : tokens);
    }
    return Array.isArray(texts) ? out : out[0]!;
  };
  return makePipeline(task, parts, call, {});
}
