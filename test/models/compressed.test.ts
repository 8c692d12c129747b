/**
 * The MNIST CNN stored compressed (models/mnist/compress.py): all-float16 (`model.half()`),
 * float16 weights with float32 I/O, float16 bits in int32_data, and external data. Each must give
 * the float32 original's answers: fp16 within what rounding the weights to fp16 moves them, and
 * the same as onnxruntime-web on the same fp16 model.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { halfToFloat, floatToHalf } from '../../src/onnx/float-formats.js';
import { batchOf, heldout, mnistModelPath } from '../helpers/mnist.js';
import { ortRun, ortSession } from '../helpers/ort.js';

const dir = mnistModelPath.replace(/mnist-cnn\.onnx$/, '');
const N = 64;
const data = heldout();
const pixels = batchOf(data.images, 0, N);
const asHalf = (f: Float32Array) => Uint16Array.from(f, floatToHalf);
const fromHalf = (h: Uint16Array) => Float32Array.from(h, halfToFloat);

function worst(a: Float32Array, b: Float32Array): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!));
  return w;
}

function argmaxes(p: Float32Array): number[] {
  const out: number[] = [];
  for (let r = 0; r < p.length / 10; r++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (p[r * 10 + c]! > p[r * 10 + best]!) best = c;
    out.push(best);
  }
  return out;
}

describe('compressed MNIST models', () => {
  let fp32: Float32Array;

  beforeAll(async () => {
    const s = await InferenceSession.create(mnistModelPath);
    fp32 = (await s.run({ input: new Tensor('float32', pixels, [N, 1, 28, 28]) })).probabilities!.data as Float32Array;
    await s.release();
  });

  it('all-float16 (model.half()): float16 in and out, same digits, within fp16 rounding of fp32', async () => {
    const s = await InferenceSession.create(`${dir}mnist-cnn-fp16.onnx`);
    expect(s.inputMetadata[0]!.type).toBe('float16');
    const out = (await s.run({ input: new Tensor('float16', asHalf(pixels), [N, 1, 28, 28]) })).probabilities!;
    expect(out.type).toBe('float16');
    expect(out.data).toBeInstanceOf(Uint16Array);
    const probs = fromHalf(out.data as Uint16Array);
    expect(worst(probs, fp32)).toBeLessThan(5e-3);
    expect(argmaxes(probs)).toEqual(argmaxes(fp32));
    await s.release();
  });

  it('all-float16 matches onnxruntime-web on the same fp16 model', async () => {
    const bytes = readFileSync(`${dir}mnist-cnn-fp16.onnx`);
    const s = await InferenceSession.create(bytes);
    const input = new Tensor('float16', asHalf(pixels), [N, 1, 28, 28]);
    const ours = fromHalf((await s.run({ input })).probabilities!.data as Uint16Array);
    const theirs = (await ortRun(await ortSession(bytes), { input })).probabilities!;
    expect(theirs.type).toBe('float16');
    // onnxruntime computes in float16 between ops; tessera keeps float32 inside each op.
    expect(worst(ours, fromHalf(theirs.data as Uint16Array))).toBeLessThan(5e-3);
    await s.release();
  });

  it('float16 bits in int32_data decode like raw_data', async () => {
    const a = await InferenceSession.create(`${dir}mnist-cnn-fp16.onnx`);
    const b = await InferenceSession.create(`${dir}mnist-cnn-fp16-int32.onnx`);
    const input = new Tensor('float16', asHalf(pixels), [N, 1, 28, 28]);
    expect((await b.run({ input })).probabilities!.data).toEqual((await a.run({ input })).probabilities!.data);
    await a.release();
    await b.release();
  });

  it('float16 weights with float32 I/O: weights widened once at load, within fp16 rounding', async () => {
    const s = await InferenceSession.create(`${dir}mnist-cnn-fp16-weights.onnx`);
    const out = (await s.run({ input: new Tensor('float32', pixels, [N, 1, 28, 28]) })).probabilities!;
    expect(out.type).toBe('float32');
    const p = out.data as Float32Array;
    expect(worst(p, fp32)).toBeLessThan(2e-3);
    expect(argmaxes(p)).toEqual(argmaxes(fp32));
    // The Casts were folded at load: only the fp32 network's 13 steps run.
    await s.run({ input: new Tensor('float32', pixels, [N, 1, 28, 28]) }, { profile: true });
    expect(s.lastProfile!.nodes.some((n) => n.opType === 'Cast')).toBe(false);
    await s.release();
  });

  it('external data: by path in Node, and by bytes as onnxruntime-web takes it, equal to the original', async () => {
    const byPath = await InferenceSession.create(`${dir}mnist-cnn-external.onnx`);
    const byBytes = await InferenceSession.create(readFileSync(`${dir}mnist-cnn-external.onnx`), {
      externalData: [{ path: 'mnist-cnn-external.onnx_data', data: readFileSync(`${dir}mnist-cnn-external.onnx_data`) }],
    });
    const input = new Tensor('float32', pixels, [N, 1, 28, 28]);
    expect((await byPath.run({ input })).probabilities!.data).toEqual(fp32);
    expect((await byBytes.run({ input })).probabilities!.data).toEqual(fp32);
    await byPath.release();
    await byBytes.release();
  });

  it('external data given as bytes without the file names it in the error', async () => {
    const err = await InferenceSession.create(readFileSync(`${dir}mnist-cnn-external.onnx`)).catch((e) => e);
    expect(err.code).toBe('INVALID_MODEL');
    expect(err.message).toMatch(/initializer '0\.weight'.*mnist-cnn-external\.onnx_data.*externalData/);
  });
});
