/**
 * What every pipeline shares: the callable object (a function with `task`, `session`, `tokenizer`,
 * `config` and `dispose()`, as transformers.js returns it), the tokenizer and config shapes the
 * tasks rely on, input checks, and feeding a tokenized batch to a session.
 */
import { TesseraError } from '../api/errors.js';
import type { InferenceSession } from '../api/session.js';
import { Tensor } from '../api/tensor.js';

/** The part of a tokenizer the text pipelines use; `Tokenizer` and `BertTokenizer` both have it. */
export interface PipelineTokenizer {
  /** Texts or [text, pair] tuples → int64 [batch, seq] tensors, padded and truncated as asked. */
  encodeBatch(
    inputs: ReadonlyArray<string | readonly [string, string]>,
    options?: { padding?: boolean; truncation?: boolean; maxLength?: number },
  ): { input_ids: Tensor<'int64'>; attention_mask: Tensor<'int64'>; token_type_ids?: Tensor<'int64'> };
  /** Text of token ids. */
  decode(ids: ArrayLike<number | bigint>, options?: { skipSpecialTokens?: boolean }): string;
  /** The mask token's id, when the tokenizer has one (fill-mask needs it). */
  readonly maskTokenId: number | undefined;
  /** The id of a token, or undefined. */
  tokenToId?(token: string): number | undefined;
}

/** The fields of a Hugging Face config.json the pipelines read; everything else is kept as is. */
export interface ModelConfig {
  /** Class index (as a string or number key) → label name. */
  id2label?: Record<string, string>;
  /** Label name → class index. */
  label2id?: Record<string, number>;
  /** 'multi_label_classification' makes text-classification use a sigmoid per label. */
  problem_type?: string;
  /** Any other config.json field. */
  [key: string]: unknown;
}

/** The model, tokenizer and config a pipeline runs; `dispose()` releases the session. */
export interface PipelineParts {
  /** The session running the ONNX model. */
  session: InferenceSession;
  /** The tokenizer of the model's folder. */
  tokenizer: PipelineTokenizer;
  /** The model's config.json (an empty object when the folder has none). */
  config: ModelConfig;
  /** false when the caller passed the session in: a refused pipeline then leaves it alive. */
  ownsSession?: boolean;
  /** The dtype of the loaded file ('fp32', 'q8', …), when known. */
  dtype?: string;
}

/**
 * Whether the model quantizes activations per tensor at run time (q8/int8/uint8 files from
 * quantize_dynamic): its answer for one row then depends on the other rows of the batch.
 */
export function isDynamicallyQuantized(parts: PipelineParts): boolean {
  return parts.dtype !== undefined && !['fp32', 'fp16'].includes(parts.dtype);
}

/** What every pipeline carries besides being callable. */
export interface PipelineBase extends PipelineParts {
  /** The task name, as passed to `pipeline` (aliases resolved). */
  readonly task: string;
  /** transformers.js' name for the session: the same object as `session`. */
  readonly model: InferenceSession;
  /** Releases the session's Wasm memory; later calls fail with code RELEASED. */
  dispose(): Promise<void>;
}

/**
 * Makes the callable: a function object (so `await p(input)` works) carrying the parts, `task`,
 * `model` (= session) and `dispose()`, plus any task-specific members.
 */
export function makePipeline<F extends (...args: never[]) => Promise<unknown>, E extends object>(
  task: string, parts: PipelineParts, call: F, extra: E,
): F & PipelineBase & E {
  const fn = ((...args: Parameters<F>) => call(...args)) as F;
  const props = {
    task,
    session: parts.session,
    model: parts.session,
    tokenizer: parts.tokenizer,
    config: parts.config,
    dispose: () => parts.session.release(),
  };
  // A function's own `name` and `length` are read-only: define the members instead of assigning.
  for (const [key, value] of Object.entries({ ...props, ...extra })) {
    Object.defineProperty(fn, key, { value, enumerable: true, configurable: true, writable: false });
  }
  return fn as F & PipelineBase & E;
}

/** A string or a non-empty array of strings, as a list; anything else is INVALID_ARGUMENT. */
export function textList(task: string, input: unknown, what = 'texts'): string[] {
  const list = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(list)) throw new TesseraError('INVALID_ARGUMENT', `${task}: pass a string or an array of strings as ${what}, got ${typeof input}`);
  if (list.length === 0) throw new TesseraError('INVALID_ARGUMENT', `${task}: the batch is empty; pass at least one text`);
  list.forEach((t, i) => {
    if (typeof t !== 'string') throw new TesseraError('INVALID_ARGUMENT', `${task}: ${what}[${i}] is ${t === null ? 'null' : typeof t}, not a string`);
  });
  return list as string[];
}

/** Checks top_k: a positive integer, or null/undefined where the task allows it. */
export function checkTopK(task: string, k: unknown, allowNull: boolean): void {
  if (k === undefined || (k === null && allowNull)) return;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
    throw new TesseraError('INVALID_ARGUMENT', `${task}: top_k must be a positive integer${allowNull ? ' or null' : ''}, got ${String(k)}`);
  }
}

/**
 * The feeds a BERT-like session takes from a tokenized batch: input_ids, attention_mask, and
 * token_type_ids when the model has that input (zeros when the tokenizer gave none).
 */
export function textFeeds(
  session: InferenceSession,
  enc: { input_ids: Tensor<'int64'>; attention_mask: Tensor<'int64'>; token_type_ids?: Tensor<'int64'> },
): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const name of session.inputNames) {
    if (name === 'input_ids') feeds[name] = enc.input_ids;
    else if (name === 'attention_mask') feeds[name] = enc.attention_mask;
    else if (name === 'token_type_ids') {
      feeds[name] = enc.token_type_ids ?? new Tensor('int64', new BigInt64Array(enc.input_ids.data.length), enc.input_ids.dims);
    }
  }
  return feeds;
}

/**
 * Checks at load time that a session has what a text task feeds and reads: an input_ids input,
 * no other input the pipeline cannot fill, and one of `outputs`. Returns the first output found.
 */
export function checkTextModel(task: string, session: InferenceSession, outputs: readonly string[]): string {
  if (!session.inputNames.includes('input_ids')) {
    throw new TesseraError('INVALID_MODEL', `pipeline('${task}'): the model has no 'input_ids' input (inputs: ${session.inputNames.join(', ')})`);
  }
  const known = ['input_ids', 'attention_mask', 'token_type_ids'];
  const other = session.inputNames.filter((n) => !known.includes(n));
  if (other.length) {
    throw new TesseraError('INVALID_MODEL', `pipeline('${task}'): the model takes inputs the pipeline cannot fill: ${other.join(', ')} (it feeds ${known.join(', ')})`);
  }
  const found = outputs.find((o) => session.outputNames.includes(o));
  if (found === undefined) {
    throw new TesseraError('INVALID_MODEL', `pipeline('${task}'): the model has none of the outputs ${outputs.map((o) => `'${o}'`).join(', ')} (outputs: ${session.outputNames.join(', ')})`);
  }
  return found;
}
