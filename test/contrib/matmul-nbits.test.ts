/**
 * com.microsoft MatMulNBits (src/ops/contrib/matmul-nbits.ts) against onnxruntime-web on the same
 * model bytes: block sizes 16 … 128, no / packed uint8 / float zero points, K not a multiple of the
 * block, M = 1, 3 (GEMV: weights dequantized in registers), 37 (prefill: dequantized panels +
 * GEMM), batched [B, S, K] inputs, bias, float16 scales, accuracy_level. Tolerance: 2e-5 of
 * Σ|x·w| per output (both engines compute in float32, in different orders; tessera's decode rows
 * on blocks of 32 … 256 with integer zero points quantize x to 16 bits per block, within that too);
 * 1e-2 for decode rows with accuracy_level 4, whose x tessera quantizes to int8 per block.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { TesseraError } from '../../src/api/errors.js';
import { floatToHalf, halfToFloat } from '../../src/onnx/float-formats.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../helpers/ort.js';
import { dequantQ4, randomQ4, type Q4 } from '../reference/q4.js';
import { rng } from '../../scripts/rng.mjs';

interface Case { K: number; N: number; bs: number; zpKind: 0 | 1 | 2; aDims: number[]; bias?: boolean; halfScales?: boolean; scales2d?: boolean; level?: number }

function build(c: Case, q: Q4, bias: Float32Array | undefined): Uint8Array {
  const inits = [
    { name: 'B', dims: [c.N, q.nb, c.bs / 2], dataType: DT.UINT8, rawData: q.w },
    c.halfScales
      ? { name: 'scales', dims: c.scales2d ? [c.N, q.nb] : [c.N * q.nb], dataType: DT.FLOAT16, rawData: new Uint8Array(Uint16Array.from(q.scales, floatToHalf).buffer) }
      : floatTensor('scales', c.scales2d ? [c.N, q.nb] : [c.N * q.nb], [...q.scales]),
  ];
  const inputs = ['A', 'B', 'scales'];
  if (c.zpKind === 1) { inits.push({ name: 'zp', dims: [c.N * Math.ceil(q.nb / 2)], dataType: DT.UINT8, rawData: q.zpBytes! }); inputs.push('zp'); }
  if (c.zpKind === 2) { inits.push(floatTensor('zp', [c.N * q.nb], [...q.zpFloat!])); inputs.push('zp'); }
  if (bias) { while (inputs.length < 5) inputs.push(''); inits.push(floatTensor('bias', [c.N], [...bias])); inputs.push('bias'); }
  const attrs: Record<string, number> = { K: c.K, N: c.N, bits: 4, block_size: c.bs };
  if (c.level !== undefined) attrs.accuracy_level = c.level;
  const t = c.halfScales ? DT.FLOAT16 : DT.FLOAT;
  return model({
    inputs: [valueInfo('A', t, c.aDims)],
    outputs: [valueInfo('Y', t, [...c.aDims.slice(0, -1), c.N])],
    initializers: inits,
    nodes: [{ ...node('MatMulNBits', inputs, ['Y'], attrs, 'q4'), domain: 'com.microsoft' }],
    extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
  });
}

async function check(c: Case, seed: number) {
  const r = rng(seed);
  const q = randomQ4(c.K, c.N, c.bs, c.zpKind, r);
  // float16 model (A, scales, Y): the reference uses the scales as float16 holds them.
  if (c.halfScales) q.scales.forEach((s, i) => { q.scales[i] = halfToFloat(floatToHalf(s)); });
  const bias = c.bias ? Float32Array.from({ length: c.N }, () => r() - 0.5) : undefined;
  const bytes = build(c, q, bias);
  const rows = c.aDims.slice(0, -1).reduce((a, b) => a * b, 1);
  const a = Float32Array.from({ length: rows * c.K }, () => 2 * r() - 1);
  if (c.halfScales) a.forEach((v, i) => { a[i] = halfToFloat(floatToHalf(v)); });
  const feeds = { A: c.halfScales ? new Tensor('float16', Uint16Array.from(a, floatToHalf), c.aDims) : new Tensor('float32', a, c.aDims) };
  const ours = await InferenceSession.create(bytes);
  const y = (await ours.run(feeds)).Y!;
  expect(y.dims).toEqual([...c.aDims.slice(0, -1), c.N]);
  const toF = (d: unknown) => (c.halfScales ? Float32Array.from(d as Uint16Array, halfToFloat) : d as Float32Array);
  const want = toF((await ortRun(await ortSession(bytes), feeds)).Y!.data);
  const W = dequantQ4(q);
  const got = toF(y.data);
  let worst = 0;
  for (let i = 0; i < rows; i++) for (let j = 0; j < c.N; j++) {
    let mag = 1e-3;
    for (let k = 0; k < c.K; k++) mag += Math.abs(a[i * c.K + k]! * W[k * c.N + j]!);
    // float16 outputs: one rounding of the result (2⁻¹¹ relative) on top.
    if (c.halfScales) mag += 1024 * Math.abs(want[i * c.N + j]!);
    worst = Math.max(worst, Math.abs(got[i * c.N + j]! - want[i * c.N + j]!) / mag);
  }
  // accuracy_level 4 decode rows: x quantized to int8 per block (onnxruntime's "int8 compute").
  // Repacked weights (bs a multiple of 32, integer zero points): int8 up to 4 rows; the general
  // path: up to 16.
  const int8Rows = c.bs % 32 === 0 && c.zpKind !== 2 ? 4 : 16;
  expect(worst).toBeLessThan(c.level === 4 && rows <= int8Rows ? 1e-2 : 2e-5);
}

describe('MatMulNBits (4-bit) vs onnxruntime-web', () => {
  const cases: Case[] = [
    { K: 64, N: 24, bs: 32, zpKind: 0, aDims: [1, 64] },
    { K: 100, N: 19, bs: 32, zpKind: 1, aDims: [1, 100], bias: true },
    { K: 160, N: 33, bs: 64, zpKind: 1, aDims: [3, 160] },
    { K: 130, N: 17, bs: 128, zpKind: 0, aDims: [37, 130] },
    { K: 96, N: 40, bs: 16, zpKind: 1, aDims: [2, 5, 96], bias: true },
    { K: 72, N: 13, bs: 32, zpKind: 2, aDims: [1, 1, 72] },
    { K: 200, N: 29, bs: 64, zpKind: 2, aDims: [37, 200], scales2d: true },
    { K: 256, N: 64, bs: 128, zpKind: 1, aDims: [2, 19, 256], level: 4 },
    { K: 160, N: 70, bs: 32, zpKind: 1, aDims: [41, 160], bias: true }, // prefill with A packed once
    { K: 100, N: 21, bs: 32, zpKind: 1, aDims: [1, 100], level: 4, bias: true },
    { K: 96, N: 9, bs: 16, zpKind: 2, aDims: [3, 96], level: 4 },
    { K: 64, N: 30, bs: 64, zpKind: 0, aDims: [1, 2, 64], level: 4 },
    { K: 96, N: 13, bs: 32, zpKind: 0, aDims: [4, 96], level: 4, bias: true },
    { K: 300, N: 21, bs: 64, zpKind: 1, aDims: [1, 7, 300], level: 4 },
    { K: 300, N: 22, bs: 128, zpKind: 1, aDims: [4, 300], bias: true }, // 16-bit x, 4 rows in one pass
    { K: 520, N: 11, bs: 256, zpKind: 0, aDims: [2, 520] },
  ];
  for (const [i, c] of cases.entries()) {
    it(`K=${c.K} N=${c.N} block=${c.bs} zp=${['none', 'uint8', 'float'][c.zpKind]} A=[${c.aDims}]${c.bias ? ' +bias' : ''}${c.level ? ` accuracy_level=${c.level}` : ''}`, () => check(c, 40 + i));
  }

  for (const level of [4, 0]) it(`accuracy_level ${level} holds the weights once (repacked, the originals freed) and every row count agrees`, async () => {
    // One session, plans for 1, 3, 37, 9 and again 1 rows: decode rows (≤ 4) run the int8 (level
    // 4) or 16-bit-x (level 0) GEMV on the repacked weights, more rows dequantize the repacked
    // weights for the f32 GEMM (float32 arithmetic, held to the float tolerance).
    const K = 160, N = 38, bs = 32;
    const q = randomQ4(K, N, bs, 1, rng(77));
    const bytes = build({ K, N, bs, zpKind: 1, aDims: ['S', K] as unknown as number[], level }, q, undefined);
    const ours = await InferenceSession.create(bytes);
    const ort = await ortSession(bytes);
    const W = dequantQ4(q);
    const r = rng(78);
    for (const rows of [1, 3, 37, 9, 1]) {
      const a = Float32Array.from({ length: rows * K }, () => 2 * r() - 1);
      const feeds = { A: new Tensor('float32', a, [rows, K]) };
      const got = (await ours.run(feeds)).Y!.data as Float32Array;
      const want = (await ortRun(ort, feeds)).Y!.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < rows; i++) for (let j = 0; j < N; j++) {
        let mag = 1e-3;
        for (let k = 0; k < K; k++) mag += Math.abs(a[i * K + k]! * W[k * N + j]!);
        worst = Math.max(worst, Math.abs(got[i * N + j]! - want[i * N + j]!) / mag);
      }
      expect(worst, `${rows} rows`).toBeLessThan(rows <= 4 && level === 4 ? 1e-2 : 2e-5);
      const consts = (ours as unknown as { graph: { consts: Map<string, { released?: boolean }> } }).graph.consts;
      for (const name of ['B', 'scales', 'zp']) expect(consts.get(name)?.released, name).toBe(true);
    }
    await ours.release();
  });

  it('float16 model (A, scales, Y float16) widens to float32 and agrees', () => check({ K: 64, N: 16, bs: 32, zpKind: 1, aDims: [1, 64], halfScales: true }, 7));

  it('refuses bits ≠ 4 and a mismatched B with codes', async () => {
    const q = randomQ4(64, 8, 32, 0, rng(1));
    const good = build({ K: 64, N: 8, bs: 32, zpKind: 0, aDims: [1, 64] }, q, undefined);
    await expect(InferenceSession.create(good)).resolves.toBeDefined();
    const bad = build({ K: 64, N: 9, bs: 32, zpKind: 0, aDims: [1, 64] }, q, undefined);
    await expect(InferenceSession.create(bad).then((s) => s.run({ A: new Tensor('float32', new Float32Array(64), [1, 64]) }))).rejects.toThrow(TesseraError);
  });
});
