/** A model cache in a directory (Node): one file per URL plus a small JSON with its ETag. */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ModelCache } from './fetch-model.js';
import { openModelFile } from './node-model-file.js';

export function defaultCacheDir(): string {
  return process.env.TESSERA_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tessera');
}

export function directoryCache(dir = defaultCacheDir()): ModelCache {
  const key = (url: string) => join(dir, createHash('sha256').update(url).digest('hex').slice(0, 32));
  return {
    async get(url) {
      const base = key(url);
      const meta = JSON.parse(await readFile(`${base}.json`, 'utf8')) as { url: string; etag?: string; bytes: number };
      if (meta.url !== url) return undefined;
      const bytes = await readFile(`${base}.onnx`);
      // A file cut short by a crash mid-write is not a model.
      if (bytes.length !== meta.bytes) return undefined;
      return { bytes, etag: meta.etag };
    },
    async put(url, bytes, etag) {
      await mkdir(dir, { recursive: true });
      const base = key(url);
      // Write then rename, so a reader never sees half a file.
      await writeFile(`${base}.onnx.tmp`, bytes);
      await rename(`${base}.onnx.tmp`, `${base}.onnx`);
      await writeFile(`${base}.json`, JSON.stringify({ url, etag, bytes: bytes.length }));
    },
    async peek(url) {
      const base = key(url);
      const meta = JSON.parse(await readFile(`${base}.json`, 'utf8')) as { url: string; etag?: string; bytes: number };
      if (meta.url !== url || (await stat(`${base}.onnx`)).size !== meta.bytes) return undefined;
      return { etag: meta.etag, open: () => openModelFile(`${base}.onnx`) };
    },
    async writer(url, etag) {
      await mkdir(dir, { recursive: true });
      const base = key(url);
      const fh = await open(`${base}.onnx.tmp`, 'w');
      let bytes = 0;
      return {
        async write(chunk) {
          for (let o = 0; o < chunk.length;) o += (await fh.write(chunk, o, chunk.length - o)).bytesWritten;
          bytes += chunk.length;
        },
        async commit() {
          await fh.close();
          await rename(`${base}.onnx.tmp`, `${base}.onnx`);
          await writeFile(`${base}.json`, JSON.stringify({ url, etag, bytes }));
        },
        async abort() {
          await fh.close().catch(() => undefined);
          await rm(`${base}.onnx.tmp`, { force: true });
        },
      };
    },
  };
}
