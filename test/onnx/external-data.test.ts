/**
 * External data: tensors whose bytes live in a file beside the model. Read by path in Node and
 * from `externalData` bytes anywhere; every location, offset and length is checked, and a bad one
 * is INVALID_MODEL naming the tensor.
 */
import { mkdirSync, mkdtempSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { safeLocation } from '../../src/onnx/external-data.js';
import { DT, model, node, valueInfo } from '../helpers/onnx-builder.js';

/** y = x + w, w (4 floats) stored externally with the given entries. */
function addModel(entries: Record<string, string>, dtype = DT.FLOAT): Uint8Array {
  return model({
    nodes: [node('Add', ['x', 'w'], ['y'])],
    inputs: [valueInfo('x', dtype, [4])],
    outputs: [valueInfo('y', dtype, [4])],
    initializers: [{
      name: 'w', dims: [4], dataType: dtype, dataLocation: 1,
      externalData: Object.entries(entries).map(([key, value]) => ({ key, value })),
    }],
  });
}

const weights = new Float32Array([10, 20, 30, 40]);
/** 8 bytes of padding, then the weights. */
const dataFile = (() => {
  const b = new Uint8Array(8 + 16);
  b.set(new Uint8Array(weights.buffer), 8);
  return b;
})();

function dirWith(files: Record<string, Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ext-'));
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), bytes);
  }
  return dir;
}

const x = new Tensor('float32', new Float32Array([1, 2, 3, 4]), [4]);

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(() => undefined, (err) => err);
  expect(e, 'expected a failure').toBeDefined();
  return e;
}

describe('external data', () => {
  it('reads a tensor at an offset from the file beside the model (Node, by path)', async () => {
    const dir = dirWith({ 'm.onnx': addModel({ location: 'sub/w.bin', offset: '8', length: '16' }), 'sub/w.bin': dataFile });
    const s = await InferenceSession.create(join(dir, 'm.onnx'));
    expect(Array.from((await s.run({ x })).y!.data as Float32Array)).toEqual([11, 22, 33, 44]);
    await s.release();
  });

  it('reads it from externalData bytes (onnxruntime-web option), length defaulting to the tensor size', async () => {
    const s = await InferenceSession.create(addModel({ location: './w.bin', offset: '8' }), {
      externalData: [{ path: 'w.bin', data: dataFile.buffer as ArrayBuffer }],
    });
    expect(Array.from((await s.run({ x })).y!.data as Float32Array)).toEqual([11, 22, 33, 44]);
    await s.release();
  });

  it('reads externalData given as a path (Node) like a model', async () => {
    const dir = dirWith({ 'w.bin': dataFile });
    const s = await InferenceSession.create(addModel({ location: 'w.bin', offset: '8' }), {
      externalData: [{ path: 'w.bin', data: join(dir, 'w.bin') }],
    });
    expect(Array.from((await s.run({ x })).y!.data as Float32Array)).toEqual([11, 22, 33, 44]);
    await s.release();
  });

  it('float16 external weights', async () => {
    const half = new Uint16Array([0x3c00, 0x4000, 0x4200, 0x4400]); // 1, 2, 3, 4
    const s = await InferenceSession.create(addModel({ location: 'w.bin' }, DT.FLOAT16), {
      externalData: [{ path: 'w.bin', data: new Uint8Array(half.buffer) }],
    });
    const y = (await s.run({ x: new Tensor('float16', new Uint16Array([0x3c00, 0x3c00, 0x3c00, 0x3c00]), [4]) })).y!;
    expect(Array.from(y.data as Uint16Array)).toEqual([0x4000, 0x4200, 0x4400, 0x4500]); // 2, 3, 4, 5
    await s.release();
  });

  it.each([
    [{ location: '../w.bin' }, /initializer 'w'.*'\.\.\/w\.bin' escapes the model's directory/],
    [{ location: 'a/../../w.bin' }, /escapes the model's directory/],
    [{ location: '/etc/passwd' }, /is absolute/],
    [{ location: 'C:\\w.bin' }, /is absolute/],
    [{ location: 'w.bin', offset: '12' }, /initializer 'w'.*\[12, 28\) runs past the end of 'w\.bin' \(24 bytes\)/],
    [{ location: 'w.bin', offset: '0', length: '12' }, /initializer 'w'.*length 12 does not match the 16 bytes/],
    [{ location: 'w.bin', offset: '-1' }, /offset '-1' is not a non-negative integer/],
    [{ location: 'missing.bin' }, /initializer 'w'.*'missing\.bin' was not found/],
    [{ offset: '0' }, /initializer 'w'.*no 'location'/],
  ])('refuses %j as INVALID_MODEL naming the tensor (by path and by bytes)', async (entries, why) => {
    const bytes = addModel(entries as Record<string, string>);
    const dir = dirWith({ 'm/m.onnx': bytes, 'm/w.bin': dataFile, 'w.bin': dataFile });
    const byPath = await failure(InferenceSession.create(join(dir, 'm/m.onnx')));
    expect(byPath.code).toBe('INVALID_MODEL');
    expect(byPath.message).toMatch(why);
    const byBytes = await failure(InferenceSession.create(bytes, { externalData: [{ path: 'w.bin', data: dataFile }] }));
    expect(byBytes.code).toBe('INVALID_MODEL');
    expect(byBytes.message).toMatch(why);
  });

  it('refuses a symlink that leads out of the model directory', async () => {
    const outside = dirWith({ 'secret.bin': dataFile });
    const dir = dirWith({ 'm.onnx': addModel({ location: 'link.bin' }) });
    symlinkSync(join(outside, 'secret.bin'), join(dir, 'link.bin'));
    const e = await failure(InferenceSession.create(join(dir, 'm.onnx')));
    expect(e.code).toBe('INVALID_MODEL');
    expect(e.message).toMatch(/initializer 'w'.*'link\.bin' resolves outside the model's directory/);
  });

  it('refuses weights that cannot fit in 4 GiB of Wasm memory before allocating or reading them', async () => {
    const n = 3 * 2 ** 28; // 3 GiB of float32 each; the two together exceed wasm32's 4 GiB
    const half = (name: string, offset: number) => ({
      name, dims: [n], dataType: DT.FLOAT, dataLocation: 1,
      externalData: [{ key: 'location', value: 'big.bin' }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(n * 4) }],
    });
    const bytes = model({
      nodes: [node('Add', ['a', 'b'], ['y'])],
      inputs: [], outputs: [valueInfo('y', DT.FLOAT, [n])],
      initializers: [half('a', 0), half('b', n * 4)],
    });
    const dir = dirWith({ 'm.onnx': bytes });
    // A sparse file: its size is real, its blocks are never written or read.
    writeFileSync(join(dir, 'big.bin'), new Uint8Array(0));
    truncateSync(join(dir, 'big.bin'), n * 8);
    const e = await failure(InferenceSession.create(join(dir, 'm.onnx')));
    expect(e.code).toBe('OUT_OF_MEMORY');
    expect(e.message).toMatch(/weights need 6\.00 GiB .*can hold 4\.00 GiB.*initializer 'a'/);
  });

  it('refuses weights over maxMemoryBytes the same way', async () => {
    const s = InferenceSession.create(addModel({ location: 'w.bin', offset: '8' }), {
      externalData: [{ path: 'w.bin', data: dataFile }], maxMemoryBytes: 64 * 1024,
    });
    await expect(s).resolves.toBeDefined();
    const big = model({
      nodes: [node('Identity', ['w'], ['y'])], inputs: [], outputs: [valueInfo('y', DT.FLOAT, [65536])],
      initializers: [{ name: 'w', dims: [65536], dataType: DT.FLOAT, rawData: new Uint8Array(65536 * 4) }],
    });
    const e = await failure(InferenceSession.create(big, { maxMemoryBytes: 128 * 1024 }));
    expect(e.code).toBe('OUT_OF_MEMORY');
    expect(e.message).toMatch(/weights need 256\.1 KiB/);
  });

  it('normalises locations', () => {
    expect(safeLocation('./a/b/../w.bin', 't')).toBe('a/w.bin');
    expect(safeLocation('a\\w.bin', 't')).toBe('a/w.bin');
    expect(() => safeLocation('', 't')).toThrow(/empty/);
  });
});
