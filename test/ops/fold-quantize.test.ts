/**
 * graph/passes/fold-quantize.ts: QuantizeLinear of a constant weight is done at load, with the
 * integers the op computes at run time (float32 division, ties to even, saturation, per axis); a
 * computed scale is left to run time.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { optimize } from '../../src/graph/passes/index.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';

const opTypes = (bytes: Uint8Array) => { const m = decodeModel(bytes); optimize(m); return m.graph.nodes.map((n) => n.opType); };
const bytesT = (name: string, dims: number[], type: number, values: number[]) =>
  ({ name, dims, dataType: type, rawData: type === DT.INT8 ? new Uint8Array(Int8Array.from(values).buffer) : Uint8Array.from(values) });

async function both(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<[Float32Array, Float32Array]> {
  const fused = await InferenceSession.create(bytes), plain = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const a = (await fused.run(feeds)).y!.data as Float32Array, b = (await plain.run(feeds)).y!.data as Float32Array;
  await fused.release(); await plain.release();
  return [a, b];
}

// Ties (0.5, 1.5, 2.5, −2.5 steps), saturation (±1000 steps), per-row scales and zero points.
const W = [0.5, 1.5, 2.5, -2.5, 1000, -1000, 0.26, 0, 0.05, 0.15, 0.25, -0.35, 100, -100, 0.123, 7];

describe('QuantizeLinear of constant weights', () => {
  for (const [type, zps] of [[DT.INT8, [0, 3]], [DT.UINT8, [128, 10]]] as const) {
    it(`folds to ${type === DT.INT8 ? 'int8' : 'uint8'} per axis, bit for bit with the op`, async () => {
      const bytes = model({
        inputs: [valueInfo('x', DT.FLOAT, [2, 8])], outputs: [valueInfo('y', DT.FLOAT, [2, 8])],
        initializers: [floatTensor('w', [2, 8], W), floatTensor('s', [2], [1, 0.1]), bytesT('z', [2], type, [...zps])],
        nodes: [
          node('QuantizeLinear', ['w', 's', 'z'], ['wq'], { axis: 0 }), node('DequantizeLinear', ['wq', 's', 'z'], ['wf'], { axis: 0 }),
          node('Add', ['x', 'wf'], ['y']),
        ],
      });
      expect(opTypes(bytes)).toEqual(['DequantizeLinear', 'Add']);
      const [a, b] = await both(bytes, { x: new Tensor('float32', new Float32Array(16), [2, 8]) });
      expect(Array.from(a)).toEqual(Array.from(b));
    });
  }

  it('leaves a QuantizeLinear with a computed scale alone', async () => {
    const bytes = model({
      inputs: [valueInfo('x', DT.FLOAT, [2, 8]), valueInfo('s', DT.FLOAT, [])], outputs: [valueInfo('y', DT.FLOAT, [2, 8])],
      initializers: [floatTensor('w', [2, 8], W)],
      nodes: [node('QuantizeLinear', ['w', 's'], ['wq']), node('DequantizeLinear', ['wq', 's'], ['wf']), node('Add', ['x', 'wf'], ['y'])],
    });
    expect(opTypes(bytes)).toContain('QuantizeLinear');
    const session = await InferenceSession.create(bytes);
    const out = await session.run({ x: new Tensor('float32', new Float32Array(16), [2, 8]), s: new Tensor('float32', Float32Array.of(0.5), []) });
    expect(Array.from(out.y!.data as Float32Array).slice(0, 4)).toEqual([0.5, 1.5, 2.5, 0]); // uint8 by default: −2.5 saturates to 0
    await session.release();
  });
});
