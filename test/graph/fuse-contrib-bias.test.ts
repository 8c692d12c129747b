/**
 * graph/passes/fuse-contrib-bias.ts: the bias of com.microsoft BiasGelu / FastGelu and of
 * SkipLayerNormalization moves into the MatMul before it (a tessera FusedMatMul with the bias and
 * then the GELU in its epilogue). Same outputs as the unfused graph ('disabled') and as
 * onnxruntime-web; a MatMul output read twice, or a non-constant bias, is left alone; a Gelu after
 * MatMul + Add (optimum's O1 export) joins the GEMM fuse-matmul-add made.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { optimize } from '../../src/graph/passes/index.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../helpers/ort.js';
import { rand, worst } from '../ops/contrib/encoder-harness.js';

const [M, K, N] = [6, 16, 24];

function graph(): Uint8Array {
  const ms = (op: string, ins: string[], outs: string[]) => ({ ...node(op, ins, outs, {}, op + outs[0]), domain: 'com.microsoft' });
  const w = (name: string, dims: number[], seed: number) => floatTensor(name, dims, rand(dims.reduce((a, b) => a * b, 1), seed, -0.4, 0.4));
  return model({
    opset: 17,
    extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
    inputs: [valueInfo('x', DT.FLOAT, [M, K]), valueInfo('skip', DT.FLOAT, [M, N]), valueInfo('fedBias', DT.FLOAT, [N])],
    outputs: ['y1', 'y2', 'y3', 'y4', 'y5', 'sum5', 'y6', 'y7', 'm7', 'y8'].map((o) => valueInfo(o, DT.FLOAT)),
    initializers: [w('w', [K, N], 1), w('b', [N], 2), w('g', [N], 3), w('be', [N], 4)],
    nodes: [
      node('MatMul', ['x', 'w'], ['m1']), ms('BiasGelu', ['m1', 'b'], ['y1']),
      node('MatMul', ['x', 'w'], ['m2']), ms('FastGelu', ['m2', 'b'], ['y2']),
      node('MatMul', ['x', 'w'], ['m3']), ms('FastGelu', ['m3'], ['y3']),
      node('MatMul', ['x', 'w'], ['m4']), ms('Gelu', ['m4'], ['y4']),
      node('MatMul', ['x', 'w'], ['m5']), { ...node('SkipLayerNormalization', ['m5', 'skip', 'g', 'be', 'b'], ['y5', '', '', 'sum5']), domain: 'com.microsoft' },
      // Left alone: a bias that is not a constant; a MatMul output that is also a graph output.
      node('MatMul', ['x', 'w'], ['m6']), ms('BiasGelu', ['m6', 'fedBias'], ['y6']),
      node('MatMul', ['x', 'w'], ['m7']), ms('BiasGelu', ['m7', 'b'], ['y7']),
      // optimum's O1 form: MatMul + Add (fuse-matmul-add's FusedMatMul) then a com.microsoft Gelu.
      node('MatMul', ['x', 'w'], ['m8']), node('Add', ['m8', 'b'], ['a8']), ms('Gelu', ['a8'], ['y8']),
    ],
  });
}

describe('fuse-contrib-bias', () => {
  it('moves the biases into the GEMMs and the GELUs into their epilogues', () => {
    const m = decodeModel(graph());
    optimize(m);
    const kinds = m.graph.nodes.map((n) => `${n.domain || 'ai.onnx'}:${n.opType}`);
    // y1–y4: one FusedMatMul each with the GELU folded in; y5: FusedMatMul + SkipLayerNormalization.
    const fused = m.graph.nodes.filter((n) => n.opType === 'FusedMatMul' && n.domain === 'tessera');
    expect(fused.filter((n) => n.attributes.get('activation')?.value === 'geluErf').map((n) => n.outputs[0])).toEqual(['y1', 'y4', 'y8']);
    expect(fused.filter((n) => n.attributes.get('activation')?.value === 'geluTanh').map((n) => n.outputs[0])).toEqual(['y2', 'y3']);
    expect(fused.filter((n) => n.inputs.length === 3).map((n) => n.outputs[0])).toEqual(['y1', 'y2', 'm5', 'y8']);
    const sln = m.graph.nodes.find((n) => n.opType === 'SkipLayerNormalization')!;
    expect(sln.inputs).toEqual(['m5', 'skip', 'g', 'be']);
    expect(kinds.filter((k) => k === 'com.microsoft:BiasGelu')).toHaveLength(2);
  });

  it('gives the unfused graph’s outputs and onnxruntime-web’s', async () => {
    const bytes = graph();
    const feeds = {
      x: new Tensor('float32', Float32Array.from(rand(M * K, 7, -2, 2)), [M, K]),
      skip: new Tensor('float32', Float32Array.from(rand(M * N, 8)), [M, N]),
      fedBias: new Tensor('float32', Float32Array.from(rand(N, 9)), [N]),
    };
    const run = async (level: 'disabled' | 'all') => {
      const s = await InferenceSession.create(bytes, { graphOptimizationLevel: level });
      try { return await s.run(feeds); } finally { await s.release(); }
    };
    const [plain, fused] = [await run('disabled'), await run('all')];
    const ort = await ortSession(bytes);
    try {
      const theirs = await ortRun(ort, feeds);
      for (const o of ['y1', 'y2', 'y3', 'y4', 'y5', 'sum5', 'y6', 'y7', 'm7', 'y8']) {
        expect(worst(fused[o]!.data as Float32Array, plain[o]!.data as Float32Array)).toBeLessThan(2e-6);
        expect(worst(fused[o]!.data as Float32Array, theirs[o]!.data as Float32Array)).toBeLessThan(1e-5);
      }
    } finally {
      await ort.release();
    }
  });
});
