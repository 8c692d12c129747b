/** The `tessera` command as a user runs it: the built dist/cli/tessera.js in a child process. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/api/tensor.js';
import { readNpy, writeNpy } from '../../src/cli/npy.js';
import { DT, model, node, valueInfo } from '../helpers/onnx-builder.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/cli/tessera.js');
const mnist = join(root, 'models/mnist/mnist-cnn.onnx');
const tessera = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });

describe('.npy', () => {
  it('round-trips every numeric type and shape', () => {
    for (const t of [
      new Tensor('float32', Float32Array.of(1.5, -2, 3, 4, 5, 6), [2, 3]),
      new Tensor('int64', BigInt64Array.of(1n, -2n, 3n), [3]),
      new Tensor('uint8', Uint8Array.of(7), []),
      new Tensor('bool', Uint8Array.of(1, 0), [2, 1]),
      new Tensor('float64', new Float64Array(0), [0, 4]),
    ]) {
      const back = readNpy(writeNpy(t));
      expect(back.type).toBe(t.type);
      expect(back.dims).toEqual(t.dims);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(t.data as ArrayLike<unknown>));
    }
  });

  it('refuses Fortran order and foreign bytes with a clear message', () => {
    const f = writeNpy(new Tensor('float32', Float32Array.of(1, 2), [2]));
    const text = new TextDecoder('latin1').decode(f).replace("'fortran_order': False", "'fortran_order': True ");
    expect(() => readNpy(Uint8Array.from(text, (c) => c.charCodeAt(0)))).toThrow(/Fortran order/);
    expect(() => readNpy(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11))).toThrow(/not a .npy file/);
  });
});

describe('tessera CLI', () => {
  it('inspects a model', () => {
    const r = tessera('inspect', mnist, '--json', '--shape', 'input=8x1x28x28');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.inputs).toEqual([{ name: 'input', type: 'float32', shape: '[batch, 1, 28, 28]' }]);
    expect(j.ops).toMatchObject({ Conv: 3, Relu: 4, MaxPool: 2, Gemm: 2 });
    expect(j.unsupported).toEqual([]);
    expect(j.parameters.count).toBe(93322);
    // conv1 26·26·32·9 + conv2 11·11·64·288 + conv3 3·3·64·576 + dense 576·64 + 64·10 multiply-adds per image.
    const perImage = 2 * (26 * 26 * 32 * 9 + 11 * 11 * 64 * 288 + 3 * 3 * 64 * 576 + 576 * 64 + 64 * 10);
    expect(j.flops.total).toBe(8 * perImage);
  });

  it('runs a model on an .npy input and writes the output as .npy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    const images = readFileSync(join(root, 'models/mnist/heldout-images.u8'));
    const x = new Float32Array(784).map((_, i) => images[i]! / 255);
    writeFileSync(join(dir, 'x.npy'), writeNpy(new Tensor('float32', x, [1, 1, 28, 28])));
    const r = tessera('run', mnist, '--input', `input=${join(dir, 'x.npy')}`, '--output', join(dir, 'y.npy'), '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const label = readFileSync(join(root, 'models/mnist/heldout-labels.u8'))[0];
    expect(j.outputs[0].top[0].index).toBe(label);
    const y = readNpy(readFileSync(join(dir, 'y.npy')));
    expect(y.dims).toEqual([1, 10]);
    expect((y.data as Float32Array)[label!]).toBeCloseTo(j.outputs[0].top[0].value, 6);
  });

  it('benchmarks with a profile that reconciles with wall time', () => {
    const out = execFileSync(process.execPath, [cli, 'bench', mnist, '--runs', '5', '--warmup', '1', '--profile', '--json'], { cwd: root, encoding: 'utf8' });
    const j = JSON.parse(out);
    expect(j.tessera.p50).toBeGreaterThan(0);
    const inNodes = j.profile.nodes.reduce((a: number, n: { ms: number }) => a + n.ms, 0);
    expect(inNodes).toBeLessThanOrEqual(j.profile.totalMs);
    // Sorted slowest first; which node that is depends on the machine, so only the set is checked.
    expect(j.profile.nodes.map((n: { opType: string }) => n.opType).sort()).toEqual(['FusedConv', 'FusedConv', 'FusedConv', 'FusedGemm', 'Gemm', 'MaxPool', 'MaxPool', 'Softmax']);
    expect(j.profile.nodes.every((n: { ms: number }, i: number, a: { ms: number }[]) => i === 0 || a[i - 1]!.ms >= n.ms)).toBe(true);
  });

  it('quantizes a model to int8 that then runs and classifies the same digit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    const out = join(dir, 'mnist-int8.onnx');
    const q = tessera('quantize', mnist, out, '--per-channel', '--json');
    expect(q.status, q.stderr).toBe(0);
    const report = JSON.parse(q.stdout);
    expect(report.quantized).toHaveLength(2);
    expect(report.bytesAfter).toBeLessThan(report.bytesBefore);
    const ops = JSON.parse(tessera('inspect', out, '--json').stdout).ops;
    expect(ops).toMatchObject({ DynamicQuantizeLinear: 2, MatMulInteger: 2, Cast: 2 });
    expect(ops.Gemm).toBeUndefined();
    const r = tessera('run', out, '--json', '--input', 'input=random:2x1x28x28');
    expect(r.status, r.stderr).toBe(0);
    expect(tessera('quantize', mnist).status).toBe(2);
  });

  it('quantizes MatMul weights to 4-bit MatMulNBits (--int4) that then run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    const src = join(dir, 'mm.onnx'), out = join(dir, 'mm-q4.onnx');
    writeFileSync(src, model({
      inputs: [valueInfo('x', DT.FLOAT, [1, 40])], outputs: [valueInfo('y', DT.FLOAT, [1, 8])],
      initializers: [{ name: 'W', dims: [40, 8], dataType: DT.FLOAT, rawData: new Uint8Array(Float32Array.from({ length: 320 }, (_, i) => Math.sin(i)).buffer) }],
      nodes: [node('MatMul', ['x', 'W'], ['y'], {}, 'proj')],
    }));
    const q = tessera('quantize', src, out, '--int4', '--block-size', '16', '--asymmetric', '--accuracy-level', '4', '--json');
    expect(q.status, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout).quantized).toEqual(['proj']);
    expect(JSON.parse(tessera('inspect', out, '--json').stdout).ops).toEqual({ 'com.microsoft.MatMulNBits': 1 });
    expect(tessera('run', out, '--json').status).toBe(0);
    expect(tessera('quantize', src, out, '--int4', '--block-size', '24').status).toBe(2);
    expect(tessera('quantize', src, out, '--asymmetric').status).toBe(2);
  });

  it('fails with a named error and exit 1 on a broken model, exit 2 on bad usage', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    writeFileSync(join(dir, 'bad.onnx'), Uint8Array.of(8, 1, 18, 200));
    const bad = tessera('inspect', join(dir, 'bad.onnx'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/INVALID_MODEL/);
    expect(tessera('frobnicate').status).toBe(2);
    expect(tessera('run', mnist, '--input', 'nope=random').stderr).toMatch(/unknown input\(s\) nope/);
  });

  it('counts op types and inputs named like Object.prototype members as plain names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    const file = join(dir, 'proto.onnx');
    writeFileSync(file, model({
      nodes: [node('Relu', ['__proto__'], ['a']), node('__proto__', ['a'], ['constructor'], {}, 'evil')],
      inputs: [valueInfo('__proto__', DT.FLOAT, ['n', 3])],
      outputs: [valueInfo('constructor', DT.FLOAT, ['n', 3])],
    }));
    const r = tessera('inspect', file, '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.entries(j.ops)).toEqual([['Relu', 1], ['__proto__', 1]]);
    expect(j.unsupported).toHaveLength(1);
    expect(j.unsupported[0]).toMatch(/evil/);
  });
});
