/**
 * scripts/make-decoder.mjs writes the bench's large decoder without Python, so its quantizers are
 * JavaScript ports of the Python tools that made the committed small files. Applied to the
 * committed tiny-qwen3 fp32 graph they must reproduce, byte for byte, every quantized weight of
 * the Python-made model_quantized.onnx / model_q4.onnx and the same nodes. (The fp32 file reads
 * its tied lm_head through a Transpose, so lm_head's MatMul is the one node the ports leave float
 * here; the Python files were made from torch's folded graph where it is an initializer.)
 * tessera's own `quantizeInt4` (src/quantize/int4.ts) must agree with the Python q4 files too:
 * two independent readings of onnxruntime's MatMul4BitsQuantizer.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { quantizeQ4, quantizeQ8 } from '../../scripts/make-decoder.mjs';
import { quantizeInt4 } from '../../src/quantize/index.js';

const { onnx } = onnxProto;
const dir = fileURLToPath(new URL('../../models/decoders/tiny-qwen3/onnx/', import.meta.url));
const load = (f: string): onnxProto.onnx.ModelProto => onnx.ModelProto.decode(readFileSync(`${dir}${f}`));
const nodes = (m: onnxProto.onnx.ModelProto): onnxProto.onnx.INodeProto[] => m.graph!.node!;
const inits = (m: onnxProto.onnx.ModelProto): onnxProto.onnx.ITensorProto[] => m.graph!.initializer!;
const bytes = (t: onnxProto.onnx.ITensorProto): string => Buffer.from(t.rawData ?? new Uint8Array(0)).toString('base64');

describe.each([
  { name: 'q8', file: 'model_quantized.onnx', quantize: quantizeQ8, op: 'MatMulInteger' },
  { name: 'q4', file: 'model_q4.onnx', quantize: quantizeQ4, op: 'MatMulNBits' },
])('make-decoder.mjs $name port', ({ file, quantize, op }) => {
  it(`reproduces the Python tool's ${op} weights and nodes on tiny-qwen3`, () => {
    const js = quantize(load('model.onnx'));
    const py = load(file);
    const pyInits = new Map(inits(py).map((t) => [t.name!, t]));
    const jsQuant = inits(js).filter((t) => /_(quantized|scale|zero_point|Q4|scales)$/.test(t.name!));
    expect(jsQuant.length).toBeGreaterThan(10);
    for (const t of jsQuant) {
      const p = pyInits.get(t.name!);
      expect(p, t.name!).toBeDefined();
      expect(t.dataType, t.name!).toBe(p!.dataType);
      expect(t.dims!.map(Number), t.name!).toEqual(p!.dims!.map(Number));
      expect(bytes(t), t.name!).toBe(bytes(p!));
    }
    const count = (m: onnxProto.onnx.ModelProto): number => nodes(m).filter((n) => n.opType === op).length;
    expect(count(js)).toBe(count(py) - 1); // all but the tied lm_head
    const key = (n: onnxProto.onnx.INodeProto): string => `${n.opType} ${n.input!.join(',')} → ${n.output!.join(',')}`;
    const pyNodes = new Set(nodes(py).map(key));
    const layerNodes = nodes(js).filter((n) => n.opType === op && !n.output![0]!.includes('lm_head'));
    for (const n of layerNodes) expect(pyNodes.has(key(n)), key(n)).toBe(true);
  });
});

describe("tessera's quantizeInt4 and the Python q4 files", () => {
  it.each([
    { folder: 'tiny-qwen3', blockSize: 32, symmetric: true },
    { folder: 'tiny-llama', blockSize: 64, symmetric: false },
  ])('$folder (block $blockSize, symmetric $symmetric): every MatMulNBits weight, scale and zero point byte-identical', ({ folder, blockSize, symmetric }) => {
    const at = (f: string): string => fileURLToPath(new URL(`../../models/decoders/${folder}/onnx/${f}`, import.meta.url));
    const ours = onnx.ModelProto.decode(quantizeInt4(readFileSync(at('model.onnx')), { blockSize, symmetric }).bytes);
    const python = new Map(inits(onnx.ModelProto.decode(readFileSync(at('model_q4.onnx')))).map((t) => [t.name!, t]));
    const q4 = inits(ours).filter((t) => /_(Q4|scales|zero_points)$/.test(t.name!));
    expect(q4.length).toBeGreaterThanOrEqual(symmetric ? 28 : 42);
    for (const t of q4) expect(bytes(t), t.name!).toBe(bytes(python.get(t.name!) ?? {}));
  });
});
