// A q8 decoder's lm_head (DynamicQuantizeLinear → MatMulInteger, fused into one
// tessera.DynamicQuantizeMatMul) runs at the last position only, with x's quantization range still
// taken over every row (selectQuantizedHeadRows): its logits equal, bit for bit, the last row of the
// same graph computing every row, and greedy ids still equal onnxruntime-web's.
import '../../src/index.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/api/session.js';
import { Tensor } from '../../src/api/tensor.js';
import { GenerationSession } from '../../src/generation/session.js';
import { KEY_MASK_INPUT, PAST_LENGTH_INPUT, residentKvCache } from '../../src/graph/passes/kv-cache.js';
import { ortGreedy } from './ort-generate.js';

const bytes = new Uint8Array(readFileSync(new URL('../../models/decoders/tiny-qwen3/onnx/model_quantized.onnx', import.meta.url)));
const i64 = (v: number[], dims: number[]) => new Tensor('int64', BigInt64Array.from(v, BigInt), dims);

describe('q8 lm_head at the last row', () => {
  it('equals the all-rows head bit for bit, and greedy ids equal onnxruntime-web\'s', async () => {
    const gen = await GenerationSession.create(bytes);
    expect(gen.kvCache).toBe('resident');
    expect(gen.logitsAt).toBe('last');
    // The same rewritten graph without the row selection: logits at every row.
    const all = await InferenceSession.createRewritten(bytes, {}, (m) => { residentKvCache(m); });
    const prompt = [5, 17, 42, 3, 77, 8, 120, 9, 1, 33];
    const S = prompt.length, cap = 32;
    const feeds = {
      input_ids: i64(prompt, [1, S]),
      position_ids: i64(prompt.map((_, i) => i), [1, S]),
      [PAST_LENGTH_INPUT]: new Tensor('int32', Int32Array.of(0), [1]),
      [KEY_MASK_INPUT]: new Tensor('float32', new Float32Array(cap), [1, cap]),
    };
    const full = (await all.run(feeds)).logits!;
    const V = full.dims[full.dims.length - 1]!;
    const last = (await gen.session.run({ ...feeds, tessera_rows: i64([S - 1], [1]) })).logits!;
    expect(last.dims).toEqual([1, V]);
    expect(Array.from(last.data as Float32Array)).toEqual(Array.from((full.data as Float32Array).subarray((S - 1) * V, S * V)));
    await all.release();
    expect(await gen.generate(prompt, { max_new_tokens: 8 })).toEqual(await ortGreedy(bytes, prompt, 8));
    await gen.release();
  });
});
