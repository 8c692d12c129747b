/**
 * The encoder-decoder generation rewrite (Whisper, optimum layout; opt-in, used by the speech
 * pipeline only). optimum exports the decoder either as a pair — decoder_model.onnx (no past:
 * computes the cross-attention keys/values from `encoder_hidden_states`) and
 * decoder_with_past_model.onnx (reads them back as `past_key_values.{i}.encoder.*`) — or merged
 * into one file whose only node is an `If` on `use_cache_branch` holding both graphs. Run as
 * written, every token feeds all cross-attention keys and values in again, every past length is a
 * new plan, and the merged file would prepare both branches.
 *
 * This pass makes one graph that serves every step with two plans (first step of a chunk, then
 * one per token), choosing the branch once at load instead of per run:
 *   - the with-past graph is the base (inlined from the If's branch when merged);
 *   - the no-past graph's cross-attention projections (encoder_hidden_states → K, V of each
 *     layer) are copied in, renamed, and each cross-attention (Transpose(past_enc_k) → MatMul →
 *     Softmax → MatMul(past_enc_v)) becomes `tessera.CrossAttention(q, K, V)`, whose cache block
 *     stays in Wasm memory: the first step feeds encoder_hidden_states [B, L, D] and fills it, the
 *     later steps feed [B, 0, D] (nothing is projected or copied) and read it;
 *   - the decoder positions, which the export slices from the embedding table at the past
 *     length (Shape(past_key)[2]), become a Gather at a new int64 input `tessera_positions` [S];
 *   - self-attention goes to `residentKvCache` (kv-cache.ts): tessera.CachedAttention;
 *   - an export with output_attentions returns each layer's cross-attention probabilities as
 *     `cross_attentions.{i}` (the Softmax's output, or in a float16 export with float32 outputs a
 *     Cast of it beside the P·V MatMul): they stay outputs, as CrossAttention's second output (the
 *     Cast kept after it). Such an output the pass cannot keep refuses the rewrite (never dropped).
 * Every node is per batch row, so B windows can be decoded in lockstep as one batch; with
 * `batchCapacity` > 1 both attention ops get that `batch_capacity` (batches of 2 … capacity rows
 * share one cache block per layer; see src/speech/decode-rows.ts).
 * All or nothing: anything unmatched returns the reason and the caller runs the files as written.
 */
import type { Graph, Model, Node, ValueInfo } from '../ir.js';
import { residentKvCache, type KvCacheRewrite } from './kv-cache.js';
import { constantOf, intsAttr, producers, scalarOf } from './match.js';
import { readers } from './uses.js';

/** The int64 input [S] of decoder positions (past length + 0 … S − 1) the rewritten graph adds. */
export const POSITIONS_INPUT = 'tessera_positions';

/** What the rewrite did. */
export interface EncoderDecoderRewrite {
  /** Decoder layers whose cross-attention now reads a resident cache. */
  crossLayers: number;
  /** The self-attention rewrite (tessera.CachedAttention per layer). */
  self: KvCacheRewrite;
  /** Where the graph came from: the merged file's with-past branch, or the unmerged pair. */
  source: 'merged' | 'pair';
}

const CROSS_PREFIX = 'tessera_cross/';
const PRESENT_ENC = /^present\.(\d+)\.encoder\.(key|value)$/;
const PAST_ENC = /^past_key_values\.(\d+)\.encoder\.(key|value)$/;
const PAST_DEC = /^past_key_values\.(\d+)\.decoder\.(key|value)$/;
/** Cross-attention probabilities of exports with output_attentions (optimum's name). */
export const CROSS_ATTENTIONS = /^cross_attentions\.(\d+)$/;

/**
 * Rewrites `model` (decoder_model_merged, or decoder_with_past_model with `noPast` =
 * decoder_model) in place; returns why it cannot otherwise (then the model may be half-changed:
 * the caller must decode it again).
 * @param encoderLength positions of the encoder output (Whisper: max_source_positions, 1,500).
 * @param batchCapacity the most rows a batched step will have (0 or 1: no shared batch block).
 */
export function residentEncoderDecoder(model: Model, encoderLength: number, noPast?: Model, batchCapacity = 0): EncoderDecoderRewrite | string {
  const g = model.graph;
  let withPast: Graph, noPastGraph: Graph, source: 'merged' | 'pair';
  const ifNode = g.nodes.find((n) => n.domain === '' && n.opType === 'If');
  if (ifNode) {
    if (g.nodes.length !== 1) return `the merged decoder has ${g.nodes.length - 1} nodes besides its If`;
    const then = ifNode.attributes.get('then_branch'), els = ifNode.attributes.get('else_branch');
    if (then?.type !== 'graph' || els?.type !== 'graph') return 'the If has no then/else graphs';
    const readsPast = (b: Graph) => b.nodes.some((n) => n.inputs.some((i) => PAST_DEC.test(i)));
    [withPast, noPastGraph] = readsPast(then.value) ? [then.value, els.value] : [els.value, then.value];
    if (!readsPast(withPast) || readsPast(noPastGraph)) return 'cannot tell the If branches apart (one must read past_key_values.*.decoder.*, the other not)';
    const logitsAt = ifNode.outputs.indexOf('logits');
    const branchLogits = withPast.outputs[logitsAt]?.name;
    if (logitsAt < 0 || !branchLogits) return "the If has no 'logits' output";
    for (const [k, v] of withPast.initializers) g.initializers.set(k, v);
    g.nodes = [...withPast.nodes];
    // The branch's cross_attentions values under the If's output names (equal in optimum's files).
    const renamed = new Map<string, string>();
    ifNode.outputs.forEach((o, j) => { const b = withPast.outputs[j]?.name; if (CROSS_ATTENTIONS.test(o) && b && b !== o) renamed.set(b, o); });
    if (renamed.size) g.nodes = g.nodes.map((n) => ({ ...n, inputs: n.inputs.map((i) => renamed.get(i) ?? i), outputs: n.outputs.map((o) => renamed.get(o) ?? o) }));
    if (branchLogits !== 'logits') g.nodes.push({ name: 'tessera_logits', opType: 'Identity', domain: '', inputs: [branchLogits], outputs: ['logits'], attributes: new Map() });
    g.inputs = g.inputs.filter((i) => i.name !== ifNode.inputs[0]);
    source = 'merged';
  } else {
    if (!noPast) return 'not a merged decoder, and no decoder_model given for the first step';
    withPast = g;
    noPastGraph = noPast.graph;
    source = 'pair';
  }
  // fp16 exports with float32 inputs (keep_io_types) Cast each past first: read the input itself
  // (the Concats and Transposes behind those Casts are replaced below; the ops widen float16).
  const alias = new Map<string, string>();
  for (const n of g.nodes) {
    if (n.domain === '' && n.opType === 'Cast' && (PAST_DEC.test(n.inputs[0] ?? '') || PAST_ENC.test(n.inputs[0] ?? ''))) alias.set(n.outputs[0]!, n.inputs[0]!);
  }
  if (alias.size) g.nodes = g.nodes.filter((n) => !alias.has(n.outputs[0] ?? '')).map((n) => ({ ...n, inputs: n.inputs.map((i) => alias.get(i) ?? i) }));
  const logitsInfo = g.outputs.find((o) => o.name === 'logits');
  if (!logitsInfo) return "the decoder has no 'logits' output";

  // 1. The cross-attention projections of the no-past graph, renamed into this one.
  const wanted = noPastGraph.outputs.map((o) => o.name).filter((n) => PRESENT_ENC.test(n));
  if (!wanted.length) return 'the first-step decoder returns no present.*.encoder.* keys/values';
  const prodNo = producers(noPastGraph);
  const keep = new Set<Node>();
  const stack = [...wanted];
  while (stack.length) {
    const n = prodNo.get(stack.pop()!);
    if (!n || keep.has(n)) continue;
    keep.add(n);
    for (const i of n.inputs) if (i) stack.push(i);
  }
  const local = noPastGraph.initializers;
  const produced = new Set([...keep].flatMap((n) => n.outputs));
  const encInput = [...noPastGraph.inputs, ...g.inputs].find((i) => i.name === 'encoder_hidden_states');
  if (!encInput) return 'the first-step decoder has no encoder_hidden_states input';
  const rename = (v: string) => (v && (produced.has(v) || local.has(v)) ? CROSS_PREFIX + v : v);
  for (const n of keep) {
    for (const i of n.inputs) {
      if (!i || produced.has(i) || local.has(i) || i === 'encoder_hidden_states' || g.initializers.has(i)) continue;
      return `the cross-attention keys/values depend on '${i}', not only on encoder_hidden_states`;
    }
  }
  // First in the node list: they read only encoder_hidden_states and weights.
  const crossNodes: Node[] = [];
  for (const n of noPastGraph.nodes) {
    if (!keep.has(n)) continue;
    for (const i of n.inputs) if (i && local.has(i) && !g.initializers.has(rename(i))) g.initializers.set(rename(i), local.get(i)!);
    crossNodes.push({ ...n, name: CROSS_PREFIX + n.name, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename), attributes: new Map(n.attributes) });
  }
  g.nodes = [...crossNodes, ...g.nodes];
  if (!g.inputs.some((i) => i.name === 'encoder_hidden_states')) g.inputs.push({ ...encInput });

  // 2. Each cross-attention → tessera.CrossAttention over the resident block.
  const prod = producers(g);
  const uses = readers(g);
  let crossLayers = 0;
  const replaced = new Map<Node, Node>();
  for (const sm of g.nodes) {
    if (sm.domain !== '' || sm.opType !== 'Softmax') continue;
    let probs = sm.outputs[0]!;
    // float16 with float32 outputs (keep_io_types): the Softmax output is also Cast for cross_attentions.{i}.
    const castOut = (uses.get(probs) ?? []).filter((x) => x.opType === 'Cast' && CROSS_ATTENTIONS.test(x.outputs[0] ?? '') && g.outputs.some((o) => o.name === x.outputs[0]));
    let next = (uses.get(probs) ?? []).filter((x) => !castOut.includes(x));
    const chain = [probs];
    while (next.length === 1 && next[0]!.opType === 'Cast') { probs = next[0]!.outputs[0]!; chain.push(probs); next = uses.get(probs) ?? []; }
    const pv = next.length === 1 && next[0]!.opType === 'MatMul' && next[0]!.inputs[0] === probs ? next[0]! : undefined;
    const pastV = pv?.inputs[1] ?? '';
    const mv = PAST_ENC.exec(pastV);
    if (!pv || !mv || mv[2] !== 'value') continue;
    const layer = mv[1]!;
    // output_attentions: the float32 Softmax output itself is the graph output (a Cast of it, as a
    // float16 export would return, is not kept: refused rather than dropped).
    const asOutput = chain.filter((x) => g.outputs.some((o) => o.name === x));
    if (asOutput.length && (asOutput.length > 1 || asOutput[0] !== sm.outputs[0] || !CROSS_ATTENTIONS.test(asOutput[0]!))) {
      return `cross-attention ${layer}: its probabilities are returned as '${asOutput.join("', '")}', which CrossAttention cannot write (only the Softmax output named cross_attentions.{i}, or a Cast of it)`;
    }
    if (castOut.length > 1 || (castOut.length && asOutput.length)) return `cross-attention ${layer}: its probabilities are returned twice`;
    const probsOut = asOutput[0] ?? (castOut.length ? sm.outputs[0]! : undefined);
    let scale = 1;
    let n = prod.get(sm.inputs[0]!);
    if (n && (n.opType === 'Mul' || n.opType === 'Div')) {
      const mm = n.inputs.find((x) => prod.get(x)?.opType === 'MatMul');
      const c = scalarOf(g, prod, n.inputs.find((x) => x !== mm));
      if (c === undefined || !mm || (n.opType === 'Div' && n.inputs[0] !== mm)) return `cross-attention ${layer}: ${n.opType} before Softmax is not a constant scale`;
      scale *= n.opType === 'Mul' ? c : 1 / c;
      n = prod.get(mm);
    }
    if (!n || n.opType !== 'MatMul') return `cross-attention ${layer}: no Q·Kᵀ MatMul before Softmax (a mask Add is not expected)`;
    const kt = prod.get(n.inputs[1]!);
    if (!kt || kt.opType !== 'Transpose' || intsAttr(kt, 'perm')?.join() !== '0,1,3,2' || kt.inputs[0] !== `past_key_values.${layer}.encoder.key`) {
      return `cross-attention ${layer}: keys are not past_key_values.${layer}.encoder.key transposed by (0, 1, 3, 2)`;
    }
    const k = CROSS_PREFIX + `present.${layer}.encoder.key`, v = CROSS_PREFIX + `present.${layer}.encoder.value`;
    if (!g.nodes.some((x) => x.outputs.includes(k)) || !g.nodes.some((x) => x.outputs.includes(v))) return `cross-attention ${layer}: the first-step decoder does not compute its keys/values`;
    replaced.set(pv, {
      name: `${pv.name || pv.outputs[0]}/cross_attention`, opType: 'CrossAttention', domain: 'tessera',
      inputs: [n.inputs[0]!, k, v], outputs: probsOut ? [pv.outputs[0]!, probsOut] : [pv.outputs[0]!],
      attributes: new Map([
        ['scale', { type: 'float', value: scale }],
        ['cache', { type: 'string', value: `past_key_values.${layer}.encoder` }],
        ['length', { type: 'int', value: encoderLength }],
      ]),
    });
    crossLayers++;
  }
  if (!crossLayers) return 'no cross-attention over past_key_values.*.encoder.* found';
  g.nodes = g.nodes.map((x) => replaced.get(x) ?? x);

  // 3. Positions: Slice(table, past, past + S) → Gather(table, tessera_positions).
  const pastShapes = new Set(g.nodes.filter((x) => x.opType === 'Shape' && PAST_DEC.test(x.inputs[0] ?? '')).flatMap((x) => x.outputs));
  const prod2 = producers(g);
  const fromPast = (v: string | undefined): boolean => {
    for (let hops = 0, stack = [v]; stack.length && hops < 64; hops++) {
      const x = stack.pop();
      if (!x) continue;
      if (pastShapes.has(x)) return true;
      const p = prod2.get(x);
      if (p) stack.push(...p.inputs);
    }
    return false;
  };
  let positions = 0;
  g.nodes = g.nodes.map((x) => {
    if (x.domain !== '' || x.opType !== 'Slice' || !fromPast(x.inputs[1])) return x;
    const table = constantOf(g, prod2, x.inputs[0]);
    const axes = x.inputs[3] ? constantOf(g, prod2, x.inputs[3]) : undefined;
    const steps = x.inputs[4] ? constantOf(g, prod2, x.inputs[4]) : undefined;
    const axis = axes ? Number(axes.data[0]) : 0;
    if (!table || (axes && axes.data.length !== 1) || (steps && Number(steps.data[0]) !== 1) || (axis !== 0 && axis !== -table.dims.length)) return x;
    positions++;
    return { name: `${x.name}/positions`, opType: 'Gather', domain: '', inputs: [x.inputs[0]!, POSITIONS_INPUT], outputs: [x.outputs[0]!], attributes: new Map([['axis', { type: 'int', value: 0 }]]) };
  });
  if (positions !== 1) return `expected one Slice of the position table at the past length, found ${positions}`;

  // 4. Only logits (and cross_attentions.*) stay outputs; the encoder pasts go (nothing reads them now).
  const crossOutputs = g.outputs.filter((o) => CROSS_ATTENTIONS.test(o.name));
  const probsOf = new Set([...replaced.values()].map((x) => x.outputs[1]).filter((x): x is string => !!x));
  const prodOut = producers(g);
  for (const o of crossOutputs) {
    let v = o.name;
    for (let p = prodOut.get(v); !probsOf.has(v) && p?.opType === 'Cast'; p = prodOut.get(v)) v = p.inputs[0]!;
    if (!probsOf.has(v)) return `the output '${o.name}' is not the probabilities of a cross-attention the pass fused`;
  }
  g.outputs = [logitsInfo, ...crossOutputs];
  g.inputs = g.inputs.filter((i) => !PAST_ENC.test(i.name));
  const posInfo: ValueInfo = { name: POSITIONS_INPUT, dtype: 'int64', shape: ['decoder_sequence_length'] };
  g.inputs.push(posInfo);
  // decoder_with_past_model declares input_ids [batch, 1]; here it also takes a window's prompt.
  g.inputs = g.inputs.map((i) => (i.name === 'input_ids' && i.shape?.length === 2 ? { ...i, shape: [i.shape[0], 'decoder_sequence_length'] } : i));

  // Drop what nothing reads now (the cross Softmaxes, the past-length Shapes) before the self pass.
  const prodLive = producers(g);
  const live = new Set<Node>();
  for (const todo = g.outputs.map((o) => o.name); todo.length;) {
    const n = prodLive.get(todo.pop()!);
    if (!n || live.has(n)) continue;
    live.add(n);
    for (const i of n.inputs) if (i) todo.push(i);
  }
  g.nodes = g.nodes.filter((n) => live.has(n));

  // 5. Self-attention: the decoder-only rewrite. It also drops every node no output needs.
  const self = residentKvCache(model);
  if (typeof self === 'string') return `self-attention: ${self}`;
  if (self.layers.length !== crossLayers) return `${self.layers.length} self-attention layers but ${crossLayers} cross-attention layers`;
  if (batchCapacity > 1) {
    for (const n of g.nodes) {
      if (n.domain === 'tessera' && (n.opType === 'CachedAttention' || n.opType === 'CrossAttention')) n.attributes.set('batch_capacity', { type: 'int', value: batchCapacity });
    }
  }
  model.opsets.set('tessera', 1);
  return { crossLayers, self, source };
}

/**
 * Whisper's encoder (HF eager attention) reshapes each attention's merged context
 * [B, S, H, d] → [B, S, H·d] with a target computed from the *queries'* shape
 * (Shape(q_t)[0], Shape(q_t)[2]), which fuse-attention.ts cannot prove equal to the context's own
 * dims, so the 1,500 × 1,500 attentions ran as MatMul + Softmax + MatMul. The context is
 * Transpose(MatMul(P, V), 0213) with P's rows the queries', so those two entries are exactly its
 * dims 0 and 1: this writes the target as the constant [0, 0, H·d] (0 = copy) and drops the shape
 * arithmetic, after which the generic fusion takes the whole attention. Returns how many it rewrote.
 */
export function constantContextTargets(model: Model): number {
  const g = model.graph;
  const prod = producers(g);
  let n = 0;
  for (const rs of g.nodes) {
    if (rs.domain !== '' || rs.opType !== 'Reshape') continue;
    const tr = prod.get(rs.inputs[0]!);
    const pv = tr && prod.get(tr.inputs[0]!);
    if (!tr || tr.opType !== 'Transpose' || intsAttr(tr, 'perm')?.join() !== '0,2,1,3' || !pv || pv.opType !== 'MatMul' || prod.get(pv.inputs[0]!)?.opType !== 'Softmax') continue;
    const cat = prod.get(rs.inputs[1]!);
    if (!cat || cat.opType !== 'Concat' || cat.inputs.length !== 3) continue;
    const sm = prod.get(pv.inputs[0]!)!;
    const qk = prod.get(sm.inputs[0]!);
    const qT = qk?.opType === 'MatMul' ? qk.inputs[0] : undefined;
    const dimOf = (part: string) => {
      const un = prod.get(part), ga = un?.opType === 'Unsqueeze' ? prod.get(un.inputs[0]!) : undefined;
      const sh = ga?.opType === 'Gather' ? prod.get(ga.inputs[0]!) : undefined;
      return sh?.opType === 'Shape' && sh.inputs[0] === qT && !sh.attributes.size ? scalarOf(g, prod, ga!.inputs[1]) : undefined;
    };
    const last = constantOf(g, prod, cat.inputs[2]);
    if (!qT || dimOf(cat.inputs[0]!) !== 0 || dimOf(cat.inputs[1]!) !== 2 || !last || last.data.length !== 1) continue;
    const name = `${rs.name || rs.outputs[0]}/tessera_target`;
    g.initializers.set(name, { dtype: 'int64', dims: [3], data: BigInt64Array.of(0n, 0n, BigInt(Number(last.data[0]))) });
    rs.inputs = [rs.inputs[0]!, name];
    n++;
  }
  if (!n) return 0;
  const live = new Set<Node>();
  const todo = g.outputs.map((o) => o.name);
  while (todo.length) {
    const x = prod.get(todo.pop()!);
    if (!x || live.has(x)) continue;
    live.add(x);
    for (const i of x.inputs) if (i) todo.push(i);
  }
  g.nodes = g.nodes.filter((x) => live.has(x));
  return n;
}

/**
 * Whisper ties its output projection to the token embedding: logits = MatMul(x, Transpose(E)).
 * The Transpose of the 51,865-row table is too large to fold at load, so as written every decode
 * step transposed it and packed it for the GEMM again (~80 MB for tiny). This reads E in place
 * instead: com.microsoft FusedMatMul(x, E, transB = 1), whose constant B is packed once per
 * session. Returns how many it rewrote.
 */
export function untransposedHead(model: Model): number {
  const g = model.graph;
  const prod = producers(g);
  let n = 0;
  g.nodes = g.nodes.map((x) => {
    if (x.domain !== '' || x.opType !== 'MatMul') return x;
    const tr = prod.get(x.inputs[1]!);
    if (!tr || tr.domain !== '' || tr.opType !== 'Transpose' || intsAttr(tr, 'perm')?.join() !== '1,0' || !g.initializers.has(tr.inputs[0]!)) return x;
    if (g.initializers.get(tr.inputs[0]!)!.dtype !== 'float32') return x;
    n++;
    return { name: `${x.name}/transB`, opType: 'FusedMatMul', domain: 'com.microsoft', inputs: [x.inputs[0]!, tr.inputs[0]!], outputs: [...x.outputs], attributes: new Map([['transB', { type: 'int', value: 1 }], ['alpha', { type: 'float', value: 1 }]]) };
  });
  if (!n) return 0;
  const uses = readers(g);
  g.nodes = g.nodes.filter((x) => !(x.opType === 'Transpose' && x.outputs.every((o) => !(uses.get(o)?.length) && !g.outputs.some((v) => v.name === o))));
  if (!model.opsets.has('com.microsoft')) model.opsets.set('com.microsoft', 1);
  return n;
}
