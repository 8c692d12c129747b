// Whisper decoders exported with output_attentions (models/whisper/micro-timestamped: micro's weights,
// decoders with cross_attentions.{i}): WhisperModel keeps those outputs through the rewrite
// (tessera.CrossAttention's second output) and fetches them only while collectCrossAttentions is
// on. Checked against onnxruntime-web running the files as written (first step: the 4-token prompt,
// then cached steps), batch rows against their windows alone bit for bit, the logits against the
// folder without attentions bit for bit, and the errors. The float16 and q8 forms (made by
// scripts/make-whisper.mjs --timestamped from micro's template) within stated tolerances.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import '../../src/index.js';
import { Tensor } from '../../src/api/tensor.js';
import { WhisperModel, type WhisperModelFiles } from '../../src/speech/whisper-model.js';
import { ortRun, ortSession } from '../helpers/ort.js';
import { makeWhisper } from '../../scripts/make-whisper.mjs';
import { features, argmax, bits } from '../helpers/whisper.js';

const dir = 'models/whisper/micro-timestamped/onnx';
const plain = 'models/whisper/micro/onnx';
const gen = JSON.parse(readFileSync(`${dir}/../generation_config.json`, 'utf8')) as {
  decoder_start_token_id: number; lang_to_id: Record<string, number>; task_to_id: Record<string, number>; no_timestamps_token_id: number; alignment_heads: [number, number][];
};
const PROMPT = [gen.decoder_start_token_id, gen.lang_to_id['<|en|>']!, gen.task_to_id.transcribe!, gen.no_timestamps_token_id];
const L = 1500, LAYERS = 2, HEADS = 2;
const ALL: [number, number][] = [[0, 0], [0, 1], [1, 0], [1, 1]];
const config = { max_source_positions: L, max_target_positions: 448 };
const merged = (d: string): WhisperModelFiles => ({ encoder: `${d}/encoder_model.onnx`, decoder: `${d}/decoder_model_merged.onnx` });
const pair = (d: string): WhisperModelFiles => ({ encoder: `${d}/encoder_model.onnx`, decoder: `${d}/decoder_with_past_model.onnx`, decoderNoPast: `${d}/decoder_model.onnx` });

/** onnxruntime-web on the merged file as transformers.js drives it: per step the last logits row and cross_attentions.{i} [1, H, S, L]. */
async function ortSteps(feat: Tensor, steps: number, from = dir, suffix = ''): Promise<{ ids: number[]; logits: Float32Array[]; cross: Float32Array[][] }> {
  const enc = await ortSession(readFileSync(`${from}/encoder_model${suffix}.onnx`));
  const dec = await ortSession(readFileSync(`${from}/decoder_model_merged${suffix}.onnx`));
  expect(dec.outputNames.filter((n) => n.startsWith('cross_attentions'))).toEqual(['cross_attentions.0', 'cross_attentions.1']);
  const h = (await ortRun(enc, { input_features: feat })).last_hidden_state!;
  const hidden = new Tensor('float32', h.data as Float32Array, [...h.dims]);
  const past: Record<string, Tensor> = {};
  for (const n of dec.inputNames.filter((x) => x.startsWith('past_key_values'))) past[n] = new Tensor('float32', new Float32Array(0), [1, HEADS, 0, 12]);
  let ids = PROMPT;
  const out = { ids: [] as number[], logits: [] as Float32Array[], cross: [] as Float32Array[][] };
  for (let s = 0; s < steps; s++) {
    const r = await ortRun(dec, { ...past, input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]), encoder_hidden_states: hidden, use_cache_branch: new Tensor('bool', Uint8Array.of(s > 0 ? 1 : 0), [1]) });
    const V = r.logits!.dims[2]!;
    const row = (r.logits!.data as Float32Array).slice((ids.length - 1) * V, ids.length * V);
    out.logits.push(row);
    out.cross.push(Array.from({ length: LAYERS }, (_, i) => {
      const c = r[`cross_attentions.${i}`]!;
      expect(c.dims).toEqual([1, HEADS, ids.length, L]);
      return c.data as Float32Array;
    }));
    out.ids.push(argmax(row));
    for (const n of Object.keys(past)) {
      const p = r[n.replace('past_key_values', 'present')]!;
      if (s === 0 || n.includes('decoder')) past[n] = new Tensor('float32', p.data as Float32Array, [...p.dims]);
    }
    ids = [argmax(row)];
  }
  await Promise.all([enc.release(), dec.release()]);
  return out;
}

/** onnxruntime's [1, H, S, L] layers as lastCrossAttentions lays the pairs out: [pairs][S][L]. */
function expected(cross: Float32Array[], heads: readonly (readonly [number, number])[], S: number): Float32Array {
  const n = S * L, want = new Float32Array(heads.length * n);
  heads.forEach(([l, h], j) => want.set(cross[l]!.subarray(h * n, h * n + n), j * n));
  return want;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

/** The largest |a − b| / |b|: the weights here are 1e-4 … 3e-3, so 1e-5 absolute alone would say little. */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!) / Math.abs(b[i]!));
  return e;
}

describe('WhisperModel cross-attentions (micro-timestamped)', () => {
  for (const [what, files] of [['merged decoder', merged], ['unmerged pair', pair]] as const) {
    it(`${what}: cross_attentions equal onnxruntime-web's within 1e-5 (and 2e-5 relative; 4-token prompt, then cached steps); logits bit for bit those of micro without attentions`, async () => {
      const feat = features(5);
      const steps = 4;
      const ref = await ortSteps(feat, steps);
      const m = await WhisperModel.create(files(dir), config);
      const base = await WhisperModel.create(files(plain), config);
      try {
        expect(m.hasCrossAttentions).toBe(true);
        expect(base.hasCrossAttentions).toBe(false);
        const hidden = await m.encode(feat), hiddenBase = await base.encode(feat);
        let ids = PROMPT;
        for (let s = 0; s < steps; s++) {
          // Steps 0, 1 and 3 collect (all pairs, then the alignment heads), step 2 does not.
          const heads = s === 3 ? gen.alignment_heads : ALL;
          m.collectCrossAttentions(s === 2 ? null : heads);
          const logits = await m.step(ids, s === 0 ? hidden : undefined);
          expect(bits(logits), `step ${s} logits`).toEqual(bits(await base.step(ids, s === 0 ? hiddenBase : undefined)));
          expect(maxDiff(logits, ref.logits[s]!)).toBeLessThan(2e-4);
          if (s === 2) {
            expect(() => m.lastCrossAttentions(0)).toThrow(/did not collect/);
          } else {
            const got = m.lastCrossAttentions(0);
            expect(got.length).toBe(heads.length * ids.length * L);
            const want = expected(ref.cross[s]!, heads, ids.length);
            expect(maxDiff(got, want), `step ${s}`).toBeLessThan(1e-5);
            expect(maxRelDiff(got, want), `step ${s}`).toBeLessThan(2e-5);
            // Each query row is a distribution over the 1,500 encoder positions.
            for (let r = 0; r < heads.length * ids.length; r++) expect(got.subarray(r * L, r * L + L).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
          }
          ids = [ref.ids[s]!];
        }
        expect(m.stats.decoderPlans).toBe(2);
      } finally {
        await Promise.all([m.release(), base.release()]);
      }
    }, 120_000);
  }

  // Tolerances relative to the largest weight of the step, as whisper-model.test.ts states the
  // logits' (measured: fp16 3.5e-3 — onnxruntime computes the layers in float16, tessera widens
  // them to float32; q8 1.6e-2 — DynamicQuantizeLinear's steps).
  for (const [suffix, format, tol] of [['_fp16', 'fp16', 1e-2], ['_quantized', 'q8', 5e-2]] as const) {
    it(`${format} (make-whisper.mjs --timestamped): cross_attentions within ${tol} × max of onnxruntime-web's`, async () => {
      const out = mkdtempSync(join(tmpdir(), 'whisper-ts-'));
      try {
        makeWhisper('micro', out, { formats: ['fp32', format], timestamped: true, log: () => {} });
        const feat = features(13);
        const ref = await ortSteps(feat, 3, `${out}/onnx`, suffix);
        const m = await WhisperModel.create({ encoder: `${out}/onnx/encoder_model${suffix}.onnx`, decoder: `${out}/onnx/decoder_model_merged${suffix}.onnx` }, config);
        try {
          expect(m.hasCrossAttentions).toBe(true);
          m.collectCrossAttentions(ALL);
          const hidden = await m.encode(feat);
          let ids = PROMPT;
          for (let s = 0; s < 3; s++) {
            await m.step(ids, s === 0 ? hidden : undefined);
            const want = expected(ref.cross[s]!, ALL, ids.length);
            const top = want.reduce((a, b) => Math.max(a, b), 0);
            expect(maxDiff(m.lastCrossAttentions(0), want) / top, `step ${s}`).toBeLessThan(tol);
            ids = [ref.ids[s]!];
          }
        } finally {
          await m.release();
        }
      } finally { rmSync(out, { recursive: true, force: true }); }
    }, 120_000);
  }

  it('a step without collection fetches nothing but the logits; with it, only the layers asked for', async () => {
    const m = await WhisperModel.create(merged(dir), config);
    try {
      const run = vi.spyOn(m.decoder, 'run');
      const fetched = () => Object.keys(run.mock.calls.at(-1)![1] as object);
      await m.step(PROMPT, await m.encode(features(9)));
      expect(fetched()).toEqual(['logits']);
      m.collectCrossAttentions([[1, 0], [1, 1]]);
      await m.step([500]);
      expect(fetched()).toEqual(['logits', 'cross_attentions.1']);
      m.collectCrossAttentions(null);
      await m.step([501]);
      expect(fetched()).toEqual(['logits']);
      expect(() => m.lastCrossAttentions(0)).toThrow(/did not collect/);
    } finally {
      await m.release();
    }
  });

  it('batched windows (stepBatch, 2 rows): each row gets exactly the weights and logits of its window alone', async () => {
    const m = await WhisperModel.create(merged(dir), { ...config, batch_capacity: 2 });
    try {
      expect(m.maxBatch()).toBe(2);
      const feats = [features(3), features(17)];
      const steps = 3;
      m.collectCrossAttentions(ALL);
      const alone: { logits: Float32Array[]; cross: Float32Array[]; ids: number[] }[] = [];
      for (const f of feats) {
        const w = { logits: [] as Float32Array[], cross: [] as Float32Array[], ids: [] as number[] };
        let ids = PROMPT;
        for (let s = 0; s < steps; s++) {
          const lg = await m.step(ids, s === 0 ? await m.encode(f) : undefined);
          w.logits.push(lg);
          w.cross.push(m.lastCrossAttentions(0));
          expect(() => m.lastCrossAttentions(1)).toThrow(/not a batch row/);
          ids = [argmax(lg)];
          w.ids.push(ids[0]!);
        }
        alone.push(w);
      }
      const hidden = await m.encodeBatch(feats);
      for (let s = 0; s < steps; s++) {
        const ids = s === 0 ? [PROMPT, PROMPT] : alone.map((w) => [w.ids[s - 1]!]);
        const got = await m.stepBatch(ids, s === 0 ? hidden : undefined, [ids[0]!.length - 1]);
        for (let b = 0; b < 2; b++) {
          expect(bits(got[b]![0]!), `step ${s} row ${b} logits`).toEqual(bits(alone[b]!.logits[s]!));
          expect(bits(m.lastCrossAttentions(b)), `step ${s} row ${b} cross-attentions`).toEqual(bits(alone[b]!.cross[s]!));
        }
      }
    } finally {
      await m.release();
    }
  }, 120_000);

  it('collectCrossAttentions refuses a decoder without the outputs and pairs out of range', async () => {
    const base = await WhisperModel.create(merged(plain), config);
    const m = await WhisperModel.create(merged(dir), config);
    try {
      expect(() => base.collectCrossAttentions([[0, 0]])).toThrow(/no cross_attentions/);
      base.collectCrossAttentions(null); // stopping is always allowed
      for (const bad of [[[2, 0]], [[-1, 0]], [[0, 2]], [[0, -1]], [[0.5, 0]], []] as [number, number][][]) {
        expect(() => m.collectCrossAttentions(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      }
      expect(() => m.collectCrossAttentions([[1, 2]])).toThrow(/head 2; the cross-attentions have 2 heads/);
      expect(() => m.collectCrossAttentions([[2, 0]])).toThrow(/layer 2; the decoder returns cross_attentions of layers 0 … 1/);
      expect(() => m.lastCrossAttentions(0)).toThrow(/did not collect/);
    } finally {
      await Promise.all([m.release(), base.release()]);
    }
  });
});
