/** WhisperModel (resident cross/self caches, If resolved at load) against onnxruntime-web running the files as written. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../../src/index.js';
import { Tensor } from '../../src/api/tensor.js';
import { WhisperModel } from '../../src/speech/whisper-model.js';
import { floatToHalf, halfToFloat } from '../../src/onnx/float-formats.js';
import { ortRun, ortSession } from '../helpers/ort.js';
import { features } from '../helpers/whisper.js';

const dir = 'models/whisper/micro/onnx';
const config = { max_source_positions: 1500, max_target_positions: 448 };
const gen = JSON.parse(readFileSync(`${dir}/../generation_config.json`, 'utf8')) as { decoder_start_token_id: number; lang_to_id: Record<string, number>; task_to_id: Record<string, number>; no_timestamps_token_id: number };
const PROMPT = [gen.decoder_start_token_id, gen.lang_to_id['<|en|>']!, gen.task_to_id.transcribe!, gen.no_timestamps_token_id];

/** Greedy decoding the way transformers.js drives onnxruntime: present → past through JS, merged decoder. */
async function ortGreedy(feat: Tensor, prompt: number[], steps: number, suffix = ''): Promise<{ ids: number[]; logits: Float32Array[] }> {
  const fp16 = false; // these exports keep float32 inputs and outputs (keep_io_types)
  const enc = await ortSession(readFileSync(`${dir}/encoder_model${suffix}.onnx`));
  const dec = await ortSession(readFileSync(`${dir}/decoder_model_merged${suffix}.onnx`));
  const f = fp16 ? new Tensor('float16', Uint16Array.from(feat.data as Float32Array, floatToHalf), [...feat.dims]) : feat;
  const h = (await ortRun(enc, { input_features: f })).last_hidden_state!;
  const hidden = fp16 ? new Tensor('float16', h.data as Uint16Array, [...h.dims]) : new Tensor('float32', h.data as Float32Array, [...h.dims]);
  const past: Record<string, Tensor> = {};
  for (const n of dec.inputNames.filter((x) => x.startsWith('past_key_values'))) past[n] = fp16 ? new Tensor('float16', new Uint16Array(0), [1, 2, 0, 12]) : new Tensor('float32', new Float32Array(0), [1, 2, 0, 12]);
  let ids = prompt;
  const out: number[] = [];
  const logitsRows: Float32Array[] = [];
  for (let s = 0; s < steps; s++) {
    const feeds: Record<string, Tensor> = { ...past, input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]), encoder_hidden_states: hidden, use_cache_branch: new Tensor('bool', Uint8Array.of(s > 0 ? 1 : 0), [1]) };
    const r = await ortRun(dec, feeds);
    const lg = r.logits!;
    const V = lg.dims[2]!;
    const all = fp16 ? Float32Array.from(lg.data as Uint16Array, halfToFloat) : lg.data as Float32Array;
    const row = all.slice((ids.length - 1) * V, ids.length * V);
    logitsRows.push(row);
    let best = 0;
    for (let i = 1; i < V; i++) if (row[i]! > row[best]!) best = i;
    out.push(best);
    for (const n of Object.keys(past)) {
      const p = r[n.replace('past_key_values', 'present')]!;
      if (s === 0 || n.includes('decoder')) past[n] = new Tensor(p.type as 'float32', p.data as Float32Array, [...p.dims]);
    }
    ids = [best];
  }
  return { ids: out, logits: logitsRows };
}

describe('WhisperModel', () => {
  for (const pair of [false, true]) {
    it(`greedy logits equal onnxruntime's (${pair ? 'unmerged pair' : 'merged decoder'}), two decoder plans`, async () => {
      const feat = features(7);
      const prompt = PROMPT;
      const ref = await ortGreedy(feat, prompt, 6);
      const m = await WhisperModel.create(pair
        ? { encoder: `${dir}/encoder_model.onnx`, decoder: `${dir}/decoder_with_past_model.onnx`, decoderNoPast: `${dir}/decoder_model.onnx` }
        : { encoder: `${dir}/encoder_model.onnx`, decoder: `${dir}/decoder_model_merged.onnx` }, config);
      try {
        expect(m.decoderSource).toBe(pair ? 'pair' : 'merged');
        // The encoder's attentions are fused (constantContextTargets): no Softmax left.
        await m.encoder.run({ input_features: feat }, { profile: true });
        const ops = m.encoder.lastProfile!.nodes.map((n) => n.opType);
        expect(ops.filter((o) => o === 'FusedAttention').length).toBe(2);
        expect(ops).not.toContain('Softmax');
        const hidden = await m.encode(feat);
        let ids = prompt;
        for (let s = 0; s < 6; s++) {
          const row = await m.step(ids, s === 0 ? hidden : undefined);
          let err = 0;
          for (let i = 0; i < row.length; i++) err = Math.max(err, Math.abs(row[i]! - ref.logits[s]![i]!));
          expect(err).toBeLessThan(2e-4);
          ids = [ref.ids[s]!];
        }
        expect(m.stats.decoderPlans).toBe(2);
      } finally {
        await m.release();
      }
    });
  }
  // Weight formats of the merged decoder: the same rewrite (q8: DynamicQuantizeLinear on the
  // empty encoder input of decode steps; fp16: widened to float32 compute). Stated tolerances:
  // the logits of tessera and onnxruntime on the same file.
  // Tolerances relative to the largest |logit|, as test/models/whisper-micro.test.ts states them
  // for these files run alone in tessera and onnxruntime.
  for (const [suffix, tol] of [['_quantized', 2e-2], ['_q4', 1e-3], ['_fp16', 1e-2]] as const) {
    it(`merged decoder${suffix}: logits within ${tol} × max |logit| of onnxruntime's, two decoder plans`, async () => {
      const feat = features(11);
      const prompt = PROMPT;
      const ref = await ortGreedy(feat, prompt, 4, suffix);
      const m = await WhisperModel.create({ encoder: `${dir}/encoder_model${suffix}.onnx`, decoder: `${dir}/decoder_model_merged${suffix}.onnx` }, config);
      try {
        const hidden = await m.encode(feat);
        let ids = prompt;
        for (let s = 0; s < 4; s++) {
          const row = await m.step(ids, s === 0 ? hidden : undefined);
          let err = 0, scale = 1;
          for (let i = 0; i < row.length; i++) { err = Math.max(err, Math.abs(row[i]! - ref.logits[s]![i]!)); scale = Math.max(scale, Math.abs(ref.logits[s]![i]!)); }
          expect(err / scale).toBeLessThan(tol);
          ids = [ref.ids[s]!];
        }
        expect(m.stats.decoderPlans).toBe(2);
      } finally {
        await m.release();
      }
    });
  }
});
