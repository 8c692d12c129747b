/**
 * Conv → BatchNormalization (→ Relu) folded into one FusedConv (graph/passes/fuse-conv-bn.ts):
 * the same outputs with graphOptimizationLevel 'disabled' and 'all', and as onnxruntime-web's,
 * whether the BN parameters are initializers, folded at load, or fed at run time.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../helpers/ort.js';

function rand(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => lo + ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * (hi - lo));
}

interface Spec { N: number; C: number; M: number; sp: number[]; k: number; bias: boolean; fedBn?: boolean; viaIdentity?: boolean; relu?: boolean; twoReaders?: boolean }

function build(c: Spec): { bytes: Uint8Array; feeds: Record<string, Tensor> } {
  const kd = c.sp.map(() => c.k);
  const w = floatTensor('W', [c.M, c.C, ...kd], rand(c.M * c.C * c.k ** c.sp.length, 2));
  const bnVals = [rand(c.M, 3, 0.5, 1.5), rand(c.M, 4), rand(c.M, 5), rand(c.M, 6, 0.1, 2)];
  const bnNames = ['gamma', 'beta', 'mean', 'var'];
  const inits = [w, ...(c.bias ? [floatTensor('B', [c.M], rand(c.M, 7))] : [])];
  const inputs = [valueInfo('x', DT.FLOAT, [c.N, c.C, ...c.sp])];
  const feeds: Record<string, Tensor> = {};
  const xs = rand(c.N * c.C * c.sp.reduce((a, d) => a * d, 1), 1);
  feeds.x = new Tensor('float32', Float32Array.from(xs), [c.N, c.C, ...c.sp]);
  bnNames.forEach((n, i) => {
    if (c.fedBn) { inputs.push(valueInfo(n, DT.FLOAT, [c.M])); feeds[n] = new Tensor('float32', Float32Array.from(bnVals[i]!), [c.M]); }
    else inits.push(floatTensor(c.viaIdentity ? `${n}_init` : n, [c.M], bnVals[i]!));
  });
  const nodes = [];
  if (c.viaIdentity) {
    // Parameters computed by nodes: known only after load-time folding, not to the pass.
    nodes.push(node('Identity', ['W'], ['W2'], {}, 'idW'));
    for (const n of bnNames) nodes.push(node('Identity', [`${n}_init`], [n], {}, `id_${n}`));
  }
  const pads = c.sp.flatMap(() => [1]).concat(c.sp.map(() => 1));
  nodes.push(node('Conv', ['x', c.viaIdentity ? 'W2' : 'W', ...(c.bias ? ['B'] : [])], ['conv'], { pads, kernel_shape: kd }, 'conv'));
  nodes.push(node('BatchNormalization', ['conv', ...bnNames], [c.relu ? 'bn' : 'y'], { epsilon: 1e-3 }, 'bn'));
  if (c.relu) nodes.push(node('Relu', ['bn'], ['y'], {}, 'relu'));
  const outputs = [valueInfo('y', DT.FLOAT)];
  if (c.twoReaders) { nodes.push(node('Neg', ['conv'], ['z'], {}, 'neg')); outputs.push(valueInfo('z', DT.FLOAT)); }
  return { bytes: model({ nodes, inputs, outputs, initializers: inits, opset: 15 }), feeds };
}

const CASES: [string, Spec][] = [
  ['constant BN, bias, relu', { N: 1, C: 3, M: 5, sp: [8, 9], k: 3, bias: true, relu: true }],
  ['constant BN, no bias, batch 6 (folded batch)', { N: 6, C: 4, M: 8, sp: [6, 6], k: 3, bias: false }],
  ['BN parameters computed by nodes (folded at load)', { N: 2, C: 3, M: 4, sp: [7, 5], k: 3, bias: true, viaIdentity: true, relu: true }],
  ['fed BN parameters (affine after the GEMM)', { N: 2, C: 3, M: 6, sp: [5, 5], k: 3, bias: true, fedBn: true, relu: true }],
  ['3-D convolution', { N: 1, C: 2, M: 3, sp: [4, 5, 4], k: 3, bias: true, relu: true }],
  ['3-D convolution, fed BN', { N: 1, C: 2, M: 3, sp: [4, 4, 3], k: 3, bias: false, fedBn: true }],
  ['conv output read twice (not fused)', { N: 1, C: 3, M: 4, sp: [6, 6], k: 3, bias: true, twoReaders: true }],
];

async function runTessera(bytes: Uint8Array, feeds: Record<string, Tensor>, level: 'disabled' | 'all') {
  const s = await InferenceSession.create(bytes, { graphOptimizationLevel: level });
  const out = await s.run(feeds, { profile: true });
  const ops = s.lastProfile!.nodes.map((n) => n.opType);
  await s.release();
  return { y: out.y!.data as Float32Array, ops };
}

describe('Conv + BatchNormalization folding', () => {
  it.each(CASES)('%s', async (_name, c) => {
    const { bytes, feeds } = build(c);
    const off = await runTessera(bytes, feeds, 'disabled');
    const on = await runTessera(bytes, feeds, 'all');
    expect(off.ops).toContain('BatchNormalization');
    if (c.twoReaders) expect(on.ops).toContain('BatchNormalization');
    else {
      expect(on.ops).not.toContain('BatchNormalization');
      expect(on.ops).not.toContain('Relu');
    }
    const ort = await ortSession(bytes);
    const want = (await ortRun(ort, feeds)).y!.data as Float32Array;
    await ort.release();
    expect(on.y.length).toBe(want.length);
    let worstOff = 0, worstOn = 0;
    for (let i = 0; i < want.length; i++) {
      worstOff = Math.max(worstOff, Math.abs(off.y[i]! - want[i]!));
      worstOn = Math.max(worstOn, Math.abs(on.y[i]! - off.y[i]!));
    }
    expect(worstOff).toBeLessThan(1e-4);
    expect(worstOn).toBeLessThan(1e-4);
  });
});
