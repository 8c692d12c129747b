/**
 * Loading a model over HTTP: streamed with progress, cached by URL and validated by ETag. A cached
 * copy is revalidated with If-None-Match (a 304 costs no download) and used as is when the network
 * is unreachable.
 */
import { TesseraError } from '../api/errors.js';
import type { OpenedModel } from './model-stream.js';

/** Download progress: bytes received so far, and the total when the server sent Content-Length. */
export type ProgressCallback = (loaded: number, total: number | undefined) => void;

/** Where downloaded models are kept: the Cache API in browsers, a directory in Node. */
export interface ModelCache {
  /** The stored bytes and ETag for `url`, or undefined on a miss; a rejection counts as a miss. */
  get(url: string): Promise<{ bytes: Uint8Array; etag: string | undefined } | undefined>;
  /** Stores a download with its ETag (revalidated with If-None-Match next time); a rejection is ignored. */
  put(url: string, bytes: Uint8Array, etag: string | undefined): Promise<void>;
  /**
   * Optional, for streamed loads: the ETag of a stored copy and a way to open it as a stream,
   * without reading it (the Node directory cache opens its file). Caches without it are read whole.
   */
  peek?(url: string): Promise<{ etag: string | undefined; open(): Promise<OpenedModel> } | undefined>;
  /**
   * Optional, for streamed loads: stores a download chunk by chunk as it is read; `commit` makes
   * it visible, `abort` drops it. Without it, a download that must be cached is read whole.
   */
  writer?(url: string, etag: string | undefined): Promise<CacheWriter>;
}

/** A download being stored as it streams past. */
export interface CacheWriter {
  /** Appends one chunk. */
  write(chunk: Uint8Array): Promise<void>;
  /** The download completed and the model loaded: store it. */
  commit(): Promise<void>;
  /** The download failed or the model was refused: drop what was written. */
  abort(): Promise<void>;
}

export interface FetchOptions {
  onProgress?: ProgressCallback;
  /** A cache to use, or false to always download. */
  cache?: ModelCache | false;
}

export async function fetchModel(url: string, options: FetchOptions = {}): Promise<Uint8Array> {
  if (typeof fetch !== 'function') throw new TesseraError('INVALID_ARGUMENT', `Cannot load '${url}': no fetch in this environment; pass the model's bytes`);
  const cache = options.cache || undefined;
  const cached = await cache?.get(url).catch(() => undefined);
  let response: Response;
  try {
    response = await fetch(url, cached?.etag ? { headers: { 'If-None-Match': cached.etag } } : undefined);
  } catch (e) {
    if (cached) return done(cached.bytes, options.onProgress);
    throw new TesseraError('INVALID_ARGUMENT', `Fetching the model from ${url} failed: ${(e as Error).message}`, { cause: e });
  }
  if (response.status === 304 && cached) return done(cached.bytes, options.onProgress);
  if (!response.ok) throw new TesseraError('INVALID_ARGUMENT', `Fetching the model from ${url} failed: HTTP ${response.status}`);
  const bytes = await readBody(response, options.onProgress);
  await cache?.put(url, bytes, response.headers.get('etag') ?? undefined).catch(() => undefined);
  return bytes;
}

/**
 * A download opened for a streamed load: the body is handed over chunk by chunk (and stored in the
 * cache as it passes when the cache can take chunks), so the model is never whole in JavaScript.
 * A cache hit is opened from the cache when it can stream (`peek`), else returned as bytes; so is
 * a download into a cache that only takes whole files.
 */
export async function openModelStream(url: string, options: FetchOptions = {}): Promise<Uint8Array | OpenedModel> {
  if (typeof fetch !== 'function') throw new TesseraError('INVALID_ARGUMENT', `Cannot load '${url}': no fetch in this environment; pass the model's bytes`);
  const cache = options.cache || undefined;
  const peeked = cache?.peek ? await cache.peek(url).catch(() => undefined) : undefined;
  const cached = peeked || !cache ? undefined : await cache.get(url).catch(() => undefined);
  const etag = peeked?.etag ?? cached?.etag;
  const useCached = async (): Promise<Uint8Array | OpenedModel> => {
    if (!peeked) return done(cached!.bytes, options.onProgress);
    const opened = await peeked.open();
    // Progress as for a download: all of it, once the cached copy has been read.
    return { ...opened, async close(ok) { await opened.close(ok); if (ok && opened.source.size !== undefined) options.onProgress?.(opened.source.size, opened.source.size); } };
  };
  let response: Response;
  try {
    response = await fetch(url, etag ? { headers: { 'If-None-Match': etag } } : undefined);
  } catch (e) {
    if (peeked || cached) return useCached();
    throw new TesseraError('INVALID_ARGUMENT', `Fetching the model from ${url} failed: ${(e as Error).message}`, { cause: e });
  }
  if (response.status === 304 && (peeked || cached)) return useCached();
  if (!response.ok) throw new TesseraError('INVALID_ARGUMENT', `Fetching the model from ${url} failed: HTTP ${response.status}`);
  const newEtag = response.headers.get('etag') ?? undefined;
  if (!response.body || (cache && !cache.writer)) {
    const bytes = await readBody(response, options.onProgress);
    await cache?.put(url, bytes, newEtag).catch(() => undefined);
    return bytes;
  }
  const header = Number(response.headers.get('content-length'));
  const total = Number.isFinite(header) && header > 0 && !response.headers.get('content-encoding') ? header : undefined;
  const writer = cache?.writer ? await cache.writer(url, newEtag).catch(() => undefined) : undefined;
  const reader = response.body.getReader();
  let loaded = 0, writeFailed = false;
  options.onProgress?.(0, total);
  return {
    source: {
      size: total,
      async next() {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          throw new TesseraError('INVALID_ARGUMENT', `Downloading the model from ${url} failed after ${loaded} bytes: ${(e as Error).message}`, { cause: e });
        }
        if (chunk.done) return undefined;
        const value = chunk.value;
        loaded += value.length;
        // A cache that fails to write only loses the copy, never the load.
        if (writer && !writeFailed) await writer.write(value).catch(() => { writeFailed = true; });
        options.onProgress?.(loaded, total);
        return value;
      },
    },
    async close(ok) {
      if (!ok) await reader.cancel().catch(() => undefined);
      if (writer) await (ok && !writeFailed ? writer.commit() : writer.abort()).catch(() => undefined);
    },
  };
}

function done(bytes: Uint8Array, onProgress?: ProgressCallback): Uint8Array {
  onProgress?.(bytes.length, bytes.length);
  return bytes;
}

/** Reads a response body chunk by chunk into one buffer, reporting progress as it goes. */
async function readBody(response: Response, onProgress?: ProgressCallback): Promise<Uint8Array> {
  const header = Number(response.headers.get('content-length'));
  const total = Number.isFinite(header) && header > 0 ? header : undefined;
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    return done(bytes, onProgress);
  }
  const reader = response.body.getReader();
  // With a known length, one buffer and no copies; otherwise chunks joined at the end.
  let buffer = total ? new Uint8Array(total) : undefined;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  onProgress?.(0, total);
  for (;;) {
    const { done: end, value } = await reader.read();
    if (end) break;
    if (buffer && loaded + value.length <= buffer.length) buffer.set(value, loaded);
    else {
      if (buffer) { chunks.push(buffer.subarray(0, loaded)); buffer = undefined; }
      chunks.push(value);
    }
    loaded += value.length;
    onProgress?.(loaded, total);
  }
  if (buffer) return loaded === buffer.length ? buffer : buffer.subarray(0, loaded);
  const out = new Uint8Array(loaded);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

function storedHeaders(etag: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (etag) headers['x-tessera-etag'] = etag;
  return headers;
}

/** A body stream as a streamed load's source (a cached copy: nothing to store on close). */
function bodyStream(body: ReadableStream<Uint8Array>, size: number | undefined): OpenedModel {
  const reader = body.getReader();
  return {
    source: {
      size,
      async next() {
        const chunk = await reader.read();
        return chunk.done ? undefined : chunk.value;
      },
    },
    async close(ok) { if (!ok) await reader.cancel().catch(() => undefined); },
  };
}

/** The browser's Cache API, keyed by URL; the ETag travels in a header of the stored response. */
export function cacheStorageCache(name = 'tessera-models'): ModelCache | undefined {
  if (typeof caches === 'undefined') return undefined;
  return {
    async get(url) {
      const r = await (await caches.open(name)).match(url);
      if (!r) return undefined;
      return { bytes: new Uint8Array(await r.arrayBuffer()), etag: r.headers.get('x-tessera-etag') ?? undefined };
    },
    async put(url, bytes, etag) {
      await (await caches.open(name)).put(url, new Response(bytes as BufferSource, { headers: storedHeaders(etag) }));
    },
    // Streamed loads: a hit is read through its body stream, a download stored as it passes.
    async peek(url) {
      const r = await (await caches.open(name)).match(url);
      if (!r?.body) return undefined;
      return { etag: r.headers.get('x-tessera-etag') ?? undefined, open: async () => bodyStream(r.body!, Number(r.headers.get('content-length')) || undefined) };
    },
    async writer(url, etag) {
      if (typeof TransformStream !== 'function') throw new Error('no TransformStream');
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const w = writable.getWriter();
      const stored = (await caches.open(name)).put(url, new Response(readable, { headers: storedHeaders(etag) }));
      stored.catch(() => undefined);
      return {
        write: (chunk) => w.write(chunk),
        async commit() { await w.close(); await stored; },
        async abort() { await w.abort().catch(() => undefined); await stored.catch(() => undefined); },
      };
    },
  };
}
