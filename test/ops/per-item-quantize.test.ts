/**
 * DynamicQuantizeMatMul(Group) with `per_item_range` (graph/passes/per-item-quantize.ts): a batch
 * of items [B, S, K] gives each item the bits the unmarked op (ONNX semantics: one range per
 * tensor) gives that item run alone, [1, S, K] — through the GEMV (B·S ≤ 4 rows) and the GEMM, a
 * group (two products of one x) and a fused GELU; items of very different magnitudes and one all
 * zero. The unmarked op on the same batch does not (its one range spans every item). Bad uses are
 * refused by name.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { perItemQuantization } from '../../src/graph/passes/per-item-quantize.js';
import type { Model } from '../../src/graph/ir.js';
import { quantizeDynamic } from '../../src/quantize/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';

function rand(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return lo + (hi - lo) * (s / 2 ** 32); });
}

const K = 37, N = 29, H = 45;
/** x → (MatMul w1 + b1 → Gelu → MatMul w3) and MatMul w2: x read by two products (a group). */
function quantized(rank: 2 | 3): Uint8Array {
  const dims = rank === 3 ? ['B', 'S', K] : ['M', K];
  const float = model({
    opset: 20,
    inputs: [valueInfo('x', DT.FLOAT, dims)],
    outputs: [valueInfo('y', DT.FLOAT, rank === 3 ? ['B', 'S', N] : ['M', N]), valueInfo('q', DT.FLOAT, rank === 3 ? ['B', 'S', H] : ['M', H])],
    initializers: [
      floatTensor('w1', [K, H], rand(K * H, 1, -0.2, 0.2)), floatTensor('b1', [H], rand(H, 2, -0.5, 0.5)),
      floatTensor('w2', [K, H], rand(K * H, 3, -0.2, 0.2)), floatTensor('w3', [H, N], rand(H * N, 4, -0.2, 0.2)),
    ],
    nodes: [
      node('MatMul', ['x', 'w1'], ['m1']), node('Add', ['m1', 'b1'], ['a1']), node('Gelu', ['a1'], ['g']),
      node('MatMul', ['g', 'w3'], ['y']), node('MatMul', ['x', 'w2'], ['q']),
    ],
  });
  return quantizeDynamic(float, { perChannel: true }).bytes;
}

/** B items of S rows, item b scaled by its own gain (item 1 all zero from 3 items on). */
function items(B: number, S: number): Float32Array {
  const x = Float32Array.from(rand(B * S * K, B * 10 + S, -2, 2));
  for (let b = 0; b < B; b++) {
    const gain = B >= 3 && b === 1 ? 0 : [1, 9, 0.03, 40][b % 4]!;
    for (let i = b * S * K; i < (b + 1) * S * K; i++) x[i] = x[i]! * gain + (b % 2 ? 0.4 : -0.1) * gain;
  }
  return x;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('per_item_range', () => {
  it('gives each batch item the bits of the per-tensor op on that item alone', async () => {
    const bytes = quantized(3);
    let marked: Model | undefined;
    const batched = await InferenceSession.createRewritten(bytes, {}, undefined, (m) => { expect(perItemQuantization(m)).toEqual([]); marked = m; });
    const plain = await InferenceSession.create(bytes);
    try {
      const ops = marked!.graph.nodes.filter((n) => n.domain === 'tessera').map((n) => [n.opType, n.attributes.get('per_item_range')]);
      expect(ops).toEqual([
        ['DynamicQuantizeMatMulGroup', { type: 'int', value: 1 }],
        ['DynamicQuantizeMatMul', { type: 'int', value: 1 }],
      ]);
      let mixed = 0;
      // B·S ≤ 4: the decode GEMV; more: the GEMM. (1, 3): one item runs the per-tensor path.
      for (const [B, S] of [[2, 1], [3, 1], [4, 1], [2, 2], [1, 3], [2, 3], [3, 2], [4, 5]] as const) {
        const x = items(B, S);
        const out = await batched.run({ x: new Tensor('float32', x, [B, S, K]) });
        const whole = await plain.run({ x: new Tensor('float32', x, [B, S, K]) });
        for (const [name, W] of [['y', N], ['q', H]] as const) {
          const got = out[name]!.data as Float32Array;
          expect(out[name]!.dims).toEqual([B, S, W]);
          for (let b = 0; b < B; b++) {
            const alone = (await plain.run({ x: new Tensor('float32', x.slice(b * S * K, (b + 1) * S * K), [1, S, K]) }))[name]!.data as Float32Array;
            expect(bits(got.subarray(b * S * W, (b + 1) * S * W)), `${name}, B ${B}, S ${S}, item ${b}`).toEqual(bits(alone));
          }
          if (B > 1 && bits(whole[name]!.data as Float32Array).join() !== bits(got).join()) mixed++;
        }
      }
      expect(mixed).toBeGreaterThanOrEqual(12); // every multi-item batch, both outputs, but for the all-zero-heavy ones
    } finally {
      await batched.release(); await plain.release();
    }
  });

  it('is refused on x of rank 2 (no item axis) and with an x_range input', async () => {
    const flat = await InferenceSession.createRewritten(quantized(2), {}, undefined, (m) => { perItemQuantization(m); });
    try {
      await expect(flat.run({ x: new Tensor('float32', items(2, 1), [2, K]) })).rejects.toThrow(/per_item_range' needs x of rank ≥ 3/);
    } finally {
      await flat.release();
    }
    const ranged = await InferenceSession.createRewritten(quantized(3), {}, undefined, (m) => {
      const mm = m.graph.nodes.find((n) => n.opType === 'DynamicQuantizeMatMul')!;
      mm.inputs = [...mm.inputs, ...new Array(5 - mm.inputs.length).fill(''), mm.inputs[0]!];
      expect(perItemQuantization(m)).toEqual([mm]);
      mm.attributes.set('per_item_range', { type: 'int', value: 1 });
    });
    try {
      await expect(ranged.run({ x: new Tensor('float32', items(2, 1), [2, 1, K]) })).rejects.toThrow(/cannot be combined with an x_range input/);
    } finally {
      await ranged.release();
    }
  });
});
