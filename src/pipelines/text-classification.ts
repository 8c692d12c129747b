/**
 * text-classification (alias sentiment-analysis), as transformers.js v4 runs it
 * (pipelines/text-classification.js): one padded batch, logits → sigmoid per label when
 * config.problem_type is 'multi_label_classification', else softmax; the top_k labels, best first.
 * Result shapes follow transformers.js: top_k 1 gives one { label, score } per text (a flat list),
 * any other top_k a list per text (and for a single text, that one list).
 */
import { TesseraError } from '../api/errors.js';
import { type PipelineBase, type PipelineParts, checkTextModel, checkTopK, makePipeline, textFeeds, textList } from './base.js';
import { sigmoid, softmax, topK } from './math.js';

/** One label and its probability. */
export interface TextClassificationResult {
  /** config.id2label's name for the class (LABEL_i without id2label). */
  label: string;
  /** Its probability (softmax over the labels, or sigmoid for multi-label models). */
  score: number;
}

/** Options of one text-classification call. */
export interface TextClassificationOptions {
  /** How many labels per text, best first. Default 1; null: all labels. */
  top_k?: number | null;
}

/**
 * `await classifier(texts, { top_k })`: with top_k 1, one result per text in a flat list; otherwise
 * a list of results per text (a single text gives its list).
 */
export type TextClassificationPipeline = ((texts: string | string[], options?: TextClassificationOptions) => Promise<TextClassificationResult[] | TextClassificationResult[][]>) & PipelineBase;

/** The label of class `i` as transformers.js names it. */
export function labelOf(config: PipelineParts['config'], i: number): string {
  return config.id2label ? (config.id2label[i] as string) : `LABEL_${i}`;
}

/** Wraps loaded parts as the text-classification callable; checks the model has logits. */
export function textClassification(task: string, parts: PipelineParts): TextClassificationPipeline {
  checkTextModel(task, parts.session, ['logits']);
  const { session, tokenizer, config } = parts;
  const multiLabel = config.problem_type === 'multi_label_classification';
  const call = async (texts: string | string[], options: TextClassificationOptions = {}) => {
    const top_k = options.top_k === undefined ? 1 : options.top_k;
    checkTopK(task, top_k, true);
    const list = textList(task, texts);
    const enc = tokenizer.encodeBatch(list, { padding: true, truncation: true });
    const logits = (await session.run(textFeeds(session, enc), ['logits'])).logits!;
    if (logits.type !== 'float32' || logits.dims.length !== 2 || logits.dims[0] !== list.length) {
      throw new TesseraError('INVALID_MODEL', `${task}: the model's logits are ${logits.type} [${logits.dims.join(', ')}], not float32 [batch, labels]`);
    }
    const labels = logits.dims[1]!;
    const data = logits.data as Float32Array;
    const out: Array<TextClassificationResult | TextClassificationResult[]> = [];
    for (let b = 0; b < list.length; b++) {
      const scores = multiLabel ? sigmoid(data, b * labels, labels) : softmax(data, b * labels, labels);
      const best = topK(scores, top_k ?? labels).map((i) => ({ label: labelOf(config, i), score: scores[i]! }));
      if (top_k === 1) out.push(...best);
      else out.push(best);
    }
    return (Array.isArray(texts) || top_k === 1 ? out : out[0]) as TextClassificationResult[] | TextClassificationResult[][];
  };
  return makePipeline(task, parts, call, {});
}
