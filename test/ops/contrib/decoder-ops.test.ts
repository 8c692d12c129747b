// com.microsoft RotaryEmbedding, SimplifiedLayerNormalization and SkipSimplifiedLayerNormalization
// against onnxruntime-web on generated cases.
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { expectClose, msModel, rand, ropeCaches, runBoth } from './ms-node.js';

describe('com.microsoft RotaryEmbedding vs onnxruntime-web', () => {
  const cases = [
    { name: '3-D, position_ids [B, S], halves', B: 2, S: 5, H: 4, D: 64, interleaved: 0, pidFull: true },
    { name: '3-D, one position offset, interleaved', B: 1, S: 3, H: 2, D: 128, interleaved: 1, pidFull: false },
    { name: '4-D [B, H, S, D]', B: 2, S: 4, H: 3, D: 32, interleaved: 0, pidFull: true, rank4: true },
    { name: 'partial rotary_embedding_dim 16 of 64', B: 1, S: 4, H: 2, D: 64, interleaved: 0, pidFull: true, rdim: 16 },
    { name: 'partial rotary, interleaved, odd half (scalar tail)', B: 1, S: 2, H: 2, D: 32, interleaved: 1, pidFull: true, rdim: 12 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { B, S, H, D } = c, r = c.rdim ?? D, maxPos = 20;
      const x = c.rank4 ? new Tensor('float32', rand(B * H * S * D, 5), [B, H, S, D]) : new Tensor('float32', rand(B * S * H * D, 5), [B, S, H * D]);
      const pid = c.pidFull ? new Tensor('int64', BigInt64Array.from({ length: B * S }, (_, i) => BigInt((i * 7) % maxPos)), [B, S]) : new Tensor('int64', BigInt64Array.of(6n), [1]);
      const [cos, sin] = ropeCaches(maxPos, r / 2);
      const attrs: Record<string, number> = { interleaved: c.interleaved };
      if (c.rdim) { attrs.rotary_embedding_dim = c.rdim; attrs.num_heads = H; } else if (!c.rank4) attrs.num_heads = H;
      const [mine, ref] = await runBoth('RotaryEmbedding', [x, pid, cos, sin], attrs, 1);
      expectClose(mine[0]!, ref[0]!, 'output');
    });
  }

  it('refuses a position outside the caches and unsupported attributes', async () => {
    const x = new Tensor('float32', rand(16, 1), [1, 1, 16]);
    const [cos, sin] = ropeCaches(4, 8);
    const s = await InferenceSession.create(msModel('RotaryEmbedding', [x, new Tensor('int64', BigInt64Array.of(9n), [1]), { const: cos }, { const: sin }], {}, 1));
    await expect(s.run({ in0: x, in1: new Tensor('int64', BigInt64Array.of(9n), [1]) })).rejects.toMatchObject({ code: 'INVALID_FEED', message: expect.stringMatching(/RotaryEmbedding node 'n'.*position 9/) });
    await s.release();
    const p = await InferenceSession.create(msModel('RotaryEmbedding', [x, { const: new Tensor('int64', BigInt64Array.of(0n), [1]) }, { const: cos }, { const: sin }], { is_packed_batching: 1 }, 1));
    await expect(p.run({ in0: x })).rejects.toMatchObject({ code: 'INVALID_ATTRIBUTE', message: expect.stringMatching(/'n'.*is_packed_batching/) });
    await p.release();
  });
});

describe('SimplifiedLayerNormalization / SkipSimplifiedLayerNormalization vs onnxruntime-web', () => {
  for (const cols of [64, 1024, 37]) {
    it(`SimplifiedLayerNormalization, ${cols} columns, inv_std_var`, async () => {
      const x = new Tensor('float32', rand(3 * 2 * cols, 9, -3, 3), [3, 2, cols]);
      const g = new Tensor('float32', rand(cols, 10, 0.5, 1.5), [cols]);
      // Default domain, as onnxruntime-genai writes it.
      const [mine, ref] = await runBoth('SimplifiedLayerNormalization', [x, { const: g }], { epsilon: 1e-6, axis: -1 }, 2, [], '');
      expectClose(mine[0]!, ref[0]!, 'output');
      expectClose(mine[1]!, ref[1]!, 'inv_std_var');
    });
  }
  for (const [cols, bias] of [[64, true], [896, false], [19, true]] as const) {
    it(`SkipSimplifiedLayerNormalization, ${cols} columns${bias ? ', bias' : ''}: output, inv_std_var, sum`, async () => {
      const x = new Tensor('float32', rand(2 * 3 * cols, 11, -3, 3), [2, 3, cols]);
      const skip = new Tensor('float32', rand(2 * 3 * cols, 12, -3, 3), [2, 3, cols]);
      const g = new Tensor('float32', rand(cols, 13, 0.5, 1.5), [cols]);
      const inputs = [x, skip, { const: g }, ...(bias ? [{ const: new Tensor('float32', rand(cols, 14), [cols]) }] : [])];
      const [mine, ref] = await runBoth('SkipSimplifiedLayerNormalization', inputs, { epsilon: 1e-5 }, 4, [], 'com.microsoft', [0, 2, 3]);
      expectClose(mine[0]!, ref[0]!, 'output');
      expectClose(mine[1]!, ref[1]!, 'inv_std_var');
      expectClose(mine[2]!, ref[2]!, 'input_skip_bias_sum');
    });
  }
});

describe('ONNX RotaryEmbedding (opset 23) on the shared kernel vs onnxruntime-web', () => {
  const cases = [
    { name: '4-D, position_ids, halves', B: 2, H: 3, S: 4, D: 32, rank4: true, pos: true, interleaved: 0 },
    { name: '3-D num_heads, no position_ids ([B, S, r/2] caches), interleaved', B: 2, H: 2, S: 3, D: 16, rank4: false, pos: false, interleaved: 1 },
    { name: '4-D partial rotary_embedding_dim 8 of 32', B: 1, H: 2, S: 5, D: 32, rank4: true, pos: true, interleaved: 0, rdim: 8 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { B, H, S, D } = c, r = c.rdim ?? D, maxPos = 12;
      const x = c.rank4 ? new Tensor('float32', rand(B * H * S * D, 21), [B, H, S, D]) : new Tensor('float32', rand(B * S * H * D, 21), [B, S, H * D]);
      let cos: Tensor, sin: Tensor;
      const inputs: Parameters<typeof runBoth>[1][number][] = [x];
      if (c.pos) {
        [cos, sin] = ropeCaches(maxPos, r / 2);
        inputs.push(cos, sin, new Tensor('int64', BigInt64Array.from({ length: B * S }, (_, i) => BigInt((i * 5) % maxPos)), [B, S]));
      } else {
        cos = new Tensor('float32', rand(B * S * r / 2, 22), [B, S, r / 2]); sin = new Tensor('float32', rand(B * S * r / 2, 23), [B, S, r / 2]);
        inputs.push(cos, sin);
      }
      const attrs: Record<string, number> = { interleaved: c.interleaved };
      if (!c.rank4) attrs.num_heads = H;
      if (c.rdim) attrs.rotary_embedding_dim = c.rdim;
      const [mine, ref] = await runBoth('RotaryEmbedding', inputs, attrs, 1, [], '', undefined, 23);
      expectClose(mine[0]!, ref[0]!, 'output');
    });
  }
});
