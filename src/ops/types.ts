/**
 * The contract between the planner and an operator. An op's `prepare` runs once per distinct
 * input shape: it validates attributes, infers output dtypes and shapes, and returns a builder
 * that bakes pointers into a step closure. Steps run on every inference and allocate nothing.
 */
import type { Attrs } from './attrs.js';
import type { DType, Graph, Node } from '../graph/ir.js';
import type { Kernels } from '../runtime/kernels.js';
import type { NumericArray } from '../runtime/memory.js';

export interface TensorInfo {
  dtype: DType;
  dims: number[];
}

export interface InputInfo extends TensorInfo {
  name: string;
  /**
   * The value when it is known at plan time (an initializer, a folded result, or a graph input —
   * reading a graph input's value keys the plan by it).
   */
  readonly value: NumericArray | string[] | undefined;
  /** Fixed for the session (initializer or folded): safe to pre-pack or cache across plans. */
  readonly constant: boolean;
  /** For a sequence input: the names of its element values (sequences exist only at plan time). */
  readonly sequence?: readonly string[];
}

export interface OpContext {
  readonly node: Node;
  /** The model's opset for this op's domain. */
  readonly opset: number;
  /** One entry per node input; undefined where an optional input is omitted (''). */
  readonly inputs: readonly (InputInfo | undefined)[];
  readonly attrs: Attrs;
  /** Input i or an error naming the node when it is missing. */
  input(i: number): InputInfo;
  /**
   * Threads the session's kernels may split one call between (1 when absent). Ops know nothing
   * else of threads; one whose kernel needs scratch per part of a split (attention_f32) plans that
   * many blocks.
   */
  readonly threads?: number;
  /**
   * The session's memory profile (SessionOptions.memory). 'low': keep no packed copy of a large
   * constant weight where the kernel can read it as stored (packing bands of it per run into
   * scratch instead), trading speed for footprint.
   */
  readonly memory?: 'default' | 'low';
  /** Throw a TesseraError that names this node. */
  fail(message: string, code?: 'INVALID_MODEL' | 'UNSUPPORTED_OP' | 'INVALID_ATTRIBUTE' | 'SHAPE_MISMATCH'): never;
}

/** What a step's builder gets: absolute byte addresses and the kernels. */
export interface Bound {
  readonly k: Kernels;
  readonly memory: WebAssembly.Memory;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly scratch: number;
  /** A typed view getter that survives memory growth (re-created only when the buffer changes). */
  view(dtype: DType, ptr: number, length: number): () => NumericArray;
  /**
   * The constant input at `ptr` when it is a Gather table left in the model file: its rows must be
   * `ensure`d before they are read (runtime/table-on-demand.ts). Only Gather's data input can be one.
   */
  tableAt?(ptr: number): { ensure(first: number, count?: number): void } | undefined;
  /**
   * Memory filled once and kept for the session's lifetime, keyed so that plans for other shapes
   * reuse it: pre-packed weights. `fill` writes `bytes` at the pointer it gets. `replaces`: the
   * address of the constant input this block stands for; when the session's only reader of that
   * constant is this node, its memory is freed once the block is filled (weights are then held once,
   * packed, instead of twice). `releasable`: this block may itself be replaced that way (a widened
   * float16 weight that a GEMM then packs). `inPlace`: how to pack the replaced constant within its
   * own block, with `scratchBytes` of scratch, used for weights too large to pack through a
   * temporary copy (see Engine.packOver).
   */
  persistent(key: string, bytes: number, fill: (ptr: number) => void, replaces?: number, releasable?: boolean,
    inPlace?: {
      /** Packs the weight within its own block with `scratchBytes` of scratch (when the op can). */
      scratchBytes?: number; run?(ptr: number, scratch: number): void;
      /**
       * Writes the panels from the stored matrix's rows `k0 … k0 + count − 1` held at `src` (`rowBytes`
       * each, `rows` in all), into the block at `ptr`: lets a weight not yet read from the model
       * file be packed from it a band at a time (Engine.deferWeight).
       */
      packRows?: { rows: number; rowBytes: number; run(ptr: number, src: number, k0: number, count: number): void };
    }): number;
}

export type Step = () => void;

export interface Prepared {
  outputs: TensorInfo[];
  /** Bytes of temporary memory the step needs while it runs (im2col buffers and the like). */
  scratchBytes?: number;
  /** Output 0 is input `aliasOf`'s memory reinterpreted (Reshape, Flatten, …): no step runs. */
  aliasOf?: number;
  /**
   * Computes the outputs in JavaScript at load or plan time (Constant, Shape, Range, …). The
   * planner calls it when every input is constant, or always when `dataFree` (only shapes needed).
   */
  evaluate?: (inputs: readonly (NumericArray | string[] | undefined)[]) => (NumericArray | string[])[];
  /** `evaluate` reads no input data, only the shapes known at plan time (Shape, Size). */
  dataFree?: boolean;
  build?(b: Bound): Step;
  /**
   * Replace this node by the graph's nodes (If with a condition known at plan time); the graph's
   * outputs become the node's outputs, in order. Its nodes read outer-scope values by name.
   */
  inline?: Graph;
  /** Outputs that are sequences, as the names of their element values (sequence ops). */
  sequences?: (string[] | undefined)[];
}

export interface OpDef {
  opType: string;
  /** '' for ai.onnx. */
  domain?: string;
  /** Oldest opset this implementation follows (inclusive). */
  since: number;
  /** Attributes the op understands; any other is refused loudly. */
  attributes: readonly string[];
  /** Runs only in the planner, never folded at load (sequence ops: their values are names). */
  planTime?: boolean;
  /**
   * Outputs after the first are extras that change nothing about the first (Dropout's mask): an
   * extra nothing reads is omitted ('') at load, so `prepare` sees it as absent.
   */
  optionalOutputs?: boolean;
  prepare(ctx: OpContext): Prepared;
}
