/**
 * Bad quantized graphs and bad quantizer input fail with a TesseraError naming the node (or the
 * problem) instead of a crash or a wrong answer.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor, TesseraError } from '../../src/index.js';
import { quantizeDynamic } from '../../src/quantize/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';

const u8 = (name: string, dims: number[], values: number[]) => ({ name, dims, dataType: DT.UINT8, rawData: Uint8Array.from(values) });

async function failure(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<TesseraError> {
  try {
    const s = await InferenceSession.create(bytes);
    await s.run(feeds);
  } catch (e) {
    expect(e).toBeInstanceOf(TesseraError);
    return e as TesseraError;
  }
  throw new Error('expected a TesseraError');
}

describe('quantized ops refuse bad input', () => {
  it('per-axis scale of the wrong length', async () => {
    const bytes = model({
      nodes: [node('QuantizeLinear', ['x', 's', 'z'], ['y'], { axis: 1 }, 'q0')],
      inputs: [valueInfo('x', DT.FLOAT, [2, 3])], outputs: [valueInfo('y', DT.UINT8)],
      initializers: [floatTensor('s', [2], [1, 2]), u8('z', [2], [0, 0])],
    });
    const e = await failure(bytes, { x: new Tensor('float32', new Float32Array(6), [2, 3]) });
    expect(e.message).toMatch(/q0.*scale 's' has shape \[2\]; per-axis quantization on axis 1 of \[2,3\] needs \[3\]/);
  });

  it('MatMulInteger with inner dimensions that differ, and a zero point of another type', async () => {
    const mk = (bz: ReturnType<typeof u8> | undefined, k: number) => model({
      nodes: [node('MatMulInteger', ['a', 'b', '', bz ? 'bz' : ''], ['y'], {}, 'mmi')],
      inputs: [valueInfo('a', DT.UINT8, [2, 3])], outputs: [valueInfo('y', DT.INT32)],
      initializers: [u8('b', [k, 2], new Array(k * 2).fill(1)), ...(bz ? [bz] : [])],
    });
    const a = new Tensor('uint8', new Uint8Array(6), [2, 3]);
    expect((await failure(mk(undefined, 4), { a })).message).toMatch(/mmi.*inner dimensions differ/);
    const bad = { name: 'bz', dims: [], dataType: DT.INT8, rawData: Uint8Array.of(0) };
    expect((await failure(mk(bad as never, 3), { a })).message).toMatch(/mmi.*b_zero_point 'bz' is int8, B is uint8/);
  });

  it('QLinearConv with a bias of the wrong size', async () => {
    const bytes = model({
      nodes: [node('QLinearConv', ['x', 's', 'z', 'w', 's', 'z', 's', 'z', 'b'], ['y'], {}, 'qc')],
      inputs: [valueInfo('x', DT.UINT8, [1, 1, 3, 3])], outputs: [valueInfo('y', DT.UINT8)],
      initializers: [floatTensor('s', [], [1]), u8('z', [], [0]), u8('w', [2, 1, 1, 1], [1, 1]), { name: 'b', dims: [3], dataType: DT.INT32, int32Data: [1, 2, 3] }],
    });
    const e = await failure(bytes, { x: new Tensor('uint8', new Uint8Array(9), [1, 1, 3, 3]) });
    expect(e.message).toMatch(/qc.*bias 'b' must be int32 of 2 values/);
  });
});

describe('quantizeDynamic refuses what it cannot quantize', () => {
  it('not a model, and an opset without DynamicQuantizeLinear', () => {
    expect(() => quantizeDynamic(Uint8Array.of(8, 1, 18, 200))).toThrow(TesseraError);
    const old = model({ opset: 10, nodes: [node('MatMul', ['x', 'w'], ['y'])], inputs: [valueInfo('x', DT.FLOAT, [1, 2])], outputs: [valueInfo('y', DT.FLOAT)], initializers: [floatTensor('w', [2, 2], [1, 2, 3, 4])] });
    expect(() => quantizeDynamic(old)).toThrow(/opset ≥ 11/);
  });

  it('keeps a MatMul with a computed B float and says why', () => {
    const m = model({ nodes: [node('MatMul', ['x', 'x2'], ['y'], {}, 'mm')], inputs: [valueInfo('x', DT.FLOAT, [2, 2]), valueInfo('x2', DT.FLOAT, [2, 2])], outputs: [valueInfo('y', DT.FLOAT)] });
    const { report } = quantizeDynamic(m);
    expect(report.quantized).toEqual([]);
    expect(report.skipped).toEqual([{ node: 'mm', reason: 'B is not a constant initializer' }]);
  });
});
