/** `run(feeds, { profile: true })` times every node; the timings reconcile with the run's wall time. */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { batchOf, heldout, mnistModel } from '../helpers/mnist.js';

describe('profiling', () => {
  it('reports every step with its op, node, shapes and time', async () => {
    const s = await InferenceSession.create(mnistModel());
    const input = new Tensor('float32', batchOf(heldout().images, 0, 4), [4, 1, 28, 28]);
    await s.run({ input });
    expect(s.lastProfile).toBeUndefined();
    await s.run({ input }, { profile: true });
    const p = s.lastProfile!;
    // Conv+Relu and Gemm+Relu are fused; Flatten is an alias and runs nothing.
    expect(p.nodes.map((n) => n.opType)).toEqual(['FusedConv', 'MaxPool', 'FusedConv', 'MaxPool', 'FusedConv', 'FusedGemm', 'Gemm', 'Softmax']);
    expect(p.nodes[0]!.inputs[0]).toEqual([4, 1, 28, 28]);
    expect(p.nodes[0]!.outputs[0]).toEqual([4, 32, 26, 26]);
    const sum = p.nodes.reduce((a, n) => a + n.ms, 0);
    expect(p.nodes.every((n) => n.ms >= 0)).toBe(true);
    expect(sum).toBeLessThanOrEqual(p.totalMs);
    expect(Math.abs(p.totalMs - sum - p.overheadMs)).toBeLessThan(1e-6);
    await s.release();
  });
});
