/**
 * Quantized patterns onto the integer kernels:
 *
 * - QDQ (what QDQ-format exporters write): DequantizeLinear(x_q) and DequantizeLinear(constant
 *   w_q) feeding MatMul or Conv (plus, for Conv, a DequantizeLinear(int32 bias) with scale
 *   x_scale·w_scale) whose only reader is QuantizeLinear → QLinearMatMul / QLinearConv on x_q.
 *   Results differ from the float path only by the rounding of the float product (within one
 *   quantization step).
 * - Dynamic (onnxruntime's quantize_dynamic): DynamicQuantizeLinear → MatMulInteger(constant
 *   weights) → Cast(float) → Mul(x_scale·w_scale) [→ Add(constant bias)] → one
 *   tessera.DynamicQuantizeMatMul with identical results.
 *
 * - Constant weights behind QuantizeLinear are quantized at load first (fold-quantize.ts).
 *
 * Nodes the fusions leave without readers (the Dequantize and scale nodes) are removed here.
 */
import type { ConstTensor, Graph, Node } from '../ir.js';
import { foldConstantQuantize } from './fold-quantize.js';
import { readers, removeNodes, soleReader } from './uses.js';

const BYTES = ['uint8', 'int8'];

function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

function intAttr(n: Node, name: string, fallback: number): number {
  const a = n.attributes.get(name);
  return a && a.type === 'int' ? a.value : fallback;
}

const size = (t: ConstTensor) => t.dims.reduce((a, b) => a * b, 1);

/** A plain 8-bit (De)QuantizeLinear with constant per-tensor scale/zero point, or undefined. */
function perTensorQ(g: Graph, n: Node | undefined, opType: string): Node | undefined {
  if (!n || n.domain !== '' || n.opType !== opType) return undefined;
  if (intAttr(n, 'block_size', 0) !== 0 || n.attributes.has('output_dtype')) return undefined;
  const s = g.initializers.get(n.inputs[1]!), z = n.inputs[2] ? g.initializers.get(n.inputs[2]) : undefined;
  if (!s || s.dtype !== 'float32' || size(s) !== 1) return undefined;
  if (n.inputs[2] && (!z || !BYTES.includes(z.dtype) || size(z) !== 1)) return undefined;
  return n;
}

/** The zero-point input of a (De)QuantizeLinear, adding a uint8 0 initializer when omitted. */
function zeroPoint(g: Graph, n: Node): string {
  if (n.inputs[2]) return n.inputs[2];
  const name = '__tessera_uint8_zero';
  if (!g.initializers.has(name)) g.initializers.set(name, { dtype: 'uint8', dims: [], data: Uint8Array.of(0) });
  return name;
}

/**
 * A DequantizeLinear of constant 8-bit weights whose scale is per tensor or per `channelAxis`.
 * An omitted zero point is only accepted for uint8 weights (its default type).
 */
function weightDQ(g: Graph, n: Node | undefined, channelAxis: number): Node | undefined {
  if (!n || n.domain !== '' || n.opType !== 'DequantizeLinear' || intAttr(n, 'block_size', 0) !== 0) return undefined;
  const w = g.initializers.get(n.inputs[0]!), s = g.initializers.get(n.inputs[1]!);
  const z = n.inputs[2] ? g.initializers.get(n.inputs[2]) : undefined;
  if (!w || !BYTES.includes(w.dtype) || !s || s.dtype !== 'float32') return undefined;
  if (n.inputs[2] ? !z || z.dtype !== w.dtype || size(z) !== size(s) : w.dtype !== 'uint8') return undefined;
  if (size(s) === 1) return n;
  let axis = intAttr(n, 'axis', 1);
  if (axis < 0) axis += w.dims.length;
  return axis === channelAxis && s.dims.length === 1 && s.dims[0] === w.dims[channelAxis] ? n : undefined;
}

/** Removes the candidates none of whose outputs is read any more (repeats for chains). */
function dropUnread(g: Graph, candidates: Set<Node>): void {
  for (let again = true; again;) {
    const read = new Set<string>(g.outputs.map((o) => o.name));
    for (const n of g.nodes) for (const i of n.inputs) read.add(i);
    // The round's unread nodes removed in one filter (one per node was quadratic: ~5 MB of arrays
    // for BERT-base int8's few hundred orphans); their own inputs are looked at in the next round.
    const dead = new Set<Node>();
    for (const n of candidates) if (n.outputs.every((o) => !o || !read.has(o))) dead.add(n);
    for (const n of dead) candidates.delete(n);
    removeNodes(g, dead);
    again = dead.size > 0;
  }
}

function fuseQdq(g: Graph, orphans: Set<Node>): boolean {
  const uses = readers(g), from = producers(g);
  const dead = new Set<Node>();
  for (const n of g.nodes) {
    if (n.domain !== '' || (n.opType !== 'MatMul' && n.opType !== 'Conv')) continue;
    const conv = n.opType === 'Conv';
    const dqx = perTensorQ(g, from.get(n.inputs[0]!), 'DequantizeLinear');
    const w = g.initializers.get(from.get(n.inputs[1]!)?.inputs[0] ?? '');
    if (!dqx || !w) continue;
    if (conv ? w.dims.length < 3 || w.dims.length > 4 : w.dims.length !== 2) continue;
    const dqw = weightDQ(g, from.get(n.inputs[1]!), conv ? 0 : 1);
    const q = perTensorQ(g, soleReader(g, uses, n.outputs[0]!), 'QuantizeLinear');
    // An omitted x zero point has x's type, unknown here when x is computed: leave those alone.
    if (!dqw || !q || !dqx.inputs[2]) continue;
    const xq = g.initializers.get(dqx.inputs[0]!);
    if (xq && !BYTES.includes(xq.dtype)) continue;
    let bias = '';
    if (conv && n.inputs[2]) {
      bias = convBias(g, from.get(n.inputs[2]), dqx, dqw) ?? '';
      if (!bias) continue;
    }
    const wzp = dqw.inputs[2] || zeroPoint(g, dqw);
    const inputs = [dqx.inputs[0]!, dqx.inputs[1]!, zeroPoint(g, dqx), dqw.inputs[0]!, dqw.inputs[1]!, wzp, q.inputs[1]!, zeroPoint(g, q)];
    if (bias) inputs.push(bias);
    orphans.add(dqx); orphans.add(dqw);
    if (bias) orphans.add(from.get(n.inputs[2]!)!);
    n.opType = conv ? 'QLinearConv' : 'QLinearMatMul';
    n.inputs = inputs;
    n.outputs = [q.outputs[0]!];
    dead.add(q);
  }
  removeNodes(g, dead);
  return dead.size > 0;
}

/** The int32 bias behind DequantizeLinear(bias, x_scale·w_scale, 0), as QLinearConv wants it. */
function convBias(g: Graph, dq: Node | undefined, dqx: Node, dqw: Node): string | undefined {
  if (!dq || dq.opType !== 'DequantizeLinear' || dq.domain !== '') return undefined;
  const b = g.initializers.get(dq.inputs[0]!), s = g.initializers.get(dq.inputs[1]!);
  const z = dq.inputs[2] ? g.initializers.get(dq.inputs[2]) : undefined;
  if (!b || b.dtype !== 'int32' || !s || s.dtype !== 'float32') return undefined;
  if (dq.inputs[2] && (!z || Array.from(z.data as ArrayLike<number>).some((v) => v !== 0))) return undefined;
  const xs = (g.initializers.get(dqx.inputs[1]!)!.data as ArrayLike<number>)[0]!;
  const ws = g.initializers.get(dqw.inputs[1]!)!.data as ArrayLike<number>;
  const bs = s.data as ArrayLike<number>;
  for (let i = 0; i < size(b); i++) {
    const want = xs * ws[ws.length === 1 ? 0 : i]!, got = bs[bs.length === 1 ? 0 : i]!;
    if (Math.abs(got - want) > 1e-6 * Math.abs(want)) return undefined;
  }
  return dq.inputs[0];
}

function fuseDynamic(g: Graph, orphans: Set<Node>): boolean {
  const uses = readers(g), from = producers(g);
  const dead = new Set<Node>();
  for (const mm of g.nodes) {
    if (mm.domain !== '' || mm.opType !== 'MatMulInteger') continue;
    const dql = from.get(mm.inputs[0]!);
    if (!dql || dql.opType !== 'DynamicQuantizeLinear' || dql.domain !== '') continue;
    if (mm.inputs[0] !== dql.outputs[0] || mm.inputs[2] !== dql.outputs[2]) continue;
    const w = g.initializers.get(mm.inputs[1]!), wz = mm.inputs[3] ? g.initializers.get(mm.inputs[3]) : undefined;
    if (!w || w.dims.length !== 2 || !BYTES.includes(w.dtype) || (mm.inputs[3] && !wz)) continue;
    const cast = soleReader(g, uses, mm.outputs[0]!);
    const to = cast?.attributes.get('to');
    if (!cast || cast.opType !== 'Cast' || cast.domain !== '' || to?.type !== 'int' || to.value !== 1) continue;
    const mul = soleReader(g, uses, cast.outputs[0]!);
    if (!mul || mul.opType !== 'Mul' || mul.domain !== '') continue;
    const scaleName = mul.inputs[0] === cast.outputs[0] ? mul.inputs[1]! : mul.inputs[0]!;
    const sm = from.get(scaleName);
    if (!sm || sm.opType !== 'Mul' || sm.domain !== '' || !sm.inputs.includes(dql.outputs[1]!)) continue;
    const wsName = sm.inputs[0] === dql.outputs[1] ? sm.inputs[1]! : sm.inputs[0]!;
    const ws = g.initializers.get(wsName);
    const N = w.dims[1]!;
    if (!ws || ws.dtype !== 'float32' || (size(ws) !== 1 && size(ws) !== N)) continue;
    let out = mul.outputs[0]!, bias = '';
    const add = soleReader(g, uses, out);
    if (add && add.opType === 'Add' && add.domain === '') {
      const b = add.inputs[0] === out ? add.inputs[1]! : add.inputs[0]!;
      const bt = g.initializers.get(b);
      if (bt && bt.dtype === 'float32' && bt.dims.length === 1 && bt.dims[0] === N) { bias = b; out = add.outputs[0]!; dead.add(add); }
    }
    let zpName = mm.inputs[3] ?? '';
    if (!zpName) {
      zpName = `__tessera_${w.dtype}_zero`;
      if (!g.initializers.has(zpName)) g.initializers.set(zpName, { dtype: w.dtype, dims: [], data: w.dtype === 'int8' ? Int8Array.of(0) : Uint8Array.of(0) });
    }
    orphans.add(dql); orphans.add(sm);
    mm.opType = 'DynamicQuantizeMatMul';
    mm.domain = 'tessera';
    mm.inputs = [dql.inputs[0]!, mm.inputs[1]!, zpName, wsName, ...(bias ? [bias] : [])];
    mm.outputs = [out];
    dead.add(cast); dead.add(mul);
  }
  removeNodes(g, dead);
  return dead.size > 0;
}

/** Both fusions; true when the graph now holds tessera-domain nodes. */
export function fuseQuantized(g: Graph): boolean {
  const orphans = new Set<Node>();
  // Weight → QuantizeLinear → DequantizeLinear (AddQDQPairToWeight) becomes int8 weight → DequantizeLinear.
  foldConstantQuantize(g);
  fuseQdq(g, orphans);
  const changed = fuseDynamic(g, orphans);
  dropUnread(g, orphans);
  return changed;
}
