/**
 * Attention, the losses, RMSNormalization and RotaryEmbedding beyond ONNX's node tests: results
 * against naive loops written here (3-D GQA with a short bool mask, float16), and errors that
 * name the node and the attribute or input.
 */
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/index.js';
import { halfToFloat } from '../../../src/ops/math/cast.js';
import { f32, i64, rand, runNode } from '../unit-a/run-node.js';

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `element ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol);
};

describe('Attention', () => {
  it('3-D grouped-query attention with a bool mask shorter than the keys (the rest masked)', async () => {
    const B = 1, Sq = 2, Skv = 3, Hq = 4, Hkv = 2, D = 2;
    const q = rand(B * Sq * Hq * D, 3), k = rand(B * Skv * Hkv * D, 5), v = rand(B * Skv * Hkv * D, 7);
    const mask = [1, 0, 1, 1]; // [Sq, 2]: key 2 is beyond the mask, so masked for every query
    const [y] = await runNode({
      op: 'Attention', opset: 23, attrs: { q_num_heads: Hq, kv_num_heads: Hkv },
      inputs: [f32(q, [B, Sq, Hq * D]), f32(k, [B, Skv, Hkv * D]), f32(v, [B, Skv, Hkv * D]), new Tensor('bool', Uint8Array.from(mask), [Sq, 2])],
    });
    const want: number[] = [];
    for (let i = 0; i < Sq; i++) {
      for (let h = 0; h < Hq; h++) {
        const kh = Math.floor(h / (Hq / Hkv));
        const w = [0, 1, 2].map((j) => {
          if (j >= 2 || !mask[i * 2 + j]) return 0;
          let s = 0; for (let d = 0; d < D; d++) s += q[(i * Hq + h) * D + d]! * k[(j * Hkv + kh) * D + d]!;
          return Math.exp(s / Math.sqrt(D));
        });
        const sum = w.reduce((a, b) => a + b, 0);
        for (let d = 0; d < D; d++) want.push(w.reduce((a, p, j) => a + (p / sum) * v[(j * Hkv + kh) * D + d]!, 0));
      }
    }
    expect(y!.dims).toEqual([B, Sq, Hq * D]);
    close(y!.data as Float32Array, want);
  });

  it('float16 in, float16 out, computed in double', async () => {
    const x = rand(8, 9).map((n) => Math.round(n * 64) / 64); // exactly representable in half
    const half = new Tensor('float16', Uint16Array.from(x.map(toHalf)), [1, 1, 2, 4]);
    const [y] = await runNode({ op: 'Attention', opset: 23, inputs: [half, half, half] });
    const [want] = await runNode({ op: 'Attention', opset: 23, inputs: [f32(x, [1, 1, 2, 4]), f32(x, [1, 1, 2, 4]), f32(x, [1, 1, 2, 4])] });
    expect(y!.type).toBe('float16');
    expect(y!.dims).toEqual([1, 1, 2, 4]);
    close(Array.from(y!.data as Uint16Array, halfToFloat), want!.data as Float32Array, 2e-3);
  });

  const qkv = [f32(rand(16), [1, 2, 2, 4]), f32(rand(16, 2), [1, 2, 2, 4]), f32(rand(16, 3), [1, 2, 2, 4])];
  it.each([
    [{ qk_matmul_output_mode: 4 }, /Attention node 'att': attribute 'qk_matmul_output_mode' must be 0, 1, 2 or 3, got 4/],
    [{ is_causal: 2 }, /Attention node 'att': attribute 'is_causal' must be 0 or 1, got 2/],
    [{ softcap: -1 }, /Attention node 'att': attribute 'softcap' must be 0 \(off\) or positive, got -1/],
    [{ softmax_precision: 7 }, /Attention node 'att': attribute 'softmax_precision' must be a float type/],
    [{ q_num_heads: 3 }, /Attention node 'att': attribute 'q_num_heads' is 3 but Q has 2 heads/],
  ])('refuses %o naming node and attribute', async (attrs, msg) => {
    await expect(runNode({ op: 'Attention', opset: 23, name: 'att', attrs, inputs: qkv })).rejects.toThrow(msg);
  });

  it('3-D inputs need the head counts', async () => {
    const x = f32(rand(8), [1, 2, 4]);
    await expect(runNode({ op: 'Attention', opset: 23, name: 'att', inputs: [x, x, x] }))
      .rejects.toThrow(/Attention node 'att': attribute 'q_num_heads' is required for 3-D inputs/);
  });

  it('query heads must be a multiple of key/value heads; past key and value come together', async () => {
    const q = f32(rand(24), [1, 3, 2, 4]), k = f32(rand(16), [1, 2, 2, 4]);
    await expect(runNode({ op: 'Attention', opset: 23, name: 'att', inputs: [q, k, k] })).rejects.toThrow(/3 query heads are not a multiple of 2/);
    await expect(runNode({ op: 'Attention', opset: 23, name: 'att', inputs: [k, k, k, '', k] }))
      .rejects.toThrow(/Attention node 'att': past_key and past_value must be given together/);
  });

  it('a mask that does not broadcast names the input', async () => {
    await expect(runNode({ op: 'Attention', opset: 23, name: 'att', inputs: [...qkv, f32([0, 0, 0], [3, 1])] }))
      .rejects.toThrow(/Attention node 'att': attn_mask \(input 3, 'in3'\) of shape \[3,1\] does not broadcast to \[1,2,2,2\]/);
  });
});

describe('NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss', () => {
  const x = f32([-1, -2, -3, -0.5, -1.5, -2.5], [2, 3]);
  it('mean over non-ignored targets divides by their weights', async () => {
    const [y] = await runNode({ op: 'NegativeLogLikelihoodLoss', opset: 13, attrs: { ignore_index: 1 }, inputs: [x, i64([2, 1], [2]), f32([1, 2, 4], [3])] });
    expect(y!.dims).toEqual([]);
    close(y!.data as Float32Array, [3]); // (3·4) / 4; the second target is ignored
  });

  it('a target outside the classes names the node', async () => {
    await expect(runNode({ op: 'NegativeLogLikelihoodLoss', opset: 13, name: 'nll', inputs: [x, i64([3, 0], [2])] }))
      .rejects.toThrow(/NegativeLogLikelihoodLoss node 'nll': target 3 at position 0 is outside the 3 classes/);
  });

  it('refuses an unknown reduction and mis-shaped target or weight', async () => {
    await expect(runNode({ op: 'SoftmaxCrossEntropyLoss', opset: 13, name: 'sce', attrs: { reduction: 'avg' }, inputs: [x, i64([0, 1], [2])] }))
      .rejects.toThrow(/SoftmaxCrossEntropyLoss node 'sce': attribute 'reduction' value 'avg' is not supported/);
    await expect(runNode({ op: 'SoftmaxCrossEntropyLoss', opset: 13, name: 'sce', inputs: [x, i64([0, 1, 2], [3])] }))
      .rejects.toThrow(/target \(input 1, 'in1'\) must have shape \[2\]/);
    await expect(runNode({ op: 'NegativeLogLikelihoodLoss', opset: 13, name: 'nll', inputs: [x, i64([0, 1], [2]), f32([1, 1], [2])] }))
      .rejects.toThrow(/NegativeLogLikelihoodLoss node 'nll': weight \(input 2, 'in2'\) must have shape \[3\]/);
  });
});

describe('RMSNormalization and RotaryEmbedding', () => {
  it('RMSNormalization with a scale that broadcasts from a size-1 axis', async () => {
    const xs = [1, 2, 3, 4, 5, 6];
    const [y] = await runNode({ op: 'RMSNormalization', opset: 23, attrs: { axis: 0, epsilon: 0.5 }, inputs: [f32(xs, [2, 3]), f32([2], [1, 1])] });
    const rms = Math.sqrt(xs.reduce((a, v) => a + v * v, 0) / 6 + 0.5);
    close(y!.data as Float32Array, xs.map((v) => (2 * v) / rms));
  });

  it('RMSNormalization refuses an unknown stash_type', async () => {
    await expect(runNode({ op: 'RMSNormalization', opset: 23, name: 'rms', attrs: { stash_type: 7 }, inputs: [f32([1, 2], [1, 2]), f32([1, 1], [2])] }))
      .rejects.toThrow(/RMSNormalization node 'rms': attribute 'stash_type' must be 1 \(float\) or 11 \(double\), got 7/);
  });

  const x = f32(rand(16), [1, 2, 2, 4]), cache = f32(rand(10), [5, 2]);
  it('RotaryEmbedding: odd rotary_embedding_dim and a position beyond the cache are refused', async () => {
    await expect(runNode({ op: 'RotaryEmbedding', opset: 23, name: 'rope', attrs: { rotary_embedding_dim: 3 }, inputs: [x, cache, cache, i64([0, 1], [1, 2])] }))
      .rejects.toThrow(/RotaryEmbedding node 'rope': attribute 'rotary_embedding_dim' must be an even number up to the head size 4, got 3/);
    await expect(runNode({ op: 'RotaryEmbedding', opset: 23, name: 'rope', inputs: [x, cache, cache, i64([0, 5], [1, 2])] }))
      .rejects.toThrow(/RotaryEmbedding node 'rope': position id 5 is outside the cache of 5 positions/);
  });

  it('RotaryEmbedding rotates the halves of each head by the cached angle', async () => {
    const [y] = await runNode({ op: 'RotaryEmbedding', opset: 23, inputs: [f32([1, 0, 0, 1], [1, 1, 1, 4]), f32([0, 1], [1, 2]), f32([1, 0], [1, 2]), i64([0], [1, 1])] });
    // pair (x0, x2) = (1, 0) by 90°: (0, 1); pair (x1, x3) = (0, 1) by 0°: unchanged.
    close(y!.data as Float32Array, [0, 0, 1, 1]);
  });
});

function toHalf(v: number): number {
  const f = new Float32Array([v]), u = new Uint32Array(f.buffer)[0]!;
  const s = (u >>> 16) & 0x8000, e = ((u >>> 23) & 0xff) - 127 + 15, m = (u >>> 13) & 0x3ff;
  return e <= 0 ? s : s | (e << 10) | m; // exact for the small dyadic values used here
}
