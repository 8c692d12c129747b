/** Checks a run's feeds against the model's inputs and orders them like `inputNames`. */
import type { ValueInfo } from '../graph/ir.js';
import { TesseraError } from './errors.js';
import { Tensor } from './tensor.js';

export function validateFeeds(feeds: Record<string, Tensor>, inputs: readonly ValueInfo[]): Tensor[] {
  if (typeof feeds !== 'object' || feeds === null) {
    throw new TesseraError('INVALID_FEED', `run() takes an object mapping input names to Tensors; inputs are ${names(inputs)}`);
  }
  const known = new Set(inputs.map((v) => v.name));
  for (const key of Object.keys(feeds)) {
    if (!known.has(key)) throw new TesseraError('INVALID_FEED', `Unknown input '${key}'; the model's inputs are ${names(inputs)}`);
  }
  const symbols = new Map<string, { value: number; input: string }>();
  return inputs.map((v) => {
    if (!Object.prototype.hasOwnProperty.call(feeds, v.name)) {
      throw new TesseraError('INVALID_FEED', `Missing input '${v.name}'${describe(v)}`);
    }
    const t: unknown = feeds[v.name];
    if (!(t instanceof Tensor) && !looksLikeTensor(t)) {
      throw new TesseraError('INVALID_FEED', `Input '${v.name}' must be a Tensor`);
    }
    // A Tensor from another copy of the library (or onnxruntime-web's) is accepted by shape; what
    // the Tensor constructor finds wrong with it (dims, data, type) is this input's fault.
    let tensor: Tensor;
    try {
      tensor = t instanceof Tensor ? t : new Tensor((t as Tensor).type, (t as Tensor).data as never, Array.from((t as Tensor).dims));
    } catch (e) {
      throw new TesseraError('INVALID_FEED', `Input '${v.name}': ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    if (v.dtype && tensor.type !== v.dtype) {
      throw new TesseraError('INVALID_FEED', `Input '${v.name}' expects ${v.dtype} but got ${tensor.type}`);
    }
    if (tensor.data.length !== tensor.size) {
      throw new TesseraError('INVALID_FEED', `Input '${v.name}' has ${tensor.data.length} values but dims [${tensor.dims.join(', ')}] need ${tensor.size}`);
    }
    if (v.shape) {
      if (v.shape.length !== tensor.dims.length) {
        throw new TesseraError('INVALID_FEED', `Input '${v.name}' expects rank ${v.shape.length} ${shapeText(v.shape)} but got dims [${tensor.dims.join(', ')}]`);
      }
      v.shape.forEach((d, i) => {
        const got = tensor.dims[i]!;
        if (typeof d === 'number' && d !== got) {
          throw new TesseraError('INVALID_FEED', `Input '${v.name}' expects dim ${i} to be ${d} ${shapeText(v.shape!)} but got dims [${tensor.dims.join(', ')}]`);
        }
        if (typeof d === 'string') {
          const seen = symbols.get(d);
          if (seen && seen.value !== got) {
            throw new TesseraError('INVALID_FEED', `Dimension '${d}' is ${seen.value} in input '${seen.input}' but ${got} in input '${v.name}'`);
          }
          symbols.set(d, { value: got, input: v.name });
        }
      });
    }
    return tensor;
  });
}

function looksLikeTensor(t: unknown): t is Tensor {
  return typeof t === 'object' && t !== null && 'type' in t && 'data' in t && 'dims' in t && Array.isArray((t as { dims: unknown }).dims);
}

function shapeText(shape: readonly (number | string | undefined)[]): string {
  return `[${shape.map((d) => d ?? '?').join(', ')}]`;
}

function describe(v: ValueInfo): string {
  return v.dtype ? ` (${v.dtype}${v.shape ? ` ${shapeText(v.shape)}` : ''})` : '';
}

function names(inputs: readonly ValueInfo[]): string {
  return inputs.map((v) => `'${v.name}'${describe(v)}`).join(', ') || '(none)';
}
