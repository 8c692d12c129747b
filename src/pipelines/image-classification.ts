/**
 * image-classification, as transformers.js v4 runs it (pipelines/image-classification.js): images
 * read and preprocessed by the folder's preprocessor_config.json (src/image/processor.ts), one
 * batch of pixel_values, softmax over each image's logits (float32, as its Float32Array maps),
 * the top_k labels best first (default 5; null: all). A single image gives its list, an array of
 * images a list per image. The folder needs config.json (id2label), preprocessor_config.json and
 * onnx/model{dtype suffix}.onnx; no tokenizer.
 */
import { TesseraError } from '../api/errors.js';
import { InferenceSession } from '../api/session.js';
import { Tensor } from '../api/tensor.js';
import { type ImageProcessorConfig, checkImageProcessorConfig, preprocessImages } from '../image/processor.js';
import { type ModelConfig, checkTopK } from './base.js';
import { type ImageInput, readImages } from './image-input.js';
import { type PipelineOptions, type SessionFactory, isMissing, modelFileFor, openTaskFolder, parseJson, sessionOptionsFrom } from './load.js';
import { softmax, topK } from './math.js';

/** One label and its probability. */
export interface ImageClassificationResult {
  /** config.id2label's name for the class (LABEL_i without id2label). */
  label: string;
  /** Its softmax probability. */
  score: number;
}

/** Options of one image-classification call. */
export interface ImageClassificationOptions {
  /** How many labels per image, best first. Default 5; null: all labels. */
  top_k?: number | null;
}

/** The model, config and image processor an image pipeline runs. */
export interface ImagePipelineParts {
  /** The session running the ONNX model (input pixel_values, output logits). */
  session: InferenceSession;
  /** config.json ({} when the folder has none). */
  config: ModelConfig;
  /** preprocessor_config.json. */
  processorConfig: ImageProcessorConfig;
  /** false when the caller passed the session in. */
  ownsSession?: boolean;
}

/** The parts as objects, instead of a folder. */
export interface ImagePipelinePartsInput {
  /** The ONNX model's bytes, a path (Node) or URL, or an InferenceSession already created. */
  model: Uint8Array | ArrayBuffer | string | URL | InferenceSession;
  /** preprocessor_config.json, parsed. */
  processorConfig: ImageProcessorConfig;
  /** config.json, parsed. Default {}. */
  config?: ModelConfig;
}

/**
 * `await classifier(images, { top_k })`: a single image gives its labels, an array a list per image.
 * Also carries task, session/model, config, processorConfig and dispose().
 */
export type ImageClassificationPipeline = ((images: ImageInput | ImageInput[], options?: ImageClassificationOptions) => Promise<ImageClassificationResult[] | ImageClassificationResult[][]>) & {
  /** 'image-classification'. */
  readonly task: string;
  /** The session. */
  readonly session: InferenceSession;
  /** transformers.js' name for the session. */
  readonly model: InferenceSession;
  /** config.json. */
  readonly config: ModelConfig;
  /** preprocessor_config.json. */
  readonly processorConfig: ImageProcessorConfig;
  /** Releases the session. */
  dispose(): Promise<void>;
};

/**
 * Loads config.json, preprocessor_config.json and the model file `dtype` selects from a folder,
 * URL or hub id, or takes the parts as objects.
 * @throws TesseraError INVALID_ARGUMENT when preprocessor_config.json or the model file is missing.
 */
export async function loadImageParts(
  task: string, source: string | URL | ImagePipelinePartsInput, options: PipelineOptions = {},
  createSession: SessionFactory = (m, o) => InferenceSession.create(m, o),
): Promise<ImagePipelineParts> {
  if (typeof source === 'string' || source instanceof URL) {
    const { location, folder, config } = await openTaskFolder(task, source, options);
    const pre = await folder.read('preprocessor_config.json');
    if (pre === undefined) throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}', '${location}'): the model folder has no image processor: no ${folder.locate('preprocessor_config.json')}`);
    const processorConfig = parseJson(task, 'preprocessor_config.json', pre) as ImageProcessorConfig;
    checkImageProcessorConfig(processorConfig);
    const file = options.modelFile ?? modelFileFor(options.dtype ?? 'auto', options, config);
    try {
      return { session: await createSession(folder.locate(file), sessionOptionsFrom(options, location, file)), config, processorConfig };
    } catch (e) {
      if (isMissing(e)) throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}', '${location}'): no ${file} at ${folder.locate(file)} (dtype '${options.dtype ?? 'auto'}')`, { cause: e });
      throw e;
    }
  }
  if (!source || typeof source !== 'object' || !('model' in source) || !source.processorConfig || typeof source.processorConfig !== 'object') {
    throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}', …): pass a folder path, a URL, a repository id, or { model, processorConfig, config }`);
  }
  checkImageProcessorConfig(source.processorConfig);
  const config = source.config ?? {};
  if (source.model instanceof InferenceSession) return { session: source.model, config, processorConfig: source.processorConfig, ownsSession: false };
  return { session: await createSession(source.model, sessionOptionsFrom(options)), config, processorConfig: source.processorConfig };
}

/** Wraps loaded parts as the image-classification callable; checks pixel_values in and logits out. */
export function imageClassification(task: string, parts: ImagePipelineParts): ImageClassificationPipeline {
  const { session, config, processorConfig } = parts;
  if (!session.inputNames.includes('pixel_values') || session.inputNames.length !== 1) {
    throw new TesseraError('INVALID_MODEL', `pipeline('${task}'): the model must take one input 'pixel_values' (inputs: ${session.inputNames.join(', ')})`);
  }
  if (!session.outputNames.includes('logits')) {
    throw new TesseraError('INVALID_MODEL', `pipeline('${task}'): the model has no 'logits' output (outputs: ${session.outputNames.join(', ')})`);
  }
  const call = async (images: ImageInput | ImageInput[], options: ImageClassificationOptions = {}) => {
    const top_k = options.top_k === undefined ? 5 : options.top_k;
    checkTopK(task, top_k, true);
    const pixels = preprocessImages(await readImages(task, images), processorConfig);
    const n = pixels.dims[0];
    const logits = (await session.run({ pixel_values: new Tensor('float32', pixels.data, pixels.dims) }, ['logits'])).logits!;
    if (logits.type !== 'float32' || logits.dims.length !== 2 || logits.dims[0] !== n) {
      throw new TesseraError('INVALID_MODEL', `${task}: the model's logits are ${logits.type} [${logits.dims.join(', ')}], not float32 [${n}, labels]`);
    }
    const labels = logits.dims[1]!, data = logits.data as Float32Array;
    const out: ImageClassificationResult[][] = [];
    for (let b = 0; b < n; b++) {
      const scores = softmax(data, b * labels, labels);
      out.push(topK(scores, top_k ?? labels).map((i) => ({ label: config.id2label ? (config.id2label[i] as string) : `LABEL_${i}`, score: scores[i]! })));
    }
    return Array.isArray(images) ? out : out[0]!;
  };
  const fn = ((images: ImageInput | ImageInput[], options?: ImageClassificationOptions) => call(images, options)) as ImageClassificationPipeline;
  const props = { task, session, model: session, config, processorConfig, dispose: () => session.release() };
  for (const [key, value] of Object.entries(props)) Object.defineProperty(fn, key, { value, enumerable: true, configurable: true, writable: false });
  return fn;
}
