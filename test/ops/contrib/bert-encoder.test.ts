/**
 * End to end: a two-layer BERT-shaped encoder written the way onnxruntime's transformer optimizer
 * rewrites BERT — EmbedLayerNormalization → Attention (on its mask_index) → MatMul →
 * SkipLayerNormalization (with bias) → MatMul → BiasGelu (layer 1) / FastGelu (layer 2) → MatMul
 * → SkipLayerNormalization …, then a FusedMatMul classifier head — built here with random weights
 * and run in tessera and onnxruntime-web on the same bytes, batch 2 with a padded row.
 */
import { describe, expect, it } from 'vitest';
import { DT, floatTensor, model, node, valueInfo } from '../../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../../helpers/ort.js';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { rand, worst } from './encoder-harness.js';

const [B, S, Hd, N, I, V, P, C] = [2, 12, 64, 4, 256, 100, 32, 3];

function encoder(): Uint8Array {
  let seed = 1;
  const inits: ReturnType<typeof floatTensor>[] = [];
  const w = (name: string, dims: number[], scale: number, offset = 0) => {
    inits.push(floatTensor(name, dims, rand(dims.reduce((a, b) => a * b, 1), seed++, offset - scale, offset + scale)));
    return name;
  };
  const ms = (op: string, ins: string[], outs: string[], attrs: Parameters<typeof node>[3] = {}) => {
    const n = node(op, ins, outs, attrs, `${op}_${outs[0]}`);
    n.domain = 'com.microsoft';
    return n;
  };
  const nodes = [
    ms('EmbedLayerNormalization', ['input_ids', 'token_type_ids', w('word', [V, Hd], 0.5), w('pos', [P, Hd], 0.5), w('seg', [2, Hd], 0.5),
      w('emb_g', [Hd], 0.2, 1), w('emb_b', [Hd], 0.1), 'attention_mask'], ['h0', 'mask_index'], { epsilon: 1e-12 }),
  ];
  let h = 'h0';
  for (let l = 1; l <= 2; l++) {
    nodes.push(
      ms('Attention', [h, w(`qkv${l}`, [Hd, 3 * Hd], 0.15), w(`qkv_b${l}`, [3 * Hd], 0.1), 'mask_index'], [`att${l}`], { num_heads: N }),
      node('MatMul', [`att${l}`, w(`o${l}`, [Hd, Hd], 0.15)], [`ao${l}`], {}, `o${l}`),
      ms('SkipLayerNormalization', [`ao${l}`, h, w(`ln1g${l}`, [Hd], 0.2, 1), w(`ln1b${l}`, [Hd], 0.1), w(`ob${l}`, [Hd], 0.1)], [`x${l}`], { epsilon: 1e-12 }),
      node('MatMul', [`x${l}`, w(`f1${l}`, [Hd, I], 0.15)], [`f${l}`], {}, `f1${l}`),
      l === 1
        ? ms('BiasGelu', [`f${l}`, w(`f1b${l}`, [I], 0.1)], [`g${l}`])
        : ms('FastGelu', [`f${l}`, w(`f1b${l}`, [I], 0.1)], [`g${l}`]),
      node('MatMul', [`g${l}`, w(`f2${l}`, [I, Hd], 0.1)], [`d${l}`], {}, `f2${l}`),
      ms('SkipLayerNormalization', [`d${l}`, `x${l}`, w(`ln2g${l}`, [Hd], 0.2, 1), w(`ln2b${l}`, [Hd], 0.1), w(`f2b${l}`, [Hd], 0.1)], [`h${l}`], { epsilon: 1e-12 }),
    );
    h = `h${l}`;
  }
  nodes.push(ms('FusedMatMul', [h, w('cls', [C, Hd], 0.2)], ['logits'], { transB: 1, alpha: 0.5 }));
  return model({
    opset: 17,
    extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
    inputs: [valueInfo('input_ids', DT.INT32, [B, S]), valueInfo('token_type_ids', DT.INT32, [B, S]), valueInfo('attention_mask', DT.INT32, [B, S])],
    outputs: [valueInfo('h2', DT.FLOAT, [B, S, Hd]), valueInfo('logits', DT.FLOAT, [B, S, C])],
    initializers: inits,
    nodes,
  });
}

describe('a BERT encoder as onnxruntime’s optimizer writes it (com.microsoft ops)', () => {
  it('agrees with onnxruntime-web to 1e-4, batch 2 with a padded row', async () => {
    const bytes = encoder();
    const ids = Int32Array.from(rand(B * S, 77, 0, V).map(Math.floor));
    const types = Int32Array.from({ length: B * S }, (_, i) => (i % S >= 6 ? 1 : 0));
    const mask = Int32Array.from({ length: B * S }, (_, i) => (i < S || i % S < 8 ? 1 : 0));
    const feeds = {
      input_ids: new Tensor('int32', ids, [B, S]),
      token_type_ids: new Tensor('int32', types, [B, S]),
      attention_mask: new Tensor('int32', mask, [B, S]),
    };
    const s = await InferenceSession.create(bytes);
    const ort = await ortSession(bytes);
    try {
      const ours = await s.run(feeds), theirs = await ortRun(ort, feeds);
      for (const name of ['h2', 'logits']) {
        expect([...ours[name]!.dims]).toEqual([...theirs[name]!.dims]);
        const diff = worst(ours[name]!.data as Float32Array, theirs[name]!.data as Float32Array);
        expect(diff).toBeLessThan(1e-4);
      }
      // The padded row's real tokens must not see its padding: changing a padded id changes nothing there.
      const ids2 = ids.slice();
      ids2[S + 10] = (ids2[S + 10]! + 1) % V;
      const again = await s.run({ ...feeds, input_ids: new Tensor('int32', ids2, [B, S]) });
      const a = ours.h2!.data as Float32Array, b2 = again.h2!.data as Float32Array;
      for (let i = S * Hd; i < (S + 8) * Hd; i++) expect(b2[i]).toBeCloseTo(a[i]!, 5);
    } finally {
      await s.release();
      await ort.release();
    }
  });
});
