/**
 * tessera's graph IR: what the ONNX decoder produces and the passes and planner consume.
 * Plain data, no behaviour: a pass is a function Graph → Graph.
 */
import type { TensorType } from '../api/tensor.js';

export type DType = TensorType;

/** A dimension: a number when known, a name (`'batch'`) when symbolic, undefined when unknown. */
export type Dim = number | string | undefined;

/** A constant tensor (initializer, Constant node, or a folded value). Data is owned or a view. */
export interface ConstTensor {
  dtype: DType;
  dims: number[];
  data: ArrayLike<number> | ArrayLike<bigint> | string[];
  /**
   * The values' bytes exactly as Wasm memory holds them (raw_data, any alignment), so loading
   * copies them in once without making a typed array; `data` is then made only if something reads it.
   */
  raw?: Uint8Array;
  /** External data read straight into Wasm memory (Node, by path): no copy of the tensor in JS. */
  readInto?: (dest: Uint8Array) => void;
  /**
   * Reads `dest.length` of the stored bytes from byte `at` of them, at any time while the session
   * lives (a model file kept open): lets a large Gather table be read a row at a time on first use.
   */
  readRange?: (dest: Uint8Array, at: number) => void;
  /** The bytes already sit in a Wasm heap block (a streamed load): the load step adopts it, no copy. */
  resident?: { owner: unknown; ptr: number; bytes: number; adopted?: boolean };
}

export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: ConstTensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: ConstTensor[] }
  | { type: 'graphs'; value: Graph[] };

export interface Node {
  name: string;
  opType: string;
  domain: string;
  /** Input value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeValue>;
}

export interface ValueInfo {
  name: string;
  dtype: DType | undefined;
  /** undefined when the model does not say (rank unknown). */
  shape: Dim[] | undefined;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, ConstTensor>;
}

export interface Model {
  irVersion: number;
  producer: string;
  /** domain ('' for ai.onnx) → opset version */
  opsets: Map<string, number>;
  graph: Graph;
  metadata: Map<string, string>;
}

export const ONNX_DOMAIN = '';
export function normalizeDomain(domain: string): string {
  return domain === 'ai.onnx' ? '' : domain;
}
