/**
 * zero-shot-classification with an NLI model, as transformers.js v4 does it
 * (pipelines/zero-shot-classification.js): each candidate label becomes a hypothesis
 * (hypothesis_template with '{}' replaced), each (text, hypothesis) pair is classified, and the
 * entailment logits become scores — a softmax over the labels, or with multi_label (or a single
 * label) a softmax of [contradiction, entailment] per label. The entailment and contradiction
 * classes are found in config.label2id (case-insensitive; 'not_entailment' counts as
 * contradiction), else 2 and 0 as transformers.js assumes. Unlike transformers.js, which runs the
 * pairs one by one, every pair of the call runs in one padded batch — except on dynamically
 * quantized models (q8), whose per-tensor activation scales make a row's logits depend on the
 * rest of the batch: there pairs run one by one as in transformers.js, so the scores are its.
 */
import { TesseraError } from '../api/errors.js';
import { type PipelineBase, type PipelineParts, checkTextModel, isDynamicallyQuantized, makePipeline, textFeeds, textList } from './base.js';

/** Options of one zero-shot call. */
export interface ZeroShotClassificationOptions {
  /** The hypothesis each label is put into, '{}' standing for the label. Default 'This example is {}.'. */
  hypothesis_template?: string;
  /** Score each label on its own (entailment vs contradiction) rather than across labels. Default false. */
  multi_label?: boolean;
}

/** The labels of one text, best first. */
export interface ZeroShotClassificationResult {
  /** The text classified. */
  sequence: string;
  /** The candidate labels, best first. */
  labels: string[];
  /** Their scores, in the same order. */
  scores: number[];
}

/** `await classifier(texts, labels, options)`: one result for one text, a list for a list. */
export type ZeroShotClassificationPipeline = ((
  texts: string | string[], candidate_labels: string | string[], options?: ZeroShotClassificationOptions,
) => Promise<ZeroShotClassificationResult | ZeroShotClassificationResult[]>) & PipelineBase & {
  /** The class whose logit means "entailment". */
  readonly entailment_id: number;
  /** The class whose logit means "contradiction" (or "not_entailment"). */
  readonly contradiction_id: number;
};

/** Softmax in double precision (transformers.js applies it to plain arrays here). */
function softmax64(x: readonly number[]): number[] {
  const max = Math.max(...x);
  const e = x.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Wraps loaded parts as the zero-shot callable; finds the entailment/contradiction classes. */
export function zeroShotClassification(task: string, parts: PipelineParts): ZeroShotClassificationPipeline {
  checkTextModel(task, parts.session, ['logits']);
  const { session, tokenizer, config } = parts;
  const label2id = Object.fromEntries(Object.entries(config.label2id ?? {}).map(([k, v]) => [k.toLowerCase(), Number(v)]));
  const entailment_id = label2id.entailment ?? 2;
  const contradiction_id = label2id.contradiction ?? label2id.not_entailment ?? 0;
  const oneByOne = isDynamicallyQuantized(parts);

  const call = async (texts: string | string[], candidate_labels: string | string[], options: ZeroShotClassificationOptions = {}) => {
    const { hypothesis_template = 'This example is {}.', multi_label = false } = options;
    if (typeof hypothesis_template !== 'string') throw new TesseraError('INVALID_ARGUMENT', `${task}: hypothesis_template must be a string`);
    const premises = textList(task, texts);
    const labels = textList(task, candidate_labels, 'candidate_labels');
    const hypotheses = labels.map((l) => hypothesis_template.replace('{}', l));
    const softmaxEach = multi_label || labels.length === 1;

    const pairs = premises.flatMap((p) => hypotheses.map((h) => [p, h] as const));
    const chunks = oneByOne ? pairs.map((pair) => [pair]) : [pairs];
    let width = 0;
    const parts: Float32Array[] = [];
    for (const chunk of chunks) {
      const enc = tokenizer.encodeBatch(chunk, { padding: true, truncation: true });
      const logits = (await session.run(textFeeds(session, enc), ['logits'])).logits!;
      width = logits.dims[logits.dims.length - 1]!;
      if (logits.type !== 'float32' || logits.dims.length !== 2 || logits.dims[0] !== chunk.length) {
        throw new TesseraError('INVALID_MODEL', `${task}: the model's logits are ${logits.type} [${logits.dims.join(', ')}], not float32 [pairs, classes]`);
      }
      if (Math.max(entailment_id, contradiction_id) >= width) {
        throw new TesseraError('INVALID_MODEL', `${task}: the model has ${width} classes, but the entailment/contradiction classes are ${entailment_id}/${contradiction_id} (from config.label2id, else 2/0): not an NLI model`);
      }
      parts.push(logits.data as Float32Array);
    }
    const data = parts.length === 1 ? parts[0]! : Float32Array.from(parts.flatMap((p) => Array.from(p)));
    const results = premises.map((sequence, p) => {
      const row = (l: number) => (p * labels.length + l) * width;
      const scores = softmaxEach
        ? labels.map((_, l) => softmax64([data[row(l) + contradiction_id]!, data[row(l) + entailment_id]!])[1]!)
        : softmax64(labels.map((_, l) => data[row(l) + entailment_id]!));
      // Array.prototype.sort is stable: equal scores keep the labels' order, as in transformers.js.
      const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
      return { sequence, labels: order.map(([, i]) => labels[i]!), scores: order.map(([s]) => s) };
    });
    return Array.isArray(texts) ? results : results[0]!;
  };
  return makePipeline(task, parts, call, { entailment_id, contradiction_id });
}
