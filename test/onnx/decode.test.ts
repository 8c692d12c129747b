/** The ONNX decoder: what it reads into the IR, and how it refuses what it cannot run. */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor, TesseraError } from '../../src/index.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { DT, floatTensor, int64Tensor, model, node, valueInfo } from '../helpers/onnx-builder.js';

const addModel = (raw: boolean) => model({
  nodes: [node('Add', ['x', 'w'], ['y'], {}, 'add0')],
  inputs: [valueInfo('x', DT.FLOAT, ['batch', 3])],
  outputs: [valueInfo('y', DT.FLOAT, ['batch', 3])],
  initializers: [floatTensor('w', [3], [1, 2, 3], raw)],
});

describe('decodeModel', () => {
  it('reads inputs with symbolic dims, outputs, initializers and opsets', () => {
    const m = decodeModel(addModel(true));
    expect(m.opsets.get('')).toBe(13);
    expect(m.producer).toBe('tessera-tests');
    expect(m.graph.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 3] }]);
    expect(m.graph.outputs[0]!.name).toBe('y');
    const w = m.graph.initializers.get('w')!;
    expect(w.dtype).toBe('float32');
    expect(Array.from(w.data as Float32Array)).toEqual([1, 2, 3]);
    expect(m.graph.nodes[0]).toMatchObject({ opType: 'Add', name: 'add0', inputs: ['x', 'w'], outputs: ['y'], domain: '' });
  });

  it('reads typed fields (float_data, int64_data) as well as raw_data', () => {
    const m = decodeModel(addModel(false));
    expect(Array.from(m.graph.initializers.get('w')!.data as Float32Array)).toEqual([1, 2, 3]);
    const m2 = decodeModel(model({
      nodes: [node('Reshape', ['x', 's'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT, [2, 3])],
      outputs: [valueInfo('y', DT.FLOAT)],
      initializers: [int64Tensor('s', [2], [3, -1])],
    }));
    expect(Array.from(m2.graph.initializers.get('s')!.data as BigInt64Array)).toEqual([3n, -1n]);
  });

  it('reads attributes of every common type', () => {
    const m = decodeModel(model({
      nodes: [node('Conv', ['x', 'w'], ['y'], { group: 1, pads: [1, 1, 1, 1], auto_pad: 'NOTSET', alpha: 0.5, v: { floats: [1.5, 2.5] } })],
      inputs: [valueInfo('x', DT.FLOAT, [1, 1, 3, 3])],
      outputs: [valueInfo('y', DT.FLOAT)],
      initializers: [floatTensor('w', [1, 1, 1, 1], [1])],
    }));
    const a = m.graph.nodes[0]!.attributes;
    expect(a.get('group')).toEqual({ type: 'int', value: 1 });
    expect(a.get('pads')).toEqual({ type: 'ints', value: [1, 1, 1, 1] });
    expect(a.get('auto_pad')).toEqual({ type: 'string', value: 'NOTSET' });
    expect(a.get('alpha')).toEqual({ type: 'float', value: 0.5 });
    expect(a.get('v')).toEqual({ type: 'floats', value: [1.5, 2.5] });
  });

  it('refuses bytes that are not a model', () => {
    expect(() => decodeModel(new Uint8Array())).toThrow(TesseraError);
    expect(() => decodeModel(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toThrow(/not a valid ONNX protobuf|no graph/);
  });

  it('refuses an initializer whose data does not match its dims', () => {
    const bytes = model({
      nodes: [node('Add', ['x', 'w'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT, [3])],
      outputs: [valueInfo('y', DT.FLOAT, [3])],
      initializers: [{ name: 'w', dims: [4], dataType: DT.FLOAT, floatData: [1, 2, 3] }],
    });
    expect(() => decodeModel(bytes)).toThrow(/initializer 'w'.*needs 4 elements/);
  });
});

describe('InferenceSession.create on unsupported or broken graphs', () => {
  it('names the op type and node of every unsupported op, at create time', async () => {
    const bytes = model({
      nodes: [node('Relu', ['x'], ['a'], {}, 'ok'), node('FancyOp', ['a'], ['y'], {}, 'my_fancy_node')],
      inputs: [valueInfo('x', DT.FLOAT, [2])],
      outputs: [valueInfo('y', DT.FLOAT, [2])],
    });
    const err = await InferenceSession.create(bytes).catch((e) => e);
    expect(err).toBeInstanceOf(TesseraError);
    expect(err.code).toBe('UNSUPPORTED_OP');
    expect(err.message).toMatch(/FancyOp node 'my_fancy_node'/);
  });

  it('refuses an attribute the op does not understand, naming op, node and attribute', async () => {
    const bytes = model({
      nodes: [node('Relu', ['x'], ['y'], { bogus: 1 }, 'r1')],
      inputs: [valueInfo('x', DT.FLOAT, [2])],
      outputs: [valueInfo('y', DT.FLOAT, [2])],
    });
    const err = await InferenceSession.create(bytes).catch((e) => e);
    expect(err.code).toBe('INVALID_ATTRIBUTE');
    expect(err.message).toMatch(/Relu node 'r1'.*'bogus'/);
  });

  it('refuses a graph that reads a value nothing produces', async () => {
    const bytes = model({
      nodes: [node('Relu', ['nowhere'], ['y'], {}, 'r')],
      inputs: [valueInfo('x', DT.FLOAT, [2])],
      outputs: [valueInfo('y', DT.FLOAT, [2])],
    });
    await expect(InferenceSession.create(bytes)).rejects.toThrow(/input 'nowhere' is not produced/);
  });

  it('runs a graph whose nodes are not in topological order', async () => {
    const bytes = model({
      nodes: [node('Relu', ['a'], ['y']), node('Neg', ['x'], ['a'])],
      inputs: [valueInfo('x', DT.FLOAT, [3])],
      outputs: [valueInfo('y', DT.FLOAT, [3])],
    });
    const s = await InferenceSession.create(bytes);
    const out = await s.run({ x: new Tensor('float32', Float32Array.of(1, -2, 3), [3]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([0, 2, 0]);
  });

  it('does not list initializers among the inputs', async () => {
    const s = await InferenceSession.create(addModel(true));
    expect(s.inputNames).toEqual(['x']);
    const out = await s.run({ x: new Tensor('float32', Float32Array.of(1, 1, 1, 2, 2, 2), [2, 3]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2, 3, 4, 3, 4, 5]);
    expect(out.y!.dims).toEqual([2, 3]);
  });
});
