/**
 * A tied output projection holds its table once (issue 19: "fusions must not duplicate large
 * weights"). logits = MatMul(h, Transpose(E)) over the embedding table E that the token Gather
 * reads — how tied decoders (Qwen3, Llama 3.2) and BERT's MLM head export — used to fold into a
 * transposed copy of E beside E. graph/passes/tied-weights.ts gives the MatMul E itself (transB):
 * a few rows run as dot products over E's rows, more rows on panels packed from E (per band per
 * run with memory: 'low'). Logits equal onnxruntime-web's at 1, 3 (dot products) and 9 rows (GEMM),
 * with and without a bias, and the session's heap holds E once where the unoptimised graph holds
 * it twice.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { DT, floatTensor, int64Tensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { ortRun, ortSession } from '../helpers/ort.js';

const V = 4099, H = 130; // E: 2.1 MB; neither size a multiple of 4
const table = Array.from({ length: V * H }, (_, i) => Math.sin(i * 0.013) * 0.1);

function tied(bias: boolean): Uint8Array {
  const nodes = [
    node('Gather', ['E', 'ids'], ['emb']),
    node('Tanh', ['emb'], ['h']),
    node('Transpose', ['E'], ['Et'], { perm: [1, 0] }),
    node('MatMul', ['h', 'Et'], [bias ? 'mm' : 'logits']),
  ];
  const inits = [floatTensor('E', [V, H], table)];
  if (bias) {
    nodes.push(node('Add', ['mm', 'b'], ['logits']));
    inits.push(floatTensor('b', [V], Array.from({ length: V }, (_, i) => Math.cos(i) * 0.01)));
  }
  return model({ nodes, inputs: [valueInfo('ids', DT.INT64, [1, 'n'])], outputs: [valueInfo('logits', DT.FLOAT, [1, 'n', V])], initializers: inits, opset: 14 });
}

type Internals = { heapBytesInUse: number };
const internals = (s: InferenceSession) => s as unknown as Internals;

describe('tied embedding table read by the lm_head as stored', () => {
  for (const bias of [false, true]) {
    it(`${bias ? 'with a bias: ' : ''}logits equal onnxruntime-web's at 1, 3 and 9 rows; the table is held once`, async () => {
      const bytes = tied(bias);
      const s = await InferenceSession.create(bytes);
      const plain = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
      const ort = await ortSession(bytes);
      for (const n of [1, 3]) {
        const ids = new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 977 + n) % V)), [1, n]);
        const got = (await s.run({ ids })).logits!;
        expect(got.dims).toEqual([1, n, V]);
        const want = (await ortRun(ort, { ids })).logits!.data as Float32Array;
        const y = got.data as Float32Array;
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(y[i]! - want[i]!));
        expect(worst, `${n} rows`).toBeLessThan(2e-5);
        await plain.run({ ids });
      }
      // Dot products over E's rows: no second table. The unoptimised graph folds Transpose(E) into one.
      const E = V * H * 4;
      expect(internals(s).heapBytesInUse).toBeLessThan(internals(plain).heapBytesInUse - 0.9 * E);
      expect(internals(s).heapBytesInUse).toBeLessThan(1.25 * E);
      // Many rows run the GEMM on panels packed from E (made then, not before).
      const n = 9;
      const ids = new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 31 + 5) % V)), [1, n]);
      const y = (await s.run({ ids })).logits!.data as Float32Array;
      const want = (await ortRun(ort, { ids })).logits!.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(y[i]! - want[i]!));
      expect(worst).toBeLessThan(2e-5);
      // memory: 'low' packs E a band of columns at a time per run instead: the same bits.
      const low = await InferenceSession.create(bytes, { memory: 'low' });
      const yl = (await low.run({ ids })).logits!.data as Float32Array;
      expect(Buffer.compare(Buffer.from(yl.buffer, yl.byteOffset, yl.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength))).toBe(0);
      expect(internals(low).heapBytesInUse).toBeLessThan(1.25 * E);
      await Promise.all([s.release(), plain.release(), low.release(), ort.release()]);
    });
  }
});
