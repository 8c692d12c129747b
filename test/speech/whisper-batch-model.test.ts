// WhisperModel.stepBatch: B windows decoded in lockstep give, row for row, the bits that decoding
// each window alone gives (the decoder's rows are independent and its kernels batch-invariant: the
// GEMM sums each row alone whatever its tile), fp32, fp16 and q8 (onnxruntime's dynamic
// quantization, made per window: graph/passes/per-item-quantize.ts); q4 refuses to batch.
import { describe, expect, it } from 'vitest';
import '../../src/index.js';
import { Tensor } from '../../src/api/tensor.js';
import { WhisperModel } from '../../src/speech/whisper-model.js';
import { readFileSync } from 'node:fs';
import { features, argmax, bits } from '../helpers/whisper.js';

const dir = 'models/whisper/micro/onnx';
const gen = JSON.parse(readFileSync(`${dir}/../generation_config.json`, 'utf8')) as { decoder_start_token_id: number; lang_to_id: Record<string, number>; task_to_id: Record<string, number>; no_timestamps_token_id: number };
const PROMPT = [gen.decoder_start_token_id, gen.lang_to_id['<|en|>']!, gen.task_to_id.transcribe!, gen.no_timestamps_token_id];
const PROMPT_TS = PROMPT.slice(0, 3); // with timestamps: no <|notimestamps|>
const PROMPT_5 = [...PROMPT, 500]; // decoder_input_ids: rows of different windows share GEMM tiles

/** A tensor's bits: float32 as uint32, float16 as its uint16 storage. */
const raw = (t: Tensor) => (t.type === 'float32' ? bits(t.data as Float32Array) : Array.from(t.data as Uint16Array));

/** Greedy steps of one window alone: per step, the logits at `rows` of the first step, then the last row. */
async function alone(m: WhisperModel, feat: Tensor, prompt: number[], steps: number, rows: number[]): Promise<Float32Array[][]> {
  const out: Float32Array[][] = [];
  let got = await m.stepRows(prompt, await m.encode(feat), rows);
  out.push(got);
  for (let s = 1; s < steps; s++) {
    got = await m.stepRows([argmax(got[got.length - 1]!)], undefined, [0]);
    out.push(got);
  }
  return out;
}

describe('WhisperModel.stepBatch', () => {
  for (const [suffix, batches] of [['', true], ['_fp16', true], ['_quantized', true], ['_q4', false]] as const) {
    it(`decoder_model_merged${suffix}: ${batches ? 'each batch row equals its window decoded alone, bit for bit' : 'refuses to batch (its kernels are not batch-invariant)'}`, async () => {
      const m = await WhisperModel.create({ encoder: `${dir}/encoder_model${suffix}.onnx`, decoder: `${dir}/decoder_model_merged${suffix}.onnx` },
        { max_source_positions: 1500, max_target_positions: 448, batch_capacity: 4 });
      try {
        expect(m.rowsIndependent).toBe(batches);
        const feats = [features(3), features(11), features(29), features(41)];
        if (!batches) {
          expect(m.maxBatch()).toBe(1);
          await expect(m.stepBatch([PROMPT, PROMPT], m.stack([await m.encode(feats[0]!), await m.encode(feats[1]!)]), [3])).rejects.toThrow(/cannot decode windows as one batch/);
          return;
        }
        // Batches of 4, 3 (a partial group), 2 with no-speech's two rows on the first step (the
        // <|startoftranscript|> row and the last), the 3-token prompt of return_timestamps, and a
        // 5-token prompt (4-row GEMM tiles hold rows of two windows).
        const cases: [number, number[], number[]][] = [[4, PROMPT, [3]], [3, PROMPT, [3]], [3, PROMPT_5, [4]], [2, PROMPT, [0, 3]], [2, PROMPT_TS, [2]], [2, PROMPT_TS, [0, 2]]];
        for (const [B, prompt, rows] of cases) {
          const steps = 5;
          const want: Float32Array[][][] = [];
          for (let b = 0; b < B; b++) want.push(await alone(m, feats[b]!, prompt, steps, rows));
          // encodeBatch writes each window's run straight into its rows: the bits of stacking them.
          const hidden = await m.encodeBatch(feats.slice(0, B));
          const stacked = m.stack(await Promise.all(feats.slice(0, B).map((f) => m.encode(f))));
          expect(hidden.type).toBe(stacked.type);
          expect(hidden.dims).toEqual(stacked.dims);
          expect(raw(hidden)).toEqual(raw(stacked));
          // Steps alternate stepBatch (owned copies) and stepBatchViews (views the next step overwrites).
          const step = (s: number, ids: number[][], h: Tensor | undefined, r: number[]) => (s % 2 ? m.stepBatchViews(ids, h, r) : m.stepBatch(ids, h, r));
          const first = await step(0, Array.from({ length: B }, () => prompt), hidden, rows);
          let got = first;
          for (let s = 0; s < steps; s++) {
            if (s > 0) got = await step(s, want.map((w) => [argmax(w[s - 1]!.at(-1)!)]), undefined, [0]);
            for (let b = 0; b < B; b++) {
              expect(got[b]!.length).toBe(want[b]![s]!.length);
              got[b]!.forEach((row, i) => expect(bits(row), `B ${B}, prompt ${prompt.length}, step ${s}, row ${b}.${i}`).toEqual(bits(want[b]![s]![i]!)));
            }
          }
          // stepBatch's arrays are the caller's: later steps, which reuse the session's output buffer, leave them alone.
          first.forEach((r, b) => r.forEach((row, i) => expect(bits(row), `kept step 0, row ${b}.${i}`).toEqual(bits(want[b]![0]![i]!))));
        }
        // A fixed number of plans per batch size and prompt shape (first step, then a token).
        expect(m.stats.decoderPlans).toBeLessThanOrEqual(16);
        await expect(m.stepBatch([PROMPT, PROMPT, PROMPT, PROMPT, PROMPT], undefined, [3])).rejects.toThrow(/batch_capacity/);
        await expect(m.stepBatch([[1], [1, 2]], undefined, [0])).rejects.toThrow(/new tokens/);
        await expect(m.stepBatch([[1]], undefined, [0])).rejects.toThrow(/being decoded have 2/);
      } finally {
        await m.release();
      }
    }, 120_000);
  }
});
