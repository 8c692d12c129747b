// graph/passes/encoder-decoder-cache.ts on decoders with cross_attentions.{i} outputs
// (models/whisper/micro-timestamped): the outputs become CrossAttention's second output, and a
// form it cannot keep (a Cast of the probabilities, a copy the fused node does not write) refuses
// the whole rewrite with the output's name rather than dropping it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Graph, Model, Node } from '../../src/graph/ir.js';
import { residentEncoderDecoder } from '../../src/graph/passes/encoder-decoder-cache.js';
import { decodeModel } from '../../src/onnx/decode.js';

const load = () => decodeModel(readFileSync('models/whisper/micro-timestamped/onnx/decoder_model_merged.onnx'));

/** The merged file's with-past branch (the graph the pass keeps). */
function withPast(m: Model): Graph {
  const g = m.graph.nodes[0]!.attributes.get('then_branch')!;
  if (g.type !== 'graph') throw new Error('no then_branch');
  return g.value;
}

/** Makes the branch's cross_attentions.0 `op`(Softmax output) instead of the Softmax output itself; `pvReadsCopy`: P·V reads that copy. */
function detach(g: Graph, op: 'Cast' | 'Identity', pvReadsCopy: boolean): void {
  const sm = g.nodes.find((n) => n.outputs[0] === 'cross_attentions.0')!;
  expect(sm.opType).toBe('Softmax');
  sm.outputs[0] = 'probs0';
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === 'cross_attentions.0' ? (pvReadsCopy ? i : 'probs0') : i));
  const copy: Node = { name: 'copy0', opType: op, domain: '', inputs: ['probs0'], outputs: ['cross_attentions.0'], attributes: new Map(op === 'Cast' ? [['to', { type: 'int', value: 1 }]] : []) };
  g.nodes.splice(g.nodes.indexOf(sm) + 1, 0, copy);
}

describe('encoder-decoder rewrite with cross_attentions outputs', () => {
  it('keeps cross_attentions.{i} as the CrossAttention nodes\' second outputs, after logits', () => {
    const m = load();
    const r = residentEncoderDecoder(m, 1500);
    expect(typeof r).not.toBe('string');
    expect(m.graph.outputs.map((o) => o.name)).toEqual(['logits', 'cross_attentions.0', 'cross_attentions.1']);
    const cross = m.graph.nodes.filter((n) => n.opType === 'CrossAttention');
    expect(cross.map((n) => n.outputs[1])).toEqual(['cross_attentions.0', 'cross_attentions.1']);
    expect(m.graph.nodes.some((n) => n.opType === 'Softmax' && n.outputs.some((o) => o.startsWith('cross_attentions')))).toBe(false);
  });

  it('refuses a Cast of the probabilities as the output (naming it)', () => {
    const m = load();
    detach(withPast(m), 'Cast', true);
    expect(residentEncoderDecoder(m, 1500)).toMatch(/cross-attention 0: its probabilities are returned as 'cross_attentions.0'/);
  });

  it('refuses an output the fused node would not write (a copy beside P·V)', () => {
    const m = load();
    detach(withPast(m), 'Identity', false);
    expect(residentEncoderDecoder(m, 1500)).toMatch(/the output 'cross_attentions.0' is not the probabilities of a cross-attention the pass fused/);
  });
});
