/**
 * Gather tables read on demand (SessionOptions.tablesOnDemand, runtime/table-on-demand.ts): a
 * model loaded by path leaves a large table that only Gathers read in the file and reads each row
 * the first time a run gathers it. Outputs are bit-identical to loading the bytes, and to
 * onnxruntime-web; only the rows the indices name are read, once; a table that another op reads,
 * a Gather over another axis, a graph output, or `tablesOnDemand: false` loads whole as before; a
 * model file changed under the session fails the run that needs a new row with INVALID_MODEL; and
 * release() closes the file. MatMul weights of 256 KiB or more — float32, and int8 under the
 * dynamically quantized MatMul (one weight, a Group of them) and MatMulInteger — are read from the
 * file at their packing, a band of rows at a time, with the bits of the weights read at create.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor, quantizeDynamic } from '../../src/index.js';
import { DT, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../helpers/ort.js';

const ROWS = 4096, WIDTH = 1024; // 16 MiB of float32: the smallest table read on demand
const dir = mkdtempSync(join(tmpdir(), 'tessera-tables-'));

function table(seed: number): Float32Array {
  const t = new Float32Array(ROWS * WIDTH);
  for (let i = 0; i < t.length; i++) t[i] = Math.fround(Math.sin(i * 0.001 + seed) * 3);
  return t;
}

const tableInit = (t: Float32Array) => ({ name: 'E', dims: [ROWS, WIDTH], dataType: DT.FLOAT, rawData: new Uint8Array(t.buffer) });
const bias = { name: 'b', dims: [WIDTH], dataType: DT.FLOAT, rawData: new Uint8Array(new Float32Array(WIDTH).fill(0.25).buffer) };

/** y = Gather(E, ids) + b, and, when `tied`, also E read by a MatMul (z = x · E). */
function embedModel(opts: { tied?: boolean; axis?: number; seed?: number; exposeTable?: boolean } = {}): Uint8Array {
  const nodes = [node('Gather', ['E', 'ids'], ['g'], opts.axis !== undefined ? { axis: opts.axis } : {}), node('Add', ['g', 'b'], ['y'])];
  const outputs = [valueInfo('y', DT.FLOAT, opts.axis === 1 ? [ROWS, 1, 4] : [1, 6, WIDTH])];
  const inputs = [valueInfo('ids', DT.INT64, [1, opts.axis === 1 ? 4 : 6])];
  if (opts.axis === 1) { nodes[1] = node('Identity', ['g'], ['y']); }
  if (opts.tied) {
    nodes.push(node('MatMul', ['x', 'E'], ['z']));
    inputs.push(valueInfo('x', DT.FLOAT, [1, ROWS]));
    outputs.push(valueInfo('z', DT.FLOAT, [1, WIDTH]));
  }
  if (opts.exposeTable) outputs.push(valueInfo('E', DT.FLOAT, [ROWS, WIDTH]));
  return model({ nodes, inputs, outputs, initializers: [tableInit(table(opts.seed ?? 1)), bias] });
}

function save(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

const ids = (...v: number[]) => new Tensor('int64', BigInt64Array.from(v, BigInt), [1, v.length]);
const same = (a: Tensor, b: Tensor) => Buffer.compare(Buffer.from((a.data as Float32Array).buffer), Buffer.from((b.data as Float32Array).buffer)) === 0;

describe('Gather tables read on demand', () => {
  it('reads only the rows gathered, once, with outputs bit-identical to the bytes and to onnxruntime-web', async () => {
    const bytes = embedModel();
    const path = save('embed.onnx', bytes);
    const byPath = await InferenceSession.create(path);
    const fromBytes = await InferenceSession.create(bytes);
    expect(byPath.tablesOnDemand).toEqual({ tables: 1, rowsRead: 0, deferred: 0, packedFromFile: 0 });
    expect(fromBytes.tablesOnDemand.tables).toBe(0);
    // Heap reserved for the table, but none of it read yet.
    expect(byPath.memoryUsage().heapBytesInUse).toBeGreaterThanOrEqual(ROWS * WIDTH * 4);

    const ort = await ortSession(bytes);
    const runs = [[5, 6, 7, 5, 4095, 0], [7, 8, 9, -1, 5, 100], [5, 6, 7, 8, 9, 0]];
    const rowsAfter = [5, 8, 8]; // new distinct rows: {5,6,7,4095,0}, then 8, 9, 100 (−1 is 4095)
    for (let r = 0; r < runs.length; r++) {
      const feeds = { ids: ids(...runs[r]!) };
      const got = (await byPath.run(feeds)).y!, want = (await fromBytes.run(feeds)).y!;
      expect(same(got, want), `run ${r}`).toBe(true);
      const o = (await ortRun(ort, feeds)).y!;
      expect(Buffer.compare(Buffer.from((got.data as Float32Array).buffer), Buffer.from((o.data as Float32Array).buffer)), `run ${r} vs ort`).toBe(0);
      expect(byPath.tablesOnDemand.rowsRead, `run ${r}`).toBe(rowsAfter[r]);
    }
    await expect(byPath.run({ ids: ids(1, 2, 3, 4, 5, 4096) })).rejects.toMatchObject({ code: 'INVALID_FEED' });
    await byPath.release();
    await fromBytes.release();
  });

  it('loads the table whole when another op reads it, for another axis, as a graph output, or when turned off', async () => {
    const cases: [string, Uint8Array, object, Record<string, Tensor>][] = [
      ['tied', embedModel({ tied: true }), {}, { ids: ids(1, 2, 3, 4, 5, 6), x: new Tensor('float32', new Float32Array(ROWS).fill(0.5), [1, ROWS]) }],
      ['axis 1', embedModel({ axis: 1 }), {}, { ids: ids(1, 2, 3, 4) }],
      ['output', embedModel({ exposeTable: true }), {}, { ids: ids(1, 2, 3, 4, 5, 6) }],
      ['off', embedModel(), { tablesOnDemand: false }, { ids: ids(1, 2, 3, 4, 5, 6) }],
    ];
    for (const [name, bytes, options, feeds] of cases) {
      const s = await InferenceSession.create(save(`${name}.onnx`, bytes), options);
      expect(s.tablesOnDemand.tables, name).toBe(0);
      const ref = await InferenceSession.create(bytes);
      const got = await s.run(feeds), want = await ref.run(feeds);
      for (const k of Object.keys(want)) expect(same(got[k]!, want[k]!), `${name} ${k}`).toBe(true);
      await s.release();
      await ref.release();
    }
  });

  it('fails a run that needs a new row of a model file changed under the session, and closes the file on release', async () => {
    const fds = () => { try { return readdirSync('/proc/self/fd').length; } catch { return undefined; } };
    const path = save('changed.onnx', embedModel());
    const before = fds();
    const s = await InferenceSession.create(path);
    if (before !== undefined) expect(fds()).toBe(before + 1);
    const first = (await s.run({ ids: ids(1, 2, 3, 4, 5, 6) })).y!;
    writeFileSync(path, embedModel({ seed: 2 })); // same size, new contents and mtime
    // Rows already read stay valid; a new one would come from the changed file.
    expect(same((await s.run({ ids: ids(1, 2, 3, 4, 5, 6) })).y!, first)).toBe(true);
    await expect(s.run({ ids: ids(1, 2, 3, 4, 5, 7) })).rejects.toMatchObject({ code: 'INVALID_MODEL', message: expect.stringContaining('changed since the session opened it') });
    await s.release();
    if (before !== undefined) expect(fds()).toBe(before);
  });
});

describe('large MatMul weights read from the file at their packing', () => {
  // W: [1024, 16390] float32 (64.0 MiB, N not a multiple of 8): read from the file a band of rows
  // at a time straight into its panels at the first run, instead of at create.
  const K = 1024, N = 16390;
  function matmulModel(op: 'MatMul' | 'Gemm', alpha = 1): Uint8Array {
    const w = new Float32Array(K * N);
    for (let i = 0; i < w.length; i++) w[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
    const gemm = op === 'Gemm';
    return model({
      nodes: [gemm ? node('Gemm', ['x', 'W'], ['y'], { alpha }) : node('MatMul', ['x', 'W'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT, gemm ? [3, K] : [1, 3, K])],
      outputs: [valueInfo('y', DT.FLOAT, gemm ? [3, N] : [1, 3, N])],
      initializers: [{ name: 'W', dims: [K, N], dataType: DT.FLOAT, rawData: new Uint8Array(w.buffer) }],
    });
  }

  it('gives the bits of the weight read at create, for MatMul, and for a Gemm that scales it (read whole instead)', async () => {
    for (const [name, bytes, deferredAfter] of [['MatMul', matmulModel('MatMul'), 0], ['Gemm alpha 0.5', matmulModel('Gemm', 0.5), 0]] as const) {
      const path = save(`${name}.onnx`, bytes);
      const s = await InferenceSession.create(path);
      expect(s.tablesOnDemand.deferred, name).toBe(1);
      const off = await InferenceSession.create(path, { tablesOnDemand: false });
      expect(off.tablesOnDemand.deferred, name).toBe(0);
      const x = new Float32Array(3 * K).map((_, i) => Math.sin(i));
      const feeds = { x: new Tensor('float32', x, name === 'MatMul' ? [1, 3, K] : [3, K]) };
      const got = (await s.run(feeds)).y!, want = (await off.run(feeds)).y!;
      expect(same(got, want), name).toBe(true);
      expect(s.tablesOnDemand.deferred, name).toBe(deferredAfter);
      expect(s.tablesOnDemand.packedFromFile, name).toBe(name === 'MatMul' ? 1 : 0);
      expect(same((await s.run(feeds)).y!, want), `${name} again`).toBe(true);
      await s.release();
      await off.release();
    }
  });
});

describe('MatMul weights of every size from 256 KiB read from the file at their packing', () => {
  const weight = (K: number, N: number, seed: number) => {
    const w = new Float32Array(K * N);
    for (let i = 0; i < w.length; i++) w[i] = Math.fround(Math.sin(i * 0.37 + seed) * 0.5);
    return { name: `W${seed}`, dims: [K, N], dataType: DT.FLOAT, rawData: new Uint8Array(w.buffer) };
  };
  // x [1, 5, K] → q = x·W1 and k = x·W2 (one x: a Group once quantized), y = relu(q)·W3 (K×N3: ≥ 2
  // MiB as int8, so read in several bands, the last short), and a 200 KiB weight read at create.
  const K = 512, N = 600, N3 = 2100, small = 100;
  function mlp(): Uint8Array {
    return model({
      nodes: [node('MatMul', ['x', 'W1'], ['q']), node('MatMul', ['x', 'W2'], ['k']), node('Relu', ['q'], ['r']),
        node('Slice', ['r', 'st', 'en', 'ax'], ['rs']), node('MatMul', ['rs', 'W3'], ['y']), node('MatMul', ['x', 'W4'], ['z'])],
      inputs: [valueInfo('x', DT.FLOAT, [1, 5, K])],
      outputs: [valueInfo('k', DT.FLOAT, [1, 5, N]), valueInfo('y', DT.FLOAT, [1, 5, N3]), valueInfo('z', DT.FLOAT, [1, 5, small])],
      initializers: [weight(K, N, 1), weight(K, N, 2), { ...weight(N - 88, N3, 3), name: 'W3' }, { ...weight(K, small, 4), name: 'W4' },
        { name: 'st', dims: [1], dataType: DT.INT64, rawData: new Uint8Array(BigInt64Array.of(0n).buffer) },
        { name: 'en', dims: [1], dataType: DT.INT64, rawData: new Uint8Array(BigInt64Array.of(BigInt(N - 88)).buffer) },
        { name: 'ax', dims: [1], dataType: DT.INT64, rawData: new Uint8Array(BigInt64Array.of(2n).buffer) }],
    });
  }
  const x = new Tensor('float32', new Float32Array(5 * K).map((_, i) => Math.cos(i * 0.11)), [1, 5, K]);

  for (const [name, bytes] of [['float32', () => mlp()], ['int8 per tensor', () => quantizeDynamic(mlp()).bytes],
    ['int8 per column', () => quantizeDynamic(mlp(), { perChannel: true }).bytes]] as const) {
    it(`${name}: three weights wait for their first run, with the bits of reading them at create`, async () => {
      const path = save(`mlp-${name.replace(/ /g, '-')}.onnx`, bytes());
      const s = await InferenceSession.create(path);
      expect(s.tablesOnDemand.deferred).toBe(3); // W1, W2, W3; not the 200 KiB W4
      const off = await InferenceSession.create(path, { tablesOnDemand: false });
      expect(off.tablesOnDemand.deferred).toBe(0);
      const got = await s.run({ x }), want = await off.run({ x });
      expect(s.tablesOnDemand).toMatchObject({ deferred: 0, packedFromFile: 3 });
      for (const k of ['k', 'y', 'z']) expect(same(got[k]!, want[k]!), k).toBe(true);
      // Packed once, over the weights' own blocks: no more heap than reading them at create.
      expect(s.heapHighWaterBytes).toBeLessThanOrEqual(off.heapHighWaterBytes);
      // memory: 'low' defers the int8 weights alone (its GEMM reads large float32 ones as stored).
      const low = await InferenceSession.create(path, { memory: 'low' });
      expect(low.tablesOnDemand.deferred).toBe(name === 'float32' ? 0 : 3);
      const lowOut = await low.run({ x });
      for (const k of ['k', 'y', 'z']) expect(same(lowOut[k]!, want[k]!), `low ${k}`).toBe(true);
      await low.release();
      await s.release();
      await off.release();
    });
  }
});

describe('the model file kept for weights read at their packing', () => {
  it('is closed once the first run has packed them all (no table read on demand)', async () => {
    const fds = () => { try { return readdirSync('/proc/self/fd').length; } catch { return undefined; } };
    const K = 300, N = 256; // 300 KiB of float32
    const w = new Float32Array(K * N).map((_, i) => Math.sin(i));
    const path = save('one-weight.onnx', model({
      nodes: [node('MatMul', ['x', 'W'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT, [2, K])],
      outputs: [valueInfo('y', DT.FLOAT, [2, N])],
      initializers: [{ name: 'W', dims: [K, N], dataType: DT.FLOAT, rawData: new Uint8Array(w.buffer) }],
    }));
    const before = fds();
    const s = await InferenceSession.create(path);
    expect(s.tablesOnDemand.deferred).toBe(1);
    if (before !== undefined) expect(fds()).toBe(before + 1);
    const x = new Tensor('float32', new Float32Array(2 * K).fill(0.5), [2, K]);
    const first = (await s.run({ x })).y!;
    await new Promise((r) => setTimeout(r, 50)); // the close is asynchronous
    if (before !== undefined) expect(fds()).toBe(before);
    expect(same((await s.run({ x })).y!, first)).toBe(true);
    await s.release();
  });
});

describe('an int8 weight not known to fit one byte', () => {
  it('is read whole at its first run (uint8, zero point 131: MatMulInteger checks every value), with the same bits', async () => {
    const K = 640, N = 520; // 325 KiB of uint8
    const w = new Uint8Array(K * N).map((_, i) => 131 + ((i * 7919) % 200) - 100);
    const bytes = model({
      nodes: [node('MatMulInteger', ['x', 'W', 'xz', 'wz'], ['y'])],
      inputs: [valueInfo('x', DT.UINT8, [3, K])],
      outputs: [valueInfo('y', DT.INT32, [3, N])],
      initializers: [{ name: 'W', dims: [K, N], dataType: DT.UINT8, rawData: w },
        { name: 'xz', dims: [], dataType: DT.UINT8, rawData: Uint8Array.of(128) }, { name: 'wz', dims: [], dataType: DT.UINT8, rawData: Uint8Array.of(131) }],
    });
    const path = save('matmulinteger-u8.onnx', bytes);
    const s = await InferenceSession.create(path), ref = await InferenceSession.create(bytes);
    expect(s.tablesOnDemand.deferred).toBe(1);
    const feeds = { x: new Tensor('uint8', new Uint8Array(3 * K).map((_, i) => (i * 31) % 256), [3, K]) };
    const got = (await s.run(feeds)).y!, want = (await ref.run(feeds)).y!;
    expect(s.tablesOnDemand).toMatchObject({ deferred: 0, packedFromFile: 0 });
    expect(Buffer.compare(Buffer.from((got.data as Int32Array).buffer), Buffer.from((want.data as Int32Array).buffer))).toBe(0);
    await s.release();
    await ref.release();
  });
});
