/**
 * Files of a Hugging Face-style model folder (tokenizer.json, config.json, onnx/model.onnx, …)
 * wherever the folder is: a local directory (Node), a URL base, or a hub repository id `org/name`
 * read from `<host>/<repo>/resolve/<revision>/<file>`. Downloads go through the platform's
 * readModel, so they get its progress reports and cache (as InferenceSession.create(url) does).
 */
import { TesseraError } from '../api/errors.js';
import type { ModelCache, ProgressCallback } from './fetch-model.js';
import { platform } from './platform.js';

/** Where a model folder is read from and how. */
export interface ModelFolderOptions {
  /** The hub a repository id is resolved against. Default 'https://huggingface.co'. */
  host?: string;
  /** Branch, tag or commit of a hub repository. Default 'main'. */
  revision?: string;
  /** false: always download; a ModelCache: use it; default: the platform's cache. */
  cache?: ModelCache | false;
  /** Download progress, per file: the file's name, bytes so far, total when known. */
  onProgress?: (file: string, loaded: number, total: number | undefined) => void;
}

/** One model folder: names files and reads them. */
export interface ModelFolder {
  /** 'local' (a path), 'url' (a URL base) or 'hub' (a repository id). */
  readonly kind: 'local' | 'url' | 'hub';
  /** Where `file` is read from: a path or a URL. */
  locate(file: string): string;
  /** The file's bytes, or undefined when it does not exist (HTTP 404, no such file). */
  read(file: string): Promise<Uint8Array | undefined>;
}

const REPO_ID = /^[\w][\w.-]*(\/[\w][\w.-]*)?$/;

/** A missing file, as opposed to one that exists and could not be read. */
function isMissing(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string } })?.cause;
  return cause?.code === 'ENOENT' || cause?.code === 'ENOTDIR' || /HTTP 404\b/.test((e as Error)?.message ?? '');
}

/**
 * Resolves a location: a URL (http:, https:, file:, blob:) is a folder URL; a repository id
 * (`org/name` or `name`) is a hub repository unless, in Node, a local folder of that name exists;
 * anything else is a local path.
 */
export async function openModelFolder(location: string | URL, options: ModelFolderOptions = {}): Promise<ModelFolder> {
  const text = String(location);
  if (text === '') throw new TesseraError('INVALID_ARGUMENT', 'A model location is empty: pass a folder path, a URL or a repository id like "org/name"');
  const read = (where: string, file: string) => platform.readModel(where, {
    cache: options.cache,
    onProgress: options.onProgress ? (loaded, total) => options.onProgress!(file, loaded, total) : undefined,
  });
  const folder = (kind: ModelFolder['kind'], base: string): ModelFolder => ({
    kind,
    locate: (file) => base + file,
    read: (file) => read(base + file, file).then((b) => b, (e) => {
      if (isMissing(e)) return undefined;
      throw e;
    }),
  });
  if (/^[a-z][a-z0-9+.-]*:/i.test(text) && !/^[a-z]:[\\/]/i.test(text)) return folder('url', text.endsWith('/') ? text : `${text}/`);
  const local = folder('local', /[\\/]$/.test(text) ? text : `${text}/`);
  if (!REPO_ID.test(text) || (platform.isDirectory && await platform.isDirectory(text))) return local;
  const host = (options.host ?? 'https://huggingface.co').replace(/\/+$/, '');
  return folder('hub', `${host}/${text}/resolve/${encodeURIComponent(options.revision ?? 'main')}/`);
}

/** Reads a folder's file as UTF-8 text; undefined when it does not exist. */
export async function readTextFile(folder: ModelFolder, file: string): Promise<string | undefined> {
  const bytes = await folder.read(file);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}

export type { ProgressCallback };
