/**
 * quantizeInt4 (src/quantize/int4.ts): the MatMulNBits files it writes, in onnxruntime's
 * MatMul4BitsQuantizer layout. Checked: the arithmetic on hand-worked blocks (symmetric and
 * asymmetric, zero scale, K past the last block), the file's structure (names, shapes, attribute
 * order, opset, dropped float weights), onnxruntime-web running our q4 file and agreeing with
 * tessera (2e-5 of Σ|x·w|), and a decoder-like MatMul chain whose q4 output stays near the float
 * model's (4-bit rounding: |Δw| ≤ scale/2 per weight).
 */
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { TesseraError } from '../../src/api/errors.js';
import { quantizeInt4, quantizeInt4Weight } from '../../src/quantize/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../helpers/ort.js';
import { rng } from '../../scripts/rng.mjs';

const { onnx } = onnxProto;

describe('quantizeInt4Weight arithmetic (MLAS q4_dq.cpp)', () => {
  it('symmetric: scale = −(value of largest magnitude)/8, q = roundf(v/scale + 8) clamped', () => {
    // One column, K = 16, block 16: largest magnitude −4 → scale 0.5, 1/scale = 2.
    const w = [-4, -1.25, 0, 0.25, 1, 3.5, 3.75, 2, -3, 0.75, -0.25, 1.5, -2, 2.5, -3.5, 0.5];
    const q = quantizeInt4Weight(w, 16, 1, 16, true);
    expect(q.scales[0]).toBe(0.5);
    expect(q.zeroPoints).toBeUndefined();
    const nib = Array.from(q.packed).flatMap((b) => [b & 15, b >> 4]);
    // v·2 + 8, roundf (halves away from zero), clamped to 0…15: −1.25 → 5.5 → 6; 3.75 → 15.5 → 15.
    expect(nib).toEqual([0, 6, 8, 9, 10, 15, 15, 12, 2, 10, 8, 11, 4, 13, 1, 9]);
  });

  it('asymmetric: range widened to include 0, zp = roundf(−min/scale), packed two blocks a byte', () => {
    // K = 40, block 16: blocks of 16, 16 and 8 rows; two columns.
    const K = 40, N = 2, w = new Float32Array(K * N);
    for (let k = 0; k < K; k++) { w[k * N] = k < 16 ? 1 + k / 16 : k < 32 ? -3 + (k - 16) * 0.25 : 0; w[k * N + 1] = (k % 5) - 1; }
    const q = quantizeInt4Weight(w, K, N, 16, false);
    // Column 0, block 0: min 1 → 0, max 1.9375: scale 1.9375/15, zp 0. Block 1: −3 … 0.75. Block 2: all 0 → scale 0, zp 0.
    expect(q.scales[0]).toBe(Math.fround(1.9375 / 15));
    expect(q.scales[1]).toBe(Math.fround(3.75 / 15));
    expect(q.scales[2]).toBe(0);
    const s1 = Math.fround(3.75 / 15), zp1 = Math.round(Math.fround(3 / s1));
    expect(zp1).toBe(12);
    // Zero points: ceil(3/2) = 2 bytes per column; block 2's partner is absent, so its high nibble is MLAS's default 8.
    expect(Array.from(q.zeroPoints!.subarray(0, 2))).toEqual([0 | (12 << 4), 0 | (8 << 4)]);
    expect(q.packed.length).toBe(N * 3 * 8);
    // Block 2 of column 0 is all zeros with scale 0: q = clamp(roundf(0·0 + zp 0)) = 0.
    expect(Array.from(q.packed.subarray(16, 24))).toEqual(new Array(8).fill(0));
    // Dequantized values are within half a step of the originals.
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
      const b = k >> 4, byte = q.packed[n * 24 + (k >> 1)]!, v = k & 1 ? byte >> 4 : byte & 15;
      const zb = q.zeroPoints![n * 2 + (b >> 1)]!, z = b & 1 ? zb >> 4 : zb & 15;
      const s = q.scales[n * 3 + b]!;
      expect(Math.abs((v - z) * s - w[k * N + n]!)).toBeLessThanOrEqual(s / 2 + 1e-6);
    }
  });
});

/** x [S, 64] → MatMul W1 [64, 96] → Sigmoid·self (SiLU) → MatMul W2 [96, 64] → + x; plus a small MatMul kept float. */
function decoderLike(seed: number): Uint8Array {
  const r = rng(seed);
  const t = (name: string, dims: number[]) => floatTensor(name, dims, Array.from({ length: dims[0]! * dims[1]! }, () => (r() - 0.5) * 0.4));
  return model({
    inputs: [valueInfo('x', DT.FLOAT, ['S', 64])],
    outputs: [valueInfo('y', DT.FLOAT, ['S', 64]), valueInfo('z', DT.FLOAT, ['S', 4])],
    initializers: [t('W1', [64, 96]), t('W2', [96, 64]), t('Wsmall', [64, 4])],
    nodes: [
      node('MatMul', ['x', 'W1'], ['h'], {}, 'up_proj'), node('Sigmoid', ['h'], ['g']), node('Mul', ['h', 'g'], ['a']),
      node('MatMul', ['a', 'W2'], ['d'], {}, 'down_proj'), node('Add', ['d', 'x'], ['y']),
      node('MatMul', ['x', 'Wsmall'], ['z']),
    ],
  });
}

describe('quantizeInt4 files', () => {
  it('writes MatMulNBits as onnxruntime does: names, shapes, attributes, opset, float weights dropped', () => {
    const { bytes, report } = quantizeInt4(decoderLike(1), { blockSize: 32, symmetric: false, accuracyLevel: 4, minElements: 1000 });
    expect(report.quantized).toEqual(['up_proj', 'down_proj']);
    expect(report.skipped).toEqual([{ node: 'MatMul#5', reason: 'B has 256 elements, fewer than minElements' }]);
    const m = onnx.ModelProto.decode(bytes);
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toContainEqual(['com.microsoft', 1]);
    const q = m.graph!.node!.filter((n) => n.opType === 'MatMulNBits');
    expect(q.map((n) => [n.name, n.domain, n.input, n.output])).toEqual([
      ['up_proj_Q4', 'com.microsoft', ['x', 'W1_Q4', 'W1_scales', 'W1_zero_points'], ['h']],
      ['down_proj_Q4', 'com.microsoft', ['a', 'W2_Q4', 'W2_scales', 'W2_zero_points'], ['d']],
    ]);
    expect(q[1]!.attribute!.map((a) => [a.name, Number(a.i)])).toEqual([['K', 96], ['N', 64], ['accuracy_level', 4], ['bits', 4], ['block_size', 32]]);
    const dims = Object.fromEntries(m.graph!.initializer!.map((t) => [t.name, t.dims!.map(Number)]));
    expect(dims).toEqual({ Wsmall: [64, 4], W1_Q4: [96, 2, 16], W1_scales: [192], W1_zero_points: [96], W2_Q4: [64, 3, 16], W2_scales: [192], W2_zero_points: [128] });
    const sym = onnx.ModelProto.decode(quantizeInt4(decoderLike(1)).bytes);
    expect(sym.graph!.node!.filter((n) => n.opType === 'MatMulNBits').map((n) => n.input!.length)).toEqual([3, 3, 3]);
    expect(() => quantizeInt4(decoderLike(1), { blockSize: 24 })).toThrow(TesseraError);
  });

  for (const [bs, symmetric] of [[32, true], [16, false], [64, false]] as const) {
    it(`onnxruntime-web runs the q4 file (block ${bs}, ${symmetric ? 'symmetric' : 'asymmetric'}) and agrees with tessera; q4 stays near float`, async () => {
      const float = decoderLike(2 + bs);
      const { bytes } = quantizeInt4(float, { blockSize: bs, symmetric });
      const r = rng(9);
      for (const S of [1, 3, 37]) {
        const x = new Tensor('float32', Float32Array.from({ length: S * 64 }, () => 2 * r() - 1), [S, 64]);
        const ours = (await (await InferenceSession.create(bytes)).run({ x }));
        const ort = await ortRun(await ortSession(bytes), { x });
        const ref = (await (await InferenceSession.create(float)).run({ x }));
        for (const o of ['y', 'z'] as const) {
          const a = ours[o]!.data as Float32Array, b = ort[o]!.data as Float32Array, f = ref[o]!.data as Float32Array;
          let worst = 0, drift = 0, scale = 0;
          for (let i = 0; i < a.length; i++) { worst = Math.max(worst, Math.abs(a[i]! - b[i]!)); drift = Math.max(drift, Math.abs(a[i]! - f[i]!)); scale = Math.max(scale, Math.abs(f[i]!)); }
          expect(worst).toBeLessThan(2e-5 * (scale + 1));
          // 4-bit weights: a few percent of the output's range.
          expect(drift).toBeLessThan(0.08 * (scale + 1));
        }
      }
    });
  }
});
