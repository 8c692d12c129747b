/**
 * question-answering, as transformers.js v4 runs it (pipelines/question-answering.js): question
 * and context tokenized as a pair in one padded, truncated batch; per sequence, every position up
 * to the first [SEP] and every special token masked to −∞ (position 0, [CLS], kept for the
 * softmax but its probability then set to 0); softmax in float64 over start and end logits; every
 * (start ≤ end) span scored p_start · p_end, best first (ties in (start, end) order, as its stable
 * sort of the full product); the answer is the span's ids decoded without special tokens. There
 * is no maximum answer length, as in transformers.js. top_k 1 gives { answer, score } per
 * question (a flat list for a batch), any other top_k a list per question. Beyond transformers.js,
 * each answer also carries `start`/`end`, its character range in the context (from the
 * tokenizer's offsets), as Python transformers' pipeline does.
 */
import { TesseraError } from '../api/errors.js';
import type { EncodingWithOffsets, Tokenizer } from '../text/tokenizer.js';
import { type PipelineBase, type PipelineParts, type PipelineTokenizer, checkTextModel, checkTopK, makePipeline, textFeeds, textList } from './base.js';

/** One answer. */
export interface QuestionAnsweringResult {
  /** The span's tokens decoded. */
  answer: string;
  /** p_start · p_end. */
  score: number;
  /**
   * Where the answer starts in the context (UTF-16 index), as Python transformers reports it;
   * transformers.js v4 leaves it out. Present when the tokenizer gives offsets and the span lies in
   * the context (always, unless top_k reaches spans of probability 0).
   */
  start?: number;
  /** Where the answer ends in the context (exclusive). */
  end?: number;
}

/** Options of one question-answering call. */
export interface QuestionAnsweringOptions {
  /** How many answers per question, best first. Default 1. */
  top_k?: number;
}

/** `await qa(question, context, { top_k })`: questions and contexts are both strings or both arrays of one length. */
export type QuestionAnsweringPipeline = ((question: string | string[], context: string | string[], options?: QuestionAnsweringOptions) => Promise<QuestionAnsweringResult | QuestionAnsweringResult[] | QuestionAnsweringResult[][]>) & PipelineBase;

/** A span of token positions [start, end] (inclusive) and its score. */
export interface AnswerSpan {
  /** First token. */
  start: number;
  /** Last token. */
  end: number;
  /** p_start · p_end. */
  score: number;
}

/** Softmax in float64 (transformers.js runs it on a plain array), −∞ giving 0. */
function softmax64(x: number[]): number[] {
  let max = x[0]!;
  for (let i = 1; i < x.length; i++) if (x[i]! > max) max = x[i]!;
  const e = x.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/**
 * The top_k spans of one sequence. `start`/`end` are its logits, `ids` its input ids; `isSpecial`
 * tells special ids; `sepId` the separator. Same order as transformers.js' stable sort of every
 * (start, end ≤) pair, without building the pairs of probability 0 unless top_k reaches them.
 */
export function answerSpans(start: ArrayLike<number>, end: ArrayLike<number>, ids: readonly number[], sepId: number | undefined, isSpecial: (id: number) => boolean, topK: number): AnswerSpan[] {
  const n = ids.length;
  const sepIndex = sepId === undefined ? -1 : ids.indexOf(sepId);
  const s = Array.from(start), e = Array.from(end);
  for (let i = 1; i < n; i++) {
    if (i <= sepIndex || isSpecial(ids[i]!)) { s[i] = -Infinity; e[i] = -Infinity; }
  }
  const ps = softmax64(s), pe = softmax64(e);
  ps[0] = 0; pe[0] = 0;
  const spans: AnswerSpan[] = [];
  for (let a = 0; a < n; a++) {
    if (ps[a] === 0) continue;
    for (let b = a; b < n; b++) {
      const score = ps[a]! * pe[b]!;
      if (score > 0) spans.push({ start: a, end: b, score });
    }
  }
  spans.sort((x, y) => y.score - x.score);
  if (spans.length >= topK) return spans.slice(0, topK);
  // Fewer positive spans than asked: the zero-probability ones follow in (start, end) order.
  const out = spans.slice();
  for (let a = 0; a < n && out.length < topK; a++) {
    for (let b = a; b < n && out.length < topK; b++) {
      if (!(ps[a]! * pe[b]! > 0)) out.push({ start: a, end: b, score: ps[a]! * pe[b]! });
    }
  }
  return out;
}

type QaTokenizer = PipelineTokenizer & {
  readonly sepTokenId?: number;
  readonly allSpecialIds?: readonly number[];
  encodeWithOffsets?: Tokenizer['encodeWithOffsets'];
  pad?: Tokenizer['pad'];
};

/** Wraps loaded parts as the question-answering callable; checks start_logits and end_logits. */
export function questionAnswering(task: string, parts: PipelineParts): QuestionAnsweringPipeline {
  checkTextModel(task, parts.session, ['start_logits']);
  checkTextModel(task, parts.session, ['end_logits']);
  const { session } = parts;
  const tokenizer = parts.tokenizer as QaTokenizer;
  if (!Array.isArray(tokenizer.allSpecialIds)) {
    throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}'): the tokenizer does not list its special tokens (pass a Tokenizer, not a BertTokenizer)`);
  }
  const special = new Set(tokenizer.allSpecialIds);
  const call = async (question: string | string[], context: string | string[], options: QuestionAnsweringOptions = {}) => {
    const top_k = options.top_k ?? 1;
    checkTopK(task, top_k, false);
    if (context === undefined || context === null) throw new TesseraError('INVALID_ARGUMENT', `${task}: no context; call it as qa(question, context)`);
    const questions = textList(task, question, 'question');
    const contexts = textList(task, context, 'context');
    if (Array.isArray(question) !== Array.isArray(context) || questions.length !== contexts.length) {
      throw new TesseraError('INVALID_ARGUMENT', `${task}: pass one context per question (${Array.isArray(question) ? `${questions.length} questions` : 'a question'} and ${Array.isArray(context) ? `${contexts.length} contexts` : 'a context'})`);
    }
    // With offsets when the tokenizer has them: the same rows encodeBatch makes, padded the same way.
    let rows: EncodingWithOffsets[] | undefined;
    let enc;
    if (tokenizer.encodeWithOffsets && tokenizer.pad) {
      rows = questions.map((q, i) => tokenizer.encodeWithOffsets!(q, { textPair: contexts[i]!, truncation: true }));
      enc = tokenizer.pad(rows, { padding: true });
    } else {
      enc = tokenizer.encodeBatch(questions.map((q, i) => [q, contexts[i]!] as const), { padding: true, truncation: true });
    }
    const outputs = await session.run(textFeeds(session, enc), ['start_logits', 'end_logits']);
    const [batch, seq] = enc.input_ids.dims as [number, number];
    for (const name of ['start_logits', 'end_logits']) {
      const t = outputs[name]!;
      if (t.type !== 'float32' || t.dims.length !== 2 || t.dims[0] !== batch || t.dims[1] !== seq) {
        throw new TesseraError('INVALID_MODEL', `${task}: the model's ${name} are ${t.type} [${t.dims.join(', ')}], not float32 [${batch}, ${seq}]`);
      }
    }
    const startData = outputs.start_logits!.data as Float32Array, endData = outputs.end_logits!.data as Float32Array;
    const results: Array<QuestionAnsweringResult | QuestionAnsweringResult[]> = [];
    for (let b = 0; b < batch; b++) {
      const ids = Array.from(enc.input_ids.data.subarray(b * seq, (b + 1) * seq), Number);
      const spans = answerSpans(startData.subarray(b * seq, (b + 1) * seq), endData.subarray(b * seq, (b + 1) * seq), ids, tokenizer.sepTokenId, (id) => special.has(id), top_k);
      const row = rows?.[b];
      const answers = spans.map(({ start, end, score }) => {
        const answer: QuestionAnsweringResult = { answer: tokenizer.decode(ids.slice(start, end + 1), { skipSpecialTokens: true }), score };
        if (row && row.sequenceIds[start] === 1 && row.sequenceIds[end] === 1) {
          answer.start = row.offsets[start]![0];
          answer.end = row.offsets[end]![1];
        }
        return answer;
      });
      if (top_k === 1) results.push(...answers);
      else results.push(answers);
    }
    return (Array.isArray(question) ? results : results[0]!) as QuestionAnsweringResult | QuestionAnsweringResult[] | QuestionAnsweringResult[][];
  };
  return makePipeline(task, parts, call, {});
}
