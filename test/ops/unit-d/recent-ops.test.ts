/**
 * The newest ops (CausalConvWithState and LinearAttention from opset 27, FlexAttention from
 * ai.onnx.preview): decode steps that must continue a prefill exactly, a score_mod graph reading
 * an outer initializer, and errors naming the node, attribute or input.
 */
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../../src/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../../helpers/onnx-builder.js';
import { f32, rand, runNode } from '../unit-a/run-node.js';

const T = onnxProto.onnx.AttributeProto.AttributeType;
const data = (t: { data: unknown }) => Array.from(t.data as Float32Array);
const close = (got: number[], want: number[], tol = 1e-5) => got.forEach((v, i) => expect(Math.abs(v - want[i]!), `element ${i}`).toBeLessThanOrEqual(tol));

describe('CausalConvWithState', () => {
  it('a prefill then a one-token step with its state equals one pass over the whole sequence', async () => {
    const C = 2, K = 3, L = 5;
    const x = rand(C * L, 31), w = f32(rand(C * K, 32), [C, 1, K]);
    const [whole] = await runNode({ op: 'CausalConvWithState', opset: 27, inputs: [f32(x, [1, C, L]), w], attrs: { activation: 'silu' } });
    const prefix = x.filter((_, i) => i % L < L - 1), last = x.filter((_, i) => i % L === L - 1);
    const [, state] = await runNode({ op: 'CausalConvWithState', opset: 27, outputs: 2, inputs: [f32(prefix, [1, C, L - 1]), w], attrs: { activation: 'silu' } });
    expect(state!.dims).toEqual([1, C, K - 1]);
    const [step] = await runNode({ op: 'CausalConvWithState', opset: 27, inputs: [f32(last, [1, C, 1]), w, '', state!], attrs: { activation: 'silu' } });
    close(data(step!), data(whole!).filter((_, i) => i % L === L - 1));
  });

  it('refuses an unknown activation and a past_state of the wrong length', async () => {
    const x = f32(rand(4), [1, 1, 4]), w = f32([1, 2, 3], [1, 1, 3]);
    await expect(runNode({ op: 'CausalConvWithState', opset: 27, name: 'cc', inputs: [x, w], attrs: { activation: 'gelu' } }))
      .rejects.toThrow(/CausalConvWithState node 'cc': attribute 'activation' value 'gelu' is not supported/);
    await expect(runNode({ op: 'CausalConvWithState', opset: 27, name: 'cc', inputs: [x, w, '', f32([0], [1, 1, 1])] }))
      .rejects.toThrow(/CausalConvWithState node 'cc': past_state \(input 3, 'in3'\) must be \[1, 1, 2\], got \[1,1,1\]/);
  });
});

describe('LinearAttention', () => {
  it('linear rule: output t is scale · q_t · Σ_{s≤t} k_s ⊗ v_s', async () => {
    const Tn = 3, D = 2;
    const q = rand(Tn * D, 41), k = rand(Tn * D, 42), v = rand(Tn * D, 43);
    const [y, state] = await runNode({
      op: 'LinearAttention', opset: 27, outputs: 2, attrs: { q_num_heads: 1, kv_num_heads: 1, update_rule: 'linear' },
      inputs: [f32(q, [1, Tn, D]), f32(k, [1, Tn, D]), f32(v, [1, Tn, D])],
    });
    const S = [0, 0, 0, 0], want: number[] = [];
    for (let t = 0; t < Tn; t++) {
      for (let d = 0; d < D; d++) for (let m = 0; m < D; m++) S[d * D + m] += k[t * D + d]! * v[t * D + m]!;
      for (let m = 0; m < D; m++) want.push((q[t * D]! * S[m]! + q[t * D + 1]! * S[D + m]!) / Math.sqrt(D));
    }
    close(data(y!), want);
    close(data(state!), S);
  });

  it('update_rule decides which of decay and beta must be given', async () => {
    const x = f32(rand(4), [1, 2, 2]);
    await expect(runNode({ op: 'LinearAttention', opset: 27, name: 'la', attrs: { q_num_heads: 1, kv_num_heads: 1 }, inputs: [x, x, x] }))
      .rejects.toThrow(/LinearAttention node 'la': update_rule 'gated_delta' requires the decay input \(4\)/);
    await expect(runNode({ op: 'LinearAttention', opset: 27, name: 'la', attrs: { q_num_heads: 2, kv_num_heads: 1, update_rule: 'linear' }, inputs: [x, x, x, '', x] }))
      .rejects.toThrow(/LinearAttention node 'la': update_rule 'linear' forbids the decay input \(4\)/);
    await expect(runNode({ op: 'LinearAttention', opset: 27, name: 'la', attrs: { q_num_heads: 2, kv_num_heads: 3, update_rule: 'linear' }, inputs: [x, x, x] }))
      .rejects.toThrow(/LinearAttention node 'la': attribute 'kv_num_heads' 3 must be positive and divide q_num_heads 2/);
  });
});

describe('FlexAttention', () => {
  function flexModel(withMod: boolean, scaleAttr?: number): Uint8Array {
    const n = node('FlexAttention', ['Q', 'K', 'V'], ['Y'], scaleAttr === undefined ? {} : { scale: scaleAttr }, 'flex');
    n.domain = 'ai.onnx.preview';
    if (withMod) {
      // score_mod adds a bias the outer graph holds: the body reads it by name.
      const g: onnxProto.onnx.IGraphProto = {
        name: 'score_mod', node: [node('Add', ['scores', 'bias'], ['scores_out'])],
        input: [valueInfo('scores', DT.FLOAT)], output: [valueInfo('scores_out', DT.FLOAT)],
      };
      n.attribute = [...(n.attribute ?? []), { name: 'score_mod', type: T.GRAPH, g }];
    }
    return model({
      nodes: [n], opset: 26, extraOpsets: [{ domain: 'ai.onnx.preview', version: 1 }],
      inputs: ['Q', 'K', 'V'].map((x) => valueInfo(x, DT.FLOAT)), outputs: [valueInfo('Y', DT.FLOAT)],
      initializers: [floatTensor('bias', [2], [0, -1e9])],
    });
  }

  it('a score_mod reading an outer initializer masks the second key', async () => {
    const s = await InferenceSession.create(flexModel(true));
    const q = f32(rand(4, 51), [1, 1, 2, 2]), k = f32(rand(4, 52), [1, 1, 2, 2]), v = f32([1, 2, 3, 4], [1, 1, 2, 2]);
    const out = await s.run({ Q: q, K: k, V: v });
    close(data(out.Y!), [1, 2, 1, 2]); // every query attends only key 0
    await s.release();
  });

  it('refuses a key whose head size differs from the query, naming the node', async () => {
    const s = await InferenceSession.create(flexModel(false));
    await expect(s.run({ Q: f32(rand(4), [1, 1, 2, 2]), K: f32(rand(6), [1, 1, 2, 3]), V: f32(rand(4), [1, 1, 2, 2]) }))
      .rejects.toThrow(/FlexAttention node 'flex': Q \[1,1,2,2\], K \[1,1,2,3\] and V \[1,1,2,2\] disagree/);
    await s.release();
  });
});
