/**
 * Resolving a pipeline's `model` argument into a session, a tokenizer and a config, the way
 * transformers.js reads a Hugging Face model folder: config.json, tokenizer.json (+
 * tokenizer_config.json), and `onnx/model{suffix}.onnx` where the suffix comes from `dtype`. The
 * folder is a local path (Node), a URL base or a hub repository id; or the caller passes the
 * three parts as objects. A session is released again if anything after it fails.
 */
import { TesseraError } from '../api/errors.js';
import { InferenceSession, type SessionOptions } from '../api/session.js';
import type { ModelCache } from '../platform/fetch-model.js';
import { type ModelFolder, openModelFolder } from '../platform/model-folder.js';
import { BertTokenizer } from '../text/bert-tokenizer.js';
import { Tokenizer } from '../text/tokenizer.js';
import type { ModelConfig, PipelineParts, PipelineTokenizer } from './base.js';

/**
 * transformers.js' dtype names → the model file's suffix (utils/dtypes.js,
 * DEFAULT_DTYPE_SUFFIX_MAPPING): 'fp32' → onnx/model.onnx, 'q8' → onnx/model_quantized.onnx, …
 */
export const DTYPE_SUFFIX = {
  fp32: '',
  fp16: '_fp16',
  int8: '_int8',
  uint8: '_uint8',
  q8: '_quantized',
  q4: '_q4',
  q2: '_q2',
  q1: '_q1',
  q4f16: '_q4f16',
  q2f16: '_q2f16',
  q1f16: '_q1f16',
  bnb4: '_bnb4',
} as const;

/** A dtype name transformers.js accepts ('auto': config.json's transformers.js_config.dtype, else fp32). */
export type PipelineDtype = keyof typeof DTYPE_SUFFIX | 'auto';

/** How `pipeline` finds and loads the model; every field is optional. */
export interface PipelineOptions {
  /**
   * Which ONNX file of the folder: 'fp32' → onnx/model.onnx, 'q8' → onnx/model_quantized.onnx,
   * 'fp16' → onnx/model_fp16.onnx, 'q4' → onnx/model_q4.onnx, and transformers.js' other names
   * ('int8', 'uint8', 'q4f16', 'bnb4', …). Default 'auto': config.json's
   * `transformers.js_config.dtype` when set, else 'fp32' (transformers.js' default off its wasm device).
   */
  dtype?: PipelineDtype;
  /** Threads for the session's large kernels (SessionOptions.threads). Default 1. */
  threads?: number | 'auto';
  /** 'low': trade speed for footprint (SessionOptions.memory; one thread, large weights kept as stored). */
  memory?: 'default' | 'low';
  /** The hub a repository id is resolved against. Default 'https://huggingface.co'. */
  host?: string;
  /** Branch, tag or commit of a hub repository. Default 'main'. */
  revision?: string;
  /** The folder holding the ONNX files. Default 'onnx'. */
  subfolder?: string;
  /** The ONNX file's name before the dtype suffix. Default 'model'. */
  model_file_name?: string;
  /** false: always download; a ModelCache: use it; default: the platform's cache. */
  cache?: ModelCache | false;
  /** Download progress of the ONNX file: bytes so far, total when known (as SessionOptions.onProgress). */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /**
   * transformers.js' progress callback, for every file read: { status: 'progress', name, file,
   * loaded, total, progress } (progress in percent; total 0 while unknown).
   */
  progress_callback?: (info: ProgressInfo) => void;
  /** A file inside the folder to load instead of the one dtype names (e.g. 'onnx/model_O4.onnx'). */
  modelFile?: string;
  /** Passed to InferenceSession.create (threads, cache and onProgress above take precedence). */
  sessionOptions?: SessionOptions;
}

/** One progress report of `progress_callback`, shaped as transformers.js' reports. */
export interface ProgressInfo {
  /** Always 'progress'. */
  status: 'progress';
  /** The model location as passed to `pipeline`. */
  name: string;
  /** The file inside the folder. */
  file: string;
  /** Bytes so far. */
  loaded: number;
  /** Total bytes (0 while unknown). */
  total: number;
  /** loaded / total in percent (0 while unknown). */
  progress: number;
}

/** The model as parts: an ONNX model (bytes, path, URL or a session), a tokenizer and a config. */
export interface PipelinePartsInput {
  /** The ONNX model's bytes, a path (Node) or URL, or an InferenceSession already created. */
  model: Uint8Array | ArrayBuffer | string | URL | InferenceSession;
  /** A tokenizer (Tokenizer or BertTokenizer). */
  tokenizer: PipelineTokenizer;
  /** config.json, parsed (id2label, label2id, problem_type, …). Default {}. */
  config?: ModelConfig;
}

/** Builds the session from a model (task hook: fill-mask rewrites the graph). */
export type SessionFactory = (model: Uint8Array | ArrayBuffer | string | URL, options: SessionOptions) => Promise<InferenceSession>;

const REPO_ID = /^[\w][\w.-]*\/[\w][\w.-]*$/;

/** Whether a read failed because the file does not exist (ENOENT, HTTP 404). */
export function isMissing(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string } })?.cause;
  return cause?.code === 'ENOENT' || cause?.code === 'ENOTDIR' || /HTTP 404\b/.test((e as Error)?.message ?? '');
}

/** The folder, read through the platform (progress per file, cache) as Tokenizer.fromPretrained reads it. */
export function openFolder(location: string, options: PipelineOptions): Promise<ModelFolder> {
  const report = options.progress_callback;
  return openModelFolder(location, {
    host: options.host,
    revision: options.revision,
    cache: options.cache,
    onProgress: report ? (file, loaded, total) => report({ status: 'progress', name: location, file, loaded, total: total ?? 0, progress: total ? (loaded / total) * 100 : 0 }) : undefined,
  });
}

/** The per-file progress callback: transformers.js' progress_callback and, for the ONNX file, onProgress. */
function progressFor(name: string, file: string, options: PipelineOptions, isModel = false): ((loaded: number, total: number | undefined) => void) | undefined {
  const { progress_callback: report, onProgress } = options;
  if (!report && !(isModel && onProgress)) return undefined;
  return (loaded, total) => {
    if (isModel) onProgress?.(loaded, total);
    report?.({ status: 'progress', name, file, loaded, total: total ?? 0, progress: total ? (loaded / total) * 100 : 0 });
  };
}

/** A JSON object from a folder file's bytes; INVALID_ARGUMENT naming the file otherwise. */
export function parseJson(task: string, where: string, bytes: Uint8Array): Record<string, unknown> {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch (e) {
    throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}'): ${where} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}'): ${where} is not a JSON object`);
}

/**
 * Opens a model location for a task and reads its config.json ({} when the folder has none): the
 * first steps every folder loader takes.
 * @throws TesseraError INVALID_ARGUMENT for an empty location or a broken config.json.
 */
export async function openTaskFolder(task: string, source: string | URL, options: PipelineOptions): Promise<{ location: string; folder: ModelFolder; config: ModelConfig }> {
  const location = String(source);
  if (location === '') throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}'): the model location is empty; pass a folder path, a URL or a repository id like 'org/name'`);
  const folder = await openFolder(location, options);
  const configBytes = await folder.read('config.json');
  const config = (configBytes ? parseJson(task, 'config.json', configBytes) : {}) as ModelConfig;
  return { location, folder, config };
}

/** tokenizer.json (+ tokenizer_config.json), else vocab.txt (BERT's older layout). */
async function readTokenizer(task: string, location: string, folder: ModelFolder): Promise<PipelineTokenizer> {
  const json = await folder.read('tokenizer.json');
  if (json !== undefined) {
    const config = await folder.read('tokenizer_config.json');
    return tokenizerFromFiles(parseJson(task, 'tokenizer.json', json), config && parseJson(task, 'tokenizer_config.json', config));
  }
  const vocab = await folder.read('vocab.txt');
  if (vocab !== undefined) return BertTokenizer.fromVocab(new TextDecoder().decode(vocab));
  const why = folder.kind === 'local' ? 'no such file' : 'HTTP 404';
  const hint = folder.kind === 'local' && !REPO_ID.test(location) ? ` ('${location}' is not a repository name like 'org/model', so it was read as a local folder)` : '';
  throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}', '${location}'): the model folder has no tokenizer: no tokenizer at ${folder.locate('tokenizer.json')} (${why}) nor ${folder.locate('vocab.txt')}${hint}`);
}

/** A tokenizer from tokenizer.json (+ tokenizer_config.json). */
export function tokenizerFromFiles(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown> | undefined): PipelineTokenizer {
  return Tokenizer.fromJSON(tokenizerJson, tokenizerConfig);
}

/** The concrete dtype 'auto' stands for: config.json's transformers.js_config.dtype, else fp32. */
export function resolveDtype(dtype: string, config: ModelConfig): string {
  if (dtype !== 'auto') return dtype;
  const tjs = config['transformers.js_config'] as { dtype?: unknown } | undefined;
  return typeof tjs?.dtype === 'string' && tjs.dtype in DTYPE_SUFFIX ? tjs.dtype : 'fp32';
}

/** The file `dtype` selects, as transformers.js names it. */
export function modelFileFor(dtype: string, options: PipelineOptions, config: ModelConfig): string {
  const chosen = resolveDtype(dtype, config);
  if (!(chosen in DTYPE_SUFFIX)) {
    throw new TesseraError('INVALID_ARGUMENT', `pipeline: unknown dtype '${dtype}'; one of auto, ${Object.keys(DTYPE_SUFFIX).join(', ')}`);
  }
  const sub = options.subfolder ?? 'onnx';
  return `${sub ? `${sub}/` : ''}${options.model_file_name ?? 'model'}${DTYPE_SUFFIX[chosen as keyof typeof DTYPE_SUFFIX]}.onnx`;
}

/** SessionOptions from a pipeline's options (threads, cache, progress of the model file). */
export function sessionOptionsFrom(options: PipelineOptions, name?: string, file?: string): SessionOptions {
  const s: SessionOptions = { ...options.sessionOptions };
  if (options.threads !== undefined) s.threads = options.threads;
  if (options.memory !== undefined) s.memory = options.memory;
  if (options.cache !== undefined) s.cache = options.cache;
  const progress = name !== undefined && file !== undefined ? progressFor(name, file, options, true) : options.onProgress;
  if (progress) s.onProgress = progress;
  return s;
}

/**
 * The session, tokenizer and config for `task` from a folder location or from parts.
 * @throws TesseraError INVALID_ARGUMENT when the folder lacks tokenizer.json or the model file,
 * or a JSON file is broken; whatever InferenceSession.create throws.
 */
export async function loadParts(
  task: string, source: string | URL | PipelinePartsInput, options: PipelineOptions = {},
  createSession: SessionFactory = (m, o) => InferenceSession.create(m, o),
): Promise<PipelineParts> {
  // A dtype name transformers.js does not know is refused before anything is read.
  if (options.dtype !== undefined) modelFileFor(options.dtype, options, {});
  if (typeof source === 'string' || source instanceof URL) {
    // One file after another (not in parallel): a hub sees requests in a stable order.
    const { location, folder, config } = await openTaskFolder(task, source, options);
    const tokenizer = await readTokenizer(task, location, folder);
    const file = options.modelFile ?? modelFileFor(options.dtype ?? 'auto', options, config);
    const model = folder.locate(file);
    try {
      const session = await createSession(model, sessionOptionsFrom(options, location, file));
      // An explicit modelFile's dtype is unknown: int8 if its name says so.
      const dtype = options.modelFile ? (/quant|int8|uint8|q4|q8/.test(options.modelFile) ? 'q8' : 'fp32') : resolveDtype(options.dtype ?? 'auto', config);
      return { session, tokenizer, config, dtype };
    } catch (e) {
      if (isMissing(e)) throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}', '${location}'): no ${file} at ${model} (dtype '${options.dtype ?? 'auto'}')`, { cause: e });
      throw e;
    }
  }
  if (!source || typeof source !== 'object' || !('model' in source)) {
    throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}', …): pass a folder path, a URL, a repository id, or { model, tokenizer, config }`);
  }
  const { tokenizer, config = {} } = source;
  if (!tokenizer || typeof tokenizer.encodeBatch !== 'function') {
    throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}', { model, tokenizer }): the tokenizer is missing (pass a Tokenizer or BertTokenizer)`);
  }
  if (typeof config !== 'object' || config === null) throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}', { config }): config must be an object (config.json parsed)`);
  if (source.model instanceof InferenceSession) {
    return { session: source.model, tokenizer, config, ownsSession: false, ...(options.dtype && options.dtype !== 'auto' ? { dtype: options.dtype } : {}) };
  }
  const session = await createSession(source.model, sessionOptionsFrom(options));
  return { session, tokenizer, config, ...(options.dtype && options.dtype !== 'auto' ? { dtype: options.dtype } : {}) };
}

/** Runs `check` on fresh parts; on failure the session (unless the caller passed it) is released before the error propagates. */
export async function guard<T>(parts: PipelineParts, check: () => T | Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (e) {
    if (parts.ownsSession !== false) await parts.session.release();
    throw e;
  }
}
