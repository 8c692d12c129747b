/**
 * `pipeline(task, …)`, in the style of transformers.js. One task so far: 'fill-mask', from a model
 * and a vocabulary/tokenizer, or from a Hugging Face repository layout on a host.
 */
import { TesseraError } from '../api/errors.js';
import { FillMaskPipeline, type FillMaskPipelineOptions, type HubOptions, fillMaskFromHub } from './fill-mask.js';
import { type TextGenerationPipeline, type TextGenerationPipelineOptions, textGenerationPipeline } from './text-generation.js';

export { FillMaskPipeline } from './fill-mask.js';
export type { TextGenerationCallOptions, TextGenerationDtype, TextGenerationOutput, TextGenerationPipeline, TextGenerationPipelineOptions } from './text-generation.js';
export type { FillMaskOptions, FillMaskPipelineOptions, FillMaskResult, HubOptions } from './fill-mask.js';

/**
 * Builds a pipeline for `task` from a model and a tokenizer (or vocab.txt text), or from a Hugging
 * Face repository name (read from `options.host`). Only 'fill-mask' so far; another task throws
 * TesseraError INVALID_ARGUMENT.
 */
export function pipeline(task: 'fill-mask', options: FillMaskPipelineOptions): Promise<FillMaskPipeline>;
export function pipeline(task: 'fill-mask', repo: string, options?: HubOptions): Promise<FillMaskPipeline>;
export function pipeline(task: 'text-generation', folderOrRepo: string | URL, options?: TextGenerationPipelineOptions): Promise<TextGenerationPipeline>;
export async function pipeline(task: string, source: FillMaskPipelineOptions | string | URL, options?: HubOptions | TextGenerationPipelineOptions): Promise<FillMaskPipeline | TextGenerationPipeline> {
  if (task === 'text-generation') {
    if (typeof source !== 'string' && !(source instanceof URL)) throw new TesseraError('INVALID_ARGUMENT', "pipeline('text-generation', …): pass a model folder path, URL or repository id");
    return textGenerationPipeline(source, options as TextGenerationPipelineOptions);
  }
  if (source instanceof URL) throw new TesseraError('INVALID_ARGUMENT', "pipeline('fill-mask', …): pass { model, vocab | tokenizer } or a repository name");
  if (task !== 'fill-mask') throw new TesseraError('INVALID_ARGUMENT', `pipeline: unknown task '${task}'; supported: 'fill-mask', 'text-generation'`);
  if (typeof source === 'string') return fillMaskFromHub(source, options as HubOptions);
  if (!source || typeof source !== 'object') throw new TesseraError('INVALID_ARGUMENT', "pipeline('fill-mask', …): pass { model, vocab | tokenizer } or a repository name");
  return FillMaskPipeline.create(source);
}
