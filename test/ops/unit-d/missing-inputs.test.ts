/**
 * Malformed nodes the fuzzer found: a Loop listing more outputs than its body makes, and ops whose
 * constant shape-like input is missing. Each must be an INVALID_MODEL naming the node, never a
 * TypeError surfacing as INTERNAL.
 */
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../../src/index.js';
import { DT, int64Tensor, model, node, valueInfo } from '../../helpers/onnx-builder.js';
import { f32, runNode } from '../unit-a/run-node.js';

const T = onnxProto.onnx.AttributeProto.AttributeType;

describe('missing or extra node inputs and outputs', () => {
  it('Loop whose node lists more outputs than loop-carried + scan', async () => {
    const body: onnxProto.onnx.IGraphProto = {
      name: 'body', node: [node('Identity', ['c'], ['c_out']), node('Add', ['v', 'v'], ['v_out'])],
      input: [valueInfo('i', DT.INT64, []), valueInfo('c', DT.BOOL, []), valueInfo('v', DT.FLOAT, [1])],
      output: [valueInfo('c_out', DT.BOOL, []), valueInfo('v_out', DT.FLOAT, [1])],
    };
    const loop = node('Loop', ['n', '', 'x'], ['y', 'res_scan'], {}, 'loop1');
    loop.attribute = [{ name: 'body', type: T.GRAPH, g: body }];
    const bytes = model({
      nodes: [loop], inputs: [valueInfo('x', DT.FLOAT, [1])], initializers: [int64Tensor('n', [], [3])],
      outputs: [valueInfo('y', DT.FLOAT), valueInfo('res_scan', DT.FLOAT)], opset: 13,
    });
    const run = async () => {
      const s = await InferenceSession.create(bytes);
      try { await s.run({ x: f32([1], [1]) }); } finally { await s.release(); }
    };
    await expect(run()).rejects.toMatchObject({ code: 'INVALID_MODEL', message: expect.stringMatching(/Loop node 'loop1': has 2 outputs but its body yields 1 loop-carried and 0 scan outputs/) });
  });

  it.each([
    ['Reshape', /Reshape node 'n1': the target shape \(input 1\) is required but missing/],
    ['Expand', /Expand node 'n1': the shape \(input 1\) is required but missing/],
    ['Tile', /Tile node 'n1': repeats \(input 1\) is required but missing/],
  ])('%s without its shape-like input', async (op, msg) => {
    await expect(runNode({ op, name: 'n1', opset: 13, inputs: [f32([1, 2], [2])] })).rejects.toMatchObject({ code: 'INVALID_MODEL', message: expect.stringMatching(msg) });
  });
});
