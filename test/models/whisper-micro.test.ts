/**
 * The committed Whisper-shaped micro model (models/whisper/micro/, optimum's layout for
 * transformers.js): every ONNX file runs in onnxruntime-web and in tessera with equal outputs.
 *
 * - onnxruntime-web against PyTorch (reference.json, written by models/whisper/export.py from the
 *   same weights): encoder rows and the decoder's last-position logits, fp32 within 1e-4 —
 *   proves the export (the encoder, both decoders and both branches of the merged decoder).
 * - tessera against onnxruntime-web on the same bytes: every output of every file (fp32 within
 *   1e-4; fp16/q8/q4 relative to the largest value, as test/models/decoders.test.ts states why).
 * - the merged decoder's `If` on the feed `use_cache_branch`: tessera's If inlines the branch the
 *   feed selects (both branches, in one session), and 8 greedy tokens equal PyTorch's.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { ortRun, ortSession } from '../helpers/ort.js';

const dir = fileURLToPath(new URL('../../models/whisper/micro/', import.meta.url));
const json = <T>(name: string): T => JSON.parse(readFileSync(`${dir}${name}`, 'utf8')) as T;
const file = (name: string): Uint8Array => readFileSync(`${dir}onnx/${name}.onnx`);

interface Config { d_model: number; decoder_layers: number; decoder_attention_heads: number; vocab_size: number }
interface Reference { encoder_rows: Record<string, number[]>; prompt: number[]; logits_last: number[][]; greedy_new_ids: number[] }
const config = json<Config>('config.json');
const ref = json<Reference>('reference.json');
const L = config.decoder_layers, H = config.decoder_attention_heads, HD = config.d_model / H;

type Format = 'fp32' | 'fp16' | 'q8' | 'q4';
const SUFFIX: Record<Format, string> = { fp32: '', fp16: '_fp16', q8: '_quantized', q4: '_q4' };
/** fp32 absolute; others relative to the largest |value| of the output (see decoders.test.ts). */
const TOL: Record<Format, number> = { fp32: 1e-4, fp16: 1e-2, q8: 2e-2, q4: 1e-3 };

/** export.py test_features(): [1, 80, 3000]. */
function features(): Tensor {
  const d = new Float32Array(80 * 3000);
  for (let m = 0; m < 80; m++) for (let t = 0; t < 3000; t++) d[m * 3000 + t] = 0.5 * Math.sin(0.001 * (t + 1) * (m + 1)) + 0.1 * Math.cos(0.37 * t) - 0.3;
  return new Tensor('float32', d, [1, 80, 3000]);
}

const ids = (row: number[]): Tensor => new Tensor('int64', BigInt64Array.from(row.map(BigInt)), [1, row.length]);
type Outs = Record<string, Tensor>;
type Run = (feeds: Outs) => Promise<Outs>;
const asTensors = (o: Record<string, { type: string; data: unknown; dims: readonly number[] }>): Outs =>
  Object.fromEntries(Object.entries(o).map(([k, t]) => [k, new Tensor(t.type as 'float32', t.data as Float32Array, [...t.dims])]));

async function engines(bytes: Uint8Array): Promise<{ ort: Run; tessera: Run }> {
  const o = await ortSession(bytes);
  const t = await InferenceSession.create(bytes);
  return { ort: async (f) => asTensors(await ortRun(o, f)), tessera: (f) => t.run(f) };
}

const f32 = (t: Tensor): Float32Array => t.data as Float32Array;
function worst(a: ArrayLike<number>, b: ArrayLike<number>): number { let w = 0; for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!)); return w; }
function maxAbs(a: ArrayLike<number>): number { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!)); return m; }
function argmax(a: ArrayLike<number>): number { let k = 0; for (let i = 1; i < a.length; i++) if (a[i]! > a[k]!) k = i; return k; }
const lastRow = (logits: Tensor): Float32Array => { const [, S, V] = logits.dims as number[]; return f32(logits).subarray((S! - 1) * V!, S! * V!); };

function expectSame(got: Outs, want: Outs, format: Format, what: string): void {
  expect(Object.keys(got).sort(), what).toEqual(Object.keys(want).sort());
  for (const [k, w] of Object.entries(want)) {
    expect(got[k]!.dims, `${what} ${k}`).toEqual(w.dims);
    const scale = format === 'fp32' ? 1 : Math.max(1, maxAbs(f32(w)));
    expect(worst(f32(got[k]!), f32(w)) / scale, `${what} ${k}`).toBeLessThan(TOL[format]);
  }
}

/** Empty caches as transformers.js feeds them to the merged decoder's first step. */
function emptyPast(): Outs {
  const f: Outs = {};
  for (let i = 0; i < L; i++) for (const part of ['decoder', 'encoder']) for (const kind of ['key', 'value']) {
    f[`past_key_values.${i}.${part}.${kind}`] = new Tensor('float32', new Float32Array(0), [1, H, 0, HD]);
  }
  return f;
}
const cacheOf = (out: Outs, past?: Outs): Outs => {
  const f: Outs = {};
  for (const [k, t] of Object.entries(out)) {
    if (!k.startsWith('present.')) continue;
    const name = k.replace('present.', 'past_key_values.');
    f[name] = past && k.includes('.encoder.') ? past[name]! : t; // transformers.js keeps the first step's cross caches
  }
  return f;
};
const flag = (v: boolean): Tensor => new Tensor('bool', Uint8Array.of(v ? 1 : 0), [1]);

const encoderOut = (async () => {
  const ort = await ortSession(file('encoder_model'));
  return asTensors(await ortRun(ort, { input_features: features() })).last_hidden_state!;
})();

describe('whisper micro: encoder_model', () => {
  it('onnxruntime-web matches PyTorch', async () => {
    const h = await encoderOut;
    expect(h.dims).toEqual([1, 1500, config.d_model]);
    for (const [row, want] of Object.entries(ref.encoder_rows)) {
      const got = f32(h).subarray(Number(row) * config.d_model, Number(row) * config.d_model + want.length);
      expect(worst(got, want), `row ${row}`).toBeLessThan(1e-4);
    }
  });
  it.each(['fp32', 'fp16', 'q8', 'q4'] as Format[])('tessera matches onnxruntime-web (%s)', async (format) => {
    const e = await engines(file(`encoder_model${SUFFIX[format]}`));
    const feeds = { input_features: features() };
    expectSame(await e.tessera(feeds), await e.ort(feeds), format, 'encoder');
  });
});

describe('whisper micro: decoders', () => {
  it('decoder_model and decoder_with_past_model: onnxruntime-web matches PyTorch, tessera matches onnxruntime-web', async () => {
    const hs = await encoderOut;
    const dec = await engines(file('decoder_model'));
    const past = await engines(file('decoder_with_past_model'));
    const feeds = { input_ids: ids(ref.prompt), encoder_hidden_states: hs };
    const a = await dec.ort(feeds);
    expect(worst(lastRow(a.logits!), ref.logits_last[0]!)).toBeLessThan(1e-4);
    expectSame(await dec.tessera(feeds), a, 'fp32', 'decoder_model');
    const step = { input_ids: ids([ref.greedy_new_ids[0]!]), ...cacheOf(a) };
    const b = await past.ort(step);
    expect(worst(lastRow(b.logits!), ref.logits_last[1]!)).toBeLessThan(1e-4);
    expect(Object.keys(b).filter((k) => k.includes('.encoder.'))).toEqual([]);
    expectSame(await past.tessera(step), b, 'fp32', 'decoder_with_past_model');
  });

  it.each(['fp32', 'fp16', 'q8', 'q4'] as Format[])('decoder_model_merged (%s): both If branches in one session, tessera matches onnxruntime-web', async (format) => {
    const hs = await encoderOut;
    const m = await engines(file(`decoder_model_merged${SUFFIX[format]}`));
    const first = { input_ids: ids(ref.prompt), encoder_hidden_states: hs, ...emptyPast(), use_cache_branch: flag(false) };
    const a = await m.ort(first);
    expectSame(await m.tessera(first), a, format, 'no-past branch');
    if (format === 'fp32') expect(worst(lastRow(a.logits!), ref.logits_last[0]!)).toBeLessThan(1e-4);
    const second = { input_ids: ids([argmax(lastRow(a.logits!))]), encoder_hidden_states: hs, ...cacheOf(a), use_cache_branch: flag(true) };
    const b = await m.ort(second);
    // optimum's merge: the with-past branch returns empty constants for the cross-attention caches
    expect(b['present.0.encoder.key']!.dims).toEqual([0, H, 1, HD]);
    expectSame(await m.tessera(second), b, format, 'with-past branch');
    if (format === 'fp32') expect(worst(lastRow(b.logits!), ref.logits_last[1]!)).toBeLessThan(1e-4);
  });

  it('tessera, merged decoder: 8 greedy tokens equal PyTorch\'s (cross caches kept from the first step)', async () => {
    const hs = await encoderOut;
    const t = await InferenceSession.create(file('decoder_model_merged'));
    let out = await t.run({ input_ids: ids(ref.prompt), encoder_hidden_states: hs, ...emptyPast(), use_cache_branch: flag(false) });
    let cache = cacheOf(out);
    const got: number[] = [];
    for (let s = 0; s < ref.greedy_new_ids.length; s++) {
      const next = argmax(lastRow(out.logits!));
      got.push(next);
      out = await t.run({ input_ids: ids([next]), encoder_hidden_states: hs, ...cache, use_cache_branch: flag(true) });
      cache = cacheOf(out, cache);
    }
    expect(got).toEqual(ref.greedy_new_ids);
  });
});
