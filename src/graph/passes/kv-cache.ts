/**
 * The generation rewrite (opt-in: text generation uses it, never a plain InferenceSession). An
 * optimum-layout decoder reads its past keys and values as inputs and returns them, one token
 * longer, as `present` outputs; run as written, every step has a new past length (a new plan) and
 * the whole cache crosses JavaScript twice. This pass finds each layer's attention —
 *
 *   Concat(past_k, k, axis 2) → [repeat_kv: Unsqueeze/Expand/Reshape] → Transpose(0,1,3,2) ┐
 *   q [→ Mul(scale)] ─────────────────────────────────────────────────────────────────────→ MatMul
 *     → [Mul/Div(scale)] → [Add(mask)] → Softmax(last axis) [→ Cast(float)] → MatMul(·, [repeat_kv] Concat(past_v, v))
 *
 * — and replaces it by one `tessera.CachedAttention(q, k, v, tessera_past_length, tessera_key_mask)`
 * whose cache stays in Wasm memory for the session (src/ops/nn/cached-attention.ts). The mask Add
 * is dropped: the op applies the causal mask itself and the padding mask from `tessera_key_mask`
 * ([batch, max_length], additive), which is what the mask subgraphs of these exports compute from
 * `attention_mask`. The past inputs, present outputs and the now unread mask subgraph go; every
 * remaining value's shape depends on the new-token count only, so one plan serves every decode step.
 *
 * All or nothing: if any layer does not match, or anything else still reads a past input or
 * `attention_mask` (a graph that derives positions from them), the pass refuses with a reason and
 * changes nothing; the generator then runs the graph as written (present copied back as past).
 */
import type { Graph, Model, Node } from '../ir.js';
import { bfloat16ToFloat, halfToFloat } from '../../onnx/float-formats.js';
import { constantOf, intAttr, intsAttr, producers } from './match.js';
import { readers } from './uses.js';

/** Names of the inputs the rewritten graph adds. */
export const PAST_LENGTH_INPUT = 'tessera_past_length';
export const KEY_MASK_INPUT = 'tessera_key_mask';

/** What the rewrite did: one entry per layer, in graph order. */
export interface KvCacheRewrite {
  /** 'attention': optimum layout, CachedAttention fed tessera_past_length/tessera_key_mask; 'gqa': genai layout, fed an attention_mask as long as the cache. */
  kind: 'attention' | 'gqa';
  layers: { pastKey: string; pastValue: string; presentKey: string | undefined; presentValue: string | undefined; scale: number }[];
}

const REPEAT_KV = new Set(['Unsqueeze', 'Expand', 'Reshape']);

interface LayerMatch {
  q: string; kNew: string; vNew: string; out: string; scale: number;
  concatK: Node; concatV: Node; pv: Node;
}

/** Rewrites `model` in place, or returns why it cannot (then the model is unchanged). */
export function residentKvCache(model: Model): KvCacheRewrite | string {
  const g = model.graph;
  const opset = model.opsets.get('') ?? 1;
  const prod = producers(g);
  const uses = readers(g);
  const inputNames = new Set(g.inputs.map((i) => i.name));
  const matches: LayerMatch[] = [];
  for (const sm of g.nodes) {
    if (sm.domain !== '' || sm.opType !== 'Softmax') continue;
    const m = matchLayer(g, prod, uses, inputNames, sm, opset);
    if (typeof m === 'string') return `Softmax '${sm.name}': ${m}`;
    matches.push(m);
  }
  const pastInputs = g.inputs.filter((i) => g.nodes.some((n) => n.opType === 'Concat' && n.inputs[0] === i.name));
  if (!matches.length) return residentGqa(model) ?? 'no attention over a past key/value Concat found, nor GroupQueryAttention over past inputs';
  if (pastInputs.length !== 2 * matches.length) return `${pastInputs.length} past inputs but ${matches.length} attention layers matched`;

  // Rewrite: each layer's P·V MatMul becomes the cached attention; the rest dies below.
  const result: KvCacheRewrite = { kind: 'attention', layers: [] };
  const outputNames = new Set(g.outputs.map((o) => o.name));
  const replaced = new Map<Node, Node>();
  for (const m of matches) {
    const pastKey = m.concatK.inputs[0]!, pastValue = m.concatV.inputs[0]!;
    replaced.set(m.pv, {
      name: `${m.pv.name || m.out}/cached_attention`, opType: 'CachedAttention', domain: 'tessera',
      inputs: [m.q, m.kNew, m.vNew, PAST_LENGTH_INPUT, KEY_MASK_INPUT], outputs: [m.out],
      attributes: new Map([['scale', { type: 'float', value: m.scale }], ['cache', { type: 'string', value: pastKey }]]),
    });
    const presentKey = outputNames.has(m.concatK.outputs[0]!) ? m.concatK.outputs[0] : undefined;
    const presentValue = outputNames.has(m.concatV.outputs[0]!) ? m.concatV.outputs[0] : undefined;
    result.layers.push({ pastKey, pastValue, presentKey, presentValue, scale: m.scale });
  }
  const presents = new Set(result.layers.flatMap((l) => [l.presentKey, l.presentValue]).filter((x): x is string => !!x));
  const pasts = new Set(result.layers.flatMap((l) => [l.pastKey, l.pastValue]));
  const nodes = g.nodes.map((n) => replaced.get(n) ?? n);
  const outputs = g.outputs.filter((o) => !presents.has(o.name));
  const live = liveNodes(nodes, outputs.map((o) => o.name));
  for (const n of live) {
    const bad = n.inputs.find((x) => pasts.has(x) || x === 'attention_mask');
    if (bad) return `${n.opType} node '${n.name}' still reads '${bad}' after the rewrite`;
  }
  g.nodes = live;
  g.outputs = outputs;
  g.inputs = g.inputs.filter((i) => !pasts.has(i.name) && (i.name !== 'attention_mask' || live.some((n) => n.inputs.includes(i.name))));
  g.inputs.push({ name: PAST_LENGTH_INPUT, dtype: 'int32', shape: [1] }, { name: KEY_MASK_INPUT, dtype: 'float32', shape: ['batch', 'max_length'] });
  model.opsets.set('tessera', 1);
  return result;
}

/**
 * The genai layout: every com.microsoft GroupQueryAttention whose past inputs are graph inputs and
 * whose presents are graph outputs becomes tessera.ResidentGroupQueryAttention (same inputs, past
 * omitted; its cache is persistent, shared past/present). Undefined when there is none.
 */
function residentGqa(model: Model): KvCacheRewrite | string | undefined {
  const g = model.graph;
  const inputNames = new Set(g.inputs.map((i) => i.name));
  const outputNames = new Set(g.outputs.map((o) => o.name));
  const nodes = g.nodes.filter((n) => n.domain === 'com.microsoft' && n.opType === 'GroupQueryAttention');
  if (!nodes.length) return undefined;
  const result: KvCacheRewrite = { kind: 'gqa', layers: [] };
  for (const n of nodes) {
    const [pk, pv] = [n.inputs[3], n.inputs[4]];
    const [presK, presV] = [n.outputs[1], n.outputs[2]];
    if (!pk || !pv || !inputNames.has(pk) || !inputNames.has(pv)) return `GroupQueryAttention '${n.name}' has no past inputs`;
    if (!presK || !presV || !outputNames.has(presK) || !outputNames.has(presV)) return `GroupQueryAttention '${n.name}' does not return its presents as graph outputs`;
    if (n.inputs.length > 9 && n.inputs.slice(9).some((x) => x)) return `GroupQueryAttention '${n.name}' has inputs past cos/sin (position_ids, attention_bias, head_sink)`;
    result.layers.push({ pastKey: pk, pastValue: pv, presentKey: presK, presentValue: presV, scale: NaN });
  }
  const pasts = new Set(result.layers.flatMap((l) => [l.pastKey, l.pastValue]));
  const presents = new Set(result.layers.flatMap((l) => [l.presentKey!, l.presentValue!]));
  const replaced = new Map<Node, Node>(nodes.map((n) => [n, {
    name: `${n.name}/resident`, opType: 'ResidentGroupQueryAttention', domain: 'tessera',
    inputs: n.inputs.slice(0, 9).map((x, i) => (i === 3 || i === 4 ? '' : x)), outputs: [n.outputs[0]!],
    attributes: new Map([...n.attributes, ['cache', { type: 'string', value: n.inputs[3]! }]]),
  }]));
  const rest = g.nodes.map((n) => replaced.get(n) ?? n);
  for (const n of rest) {
    const bad = n.inputs.find((x) => pasts.has(x) || presents.has(x));
    if (bad) return `${n.opType} node '${n.name}' also reads '${bad}'`;
  }
  g.nodes = rest;
  g.outputs = g.outputs.filter((o) => !presents.has(o.name));
  g.inputs = g.inputs.filter((i) => !pasts.has(i.name));
  model.opsets.set('tessera', 1);
  return result;
}

function matchLayer(g: Graph, prod: Map<string, Node>, uses: Map<string, Node[]>, inputs: Set<string>, sm: Node, opset: number): LayerMatch | string {
  const axis = intAttr(sm, 'axis', opset >= 13 ? -1 : 1);
  if (axis !== -1 && axis !== 3) return `softmax over axis ${axis}, not the key axis`;
  // Through Casts to float32 or float16 (exports that upcast the softmax write them even for fp32;
  // a float16 graph's cast back is what the op's float16 output, narrowed by ops/widen.ts, gives).
  let probs = sm.outputs[0]!;
  let smReaders = uses.get(probs) ?? [];
  while (smReaders.length === 1 && smReaders[0]!.opType === 'Cast' && [1, 10].includes(intAttr(smReaders[0]!, 'to', 0)!)) {
    probs = smReaders[0]!.outputs[0]!;
    smReaders = uses.get(probs) ?? [];
  }
  const isOutput = g.outputs.some((o) => o.name === probs || o.name === sm.outputs[0]);
  const pv = !isOutput && smReaders.length === 1 && smReaders[0]!.opType === 'MatMul' && smReaders[0]!.inputs[0] === probs ? smReaders[0]! : undefined;
  if (!pv) return 'its probabilities are not read by one MatMul only';
  let scale = 1;
  let x = sm.inputs[0]!;
  let n = prod.get(x);
  // Optional mask Add: the side that leads to the scores MatMul is kept.
  if (n?.opType === 'Add') {
    const side = n.inputs.find((v) => leadsToScores(prod, v));
    if (!side) return 'Add before Softmax does not add to the scores';
    x = side; n = prod.get(x);
  }
  // Optional scale on the scores.
  if (n && (n.opType === 'Mul' || n.opType === 'Div')) {
    const other = n.inputs.find((v) => v !== n!.inputs.find((w) => prod.get(w)?.opType === 'MatMul'));
    const c = scalarOf(g, prod, other);
    const scoresSide = n.inputs.find((v) => prod.get(v)?.opType === 'MatMul');
    if (c === undefined || !scoresSide || (n.opType === 'Div' && n.inputs[1] !== other)) return `${n.opType} before Softmax is not a constant scale`;
    scale *= n.opType === 'Mul' ? c : 1 / c;
    n = prod.get(scoresSide);
  }
  if (!n || n.opType !== 'MatMul') return 'no Q·Kᵀ MatMul before Softmax';
  let q = n.inputs[0]!;
  const qs = unscale(g, prod, q);
  q = qs.value; scale *= qs.scale;
  const kt = prod.get(n.inputs[1]!);
  if (!kt || kt.opType !== 'Transpose' || intsAttr(kt, 'perm')?.join() !== '0,1,3,2') return 'keys are not transposed by perm (0, 1, 3, 2)';
  const ks = unscale(g, prod, kt.inputs[0]!);
  scale *= ks.scale;
  const concatK = throughRepeat(prod, ks.value, inputs);
  const concatV = throughRepeat(prod, pv.inputs[1]!, inputs);
  if (!concatK || !concatV) return 'keys or values do not come from a Concat of a past input with the new ones (axis 2)';
  if (!Number.isFinite(scale)) return 'the scale is not finite';
  return { q, kNew: concatK.inputs[1]!, vNew: concatV.inputs[1]!, out: pv.outputs[0]!, scale, concatK, concatV, pv };
}

/** A one-element constant as a number; float16/bfloat16 constants are held as their bits. */
function scalarOf(g: Graph, prod: Map<string, Node>, value: string | undefined): number | undefined {
  const t = constantOf(g, prod, value);
  if (!t || t.data.length !== 1 || t.dtype === 'string') return undefined;
  const v = Number(t.data[0]);
  return t.dtype === 'float16' ? halfToFloat(v) : t.dtype === 'bfloat16' ? bfloat16ToFloat(v) : v;
}

/** x, or x's other factor when x = Mul(y, c) / Div(y, c) with a constant scalar c. */
function unscale(g: Graph, prod: Map<string, Node>, x: string): { value: string; scale: number } {
  const n = prod.get(x);
  if (n && n.domain === '' && (n.opType === 'Mul' || n.opType === 'Div') && n.inputs.length === 2) {
    const c1 = scalarOf(g, prod, n.inputs[1]);
    if (c1 !== undefined && constantOf(g, prod, n.inputs[0]) === undefined) return { value: n.inputs[0]!, scale: n.opType === 'Mul' ? c1 : 1 / c1 };
    const c0 = scalarOf(g, prod, n.inputs[0]);
    if (c0 !== undefined && n.opType === 'Mul') return { value: n.inputs[1]!, scale: c0 };
  }
  return { value: x, scale: 1 };
}

function leadsToScores(prod: Map<string, Node>, v: string): boolean {
  let n = prod.get(v);
  if (n && (n.opType === 'Mul' || n.opType === 'Div')) n = n.inputs.map((w) => prod.get(w)).find((p) => p?.opType === 'MatMul');
  return n?.opType === 'MatMul' && prod.get(n.inputs[1]!)?.opType === 'Transpose';
}

/** The Concat(past input, new, axis 2) behind v, through repeat_kv's Unsqueeze/Expand/Reshape. */
function throughRepeat(prod: Map<string, Node>, v: string, inputs: Set<string>): Node | undefined {
  for (let hops = 0; hops < 6; hops++) {
    const n = prod.get(v);
    if (!n || n.domain !== '') return undefined;
    if (n.opType === 'Concat') {
      const axis = intAttr(n, 'axis', NaN);
      return n.inputs.length === 2 && (axis === 2 || axis === -2) && inputs.has(n.inputs[0]!) ? n : undefined;
    }
    if (!REPEAT_KV.has(n.opType)) return undefined;
    v = n.inputs[0]!;
  }
  return undefined;
}

/** Nodes that some output depends on, in their original order. */
function liveNodes(nodes: Node[], outputs: string[]): Node[] {
  const prod = new Map<string, Node>();
  for (const n of nodes) for (const o of n.outputs) if (o) prod.set(o, n);
  const live = new Set<Node>();
  const stack = [...outputs];
  while (stack.length) {
    const n = prod.get(stack.pop()!);
    if (!n || live.has(n)) continue;
    live.add(n);
    for (const i of n.inputs) if (i) stack.push(i);
    // Subgraph outer-scope reads are not tracked here; If/Loop bodies keep their own inputs.
  }
  return nodes.filter((n) => live.has(n));
}
