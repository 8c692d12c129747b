/**
 * Computes an output only at the rows a caller needs. A masked language model's head (dense →
 * GELU → LayerNorm → vocabulary projection, 30,522 wide for bert-base) runs on every token, yet
 * fill-mask reads only the [MASK] rows. Every op of that head works on each token independently,
 * so gathering the wanted rows first gives the same numbers for those rows at a fraction of the
 * cost.
 *
 * The pass finds, structurally, the largest per-token region ending in the output: walking back
 * from the output's producer through ops that act on each row alone (MatMul by a constant matrix,
 * elementwise ops with constants that broadcast along the last axis only, last-axis ReduceMean /
 * LayerNormalization, unary math). A node joins only if all its readers are in the region, so no
 * value outside needs the full rows. The values flowing into the region ([batch, seq, hidden]) are
 * flattened to [batch·seq, hidden] and gathered at a new int64 input of flat row indices
 * (b·seq + s); the output becomes [rows, width]. Opt-in: the fill-mask pipeline uses it.
 */
import { TesseraError } from '../../api/errors.js';
import type { ConstTensor, Graph, Model, Node } from '../ir.js';
import { readers } from './uses.js';

export interface SelectRowsOptions {
  /** The output to compute at selected rows only. Default: the graph's only output. */
  output?: string;
  /** Name of the new int64 input of flat row indices. Default 'row_indices'. */
  rowsInput?: string;
  /**
   * The indices input is [batch, rows] (still flat indices b·seq + s) instead of [rows], and the
   * region and the output keep a batch axis ([batch, rows, width]): each batch item's rows then
   * stay one matrix of their own in the region's MatMuls (batch-invariant tiling, gemm.ts), so a
   * row's numbers do not depend on how many items the batch has.
   */
  perBatch?: boolean;
}

const UNARY = new Set(['Erf', 'Sqrt', 'Relu', 'Tanh', 'Sigmoid', 'Neg', 'Exp', 'Identity', 'Gelu', 'Reciprocal', 'Abs']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow']);

function refuse(message: string): never {
  throw new TesseraError('INVALID_MODEL', `selectRows: ${message}`);
}

/** Rewrites `model` in place; returns the name of the new row-indices input. */
export function selectRows(model: Model, options: SelectRowsOptions = {}): string {
  const g = model.graph;
  const outName = options.output ?? (g.outputs.length === 1 ? g.outputs[0]!.name : refuse(`the graph has ${g.outputs.length} outputs (${g.outputs.map((o) => o.name).join(', ')}); say which one`));
  const rowsInput = options.rowsInput ?? 'row_indices';
  const out = g.outputs.find((o) => o.name === outName) ?? refuse(`no graph output named '${outName}'`);
  if (out.shape && out.shape.length !== 3) refuse(`output '${outName}' has rank ${out.shape.length}; a per-token output is [batch, sequence, width]`);
  if (g.inputs.some((i) => i.name === rowsInput)) refuse(`the graph already has an input named '${rowsInput}'`);

  const constants = constantValues(g);
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const uses = readers(g);
  const isConst = (v: string) => constants.has(v);

  // Grow the region backwards from the output's producer.
  const last = producer.get(outName) ?? refuse(`output '${outName}' is not computed by any node`);
  if (!isRowWise(last, g, constants, model.opsets.get('') ?? 1)) refuse(`output '${outName}' comes from ${describe(last)}, which does not act on each token alone`);
  const region = new Set<Node>([last]);
  const queue = [last];
  while (queue.length) {
    const n = queue.pop()!;
    for (const v of n.inputs) {
      if (!v || isConst(v)) continue;
      const p = producer.get(v);
      if (!p || region.has(p) || p.outputs.length !== 1) continue;
      if (!isRowWise(p, g, constants, model.opsets.get('') ?? 1)) continue;
      if (g.outputs.some((o) => o.name === v)) continue;
      region.add(p);
      queue.push(p);
    }
  }
  // Closure: drop nodes whose outputs are read outside the region, until nothing changes.
  for (let changed = true; changed;) {
    changed = false;
    for (const n of region) {
      if (n === last) continue;
      if ((uses.get(n.outputs[0]!) ?? []).some((r) => !region.has(r))) { region.delete(n); changed = true; }
    }
  }
  if (![...region].some((n) => (n.opType === 'MatMul' || n.opType === 'MatMulNBits') && isConst(n.inputs[1]!))) {
    refuse(`the per-token chain ending in '${outName}' (${[...region].map((n) => n.opType).join(', ')}) has no projection (MatMul by a constant matrix); no head to select rows for`);
  }

  // The values entering the region from outside, each gathered once.
  const gathered = new Map<string, string>();
  const inserts = new Map<Node, Node[]>();
  for (const n of g.nodes) {
    if (!region.has(n)) continue;
    n.inputs = n.inputs.map((v) => {
      if (!v || isConst(v) || (producer.has(v) && region.has(producer.get(v)!))) return v;
      let name = gathered.get(v);
      if (!name) {
        name = `${v}/selected_rows`;
        gathered.set(v, name);
        const flat = `${v}/flat_rows`;
        inserts.set(n, [...(inserts.get(n) ?? []),
          node('Flatten', `${v}/flatten_rows`, [v], [flat], [['axis', 2]]),
          node('Gather', `${v}/gather_rows`, [flat, rowsInput], [name], [['axis', 0]])]);
      }
      return name;
    });
  }
  g.nodes = g.nodes.flatMap((n) => [...(inserts.get(n) ?? []), n]);
  // Gather with [batch, rows] indices gives [batch, rows, hidden]: the batch axis kept.
  g.inputs.push({ name: rowsInput, dtype: 'int64', shape: options.perBatch ? ['batch', 'rows'] : ['rows'] });
  out.shape = options.perBatch ? ['batch', 'rows', out.shape?.[2]] : ['rows', out.shape?.[2]];
  return rowsInput;
}

/**
 * selectRows for an int8 head: the graph's `output` computed by one tessera.DynamicQuantizeMatMul
 * (graph/passes/fuse-qdq.ts's fusion of onnxruntime's quantize_dynamic pattern), as a q8
 * decoder's lm_head is after the fusions. Its x is quantized with one range over every row, so the
 * rows cannot simply be gathered before it (selectRows refuses it); instead the op gets the
 * gathered rows as x and the whole x as its sixth input, `x_range`, whose min/max sets the
 * quantization. The selected rows are then quantized to the same bytes and multiplied by the same
 * kernels as in the all-rows op: the same numbers at 1/rows of the cost. Run after the fusions.
 * Returns the new row-indices input.
 */
export function selectQuantizedHeadRows(model: Model, options: SelectRowsOptions = {}): string {
  const g = model.graph;
  const outName = options.output ?? (g.outputs.length === 1 ? g.outputs[0]!.name : refuse(`the graph has ${g.outputs.length} outputs; say which one`));
  const rowsInput = options.rowsInput ?? 'row_indices';
  const out = g.outputs.find((o) => o.name === outName) ?? refuse(`no graph output named '${outName}'`);
  if (out.shape && out.shape.length !== 3) refuse(`output '${outName}' has rank ${out.shape.length}; a per-token output is [batch, sequence, width]`);
  if (g.inputs.some((i) => i.name === rowsInput)) refuse(`the graph already has an input named '${rowsInput}'`);
  const head = g.nodes.find((n) => n.outputs.includes(outName));
  if (!head || head.domain !== 'tessera' || head.opType !== 'DynamicQuantizeMatMul' || head.outputs.length !== 1 || head.inputs.length > 5) {
    refuse(`output '${outName}' does not come from a tessera.DynamicQuantizeMatMul`);
  }
  const x = head.inputs[0]!;
  const flat = `${x}/flat_rows`, picked = `${x}/selected_rows`;
  const at = g.nodes.indexOf(head);
  g.nodes.splice(at, 0,
    node('Flatten', `${x}/flatten_rows`, [x], [flat], [['axis', 2]]),
    node('Gather', `${x}/gather_rows`, [flat, rowsInput], [picked], [['axis', 0]]));
  const inputs = [...head.inputs];
  while (inputs.length < 5) inputs.push('');
  head.inputs = [picked, ...inputs.slice(1), x];
  g.inputs.push({ name: rowsInput, dtype: 'int64', shape: ['rows'] });
  out.shape = ['rows', out.shape?.[2]];
  return rowsInput;
}

function node(opType: string, name: string, inputs: string[], outputs: string[], ints: [string, number][]): Node {
  return { name, opType, domain: '', inputs, outputs, attributes: new Map(ints.map(([k, v]) => [k, { type: 'int', value: v }])) };
}

function describe(n: Node): string {
  return n.name ? `${n.opType} node '${n.name}'` : `${n.opType} node (unnamed)`;
}

/**
 * Initializers, Constant-node outputs, and Identities / 2-D Transposes of those (PyTorch exports
 * shared weights, such as a Linear bias reached twice, as Identity nodes on the initializer). Only
 * the dims matter here; the data is not transposed.
 */
function constantValues(g: Graph): Map<string, ConstTensor | undefined> {
  const m = new Map<string, ConstTensor | undefined>(g.initializers);
  for (let changed = true; changed;) {
    changed = false;
    for (const n of g.nodes) {
      if (n.domain !== '' || m.has(n.outputs[0]!)) continue;
      if (n.opType === 'Constant') {
        const t = n.attributes.get('value');
        m.set(n.outputs[0]!, t?.type === 'tensor' ? t.value : undefined);
        changed = true;
      } else if (n.opType === 'Identity' && m.has(n.inputs[0]!)) {
        m.set(n.outputs[0]!, m.get(n.inputs[0]!));
        changed = true;
      } else if (n.opType === 'Transpose' && m.get(n.inputs[0]!)?.dims.length === 2) {
        // An unfolded transpose of a tied weight (the MLM decoder on the word embeddings).
        const t = m.get(n.inputs[0]!)!;
        m.set(n.outputs[0]!, { ...t, dims: [t.dims[1]!, t.dims[0]!] });
        changed = true;
      }
    }
  }
  return m;
}

/** A constant that broadcasts along the last axis alone (a scalar, or a bias of rank ≤ 1). */
function lastAxisConstant(c: ConstTensor | undefined): boolean {
  return !!c && c.dims.length <= 1;
}

function intsAttr(n: Node, key: string): number[] | undefined {
  const a = n.attributes.get(key);
  return a?.type === 'ints' ? a.value : a?.type === 'int' ? [a.value] : undefined;
}

/** Whether each output row depends only on the same row of the non-constant inputs. */
function isRowWise(n: Node, g: Graph, constants: Map<string, ConstTensor | undefined>, opset: number): boolean {
  if (n.outputs.length !== 1) return false;
  const domain = n.domain;
  if (domain === '' && UNARY.has(n.opType)) return n.inputs.length === 1 && !constants.has(n.inputs[0]!);
  if (domain === 'com.microsoft' && n.opType === 'Gelu') return true;
  // 4-bit weights (a q4 decoder's lm_head): each output row is its input row times the matrix.
  if (domain === 'com.microsoft' && n.opType === 'MatMulNBits') return !constants.has(n.inputs[0]!) && n.inputs.slice(1).every((v) => !v || constants.has(v));
  if (domain !== '') return false;
  if (BINARY.has(n.opType)) {
    const live = n.inputs.filter((v) => !constants.has(v));
    return live.length >= 1 && n.inputs.every((v) => !constants.has(v) || lastAxisConstant(constants.get(v)));
  }
  if (n.opType === 'MatMul') {
    const w = constants.get(n.inputs[1]!) ?? g.initializers.get(n.inputs[1]!);
    return !constants.has(n.inputs[0]!) && !!w && w.dims.length === 2;
  }
  if (n.opType === 'ReduceMean') {
    // Opset 18 moved axes to an input; only the attribute form with axes [-1] is recognised.
    const axes = intsAttr(n, 'axes');
    const keep = n.attributes.get('keepdims');
    return n.inputs.length === 1 && opset < 18 && axes?.length === 1 && axes[0] === -1 && (keep === undefined || (keep.type === 'int' && keep.value === 1));
  }
  if (n.opType === 'LayerNormalization') {
    const axis = n.attributes.get('axis');
    return (axis === undefined || (axis.type === 'int' && axis.value === -1))
      && n.inputs.slice(1).every((v) => !v || lastAxisConstant(constants.get(v)));
  }
  return false;
}
