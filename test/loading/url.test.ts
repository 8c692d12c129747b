/**
 * Loading models from URLs: streamed with progress, cached on disk, revalidated by ETag, used from
 * the cache when the server is gone. Against a local HTTP server on 127.0.0.1 — no internet.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor, TesseraError } from '../../src/index.js';
import { directoryCache } from '../../src/platform/node-cache.js';
import { mnistModel } from '../helpers/mnist.js';

const model = mnistModel();
let server: Server;
let base = '';
const log: { path: string; status: number; bytes: number }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/mnist.onnx') {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304).end();
        log.push({ path: req.url, status: 304, bytes: 0 });
        return;
      }
      res.writeHead(200, { 'content-length': model.length, etag: '"v1"', 'content-type': 'application/octet-stream' });
      // Several chunks, so progress has something to report.
      for (let o = 0; o < model.length; o += 65536) res.write(model.subarray(o, o + 65536));
      res.end();
      log.push({ path: req.url, status: 200, bytes: model.length });
      return;
    }
    res.writeHead(404).end();
    log.push({ path: req.url ?? '', status: 404, bytes: 0 });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const classify = async (s: InferenceSession) => {
  const out = await s.run({ input: new Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) });
  return Array.from(out.probabilities!.data as Float32Array);
};

describe('InferenceSession.create(url)', () => {
  it('streams with progress, caches, revalidates by ETag and survives the server going away', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cache-'));
    const cache = directoryCache(dir);
    const progress: [number, number | undefined][] = [];
    const first = await InferenceSession.create(`${base}/mnist.onnx`, { cache, onProgress: (l, t) => progress.push([l, t]) });
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.at(-1)).toEqual([model.length, model.length]);
    expect(progress.every(([l], i) => i === 0 || l >= progress[i - 1]![0])).toBe(true);
    expect(readdirSync(dir).sort()).toHaveLength(2);
    const expected = await classify(first);

    // Second load: a conditional request answered 304, no body sent.
    log.length = 0;
    const second = await InferenceSession.create(`${base}/mnist.onnx`, { cache });
    expect(log).toEqual([{ path: '/mnist.onnx', status: 304, bytes: 0 }]);
    expect(await classify(second)).toEqual(expected);

    // cache: false always downloads.
    log.length = 0;
    await InferenceSession.create(`${base}/mnist.onnx`, { cache: false });
    expect(log[0]!.status).toBe(200);

    // Offline: the cached copy is used.
    const url = `${base}/mnist.onnx`;
    await new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    const offline = await InferenceSession.create(url, { cache });
    expect(await classify(offline)).toEqual(expected);
    await new Promise<void>((r) => server.listen(Number(new URL(url).port), '127.0.0.1', r));
  });

  it('reports HTTP errors as TesseraErrors naming the URL', async () => {
    const err = await InferenceSession.create(`${base}/missing.onnx`, { cache: false }).catch((e) => e);
    expect(err).toBeInstanceOf(TesseraError);
    expect(err.message).toMatch(/missing\.onnx.*HTTP 404/);
  });
});
