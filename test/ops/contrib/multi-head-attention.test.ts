/**
 * com.microsoft MultiHeadAttention against onnxruntime-web in each input layout it accepts
 * (separate Q/K/V, packed QKV, packed KV, per-head K/V), with bias, key_padding_mask forms,
 * attention_bias, unidirectional, scale, mask_filter_value, past → present, odd sizes, batch > 1.
 */
import { describe, expect, it } from 'vitest';
import { TesseraError } from '../../../src/api/errors.js';
import { Tensor } from '../../../src/index.js';
import { f32, feedsOf, i32, konst, msModel, runTessera, worstAcross, worstVsOrt, type In, type MsSpec } from './encoder-harness.js';

const [B, S, L, N, H] = [2, 5, 6, 3, 8];
const D = N * H;
const q = f32([B, S, D], 1), k = f32([B, L, D], 2), v = f32([B, L, D], 3), bias = konst(f32([3 * D], 4));
const kSelf = f32([B, S, D], 5), vSelf = f32([B, S, D], 6);

const cases: [string, In[], Record<string, unknown>, string[]?][] = [
  ['self-attention, separate Q/K/V', [q, kSelf, vSelf], { num_heads: N }],
  ['cross-attention (L ≠ S) with bias', [q, k, v, bias], { num_heads: N }],
  ['key_padding_mask [B] (key lengths)', [q, k, v, bias, i32([B], [6, 3])], { num_heads: N }],
  ['key_padding_mask [B, L]', [q, k, v, '', i32([B, L], [1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0])], { num_heads: N }],
  ['key_padding_mask [B, S, T]', [q, k, v, bias, i32([B, S, L], Array.from({ length: B * S * L }, (_, i) => (i % 4 === 3 ? 0 : 1)))], { num_heads: N }],
  ['attention_bias [1, N, S, T]', [q, k, v, bias, '', f32([1, N, S, L], 7)], { num_heads: N }],
  ['attention_bias [B, N, S, T] with a [B, L] mask, scale', [q, k, v, '', i32([B, L], [1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1]), f32([B, N, S, L], 8)], { num_heads: N, scale: 0.2 }],
  ['unidirectional self-attention, mask_filter_value', [q, kSelf, vSelf, bias, i32([B, S], [1, 1, 1, 1, 1, 1, 1, 0, 1, 1])], { num_heads: N, unidirectional: 1, mask_filter_value: -3.5 }],
  ['per-head K/V [B, N, L, H] (cached cross-attention keys)', [q, f32([B, N, L, H], 12), f32([B, N, L, H], 13), '', i32([B], [4, 6])], { num_heads: N }],
  ['past_key/past_value → present (decoding, S 1)', [f32([B, 1, D], 14), f32([B, 1, D], 15), f32([B, 1, D], 16), bias, '', '', f32([B, N, 4, H], 17), f32([B, N, 4, H], 18)], { num_heads: N }, ['out0', 'out1', 'out2']],
  ['past → present with S 3, unidirectional, a [B, T] mask', [f32([B, 3, D], 19), f32([B, 3, D], 20), f32([B, 3, D], 21), '', i32([B, 7], [1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1]), '', f32([B, N, 4, H], 22), f32([B, N, 4, H], 23)], { num_heads: N, unidirectional: 1 }, ['out0', 'out1', 'out2']],
  ['present without past', [q, k, v, bias], { num_heads: N }, ['out0', 'out1', 'out2']],
  ['odd sizes: 4 heads of 5, batch 3, S 7, L 3', [f32([3, 7, 20], 24), f32([3, 3, 20], 25), f32([3, 3, 20], 26), konst(f32([60], 27))], { num_heads: 4 }],
];

describe('com.microsoft MultiHeadAttention vs onnxruntime-web', () => {
  for (const [name, inputs, attrs, outputs] of cases) {
    it(name, async () => {
      const r = await worstVsOrt({ op: 'MultiHeadAttention', inputs, attrs: attrs as MsSpec['attrs'], outputs });
      for (const x of Object.values(r)) expect(x).toBeLessThan(2e-5);
    });
  }
});

/** Splits a packed [B, T, N, parts, H] tensor into `parts` tensors [B, T, N·H] (what the packing interleaves). */
function unpack(t: Tensor, parts: number): Tensor[] {
  const [b, s, n, p, h] = t.dims as [number, number, number, number, number];
  const src = t.data as Float32Array;
  return Array.from({ length: parts }, (_, w) => {
    const out = new Float32Array(b * s * n * h);
    for (let r = 0; r < b * s; r++) for (let hd = 0; hd < n; hd++) for (let e = 0; e < h; e++) out[(r * n + hd) * h + e] = src[((r * n + hd) * p + w) * h + e]!;
    return new Tensor('float32', out, [b, s, n * h]);
  });
}

describe('packed layouts (onnxruntime-web’s CPU kernel refuses them): against onnxruntime-web on the same data unpacked', () => {
  const qkv = f32([B, S, N, 3, H], 9), kv = f32([B, L, N, 2, H], 11);
  const [pq, pk, pv] = unpack(qkv, 3) as [Tensor, Tensor, Tensor];
  const [ck, cv] = unpack(kv, 2) as [Tensor, Tensor];
  const mask = i32([B], [5, 2]);
  it('packed QKV [B, S, N, 3, H]', async () => {
    expect(await worstAcross({ op: 'MultiHeadAttention', inputs: [qkv], attrs: { num_heads: N } },
      { op: 'MultiHeadAttention', inputs: [pq, pk, pv], attrs: { num_heads: N } })).toBeLessThan(2e-5);
  });
  it('packed QKV with bias and a key-length mask', async () => {
    expect(await worstAcross({ op: 'MultiHeadAttention', inputs: [qkv, '', '', bias, mask], attrs: { num_heads: N } },
      { op: 'MultiHeadAttention', inputs: [pq, pk, pv, bias, mask], attrs: { num_heads: N } })).toBeLessThan(2e-5);
  });
  it('packed KV [B, L, N, 2, H] with bias and unidirectional off, scale 0.4', async () => {
    expect(await worstAcross({ op: 'MultiHeadAttention', inputs: [q, kv, '', bias], attrs: { num_heads: N, scale: 0.4 } },
      { op: 'MultiHeadAttention', inputs: [q, ck, cv, bias], attrs: { num_heads: N, scale: 0.4 } })).toBeLessThan(2e-5);
  });
});

describe('bad attributes and inputs name the node', () => {
  const refuse = async (inputs: In[], attrs: Record<string, unknown>, code: string, re: RegExp, outputs?: string[]) => {
    const spec: MsSpec = { op: 'MultiHeadAttention', inputs, attrs: attrs as MsSpec['attrs'], name: 'mha', outputs };
    const err = await runTessera(msModel(spec), feedsOf(spec)).then(() => undefined, (e: unknown) => e as TesseraError);
    expect(err).toBeInstanceOf(TesseraError);
    expect(err!.code).toBe(code);
    expect(err!.message).toContain("'mha'");
    expect(err!.message).toMatch(re);
  };
  it('num_heads missing', () => refuse([q, k, v], {}, 'INVALID_ATTRIBUTE', /'num_heads'/));
  it('num_heads not dividing the hidden size', () => refuse([q, k, v], { num_heads: 5 }, 'INVALID_ATTRIBUTE', /'num_heads'/));
  it('mask_filter_value of the wrong type', () => refuse([q, k, v], { num_heads: N, mask_filter_value: 'low' }, 'INVALID_ATTRIBUTE', /'mask_filter_value'/));
  it('a key of another hidden size', () => refuse([q, f32([B, L, D + 3], 1), v], { num_heads: N }, 'SHAPE_MISMATCH', /key/));
  it('the qk output', () => refuse([q, k, v], { num_heads: N }, 'UNSUPPORTED_OP', /qk/, ['out0', '', '', 'out3']));
});
