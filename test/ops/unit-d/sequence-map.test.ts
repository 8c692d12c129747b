/**
 * SequenceMap: ONNX's node tests feed sequences, which the public API does not take, so the
 * sequence is built inside the model here; the body reads a tensor input and an outer initializer.
 */
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../../src/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../../helpers/onnx-builder.js';
import { f32 } from '../unit-a/run-node.js';

const T = onnxProto.onnx.AttributeProto.AttributeType;

function mapModel(bodyOutputs = 2): Uint8Array {
  const body: onnxProto.onnx.IGraphProto = {
    name: 'body', node: [node('Add', ['x', 'k'], ['y1']), node('Mul', ['x', 'two'], ['y2'])],
    input: [valueInfo('x', DT.FLOAT), valueInfo('k', DT.FLOAT)],
    output: [valueInfo('y1', DT.FLOAT), valueInfo('y2', DT.FLOAT)].slice(0, bodyOutputs),
  };
  const map = node('SequenceMap', ['s', 'k'], ['s1', 's2'], {}, 'map');
  map.attribute = [{ name: 'body', type: T.GRAPH, g: body }];
  return model({
    nodes: [node('SequenceConstruct', ['a', 'b'], ['s']), map, node('ConcatFromSequence', ['s1'], ['out1'], { axis: 0 }), node('ConcatFromSequence', ['s2'], ['out2'], { axis: 0 })],
    inputs: [valueInfo('a', DT.FLOAT, [2]), valueInfo('b', DT.FLOAT, [3]), valueInfo('k', DT.FLOAT, [1])],
    outputs: [valueInfo('out1', DT.FLOAT), valueInfo('out2', DT.FLOAT)],
    initializers: [floatTensor('two', [], [2])], opset: 17,
  });
}

describe('SequenceMap', () => {
  it('maps each element through the body, tensor inputs shared, elements of different lengths', async () => {
    const s = await InferenceSession.create(mapModel());
    const out = await s.run({ a: f32([1, 2], [2]), b: f32([3, 4, 5], [3]), k: f32([10], [1]) });
    expect(Array.from(out.out1!.data as Float32Array)).toEqual([11, 12, 13, 14, 15]);
    expect(Array.from(out.out2!.data as Float32Array)).toEqual([2, 4, 6, 8, 10]);
    await s.release();
  });

  it('a body whose outputs do not match the node names the attribute', async () => {
    const run = async () => {
      const s = await InferenceSession.create(mapModel(1));
      try { await s.run({ a: f32([1, 2], [2]), b: f32([3, 4, 5], [3]), k: f32([10], [1]) }); } finally { await s.release(); }
    };
    await expect(run()).rejects.toThrow(/SequenceMap node 'map': attribute 'body' has 1 outputs but the node has 2/);
  });
});
