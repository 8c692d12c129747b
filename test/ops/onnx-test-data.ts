/** Reads ONNX backend test cases: <case>/model.onnx and <case>/test_data_set_N/{input,output}_K.pb. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { Tensor } from '../../src/api/tensor.js';
import { decodeTensorProto, type TensorProtoLike } from '../../src/onnx/tensor-proto.js';

export const ONNX_TESTS = process.env.TESSERA_ONNX_TESTS ?? join(__dirname, '../../../shared/onnx-tests');
export const SUITES = ['node', 'light', 'simple', 'pytorch-converted', 'pytorch-operator'] as const;

export interface TestCase {
  suite: string;
  name: string;
  dir: string;
}

export function listCases(): TestCase[] {
  const cases: TestCase[] = [];
  for (const suite of SUITES) {
    const root = join(ONNX_TESTS, suite);
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      const dir = join(root, name);
      if (existsSync(join(dir, 'model.onnx'))) cases.push({ suite, name, dir });
    }
  }
  return cases;
}

function readTensors(dir: string, prefix: string): Tensor[] {
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
  return files.map((f) => {
    const proto = onnxProto.onnx.TensorProto.decode(readFileSync(join(dir, f)));
    const t = decodeTensorProto(proto as TensorProtoLike, f);
    const data = t.dtype === 'string' ? (t.data as string[]) : t.data;
    return new Tensor(t.dtype, (ArrayBuffer.isView(data) ? (data as unknown as Float32Array).slice() : data) as never, t.dims);
  });
}

export function dataSets(c: TestCase): { inputs: Tensor[]; outputs: Tensor[] }[] {
  return readdirSync(c.dir).filter((d) => d.startsWith('test_data_set_')).sort().map((d) => ({
    inputs: readTensors(join(c.dir, d), 'input_'),
    outputs: readTensors(join(c.dir, d), 'output_'),
  }));
}

/** ONNX's comparison: |a − b| ≤ atol + rtol·|b|, NaN equal to NaN, exact for integers and strings. */
export function compare(got: Tensor, want: Tensor, rtol = 1e-3, atol = 1e-5): string | undefined {
  if (got.type !== want.type) return `type ${got.type}, expected ${want.type}`;
  if (got.dims.join() !== want.dims.join()) return `dims [${got.dims}], expected [${want.dims}]`;
  const a = got.data as ArrayLike<number | bigint | string>, b = want.data as ArrayLike<number | bigint | string>;
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (typeof y === 'number' && typeof x === 'number') {
      if (Number.isNaN(y) && Number.isNaN(x)) continue;
      if (x === y) continue;
      if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return `element ${i}: ${x}, expected ${y}`;
    } else if (x !== y) {
      return `element ${i}: ${String(x)}, expected ${String(y)}`;
    }
  }
  return undefined;
}
