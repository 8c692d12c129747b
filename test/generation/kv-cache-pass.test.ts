// graph/passes/kv-cache.ts refuses, with a reason and without changing the model, a graph it
// cannot rewrite entirely; GenerationSession then runs the graph as written ('copied').
import '../../src/index.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/onnx/decode.js';
import { residentKvCache } from '../../src/graph/passes/kv-cache.js';

const bytes = new Uint8Array(readFileSync(new URL('../../models/generation/tiny-llama.onnx', import.meta.url)));

describe('residentKvCache', () => {
  it('rewrites every layer of the fixture', () => {
    const m = decodeModel(bytes);
    const r = residentKvCache(m);
    expect(typeof r).toBe('object');
    if (typeof r === 'string') return;
    expect(r.kind).toBe('attention');
    expect(r.layers.map((l) => l.pastKey)).toEqual(['past_key_values.0.key', 'past_key_values.1.key']);
    expect(r.layers[0]!.scale).toBeCloseTo(1 / Math.sqrt(8), 6);
    expect(m.graph.nodes.filter((n) => n.opType === 'CachedAttention')).toHaveLength(2);
    expect(m.graph.inputs.map((i) => i.name)).toEqual(['input_ids', 'position_ids', 'tessera_past_length', 'tessera_key_mask']);
    expect(m.graph.outputs.map((o) => o.name)).toEqual(['logits']);
  });

  it('refuses, unchanged, when the attention probabilities are read elsewhere', () => {
    const m = decodeModel(bytes);
    const sm = m.graph.nodes.find((n) => n.opType === 'Softmax')!;
    m.graph.outputs.push({ name: sm.outputs[0]!, dtype: 'float32', shape: undefined });
    const before = JSON.stringify(m.graph.nodes.map((n) => [n.opType, n.inputs, n.outputs]));
    const r = residentKvCache(m);
    expect(r).toMatch(/Softmax .*probabilities/);
    expect(JSON.stringify(m.graph.nodes.map((n) => [n.opType, n.inputs, n.outputs]))).toBe(before);
  });
});
