/** Input specs on the command line: `name=file.npy`, `name=file.json`, `name=random[:1x3x224x224]`. */
import { readFileSync } from 'node:fs';
import { TesseraError } from '../api/errors.js';
import { TYPED_ARRAY, Tensor, type TensorType } from '../api/tensor.js';
import type { ValueInfo } from '../graph/ir.js';
import { readNpy } from './npy.js';

export function parseDims(text: string): number[] {
  return text.split(/[x,×]/).map((d) => {
    const n = Number(d);
    if (!Number.isInteger(n) || n < 0) throw new TesseraError('INVALID_ARGUMENT', `'${text}' is not a list of dims like 1x3x224x224`);
    return n;
  });
}

/** Dims for an input: given ones win; symbolic dims default to 1. */
export function concreteDims(v: ValueInfo, given?: number[]): number[] {
  if (given) return given;
  if (!v.shape) throw new TesseraError('INVALID_ARGUMENT', `input '${v.name}' has no declared shape; give one, e.g. --input ${v.name}=random:1x3x224x224`);
  return v.shape.map((d) => (typeof d === 'number' ? d : 1));
}

/** Deterministic pseudo-random data, so two runs (and two engines) see the same input. */
export function randomTensor(type: TensorType, dims: number[], seed = 1): Tensor {
  let s = seed >>> 0 || 1;
  const next = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) / 4294967296; };
  const size = dims.reduce((a, b) => a * b, 1);
  if (type === 'string') return new Tensor('string', Array.from({ length: size }, () => ''), dims);
  const data = new TYPED_ARRAY[type](size) as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < size; i++) {
    const r = next();
    if (type === 'int64' || type === 'uint64') data[i] = BigInt(Math.floor(r * 10));
    else if (type === 'bool') data[i] = r < 0.5 ? 0 : 1;
    else if (type.startsWith('float')) data[i] = type === 'float16' ? 0x3c00 : r * 2 - 1;
    else data[i] = Math.floor(r * 10);
  }
  return new Tensor(type, data as never, dims);
}

export function feedFromSpec(spec: string, v: ValueInfo): Tensor {
  const type = (v.dtype ?? 'float32') as TensorType;
  if (spec === 'random' || spec.startsWith('random:')) {
    return randomTensor(type, concreteDims(v, spec.startsWith('random:') ? parseDims(spec.slice(7)) : undefined));
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(spec);
  } catch (e) {
    throw new TesseraError('INVALID_ARGUMENT', `cannot read '${spec}' for input '${v.name}': ${(e as Error).message}`);
  }
  if (spec.endsWith('.npy')) return readNpy(bytes, spec);
  if (spec.endsWith('.json')) {
    const value = JSON.parse(new TextDecoder().decode(bytes));
    const dims: number[] = [];
    for (let x = value; Array.isArray(x); x = x[0]) dims.push(x.length);
    const flat = (dims.length ? value.flat(Infinity) : [value]) as number[];
    return new Tensor(type, flat as never, dims);
  }
  throw new TesseraError('INVALID_ARGUMENT', `input file '${spec}' must be .npy or .json (or use random[:dims])`);
}
