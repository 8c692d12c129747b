// graph/passes/encoder-decoder-cache.ts on decoders with cross_attentions.{i} outputs
// (models/whisper/micro-timestamped; the float16 form made by scripts/make-whisper.mjs): the outputs
// become CrossAttention's second output (float16: the Cast to float32 kept after it), and a form it
// cannot keep (probabilities under another name, a copy the fused node does not write) refuses the
// whole rewrite with the output's name rather than dropping it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Graph, Model, Node } from '../../src/graph/ir.js';
import { residentEncoderDecoder } from '../../src/graph/passes/encoder-decoder-cache.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { makeWhisper } from '../../scripts/make-whisper.mjs';

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

  it('float16 export (keep_io_types): the Softmax output is CrossAttention\'s second output, the Cast to float32 after it stays', () => {
    const out = mkdtempSync(join(tmpdir(), 'whisper-ts-'));
    try {
      makeWhisper('micro', out, { formats: ['fp16'], timestamped: true, log: () => {} });
      const m = decodeModel(readFileSync(`${out}/onnx/decoder_model_merged_fp16.onnx`));
      expect(typeof residentEncoderDecoder(m, 1500)).not.toBe('string');
      expect(m.graph.outputs.map((o) => o.name)).toEqual(['logits', 'cross_attentions.0', 'cross_attentions.1']);
      for (const i of [0, 1]) {
        const cast = m.graph.nodes.find((n) => n.outputs[0] === `cross_attentions.${i}`)!;
        expect(cast.opType).toBe('Cast');
        expect(m.graph.nodes.find((n) => n.outputs[1] === cast.inputs[0])?.opType).toBe('CrossAttention');
      }
    } finally { rmSync(out, { recursive: true, force: true }); }
  });

  it('refuses probabilities returned under another name (naming it)', () => {
    const m = load();
    const g = withPast(m);
    for (const n of g.nodes) { n.inputs = n.inputs.map((i) => (i === 'cross_attentions.0' ? 'attn.0' : i)); n.outputs = n.outputs.map((o) => (o === 'cross_attentions.0' ? 'attn.0' : o)); }
    for (const o of [...g.outputs, ...m.graph.outputs]) if (o.name === 'cross_attentions.0') o.name = 'attn.0';
    m.graph.nodes[0]!.outputs = m.graph.nodes[0]!.outputs.map((o) => (o === 'cross_attentions.0' ? 'attn.0' : o));
    expect(residentEncoderDecoder(m, 1500)).toMatch(/cross-attention 0: its probabilities are returned as 'attn.0'/);
  });

  it('refuses a Cast of the probabilities that P·V reads (not fused: the output would be lost)', () => {
    const m = load();
    detach(withPast(m), 'Cast', true);
    expect(residentEncoderDecoder(m, 1500)).toMatch(/the output 'cross_attentions.0' is not the probabilities of a cross-attention the pass fused/);
  });

  it('refuses an output the fused node would not write (a copy beside P·V)', () => {
    const m = load();
    detach(withPast(m), 'Identity', false);
    expect(residentEncoderDecoder(m, 1500)).toMatch(/the output 'cross_attentions.0' is not the probabilities of a cross-attention the pass fused/);
  });
});
