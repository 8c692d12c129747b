/**
 * `pipeline(task, model, options)`, in the style of transformers.js: the result is a function
 * (`await p(input, callOptions)`) carrying `task`, `session`/`model`, `tokenizer`, `config` and
 * `dispose()`. `model` is a folder path (Node), a URL, a hub repository id, or
 * `{ model, tokenizer, config }`; fill-mask also keeps its first form, `{ model, vocab | tokenizer }`.
 */
import { TesseraError } from '../api/errors.js';
import type { PipelineParts } from './base.js';
import { featureExtraction, type FeatureExtractionPipeline } from './feature-extraction.js';
import { FillMaskPipeline, type FillMaskPipelineOptions, type HubOptions, fillMaskFromFolder } from './fill-mask.js';
import { type PipelineOptions, type PipelinePartsInput, guard, loadParts } from './load.js';
import { textClassification, type TextClassificationPipeline } from './text-classification.js';
import { zeroShotClassification, type ZeroShotClassificationPipeline } from './zero-shot-classification.js';
import { tokenClassification, type TokenClassificationPipeline } from './token-classification.js';
import { questionAnswering, type QuestionAnsweringPipeline } from './question-answering.js';
import { type TextGenerationPartsInput, type TextGenerationPipeline, type TextGenerationPipelineOptions, textGenerationPipeline } from './text-generation.js';
import { type AsrPipelineOptions, type AutomaticSpeechRecognitionPipeline, automaticSpeechRecognitionPipeline } from './automatic-speech-recognition.js';
import { imageClassification, loadImageParts, type ImageClassificationPipeline, type ImagePipelineParts, type ImagePipelinePartsInput } from './image-classification.js';

export { FillMaskPipeline } from './fill-mask.js';
export type { FillMaskCall, FillMaskOptions, FillMaskPipelineOptions, FillMaskResult, HubOptions } from './fill-mask.js';
export type { ModelConfig, PipelineBase, PipelineParts, PipelineTokenizer } from './base.js';
export type { FeatureExtractionOptions, FeatureExtractionPipeline } from './feature-extraction.js';
export type { TextClassificationOptions, TextClassificationPipeline, TextClassificationResult } from './text-classification.js';
export type { ZeroShotClassificationOptions, ZeroShotClassificationPipeline, ZeroShotClassificationResult } from './zero-shot-classification.js';
export type { PipelineDtype, PipelineOptions, PipelinePartsInput, ProgressInfo } from './load.js';
export { cosSim } from './math.js';
export type { TokenClassificationGroup, TokenClassificationOptions, TokenClassificationOutput, TokenClassificationPipeline, TokenClassificationToken } from './token-classification.js';
export type { QuestionAnsweringOptions, QuestionAnsweringPipeline, QuestionAnsweringResult } from './question-answering.js';
export type { ImageClassificationOptions, ImageClassificationPipeline, ImageClassificationResult, ImagePipelinePartsInput } from './image-classification.js';
export type { ImageDataLike, ImageInput } from './image-input.js';
export type { ImageProcessorConfig } from '../image/processor.js';
export type { AsrCallOptions, AsrDtype, AsrNoSpeech, AsrOutput, AsrPipelineOptions, AutomaticSpeechRecognitionPipeline } from './automatic-speech-recognition.js';
export type { TextGenerationCallOptions, TextGenerationDtype, TextGenerationOutput, TextGenerationPartsInput, TextGenerationPipeline, TextGenerationPipelineOptions } from './text-generation.js';

/** The pipeline each task returns. */
export interface PipelineTypes {
  /** Texts → a Tensor of vectors (pooled and normalised if asked). */
  'feature-extraction': FeatureExtractionPipeline;
  /** Texts → labels with scores. */
  'text-classification': TextClassificationPipeline;
  /** transformers.js' alias of text-classification. */
  'sentiment-analysis': TextClassificationPipeline;
  /** Texts and candidate labels → labels ranked by an NLI model. */
  'zero-shot-classification': ZeroShotClassificationPipeline;
  /** Texts with [MASK] → the likeliest tokens there. */
  'fill-mask': FillMaskPipeline;
  /** Texts → a label per token, or entities grouped from B-/I- pieces. */
  'token-classification': TokenClassificationPipeline;
  /** transformers.js' alias of token-classification. */
  ner: TokenClassificationPipeline;
  /** Question and context → the likeliest span of the context. */
  'question-answering': QuestionAnsweringPipeline;
  /** Images → labels with scores. */
  'image-classification': ImageClassificationPipeline;
  /** A prompt or chat messages → generated text (decoder-only LMs, KV cache in Wasm memory). */
  'text-generation': TextGenerationPipeline;
  /** Audio (16 kHz samples or a WAV) → { text, chunks? } (Whisper; caches resident in Wasm memory). */
  'automatic-speech-recognition': AutomaticSpeechRecognitionPipeline;
}

/** A task name `pipeline` knows. */
export type PipelineTask = keyof PipelineTypes;

/** Builds a text task's callable from loaded parts (the caller releases the session on failure). */
type TaskFactory = (task: string, parts: PipelineParts) => unknown;

/**
 * Tasks built on the generic loader, by name. Other helpers add theirs here (one line each);
 * aliases map to the same factory, and the callable's `task` is the canonical name.
 */
const TASKS: Record<string, { canonical: string; make: TaskFactory }> = {
  'feature-extraction': { canonical: 'feature-extraction', make: featureExtraction },
  embeddings: { canonical: 'feature-extraction', make: featureExtraction },
  'text-classification': { canonical: 'text-classification', make: textClassification },
  'sentiment-analysis': { canonical: 'text-classification', make: textClassification },
  'zero-shot-classification': { canonical: 'zero-shot-classification', make: zeroShotClassification },
  'token-classification': { canonical: 'token-classification', make: tokenClassification },
  ner: { canonical: 'token-classification', make: tokenClassification },
  'question-answering': { canonical: 'question-answering', make: questionAnswering },
};

/** Tasks whose folder has no tokenizer: their own loader (config.json, preprocessor_config.json, model). */
const IMAGE_TASKS: Record<string, { canonical: string; make: (task: string, parts: ImagePipelineParts) => unknown }> = {
  'image-classification': { canonical: 'image-classification', make: imageClassification },
};

/** Registers a task (used by task files outside this one; not a public API). */
export function registerTask(name: string, canonical: string, make: TaskFactory): void {
  TASKS[name] = { canonical, make };
}

/**
 * Builds a pipeline: loads `model` (a folder path in Node, a URL, a hub repository id resolved
 * against `options.host`, or `{ model, tokenizer, config }`) and returns a function to call with
 * the task's inputs. `options.dtype` picks the ONNX file as transformers.js does.
 * @throws TesseraError INVALID_ARGUMENT for an unknown task or a folder without a tokenizer or
 * model file; INVALID_MODEL when the model's inputs or outputs do not fit the task. The session is
 * released before any error after it was created.
 */
export function pipeline<T extends PipelineTask>(task: T, model: string | URL | PipelinePartsInput | ImagePipelinePartsInput | TextGenerationPartsInput, options?: T extends 'fill-mask' ? HubOptions : T extends 'text-generation' ? TextGenerationPipelineOptions : T extends 'automatic-speech-recognition' ? AsrPipelineOptions : PipelineOptions): Promise<PipelineTypes[T]>;
export function pipeline(task: 'fill-mask', options: FillMaskPipelineOptions): Promise<FillMaskPipeline>;
export async function pipeline(task: string, source: string | URL | PipelinePartsInput | ImagePipelinePartsInput | FillMaskPipelineOptions | TextGenerationPartsInput, optionsIn: (PipelineOptions & HubOptions) | TextGenerationPipelineOptions | AsrPipelineOptions = {}): Promise<unknown> {
  const options = optionsIn as PipelineOptions & HubOptions;
  if (task === 'automatic-speech-recognition') {
    if (typeof source !== 'string' && !(source instanceof URL)) throw new TesseraError('INVALID_ARGUMENT', "pipeline('automatic-speech-recognition', …): pass a Whisper folder path, URL or repository id");
    return automaticSpeechRecognitionPipeline(source, optionsIn as AsrPipelineOptions);
  }
  if (task === 'text-generation') {
    return textGenerationPipeline(source as string | URL | TextGenerationPartsInput, optionsIn as TextGenerationPipelineOptions);
  }
  if (task === 'fill-mask') {
    if (typeof source === 'string' || source instanceof URL) return fillMaskFromFolder(task, source, options);
    if (!source || typeof source !== 'object') throw new TesseraError('INVALID_ARGUMENT', "pipeline('fill-mask', …): pass a folder path, URL or repository id, or { model, tokenizer | vocab }");
    const s = source as FillMaskPipelineOptions;
    const sessionOptions = { ...s.sessionOptions, ...options.sessionOptions, ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.memory !== undefined ? { memory: options.memory } : {}) };
    return FillMaskPipeline.create({ ...s, selectRows: s.selectRows ?? options.selectRows, maxLength: s.maxLength ?? options.maxLength, sessionOptions }, task);
  }
  const image = IMAGE_TASKS[task];
  if (image) {
    const parts = await loadImageParts(image.canonical, source as string | URL | ImagePipelinePartsInput, options);
    try {
      return image.make(image.canonical, parts);
    } catch (e) {
      if (parts.ownsSession !== false) await parts.session.release();
      throw e;
    }
  }
  const entry = TASKS[task];
  if (!entry) {
    throw new TesseraError('INVALID_ARGUMENT', `pipeline: unknown task '${task}'; supported: ${['automatic-speech-recognition', 'fill-mask', 'text-generation', ...Object.keys(TASKS), ...Object.keys(IMAGE_TASKS)].sort().join(', ')}`);
  }
  const parts = await loadParts(entry.canonical, source as string | URL | PipelinePartsInput, options);
  return guard(parts, () => entry.make(entry.canonical, parts));
}
