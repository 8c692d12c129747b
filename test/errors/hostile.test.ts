/**
 * Hostile input at the public API: every failure is a TesseraError with a stable code and a
 * message naming what and where; bad feeds, released sessions, overlapping runs, prototype names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor, TesseraError } from '../../src/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { batchOf, heldout, mnistModel } from '../helpers/mnist.js';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

async function failure(p: Promise<unknown>): Promise<TesseraError> {
  try { await p; } catch (e) {
    expect(e).toBeInstanceOf(TesseraError);
    return e as TesseraError;
  }
  throw new Error('expected a TesseraError, got a result');
}

const addModel = () => model({
  nodes: [node('Add', ['x', 'y'], ['z'], {}, 'add0')],
  inputs: [valueInfo('x', DT.FLOAT, ['n', 3]), valueInfo('y', DT.FLOAT, [1, 3])],
  outputs: [valueInfo('z', DT.FLOAT)],
});

describe('feeds', () => {
  let s: InferenceSession;
  beforeAll(async () => { s = await InferenceSession.create(addModel()); });
  afterAll(async () => { await s.release(); });
  const y = () => new Tensor('float32', new Float32Array(3), [1, 3]);

  it.each([
    ['wrong dtype', () => ({ x: new Tensor('int32', new Int32Array(3), [1, 3]), y: y() }), /'x' expects float32 but got int32/],
    ['wrong rank', () => ({ x: new Tensor('float32', new Float32Array(3), [3]), y: y() }), /'x' expects rank 2/],
    ['wrong fixed dim', () => ({ x: new Tensor('float32', new Float32Array(3), [1, 3]), y: new Tensor('float32', new Float32Array(4), [1, 4]) }), /'y' expects dim 1 to be 3/],
    ['missing input', () => ({ x: new Tensor('float32', new Float32Array(3), [1, 3]) }), /Missing input 'y'/],
    ['unknown input', () => ({ x: new Tensor('float32', new Float32Array(3), [1, 3]), y: y(), w: y() }), /Unknown input 'w'/],
    ['__proto__ as an unknown input', () => JSON.parse('{"__proto__": 1, "x": 1, "y": 1}'), /Unknown input '__proto__'/],
    ['not a tensor', () => ({ x: [1, 2, 3], y: y() }), /'x' must be a Tensor/],
    ['not an object', () => null, /takes an object/],
  ])('%s → INVALID_FEED naming the input', async (_, feeds, message) => {
    const e = await failure(s.run(feeds() as never));
    expect(e.code).toBe('INVALID_FEED');
    expect(e.message).toMatch(message);
  });

  it('data shorter or longer than dims → an error naming the counts', async () => {
    for (const n of [2, 4]) {
      // The Tensor constructor refuses it already; a tensor-like object from elsewhere reaches run().
      const fake = { type: 'float32', data: new Float32Array(n), dims: [1, 3] };
      const e = await failure(s.run({ x: fake as never, y: y() }));
      expect(e.code).toBe('INVALID_FEED');
      expect(e.message).toMatch(/'x'/);
      expect(e.message).toMatch(new RegExp(`${n}`));
    }
  });

  it.each([
    ['negative dims', { type: 'float32', data: new Float32Array(3), dims: [-1, 3] }, /'x'.*non-negative/],
    ['NaN dims', { type: 'float32', data: new Float32Array(3), dims: [NaN, 3] }, /'x'.*non-negative/],
    ['dims of 2^40', { type: 'float32', data: new Float32Array(3), dims: [2 ** 40, 3] }, /'x'.*3 elements/],
    ['dims not an array', { type: 'float32', data: new Float32Array(3), dims: 3 }, /'x' must be a Tensor/],
    ['data of another type', { type: 'float32', data: new Int32Array(3), dims: [1, 3] }, /'x'.*Float32Array/],
    ['unknown type', { type: 'float99', data: new Float32Array(3), dims: [1, 3] }, /'x'.*float99/],
    ['a data getter that throws', Object.defineProperty({ type: 'float32', dims: [1, 3] }, 'data', { get() { throw new Error('boom'); } }), /'x'.*boom/],
  ])('a tensor-like feed with %s → INVALID_FEED naming the input', async (_, x, message) => {
    const e = await failure(s.run({ x: x as never, y: y() }));
    expect(e.code).toBe('INVALID_FEED');
    expect(e.message).toMatch(message);
  });

  it('NaN and Inf pass through as values', async () => {
    const out = await s.run({ x: new Tensor('float32', Float32Array.of(NaN, Infinity, -Infinity), [1, 3]), y: y() });
    const z = Array.from(out.z!.data as Float32Array);
    expect(Number.isNaN(z[0])).toBe(true);
    expect(z.slice(1)).toEqual([Infinity, -Infinity]);
  });

  it('unknown fetch → INVALID_ARGUMENT', async () => {
    const e = await failure(s.run({ x: new Tensor('float32', new Float32Array(3), [1, 3]), y: y() }, ['nope']));
    expect(e.code).toBe('INVALID_ARGUMENT');
  });

  it('a failed run does not poison the queue', async () => {
    const bad = s.run({} as never);
    const good = s.run({ x: new Tensor('float32', Float32Array.of(1, 2, 3), [1, 3]), y: y() });
    await expect(bad).rejects.toBeInstanceOf(TesseraError);
    expect(Array.from((await good).z!.data as Float32Array)).toEqual([1, 2, 3]);
  });
});

describe('names from the model never reach prototypes', () => {
  it('__proto__ / constructor as input, output and node names are plain names', async () => {
    const bytes = model({
      nodes: [node('Relu', ['__proto__'], ['constructor'], {}, '__proto__'), node('Neg', ['constructor'], ['toString'], {}, 'hasOwnProperty')],
      inputs: [valueInfo('__proto__', DT.FLOAT, [2])],
      outputs: [valueInfo('toString', DT.FLOAT, [2]), valueInfo('constructor', DT.FLOAT, [2])],
    });
    const s = await InferenceSession.create(bytes);
    expect(s.inputNames).toEqual(['__proto__']);
    const feeds = Object.create(null);
    feeds.__proto__ = new Tensor('float32', Float32Array.of(-1, 2), [2]);
    const out = await s.run(feeds);
    expect(Object.getPrototypeOf(out)).toBe(null);
    expect(Object.keys(out).sort()).toEqual(['constructor', 'toString']);
    expect(Array.from((out['toString'] as unknown as Tensor).data as Float32Array)).toEqual([-0, -2]);
    expect(Array.from((out['constructor'] as unknown as Tensor).data as Float32Array)).toEqual([0, 2]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await s.release();
  });
});

describe('model validation at load', () => {
  const bad = (spec: Parameters<typeof model>[0]) => InferenceSession.create(model(spec));
  const x = valueInfo('x', DT.FLOAT, [2]);
  const y = valueInfo('y', DT.FLOAT);

  it.each([
    ['empty file', () => InferenceSession.create(new Uint8Array(0)), 'INVALID_MODEL', /empty/],
    ['junk bytes', () => InferenceSession.create(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff)), 'INVALID_MODEL', /protobuf/],
    ['a length prefix of 2^40 bytes', () => InferenceSession.create(Uint8Array.of(0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x0a)), 'INVALID_MODEL', /length 1099511627776 runs past the end.*model field 7 at byte 0/],
    ['an 11-byte varint', () => InferenceSession.create(Uint8Array.of(0x08, ...Array(11).fill(0xff), 0x01)), 'INVALID_MODEL', /varint longer than 10 bytes/],
    ['a group wire type', () => InferenceSession.create(Uint8Array.of(0x0b, 0x0c)), 'INVALID_MODEL', /wire type 3/],
    ['a corrupt node deep in the graph', () => {
      const m = model({ nodes: [node('Relu', ['x'], ['y'], {}, 'R')], inputs: [x], outputs: [y] });
      const i = m.indexOf(0x52); // 'R', the node name: its length prefix is the byte before
      const b = Uint8Array.from(m); b[i - 1] = 0x7f;
      return InferenceSession.create(b);
    }, 'INVALID_MODEL', /in node field 3/],
    ['subgraphs nested 40 deep', () => {
      let g: Record<string, unknown> = { node: [node('Relu', ['x'], ['y'])], input: [x], output: [y] };
      for (let i = 0; i < 40; i++) g = { node: [{ opType: 'If', input: ['c'], output: ['y'], attribute: [{ name: 'then_branch', type: 5, g }] }], output: [y] };
      return InferenceSession.create(onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ version: 13 }], graph: g }).finish());
    }, 'INVALID_MODEL', /nested deeper than 64/],
    ['truncated mnist', () => InferenceSession.create(mnistModel().subarray(0, 5000)), 'INVALID_MODEL', /./],
    ['cycle', () => bad({ nodes: [node('Add', ['x', 'b'], ['a'], {}, 'A'), node('Relu', ['a'], ['b'], {}, 'B')], inputs: [x], outputs: [valueInfo('b', DT.FLOAT)] }), 'INVALID_MODEL', /cycle/],
    ['self-loop', () => bad({ nodes: [node('Add', ['x', 'y'], ['y'], {}, 'S')], inputs: [x], outputs: [y] }), 'INVALID_MODEL', /cycle.*'S'/],
    ['missing value', () => bad({ nodes: [node('Relu', ['nope'], ['y'], {}, 'R')], inputs: [x], outputs: [y] }), 'INVALID_MODEL', /'nope'/],
    ['duplicate value', () => bad({ nodes: [node('Relu', ['x'], ['y']), node('Relu', ['x'], ['y'])], inputs: [x], outputs: [y] }), 'INVALID_MODEL', /'y' is defined more than once/],
    ['initializer too short', () => bad({ nodes: [node('Add', ['x', 'w'], ['y'])], initializers: [{ name: 'w', dims: [2], dataType: DT.FLOAT, rawData: new Uint8Array(4) }], inputs: [x], outputs: [y] }), 'INVALID_MODEL', /'w'.*2 elements.*4 bytes/],
    ['initializer of 2^40 elements', () => bad({ nodes: [node('Add', ['x', 'w'], ['y'])], initializers: [{ name: 'w', dims: [2 ** 20, 2 ** 20], dataType: DT.FLOAT, rawData: new Uint8Array(4) }], inputs: [x], outputs: [y] }), 'OUT_OF_MEMORY', /'w'/],
    ['negative dim', () => bad({ nodes: [node('Add', ['x', 'w'], ['y'])], initializers: [{ name: 'w', dims: [-2], dataType: DT.FLOAT, floatData: [1, 2] }], inputs: [x], outputs: [y] }), 'INVALID_MODEL', /'w'.*-2/],
    ['external data given as bytes without its file', () => bad({ nodes: [node('Add', ['x', 'w'], ['y'])], initializers: [{ name: 'w', dims: [2], dataType: DT.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] }], inputs: [x], outputs: [y] }), 'INVALID_MODEL', /'w'.*external file 'w\.bin'.*externalData/],
    ['unknown op', () => bad({ nodes: [node('Frobnicate', ['x'], ['y'], {}, 'F')], inputs: [x], outputs: [y] }), 'UNSUPPORTED_OP', /Frobnicate/],
    ['unknown domain', () => bad({ nodes: [{ ...node('Relu', ['x'], ['y']), domain: 'com.evil' }], inputs: [x], outputs: [y], extraOpsets: [{ domain: 'com.evil', version: 1 }] }), 'UNSUPPORTED_OP', /com\.evil/],
    ['ConstantOfShape of 2^40 elements', () => bad({ nodes: [node('ConstantOfShape', ['s'], ['y'], {}, 'C')], initializers: [{ name: 's', dims: [2], dataType: DT.INT64, int64Data: [2 ** 20, 2 ** 20] }], inputs: [], outputs: [y] }), 'OUT_OF_MEMORY', /ConstantOfShape node 'C'/],
  ])('%s', async (_, make, code, message) => {
    const e = await failure(make());
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('maxMemoryBytes refuses a model whose weights need more, naming the initializer', async () => {
    const w = floatTensor('big', [1 << 20], []);
    w.rawData = new Uint8Array(4 << 20);
    const e = await failure(InferenceSession.create(model({ nodes: [node('Add', ['x', 'big'], ['y'])], initializers: [w], inputs: [valueInfo('x', DT.FLOAT, [1 << 20])], outputs: [y] }), { maxMemoryBytes: 2 << 20 }));
    expect(e.code).toBe('OUT_OF_MEMORY');
    expect(e.message).toMatch(/'big'/);
  });

  it.each([NaN, -1, 0, '64MB'])('maxMemoryBytes %s → INVALID_ARGUMENT (NaN used to turn the limit off)', async (max) => {
    const e = await failure(InferenceSession.create(addModel(), { maxMemoryBytes: max as number }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/maxMemoryBytes/);
  });

  it('maxMemoryBytes refuses a shape that would need more at run time, and the session goes on', async () => {
    const s = await InferenceSession.create(model({ nodes: [node('Relu', ['x'], ['y'])], inputs: [valueInfo('x', DT.FLOAT, ['n'])], outputs: [y] }), { maxMemoryBytes: 4 << 20 });
    await s.run({ x: new Tensor('float32', new Float32Array(1000), [1000]) });
    const e = await failure(s.run({ x: new Tensor('float32', new Float32Array(4 << 20), [4 << 20]) }));
    expect(e.code).toBe('OUT_OF_MEMORY');
    const ok = await s.run({ x: new Tensor('float32', Float32Array.of(-1, 1), [2]) });
    expect(Array.from(ok.y!.data as Float32Array)).toEqual([0, 1]);
    await s.release();
  });

  it('a 10,000-node chain listed backwards loads and runs', async () => {
    const nodes = Array.from({ length: 10_000 }, (_, i) => node('Relu', [i ? `v${i - 1}` : 'x'], [`v${i}`])).reverse();
    const s = await InferenceSession.create(model({ nodes, inputs: [valueInfo('x', DT.FLOAT, [2])], outputs: [valueInfo('v9999', DT.FLOAT)] }), { graphOptimizationLevel: 'disabled' });
    const out = await s.run({ x: new Tensor('float32', Float32Array.of(-1, 3), [2]) });
    expect(Array.from(out.v9999!.data as Float32Array)).toEqual([0, 3]);
    await s.release();
  });
});

describe('lifetime and concurrency', () => {
  it('run after release() → RELEASED; release twice is fine', async () => {
    const s = await InferenceSession.create(addModel());
    await s.release();
    await s.release();
    const e = await failure(s.run({}));
    expect(e.code).toBe('RELEASED');
  });

  it('32 overlapping runs with interleaved shapes each equal the same run alone', async () => {
    const s = await InferenceSession.create(mnistModel());
    const { images } = heldout();
    const calls = Array.from({ length: 32 }, (_, i) => ({ start: i * 3, n: 1 + (i % 4) * 3 }));
    const feed = (c: { start: number; n: number }) => ({ input: new Tensor('float32', batchOf(images, c.start, c.n), [c.n, 1, 28, 28]) });
    const together = await Promise.all(calls.map((c) => s.run(feed(c))));
    for (let i = 0; i < calls.length; i++) {
      const alone = await s.run(feed(calls[i]!));
      expect(together[i]!.probabilities!.dims).toEqual(alone.probabilities!.dims);
      expect(Array.from(together[i]!.probabilities!.data as Float32Array)).toEqual(Array.from(alone.probabilities!.data as Float32Array));
    }
    await s.release();
  });

  it('release() while runs are queued lets them finish, then refuses', async () => {
    const s = await InferenceSession.create(mnistModel());
    const x = { input: new Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) };
    const runs = [s.run(x), s.run(x)];
    const rel = s.release();
    const late = s.run(x);
    await Promise.all(runs);
    await rel;
    expect((await failure(late)).code).toBe('RELEASED');
  });
});
