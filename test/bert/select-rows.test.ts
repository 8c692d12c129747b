/**
 * selectRows: the per-token head computed only at chosen rows gives the full graph's logits at
 * those rows (to float rounding, ≤ 2e-6 relative); graphs without such a head are refused with a TesseraError.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor, TesseraError } from '../../src/index.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { selectRows } from '../../src/graph/passes/select-rows.js';
import { mnistModel } from '../helpers/mnist.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';
import { bertFeeds, bertFile, bertModels, relativeError } from './helpers.js';

const rewrite = (m: Parameters<typeof selectRows>[0]) => { selectRows(m); };

describe.each(Object.entries(bertModels))('selectRows on BERT %s', (_name, m) => {
  let full: InferenceSession;
  let rows: InferenceSession;
  beforeAll(async () => {
    full = await InferenceSession.create(bertFile(m.path));
    rows = await InferenceSession.createRewritten(bertFile(m.path), {}, rewrite);
  });
  afterAll(async () => { await full.release(); await rows.release(); });

  it('adds an int64 row_indices input and makes logits [rows, vocab]', () => {
    expect(rows.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids', 'row_indices']);
    expect(rows.outputMetadata[0]!.shape).toEqual(['rows', m.vocab]);
  });

  it.each([[1, 5, 0, [3]], [3, 20, 6, [0, 19, 21, 40, 45, 59]], [2, 9, 4, [17, 2, 2]]] as const)(
    'batch %i × seq %i (pad step %i), rows %j: the full graph rows (to float rounding)', async (batch, seq, padStep, picked) => {
      const feeds = bertFeeds(batch, seq, m.vocab, padStep, 7 + seq);
      const want = (await full.run(feeds)).logits!;
      const got = (await rows.run({ ...feeds, row_indices: new Tensor('int64', BigInt64Array.from(picked, BigInt), [picked.length]) })).logits!;
      expect(got.dims).toEqual([picked.length, m.vocab]);
      const a = got.data as Float32Array, b = want.data as Float32Array;
      const v = m.vocab;
      picked.forEach((r, k) => {
        const diff = relativeError(a.subarray(k * v, (k + 1) * v), b.subarray(r * v, (r + 1) * v));
        // Not always bit-identical: a row may land in a GEMM edge tile in one graph and in a full
        // tile in the other, which sums in another order. Float rounding, nothing more.
        expect(diff, `row ${r}`).toBeLessThan(2e-6);
      });
    });

  it('rejects a row index past batch × seq with a TesseraError', async () => {
    const feeds = bertFeeds(1, 4, m.vocab, 0);
    await expect(rows.run({ ...feeds, row_indices: new Tensor('int64', BigInt64Array.from([4n]), [1]) })).rejects.toBeInstanceOf(TesseraError);
  });
});

describe('selectRows refuses graphs without a per-token head', () => {
  it('MNIST: a rank-2 output', () => {
    expect(() => selectRows(decodeModel(mnistModel()))).toThrow(/selectRows: output 'probabilities' has rank 2/);
  });

  it('an output that comes from a Transpose', () => {
    const bytes = model({
      nodes: [node('MatMul', ['x', 'w'], ['h']), node('Transpose', ['h'], ['y'], { perm: [1, 0, 2] }, 'swap')],
      inputs: [valueInfo('x', DT.FLOAT, ['b', 's', 2])],
      outputs: [valueInfo('y', DT.FLOAT, ['s', 'b', 2])],
      initializers: [floatTensor('w', [2, 2], [1, 0, 0, 1])],
    });
    const err = (() => { try { selectRows(decodeModel(bytes)); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(TesseraError);
    expect((err as TesseraError).code).toBe('INVALID_MODEL');
    expect((err as TesseraError).message).toMatch(/Transpose node 'swap', which does not act on each token alone/);
  });

  it('a per-token chain with no projection', () => {
    const bytes = model({
      nodes: [node('Relu', ['x'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT, ['b', 's', 2])],
      outputs: [valueInfo('y', DT.FLOAT, ['b', 's', 2])],
    });
    expect(() => selectRows(decodeModel(bytes))).toThrow(/has no projection/);
  });

  it('a small head gathers its input: [b, s, 2] → rows of x·W + bias (W an unfolded Transpose)', async () => {
    const bytes = model({
      nodes: [node('Transpose', ['wt'], ['w'], { perm: [1, 0] }), node('MatMul', ['x', 'w'], ['h']), node('Add', ['h', 'bias'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT, ['b', 's', 2])],
      outputs: [valueInfo('y', DT.FLOAT, ['b', 's', 3])],
      initializers: [floatTensor('wt', [3, 2], [1, 4, 2, 5, 3, 6]), floatTensor('bias', [3], [0.5, 0, -0.5])],
    });
    const s = await InferenceSession.createRewritten(bytes, {}, rewrite);
    const x = new Tensor('float32', Float32Array.from([1, 0, 0, 1, 1, 1, 2, 0]), [2, 2, 2]);
    const out = (await s.run({ x, row_indices: new Tensor('int64', BigInt64Array.from([3n, 0n]), [2]) })).y!;
    expect(out.dims).toEqual([2, 3]);
    expect(Array.from(out.data as Float32Array)).toEqual([2.5, 4, 5.5, 1.5, 2, 2.5]);
    await s.release();
  });
});
