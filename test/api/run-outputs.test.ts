/**
 * A run's outputs are copies the caller owns: each in an ArrayBuffer of its own (not a view of the
 * session's Wasm memory, not a slice of a shared pool), unchanged by later runs, and free to write.
 * Large outputs are copied into memory that is not zero-filled first (platform.uninitializedBuffer),
 * small ones by slice(): both paths, float and int64.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { DT, model, node, valueInfo } from '../helpers/onnx-builder.js';

// y = x + x, z = Cast<int64>(x): outputs of n elements each.
function doubler(n: number): Uint8Array {
  return model({
    nodes: [node('Add', ['x', 'x'], ['y']), node('Cast', ['x'], ['z'], { to: DT.INT64 })],
    inputs: [valueInfo('x', DT.FLOAT, [n])],
    outputs: [valueInfo('y', DT.FLOAT, [n]), valueInfo('z', DT.INT64, [n])],
  });
}

describe('run outputs', () => {
  for (const n of [5, 100_003]) {
    it(`${n} elements: own buffers, exact values, untouched by the next run`, async () => {
      const s = await InferenceSession.create(doubler(n));
      const x1 = Float32Array.from({ length: n }, (_, i) => (i % 1000) - 500);
      const a = await s.run({ x: new Tensor('float32', x1, [n]) });
      const y1 = a.y!.data as Float32Array, z1 = a.z!.data as BigInt64Array;
      for (const d of [y1, z1]) {
        expect(d.byteOffset).toBe(0);
        expect(d.buffer.byteLength).toBe(d.byteLength);
        expect(d.buffer).not.toBeInstanceOf(SharedArrayBuffer);
      }
      expect(y1.length).toBe(n);
      for (let i = 0; i < n; i++) {
        if (y1[i] !== 2 * x1[i]! || z1[i] !== BigInt(x1[i]!)) throw new Error(`element ${i}: y ${y1[i]}, z ${z1[i]} for x ${x1[i]}`);
      }
      const keepY = y1.slice(), keepZ = z1.slice();
      const b = await s.run({ x: new Tensor('float32', x1.map((v) => v + 1), [n]) });
      expect(y1).toEqual(keepY); // a view of the Wasm memory would now hold the second run's values
      expect(z1).toEqual(keepZ);
      expect((b.y!.data as Float32Array)[n - 1]).toBe(2 * (x1[n - 1]! + 1));
      // Writing to one run's output reaches neither the session nor the next run's output.
      (b.y!.data as Float32Array).fill(7);
      const c = await s.run({ x: new Tensor('float32', x1, [n]) });
      expect(c.y!.data).toEqual(keepY);
      await s.release();
    });
  }
});

describe('preallocated fetches (onnxruntime-web: run(feeds, { name: tensor | null }))', () => {
  const n = 1000;
  const xOf = (k: number) => new Tensor('float32', Float32Array.from({ length: n }, (_, i) => i - k), [n]);
  it('writes into the given tensor and returns it; null gives a new one; other outputs are not fetched', async () => {
    const s = await InferenceSession.create(doubler(n));
    const y = new Tensor('float32', new Float32Array(n), [n]);
    const a = await s.run({ x: xOf(3) }, { y });
    expect(Object.keys(a)).toEqual(['y']);
    expect(a.y).toBe(y);
    expect((y.data as Float32Array)[10]).toBe(14);
    const b = await s.run({ x: xOf(5) }, { y, z: null }, { profile: true });
    expect(b.y).toBe(y);
    expect((y.data as Float32Array)[10]).toBe(10);
    expect((b.z!.data as BigInt64Array)[10]).toBe(5n);
    expect(s.lastProfile).toBeDefined(); // the options after a fetches map are read
    await s.release();
  });
  it('refuses a tensor of the wrong type or dims, or an unknown output, naming it', async () => {
    const s = await InferenceSession.create(doubler(n));
    await expect(s.run({ x: xOf(0) }, { y: new Tensor('float32', new Float32Array(n + 1), [n + 1]) })).rejects.toThrow(/fetches\['y'\] is float32 \[1001\], but this run's output is float32 \[1000\]/);
    await expect(s.run({ x: xOf(0) }, { z: new Tensor('float32', new Float32Array(n), [n]) })).rejects.toThrow(/fetches\['z'\] is float32.*int64/);
    await expect(s.run({ x: xOf(0) }, { y: null, w: null })).rejects.toThrow(/Unknown output 'w'/);
    await s.release();
  });
});
