// One decoder layer as onnxruntime-genai's model builder writes it — SimplifiedLayerNormalization,
// packed QKV MatMul, GroupQueryAttention with rotary and seqlens_k / total_sequence_length computed
// in the graph from attention_mask, output MatMul, SkipSimplifiedLayerNormalization — run as a
// prompt then decode steps, each step fed its own presents as the next pasts (tessera's and
// onnxruntime-web's chains kept apart), compared at every step.
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { DT, floatTensor, int64Tensor, model, node, valueInfo } from '../../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../../helpers/ort.js';
import { expectClose, rand, ropeCaches } from './ms-node.js';

const HID = 64, H = 4, KVH = 2, D = 16, MAXPOS = 32;

function layerModel(): Uint8Array {
  const [cos, sin] = ropeCaches(MAXPOS, D / 2);
  const ms = (n: ReturnType<typeof node>) => ({ ...n, domain: 'com.microsoft' });
  return model({
    nodes: [
      node('SimplifiedLayerNormalization', ['x', 'g1'], ['n1'], { epsilon: 1e-6, axis: -1 }),
      node('MatMul', ['n1', 'wqkv'], ['qkv']),
      node('ReduceSum', ['attention_mask', 'one_axis'], ['msum'], { keepdims: 0 }),
      node('Sub', ['msum', 'one'], ['mlast']),
      node('Cast', ['mlast'], ['seqlens_k'], { to: DT.INT32 }),
      node('Shape', ['attention_mask'], ['mshape']),
      node('Gather', ['mshape', 'one_idx'], ['mlen'], { axis: 0 }),
      node('Cast', ['mlen'], ['total'], { to: DT.INT32 }),
      ms(node('GroupQueryAttention', ['qkv', '', '', 'past_key', 'past_value', 'seqlens_k', 'total', 'cos', 'sin'], ['attn', 'present_key', 'present_value'],
        { num_heads: H, kv_num_heads: KVH, do_rotary: 1 }, 'gqa')),
      node('MatMul', ['attn', 'wo'], ['o']),
      ms(node('SkipSimplifiedLayerNormalization', ['o', 'x', 'g2'], ['y', '', '', 'residual'], { epsilon: 1e-6 }, 'skipnorm')),
    ],
    inputs: [
      valueInfo('x', DT.FLOAT, [1, 'S', HID]), valueInfo('attention_mask', DT.INT64, [1, 'T']),
      valueInfo('past_key', DT.FLOAT, [1, KVH, 'P', D]), valueInfo('past_value', DT.FLOAT, [1, KVH, 'P', D]),
    ],
    outputs: [valueInfo('y', DT.FLOAT), valueInfo('residual', DT.FLOAT), valueInfo('present_key', DT.FLOAT), valueInfo('present_value', DT.FLOAT)],
    initializers: [
      floatTensor('g1', [HID], Array.from(rand(HID, 1, 0.5, 1.5))), floatTensor('g2', [HID], Array.from(rand(HID, 2, 0.5, 1.5))),
      floatTensor('wqkv', [HID, (H + 2 * KVH) * D], Array.from(rand(HID * (H + 2 * KVH) * D, 3, -0.3, 0.3))),
      floatTensor('wo', [HID, HID], Array.from(rand(HID * HID, 4, -0.3, 0.3))),
      floatTensor('cos', [MAXPOS, D / 2], Array.from(cos.data as Float32Array)), floatTensor('sin', [MAXPOS, D / 2], Array.from(sin.data as Float32Array)),
      int64Tensor('one_axis', [1], [1]), int64Tensor('one', [], [1]), int64Tensor('one_idx', [], [1]),
    ],
    opset: 17,
    extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
  });
}

describe('a genai-style decoder layer: prompt, then decode steps', () => {
  it('matches onnxruntime-web at every step', async () => {
    const bytes = layerModel();
    const mine = await InferenceSession.create(bytes), ort = await ortSession(bytes);
    const empty = () => new Tensor('float32', new Float32Array(0), [1, KVH, 0, D]);
    let pastMine: Tensor[] = [empty(), empty()], pastOrt: Tensor[] = [empty(), empty()];
    let total = 0;
    for (const [step, S] of [5, 1, 1, 1].entries()) {
      total += S;
      const x = new Tensor('float32', rand(S * HID, 50 + step), [1, S, HID]);
      const mask = new Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]);
      const a = await mine.run({ x, attention_mask: mask, past_key: pastMine[0]!, past_value: pastMine[1]! });
      const b = await ortRun(ort, { x, attention_mask: mask, past_key: pastOrt[0]!, past_value: pastOrt[1]! });
      const wrap = (t: { data: unknown; dims: readonly number[] }) => ({ data: t.data as ArrayLike<number>, dims: t.dims });
      for (const name of ['y', 'residual', 'present_key', 'present_value']) expectClose(a[name]!, wrap(b[name]!), `step ${step} ${name}`, 1e-4, 1e-5);
      expect([...a.present_key!.dims]).toEqual([1, KVH, total, D]);
      pastMine = [a.present_key!, a.present_value!];
      pastOrt = [new Tensor('float32', b.present_key!.data as Float32Array, [...b.present_key!.dims]), new Tensor('float32', b.present_value!.data as Float32Array, [...b.present_value!.dims])];
    }
    await mine.release();
    await ort.release();
  });
});
