/**
 * Streamed loading (onnx/stream-walk.ts): a model by path or URL is walked chunk by chunk, its large
 * initializers read by offset or streamed straight into Wasm memory. Outputs must be bit-identical
 * to loading the same bytes from a Uint8Array (fp32, int8, fp16, external data, a local HTTP
 * server with and without a cache); corrupt or cut-short files fail with the byte offset; a model
 * whose weights cannot fit is refused before its weights are read.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { walkModel } from '../../src/onnx/stream-walk.js';
import { directoryCache } from '../../src/platform/node-cache.js';
import { DT, model as buildModel, node, valueInfo } from '../helpers/onnx-builder.js';

const { onnx } = onnxProto;

const MODELS: Record<string, string> = {
  fp32: 'models/hf/bert-mlm/onnx/model.onnx',
  int8: 'models/hf/bert-mlm/onnx/model_quantized.onnx',
  fp16: 'models/fp16-tools/bert-tiny-fp16.onnx',
};

const dir = mkdtempSync(join(tmpdir(), 'tessera-stream-'));
const served = new Map<string, Uint8Array>();
let server: Server;
let base = '';
const log: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const body = served.get(path);
    if (!body) { res.writeHead(404).end(); return; }
    // '/cut/…' declares no length and stops early: a stream that ends mid-model.
    const chunked = path.startsWith('/cut/');
    if (!chunked && req.headers['if-none-match'] === `"${body.length}"`) { res.writeHead(304).end(); log.push(304); return; }
    log.push(200);
    res.writeHead(200, chunked ? {} : { 'content-length': body.length, etag: `"${body.length}"` });
    for (let o = 0; o < body.length; o += 40_000) res.write(body.subarray(o, o + 40_000));
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Deterministic feeds from the declared inputs: batch 1, sequence 8. */
function feedsFor(s: InferenceSession): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const m of s.inputMetadata) {
    let first = true;
    const dims = (m.shape ?? []).map((d) => (typeof d === 'number' ? d : (first ? (first = false, 1) : 8)));
    const n = dims.reduce((a, b) => a * b, 1);
    if (m.type === 'int64') {
      const v = BigInt64Array.from({ length: n }, (_, i) => BigInt(m.name.includes('mask') ? 1 : m.name.includes('type') ? 0 : (i * 7 + 3) % 90));
      feeds[m.name] = new Tensor('int64', v, dims);
    } else {
      feeds[m.name] = new Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i)), dims);
    }
  }
  return feeds;
}

/** A SHA-256 of every output's bytes, for bit-for-bit comparison (deep-equal on MBs is slow). */
async function outputs(s: InferenceSession): Promise<Record<string, string>> {
  const out = await s.run(feedsFor(s));
  const bytes: Record<string, string> = {};
  for (const [k, t] of Object.entries(out)) {
    const d = t.data as ArrayLike<number> & { buffer: ArrayBuffer; byteOffset: number; byteLength: number };
    bytes[k] = createHash('sha256').update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)).digest('hex');
  }
  await s.release();
  return bytes;
}

/** The model with every raw_data over 1 KB moved to `weights.bin` beside it. */
function toExternal(bytes: Uint8Array): { model: Uint8Array; data: Uint8Array } {
  const m = onnx.ModelProto.decode(bytes);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of m.graph!.initializer!) {
    const raw = t.rawData;
    if (!raw || raw.length <= 1024) continue;
    const pad = (64 - (offset % 64)) % 64;
    chunks.push(new Uint8Array(pad), raw);
    offset += pad;
    t.externalData = [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(raw.length) }];
    t.dataLocation = 1;
    t.rawData = new Uint8Array(0);
    offset += raw.length;
  }
  const data = new Uint8Array(offset);
  let o = 0;
  for (const c of chunks) { data.set(c, o); o += c.length; }
  return { model: onnx.ModelProto.encode(m).finish(), data };
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(() => undefined, (err) => err);
  expect(e, 'expected a failure').toBeDefined();
  return e;
}

describe('streamed loading gives the outputs of loading from bytes, bit for bit', () => {
  it('fp32: by path, and by URL through a cache (streamed into Wasm and to disk, then the cached file)', async () => {
    const file = MODELS.fp32!;
    const bytes = readFileSync(file);
    const expected = await outputs(await InferenceSession.create(new Uint8Array(bytes)));
    expect(await outputs(await InferenceSession.create(file))).toEqual(expected);
    served.set('/fp32.onnx', bytes);
    const cacheDir = mkdtempSync(join(dir, 'cache-'));
    const cache = directoryCache(cacheDir);
    expect(await outputs(await InferenceSession.create(`${base}/fp32.onnx`, { cache }))).toEqual(expected);
    expect(readdirSync(cacheDir).sort()).toHaveLength(2);
    expect(readFileSync(join(cacheDir, readdirSync(cacheDir).find((f) => f.endsWith('.onnx'))!)).equals(bytes)).toBe(true);
    // Revalidated (304, no body): the cached file is streamed from disk.
    log.length = 0;
    expect(await outputs(await InferenceSession.create(`${base}/fp32.onnx`, { cache }))).toEqual(expected);
    expect(log).toEqual([304]);
  });

  for (const kind of ['int8', 'fp16']) {
    it(`${kind}: by path and by URL (no cache)`, async () => {
      const bytes = readFileSync(MODELS[kind]!);
      const expected = await outputs(await InferenceSession.create(new Uint8Array(bytes)));
      expect(await outputs(await InferenceSession.create(MODELS[kind]!))).toEqual(expected);
      served.set(`/${kind}.onnx`, bytes);
      expect(await outputs(await InferenceSession.create(`${base}/${kind}.onnx`, { cache: false }))).toEqual(expected);
    });
  }

  it('external data: the model by path reads its weights by offset from the file beside it', async () => {
    const bytes = readFileSync(MODELS.fp32!);
    const expected = await outputs(await InferenceSession.create(new Uint8Array(bytes)));
    const { model, data } = toExternal(bytes);
    const sub = mkdtempSync(join(dir, 'ext-'));
    writeFileSync(join(sub, 'model.onnx'), model);
    writeFileSync(join(sub, 'weights.bin'), data);
    expect(await outputs(await InferenceSession.create(join(sub, 'model.onnx')))).toEqual(expected);
    expect(await outputs(await InferenceSession.create(new Uint8Array(model), { externalData: [{ path: 'weights.bin', data }] }))).toEqual(expected);
    // externalData naming a file by path (Node): read by offset like the files beside a model.
    expect(await outputs(await InferenceSession.create(new Uint8Array(model), { externalData: [{ path: 'weights.bin', data: join(sub, 'weights.bin') }] }))).toEqual(expected);
  });

  it('keeps only the small messages: the skeleton of a 2 MB BERT is under 5% of it', async () => {
    const bytes = readFileSync(MODELS.fp32!);
    let at = 0;
    const walked = await walkModel(
      { size: bytes.length, next: async () => (at < bytes.length ? bytes.subarray(at, (at += 10_000)) : undefined) },
      { raw: ({ length }) => ({ kind: 'write', entry: { length, readInto: () => {} }, write: () => {} }) },
    );
    expect(walked.bytes).toBe(bytes.length);
    expect(walked.raws.length).toBeGreaterThanOrEqual(4);
    const sunk = walked.raws.reduce((a, r) => a + r.length, 0);
    expect(walked.skeleton.length + sunk).toBeGreaterThan(bytes.length * 0.99);
    expect(walked.skeleton.length).toBeLessThan(bytes.length * 0.05);
  });
});

describe('corrupt and cut-short models', () => {
  const bytes = readFileSync(MODELS.fp32!);

  /** A source handing out `bytes` in chunks of pseudo-random sizes from 1 to `max`. */
  const chunked = (bytes: Uint8Array, max: number, seed: number) => {
    let at = 0, s = seed;
    return {
      size: bytes.length,
      next: async () => {
        if (at >= bytes.length) return undefined;
        s = (s * 1103515245 + 12345) >>> 0;
        const n = 1 + (s >>> 8) % max;
        return bytes.slice(at, (at += n));
      },
    };
  };
  const sinkAll = { raw: ({ length }: { length: number }) => ({ kind: 'write' as const, entry: { length, readInto: () => {} }, write: () => {} }) };

  it('chunk boundaries anywhere (1–13 byte chunks) give the same skeleton as one chunk', async () => {
    const small = readFileSync(MODELS.fp16!);
    const whole = await walkModel(chunked(small, small.length, 1), sinkAll);
    for (const seed of [1, 2, 3]) {
      // Every sunk field receives exactly the file's bytes at its offset, however they were split.
      const checks: (() => void)[] = [];
      const tiny = await walkModel(chunked(small, 13, seed), {
        raw: ({ offset, length }) => {
          const got = new Uint8Array(length);
          checks.push(() => expect(Buffer.from(got).equals(small.subarray(offset, offset + length))).toBe(true));
          return { kind: 'write', entry: { length, readInto: () => {} }, write: (b, at) => got.set(b, at) };
        },
      });
      checks.forEach((c) => c());
      expect(checks.length).toBe(whole.raws.length);
      expect(Buffer.from(tiny.skeleton).equals(Buffer.from(whole.skeleton))).toBe(true);
      expect(tiny.raws.map((r) => r.length)).toEqual(whole.raws.map((r) => r.length));
    }
  });

  it('random byte corruptions end in INVALID_MODEL or a model, never another error (walked in small chunks)', async () => {
    const small = readFileSync(MODELS.fp16!);
    let s = 7, refused = 0;
    const rand = (n: number) => { s = (s * 1103515245 + 12345) >>> 0; return (s >>> 8) % n; };
    for (let i = 0; i < 150; i++) {
      const bad = new Uint8Array(small);
      for (let k = 0; k < 1 + rand(4); k++) bad[rand(Math.min(bad.length, 4000 + rand(bad.length)))] = rand(256);
      const cut = rand(3) === 0 ? bad.subarray(0, rand(bad.length)) : bad;
      const e = await walkModel(chunked(cut, 4096, i), sinkAll).then(() => undefined, (err) => err);
      if (e) { refused++; expect([e.name, e.code, e.message]).toEqual(['TesseraError', 'INVALID_MODEL', expect.stringMatching(/at byte \d+/)]); }
    }
    expect(refused).toBeGreaterThan(30);
  });

  it('a file cut anywhere fails with INVALID_MODEL naming the byte offset, by path and by URL', async () => {
    for (const cut of [5, 300, Math.floor(bytes.length / 2), bytes.length - 3]) {
      const path = join(dir, `cut-${cut}.onnx`);
      writeFileSync(path, bytes.subarray(0, cut));
      const e = await failure(InferenceSession.create(path));
      expect(e.code).toBe('INVALID_MODEL');
      expect(e.message).toMatch(/at byte \d+/);
      served.set(`/cut/${cut}.onnx`, bytes.subarray(0, cut));
      const u = await failure(InferenceSession.create(`${base}/cut/${cut}.onnx`, { cache: false }));
      expect(u.code).toBe('INVALID_MODEL');
      expect(u.message).toMatch(/at byte \d+/);
    }
  });

  it('a bad wire type is reported at its offset, as for bytes', async () => {
    const bad = new Uint8Array(bytes);
    // The first byte is a tag (ir_version, varint): make it wire type 7.
    bad[0] = (bad[0]! & ~7) | 7;
    const path = join(dir, 'bad.onnx');
    writeFileSync(path, bad);
    const fromPath = await failure(InferenceSession.create(path));
    const fromBytes = await failure(InferenceSession.create(bad));
    expect(fromPath.code).toBe('INVALID_MODEL');
    expect(fromPath.message).toContain('wire type 7');
    expect(fromPath.message).toContain('at byte 0');
    expect(fromBytes.message).toContain('at byte 0');
  });
});

/** Protobuf framing, for models too big to build in memory. */
const varint = (n: number): number[] => { const o: number[] = []; while (n >= 128) { o.push((n % 128) | 128); n = Math.floor(n / 128); } o.push(n); return o; };
const field = (num: number, body: Uint8Array | number[]): number[] => [...varint(num * 8 + 2), ...varint(body.length), ...body];

describe('weights that cannot fit are refused at create, before they are read', () => {
  // y = x · W0 · W1 · W2, each W 24576×24576 float32 (2.25 GiB): 6.75 GiB in all.
  const N = 24576, bytesEach = N * N * 4;
  const graphHead = onnx.GraphProto.encode({
    name: 'huge',
    node: [node('MatMul', ['x', 'w0'], ['a']), node('MatMul', ['a', 'w1'], ['b']), node('MatMul', ['b', 'w2'], ['y'])],
    input: [valueInfo('x', DT.FLOAT, [1, N])],
    output: [valueInfo('y', DT.FLOAT, [1, N])],
  }).finish();
  const tensorHead = (i: number) => onnx.TensorProto.encode({ name: `w${i}`, dims: [N, N], dataType: DT.FLOAT }).finish();

  it('inline raw_data (a sparse 6.75 GiB file): OUT_OF_MEMORY naming the size, in well under a second of reading', async () => {
    // The file is written sparse: headers at their offsets, the weights' bytes never written.
    const inits = [0, 1, 2].map((i) => {
      const head = [...tensorHead(i), ...varint(9 * 8 + 2), ...varint(bytesEach)];
      return { head, length: head.length + bytesEach };
    });
    const graphLen = graphHead.length + inits.reduce((a, t) => a + varint(5 * 8 + 2).length + varint(t.length).length + t.length, 0);
    const modelHead = [...[8, 8], ...field(8, [...field(1, []), 16, 13]), ...varint(7 * 8 + 2), ...varint(graphLen)];
    const path = join(dir, 'huge.onnx');
    const fd = openSync(path, 'w');
    let pos = 0;
    const put = (b: number[] | Uint8Array) => { writeSync(fd, Uint8Array.from(b), 0, b.length, pos); pos += b.length; };
    put(modelHead); put(graphHead);
    for (const t of inits) { put([...varint(5 * 8 + 2), ...varint(t.length)]); put(t.head); pos += bytesEach; }
    ftruncateSync(fd, pos);
    closeSync(fd);
    const start = performance.now();
    const e = await failure(InferenceSession.create(path));
    expect(e.code).toBe('OUT_OF_MEMORY');
    expect(e.message).toMatch(/6\.75 GiB|7\.\d+ GB|GiB/);
    expect(e.message).toContain("'w");
    expect(performance.now() - start).toBeLessThan(5000);
  });

  it('external data in a sparse file: the same refusal; maxMemoryBytes refuses a small model too', async () => {
    const sub = mkdtempSync(join(dir, 'huge-ext-'));
    const m = onnx.ModelProto.encode({
      irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
      graph: {
        ...onnx.GraphProto.decode(graphHead),
        initializer: [0, 1, 2].map((i) => ({
          name: `w${i}`, dims: [N, N], dataType: DT.FLOAT, dataLocation: 1,
          externalData: [{ key: 'location', value: 'w.bin' }, { key: 'offset', value: String(i * bytesEach) }, { key: 'length', value: String(bytesEach) }],
        })),
      },
    }).finish();
    writeFileSync(join(sub, 'model.onnx'), m);
    const fd = openSync(join(sub, 'w.bin'), 'w');
    ftruncateSync(fd, 3 * bytesEach);
    closeSync(fd);
    const e = await failure(InferenceSession.create(join(sub, 'model.onnx')));
    expect(e.code).toBe('OUT_OF_MEMORY');
    expect(e.message).toMatch(/GiB/);
    // The same with the model as bytes and the 6.75 GiB file named in externalData: never read whole.
    const b = await failure(InferenceSession.create(m, { externalData: [{ path: 'w.bin', data: join(sub, 'w.bin') }] }));
    expect(b.code).toBe('OUT_OF_MEMORY');

    const small = MODELS.fp32!;
    served.set('/small.onnx', readFileSync(small));
    for (const where of [small, `${base}/small.onnx`]) {
      const f = await failure(InferenceSession.create(where, { maxMemoryBytes: 1 << 20, cache: false }));
      expect(f.code).toBe('OUT_OF_MEMORY');
    }
  });
});

// Built here so a model with a Constant-node tensor and a subgraph initializer is covered too.
describe('tensors outside the top-level initializers stay in the skeleton', () => {
  it('a large Constant node value and If branch initializers load and run the same by path', async () => {
    const big = Float32Array.from({ length: 4096 }, (_, i) => i / 7);
    const branch = (v: number) => ({
      name: `b${v}`,
      node: [node('Add', ['x', `c${v}`], [`o${v}`])],
      output: [valueInfo(`o${v}`, DT.FLOAT, [4096])],
      initializer: [{ name: `c${v}`, dims: [4096], dataType: DT.FLOAT, rawData: new Uint8Array(Float32Array.from(big, (x) => x + v).buffer) }],
    });
    const bytes = buildModel({
      nodes: [
        node('Constant', [], ['k'], { value: { name: 'k', dims: [4096], dataType: DT.FLOAT, rawData: new Uint8Array(big.buffer) } }),
        node('Add', ['x', 'k'], ['y']),
        { opType: 'If', input: ['cond'], output: ['z'], attribute: [
          { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch(1) },
          { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch(2) },
        ] },
      ],
      inputs: [valueInfo('x', DT.FLOAT, [4096]), valueInfo('cond', DT.BOOL, [])],
      outputs: [valueInfo('y', DT.FLOAT, [4096]), valueInfo('z', DT.FLOAT, [4096])],
    });
    const path = join(dir, 'nested.onnx');
    writeFileSync(path, bytes);
    const feeds = { x: new Tensor('float32', Float32Array.from({ length: 4096 }, (_, i) => i), [4096]), cond: new Tensor('bool', new Uint8Array([0]), []) };
    const a = await InferenceSession.create(bytes), b = await InferenceSession.create(path);
    const [ra, rb] = [await a.run(feeds), await b.run(feeds)];
    expect(Array.from(rb.y!.data as Float32Array)).toEqual(Array.from(ra.y!.data as Float32Array));
    expect(Array.from(rb.z!.data as Float32Array)).toEqual(Array.from(ra.z!.data as Float32Array));
    await a.release(); await b.release();
  });
});

describe('lengths read from a stream of unknown size are not trusted for allocations', () => {
  it('a kept field claiming 1 TB in a 100-byte stream fails at the end of the data, allocating nothing big', async () => {
    // ModelProto field 7 (graph) → GraphProto field 2 (name, a kept string) claiming 2^40 bytes.
    const graph = [...varint(2 * 8 + 2), ...varint(2 ** 40), ...new Array(60).fill(65)];
    const bytes = Uint8Array.from([8, 8, ...varint(7 * 8 + 2), ...varint(graph.length + 2 ** 40 - 60), ...graph]);
    let sent = false;
    const e = await walkModel({ next: async () => (sent ? undefined : (sent = true, bytes)) }, { raw: () => undefined }).then(() => undefined, (err) => err);
    expect(e?.code).toBe('INVALID_MODEL');
    expect(e?.message).toMatch(/at byte \d+/);
  });
});
