/**
 * The one seam between tessera and where it runs. Entries (src/index*.ts) install what their
 * platform needs; the default reads models with fetch, which browsers and Workers have.
 */
import type { ExternalFiles } from '../onnx/external-data.js';
import { type FetchOptions, type ModelCache, cacheStorageCache, fetchModel, openModelStream } from './fetch-model.js';
import type { OpenedModel } from './model-stream.js';

export interface LoadOptions {
  onProgress?: FetchOptions['onProgress'];
  /** false: always download; a ModelCache: use it; default: the platform's cache. */
  cache?: ModelCache | false;
}

export interface Platform {
  readModel(location: string | URL, options?: LoadOptions): Promise<Uint8Array>;
  /**
   * Opens a model for a streamed load (a file by handle, a download's body), or returns its bytes
   * where it can only be had whole (a cache that stores whole files).
   */
  openModel(location: string | URL, options?: LoadOptions): Promise<Uint8Array | OpenedModel>;
  /** Where downloaded models are cached by default (undefined: nowhere). */
  defaultCache(): ModelCache | undefined;
  /** Whether a local directory exists (Node only): tells a folder path from a hub repository id. */
  isDirectory?(path: string): Promise<boolean>;
  /** External data files beside a model loaded by path (Node only). */
  filesBeside?(modelPath: string): ExternalFiles & { close(): void };
  /** External data files given by path (location → path), read by offset (Node only). */
  filesAt?(paths: ReadonlyMap<string, string>): ExternalFiles & { close(): void };
  /**
   * A new ArrayBuffer of `bytes` that the caller overwrites entirely before anyone else sees it (a
   * run's outputs, copied out of Wasm memory). Node hands out memory without zero-filling it first,
   * which would only be overwritten: ≈ 0.5 ms of a BERT run's 15.6 MB of logits.
   */
  uninitializedBuffer(bytes: number): ArrayBuffer;
}

export const platform: Platform = {
  readModel(location, options = {}) {
    const cache = options.cache === undefined ? platform.defaultCache() : options.cache;
    return fetchModel(String(location), { onProgress: options.onProgress, cache });
  },
  openModel(location, options = {}) {
    const cache = options.cache === undefined ? platform.defaultCache() : options.cache;
    return openModelStream(String(location), { onProgress: options.onProgress, cache });
  },
  defaultCache: () => cacheStorageCache(),
  uninitializedBuffer: (bytes) => new ArrayBuffer(bytes),
};

export function setPlatform(p: Partial<Platform>): void {
  Object.assign(platform, p);
}
