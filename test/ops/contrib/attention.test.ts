/**
 * com.microsoft Attention against onnxruntime-web: every mask_index form it runs (key lengths [B],
 * end/start positions [2B], raw [B, T] and [B, S, T]), unidirectional, scale, mask_filter_value,
 * attention_bias, past → present, fed weights, odd sizes and batch > 1. The 4-D Megatron mask
 * [B, 1, M, M] is refused by onnxruntime's CPU kernel, so it is checked against a float64
 * reference written here (which also agrees with onnxruntime-web on a 2-D mask).
 */
import { describe, expect, it } from 'vitest';
import { TesseraError } from '../../../src/api/errors.js';
import type { Tensor } from '../../../src/index.js';
import { f32, feedsOf, i32, konst, msModel, runTessera, worst, worstVsOrt, type In, type MsSpec } from './encoder-harness.js';

const [B, S, D, N] = [2, 7, 24, 3];
const x = f32([B, S, D], 1), w = f32([D, 3 * D], 2, -0.4, 0.4), bias = f32([3 * D], 3);
const W = konst(w), Bias = konst(bias);

const cases: [string, In[], Record<string, unknown>, string[]?][] = [
  ['no mask, batch 2', [x, W, Bias], { num_heads: N }],
  ['fed weights and bias', [x, w, bias], { num_heads: N }],
  ['key lengths [B]', [x, W, Bias, i32([B], [7, 4])], { num_heads: N }],
  ['end and start positions [2B] (left padding)', [x, W, Bias, i32([2 * B], [7, 6, 2, 0])], { num_heads: N }],
  ['raw mask [B, T] with holes', [x, W, Bias, i32([B, S], [1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0])], { num_heads: N }],
  ['raw mask [B, S, T]', [x, W, Bias, i32([B, S, S], Array.from({ length: B * S * S }, (_, i) => ((i * 7) % 5 === 0 ? 0 : 1)))], { num_heads: N }],
  ['unidirectional', [x, W, Bias], { num_heads: N, unidirectional: 1 }],
  ['unidirectional with a [B, T] mask', [x, W, Bias, i32([B, S], [1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1])], { num_heads: N, unidirectional: 1 }],
  ['unidirectional with a fully padded row (future keys get float32’s lowest, not mask_filter_value)', [x, W, Bias, i32([B], [0, 3])], { num_heads: N, unidirectional: 1 }],
  ['scale and mask_filter_value', [x, W, Bias, i32([B], [5, 3])], { num_heads: N, scale: 0.3, mask_filter_value: -2.5 }],
  ['qkv_hidden_sizes given', [x, W, Bias], { num_heads: N, qkv_hidden_sizes: [D, D, D] }],
  ['attention_bias [1, N, S, T]', [x, W, Bias, '', '', f32([1, N, S, S], 4)], { num_heads: N }],
  ['attention_bias [B, 1, S, T] with a [B] mask', [x, W, Bias, i32([B], [6, 2]), '', f32([B, 1, S, S], 5)], { num_heads: N }],
  ['odd sizes: head size 5, 4 heads, S 5, batch 3', [f32([3, 5, 20], 6), konst(f32([20, 60], 7)), konst(f32([60], 8)), i32([3], [5, 1, 3])], { num_heads: 4 }],
  ['one head, S 1', [f32([2, 1, 12], 9), konst(f32([12, 36], 10)), konst(f32([36], 11))], { num_heads: 1 }],
  ['past [2, B, N, P, H] → present (GPT-2 decoding, S 1)', [f32([B, 1, D], 12), W, Bias, '', f32([2, B, N, 4, D / N], 13)], { num_heads: N, unidirectional: 1 }, ['out0', 'out1']],
  ['past → present with S 3, a [B, T] mask and unidirectional', [f32([B, 3, D], 14), W, Bias, i32([B, 7], [1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]), f32([2, B, N, 4, D / N], 15)], { num_heads: N, unidirectional: 1 }, ['out0', 'out1']],
  ['present without past', [x, W, Bias], { num_heads: N }, ['out0', 'out1']],
];

describe('com.microsoft Attention vs onnxruntime-web', () => {
  for (const [name, inputs, attrs, outputs] of cases) {
    it(name, async () => {
      const r = await worstVsOrt({ op: 'Attention', inputs, attrs: attrs as MsSpec['attrs'], outputs });
      for (const v of Object.values(r)) expect(v).toBeLessThan(2e-5);
    });
  }
  it('a fully masked row (key length 0): every score is −10000 + s, so float32 keeps ~1e-3 of s', async () => {
    // Both engines add the mask in float32, where the ulp at 10000 is 2⁻¹⁰: the row's softmax
    // sees scores quantised to that step, and the two engines' rounding orders differ.
    const r = await worstVsOrt({ op: 'Attention', inputs: [x, W, Bias, i32([B], [0, 3])], attrs: { num_heads: N } });
    expect(r.out0).toBeLessThan(2e-3);
  });
});

/** Attention in float64 from the op's definition; mask4 is the Megatron [B, 1, M, M] form. */
function reference(x: Tensor, w: Tensor, b: Tensor, heads: number, mask2?: Int32Array, mask4?: { data: Int32Array; M: number }, causal = false): Float64Array {
  const [Bn, Sn, Din] = x.dims as [number, number, number];
  const W3 = w.dims[1]!, Dh = W3 / 3, d = Dh / heads;
  const X = x.data as Float32Array, Wd = w.data as Float32Array, Bd = b.data as Float32Array;
  const qkv = new Float64Array(Bn * Sn * W3);
  for (let r = 0; r < Bn * Sn; r++) for (let c = 0; c < W3; c++) {
    let s = Bd[c]!;
    for (let i = 0; i < Din; i++) s += X[r * Din + i]! * Wd[i * W3 + c]!;
    qkv[r * W3 + c] = s;
  }
  const out = new Float64Array(Bn * Sn * Dh), scale = 1 / Math.sqrt(d);
  for (let bi = 0; bi < Bn; bi++) for (let h = 0; h < heads; h++) for (let i = 0; i < Sn; i++) {
    const sc = new Float64Array(Sn);
    for (let j = 0; j < Sn; j++) {
      let s = 0;
      for (let e = 0; e < d; e++) s += qkv[(bi * Sn + i) * W3 + h * d + e]! * qkv[(bi * Sn + j) * W3 + Dh + h * d + e]!;
      let m = 0;
      if (mask2 && !(mask2[bi * Sn + j]! > 0)) m = -10000;
      if (mask4 && !(mask4.data[(bi * mask4.M + i) * mask4.M + j]! > 0)) m = -10000;
      if (causal && j > i) m = -3.4028234663852886e38;
      sc[j] = s * scale + m;
    }
    const mx = Math.max(...sc);
    let z = 0;
    for (let j = 0; j < Sn; j++) { sc[j] = Math.exp(sc[j]! - mx); z += sc[j]!; }
    for (let e = 0; e < d; e++) {
      let o = 0;
      for (let j = 0; j < Sn; j++) o += sc[j]! / z * qkv[(bi * Sn + j) * W3 + 2 * Dh + h * d + e]!;
      out[(bi * Sn + i) * Dh + h * d + e] = o;
    }
  }
  return out;
}

describe('com.microsoft Attention vs a float64 reference', () => {
  const m2 = Int32Array.from([1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  it('the reference agrees with onnxruntime-web on a [B, T] mask (so it reads the op the same way)', async () => {
    const spec: MsSpec = { op: 'Attention', inputs: [x, W, Bias, i32([B, S], [...m2])], attrs: { num_heads: N } };
    const ours = (await runTessera(msModel(spec), feedsOf(spec))).out0!;
    expect(worst(ours.data as Float32Array, reference(x, w, bias, N, m2))).toBeLessThan(2e-5);
  });
  it('no bias (onnxruntime’s CPU kernel requires one)', async () => {
    const spec: MsSpec = { op: 'Attention', inputs: [x, W], attrs: { num_heads: N } };
    const ours = (await runTessera(msModel(spec), feedsOf(spec))).out0!;
    const zero = f32([3 * D], 0, 0, 0);
    expect(worst(ours.data as Float32Array, reference(x, w, zero, N))).toBeLessThan(2e-5);
  });
  it('4-D Megatron mask [B, 1, M, M] with M > S (onnxruntime-web refuses this form)', async () => {
    const M = 9;
    const data = Int32Array.from({ length: B * M * M }, (_, i) => (i % M === 0 || ((i % M) <= Math.floor(i / M) % M && (i * 13) % 7 !== 0) ? 1 : 0));
    const spec: MsSpec = { op: 'Attention', inputs: [x, W, Bias, i32([B, 1, M, M], [...data])], attrs: { num_heads: N } };
    const ours = (await runTessera(msModel(spec), feedsOf(spec))).out0!;
    expect(worst(ours.data as Float32Array, reference(x, w, bias, N, undefined, { data, M }))).toBeLessThan(2e-5);
  });
  it('unidirectional with the same 4-D mask', async () => {
    const M = 7;
    const data = Int32Array.from({ length: B * M * M }, (_, i) => (i % M !== 0 && (i * 5) % 11 === 0 ? 0 : 1));
    const spec: MsSpec = { op: 'Attention', inputs: [x, W, Bias, i32([B, 1, M, M], [...data])], attrs: { num_heads: N, unidirectional: 1 } };
    const ours = (await runTessera(msModel(spec), feedsOf(spec))).out0!;
    expect(worst(ours.data as Float32Array, reference(x, w, bias, N, undefined, { data, M }, true))).toBeLessThan(2e-5);
  });
});

describe('bad attributes and inputs name the node', () => {
  const refuse = async (inputs: In[], attrs: Record<string, unknown>, code: string, re: RegExp) => {
    const spec: MsSpec = { op: 'Attention', inputs, attrs: attrs as MsSpec['attrs'], name: 'att' };
    const err = await runTessera(msModel(spec), feedsOf(spec)).then(() => undefined, (e: unknown) => e as TesseraError);
    expect(err).toBeInstanceOf(TesseraError);
    expect(err!.code).toBe(code);
    expect(err!.message).toContain("'att'");
    expect(err!.message).toMatch(re);
  };
  it('num_heads missing', () => refuse([x, W, Bias], {}, 'INVALID_ATTRIBUTE', /'num_heads'/));
  it('num_heads not dividing the hidden size', () => refuse([x, W, Bias], { num_heads: 5 }, 'INVALID_ATTRIBUTE', /'num_heads'.*divide/));
  it('qkv_hidden_sizes not adding up', () => refuse([x, W, Bias], { num_heads: N, qkv_hidden_sizes: [24, 24, 12] }, 'INVALID_ATTRIBUTE', /'qkv_hidden_sizes'/));
  it('a V head size other than Q’s', () => refuse([x, konst(f32([D, 60], 1)), konst(f32([60], 2))], { num_heads: N, qkv_hidden_sizes: [24, 24, 12] }, 'INVALID_ATTRIBUTE', /'qkv_hidden_sizes'.*head size/));
  it('do_rotary', () => refuse([x, W, Bias], { num_heads: N, do_rotary: 1 }, 'INVALID_ATTRIBUTE', /'do_rotary'/));
  it('scale of the wrong type', () => refuse([x, W, Bias], { num_heads: N, scale: 'auto' }, 'INVALID_ATTRIBUTE', /'scale'/));
  it('unidirectional 2', () => refuse([x, W, Bias], { num_heads: N, unidirectional: 2 }, 'INVALID_ATTRIBUTE', /'unidirectional'/));
  it('a mask of no known shape', () => refuse([x, W, Bias, i32([3], [1, 2, 3])], { num_heads: N }, 'SHAPE_MISMATCH', /mask/));
});
