// decodeAsr with returnTimestamps 'word' (src/speech/decode-asr.ts, asr-words.ts) against
// transformers.js v4 itself: its AutomaticSpeechRecognitionPipeline._call_whisper run on a stand-in
// model whose generate returns prepared sequences and token timestamps, so its own code cuts the
// audio into windows, strips each prompt, rounds the times and calls its tokenizer's _decode_asr.
// Same windows into tessera (the strides as tessera's pipeline computes them): the outputs must be
// deep-equal. On the committed micro Whisper tokenizer and, when bench/out/whisper-tiny or
// whisper-base is there, on a real multilingual Whisper tokenizer: one window, overlapping windows (chunk_length_s) whose
// token times agree, drift within the merge tolerance, or disagree; Japanese and Chinese (split on
// whole characters) against spaced languages; punctuation to merge both ways; a window whose last
// segment never closes; and the token times of tokenTimestamps from a synthetic cross-attention.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { AutoTokenizer, AutomaticSpeechRecognitionPipeline, env, Tensor, WhisperForConditionalGeneration } from '@huggingface/transformers';
import { TesseraError } from '../../src/api/errors.js';
import { Mulberry32 } from '../../src/generation/rng.js';
import { type AsrTokenizer, type AsrWindow, decodeAsr } from '../../src/speech/decode-asr.js';
import { tokenTimestamps } from '../../src/speech/token-timestamps.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { statelessTransformersJsPunctuation } from '../helpers/tjs-punctuation.js';

// transformers.js with its punctuation test made stateless, as tessera's (test/helpers/tjs-punctuation.ts).
statelessTransformersJsPunctuation();

const repo = fileURLToPath(new URL('../../', import.meta.url));
const RATE = 16000, TP = 0.02;

/** A window as generate hands it over: the whole sequence and one float32 time per token. */
interface Generated { sequence: number[]; times: Float32Array }

interface Setup { name: string; ours: AsrTokenizer; theirs: unknown; id(token: string): number }

function tessera(folder: string, name: string): Tokenizer {
  const dir = `${repo}${folder}/${name}/`;
  return Tokenizer.fromJSON(readFileSync(`${dir}tokenizer.json`, 'utf8'), readFileSync(`${dir}tokenizer_config.json`, 'utf8'));
}

async function load(folder: string, name: string): Promise<Setup> {
  env.allowRemoteModels = false;
  env.localModelPath = `${repo}${folder}/`;
  const theirs = await AutoTokenizer.from_pretrained(name);
  const tokenizer = tessera(folder, name);
  // As src/pipelines/automatic-speech-recognition.ts hands it to decodeAsr.
  const ours: AsrTokenizer = { decode: (ids) => tokenizer.decode(ids), allSpecialIds: tokenizer.allSpecialIds, tokenToId: (t) => tokenizer.tokenToId(t) };
  const id = (token: string) => {
    const v = tokenizer.tokenToId(token);
    if (v === undefined) throw new Error(`no token ${token}`);
    return v;
  };
  return { name, ours, theirs, id };
}

type Mode = boolean | 'word';

/** transformers.js's pipeline output for these windows, through its own _call_whisper. */
async function reference(s: Setup, generated: Generated[], audioSeconds: number, call: object, mode: Mode = 'word'): Promise<unknown> {
  let next = 0;
  const processor = Object.assign(async (audio: Float32Array) => ({ input_features: audio.length }), {
    feature_extractor: { config: { chunk_length: 30, hop_length: 160, sampling_rate: RATE } },
  });
  const model = {
    config: { model_type: 'whisper', max_source_positions: 1500 },
    generate: async () => {
      const g = generated[next++];
      if (!g) throw new Error('more windows than prepared');
      const n = g.sequence.length;
      const sequences = new Tensor('int64', BigInt64Array.from(g.sequence.map(BigInt)), [1, n]);
      if (mode !== 'word') return sequences;
      return { sequences: new Tensor('int64', BigInt64Array.from(g.sequence.map(BigInt)), [1, n]), token_timestamps: new Tensor('float32', g.times, [1, n]) };
    },
  };
  const self = { processor, model, tokenizer: s.theirs };
  const run = (AutomaticSpeechRecognitionPipeline.prototype as unknown as { _call_whisper(this: unknown, a: Float32Array, k: object): Promise<unknown> })._call_whisper;
  const out = await run.call(self, new Float32Array(Math.round(audioSeconds * RATE)), { return_timestamps: mode, ...call });
  expect(next).toBe(generated.length);
  return out;
}

/** The windows' strides in seconds, as tessera's pipeline cuts the audio (chunk_length_s 0: one window). */
function strides(audioSeconds: number, chunk: number, stride: number): [number, number, number][] {
  const length = Math.round(audioSeconds * RATE);
  if (chunk === 0) return [[length / RATE, 0, 0]];
  const window = RATE * chunk, s = RATE * stride, jump = window - 2 * s;
  const out: [number, number, number][] = [];
  for (let offset = 0; ; offset += jump) {
    const end = Math.min(offset + window, length);
    const last = offset + window >= length;
    out.push([(end - offset) / RATE, offset === 0 ? 0 : stride, last ? 0 : stride]);
    if (last) return out;
  }
}

async function compare(s: Setup, generated: Generated[], audioSeconds: number, chunk = 0, stride = 0, force = false, mode: Mode = 'word'): Promise<{ text: string; chunks?: unknown[] }> {
  const call = chunk > 0 ? { chunk_length_s: chunk, stride_length_s: stride, force_full_sequences: force } : { force_full_sequences: force };
  const windows: AsrWindow[] = strides(audioSeconds, chunk, stride).map((st, i) => ({
    tokens: generated[i]!.sequence, stride: st, token_timestamps: Array.from(generated[i]!.times),
  }));
  expect(windows.length).toBe(generated.length);
  const expected = await reference(s, generated, audioSeconds, call, mode);
  const ours = decodeAsr(s.ours, windows, { returnTimestamps: mode, timePrecision: TP, forceFullSequences: force });
  expect(ours).toEqual(expected);
  return ours;
}

/** Text as tokens (no special tokens), through tessera's tokenizer's encoder. */
function encoder(folder: string, name: string): (text: string) => number[] {
  const t = tessera(folder, name);
  return (text: string) => t.encode(text, { addSpecialTokens: false });
}

interface Piece { text: string; start: number; gap?: number }

/**
 * One window: the prompt, then segments — a timestamp token, the pieces' tokens, a closing one —
 * and <|endoftext|>; times: 0 over the prompt, each token's own after (a piece's tokens spread over
 * its duration, snapped to 0.02 s and held in float32 as tokenTimestamps gives them), the last
 * repeated for <|endoftext|>. `open`: the last segment has no closing timestamp.
 */
function window(s: Setup, encode: (t: string) => number[], prompt: string[], segments: Piece[][], opts: { open?: boolean; offset?: number; after?: string[] } = {}): Generated {
  const tsBegin = s.id('<|notimestamps|>') + 1;
  const ts = (t: number) => tsBegin + Math.max(0, Math.round(t / TP));
  const sequence = prompt.map((p) => s.id(p));
  const times: number[] = sequence.map(() => 0);
  const shift = opts.offset ?? 0;
  segments.forEach((pieces, k) => {
    const begin = pieces[0]!.start + shift;
    sequence.push(ts(begin)); times.push(begin);
    if (k === 0) for (const a of opts.after ?? []) { sequence.push(s.id(a)); times.push(begin); }
    let end = begin;
    for (const p of pieces) {
      const ids = encode(p.text);
      const span = 0.06 * ids.length;
      ids.forEach((t, i) => { sequence.push(t); times.push(Math.round((p.start + shift + (span * i) / ids.length) / TP) * TP); });
      end = p.start + shift + span + (p.gap ?? 0);
    }
    if (!opts.open || k < segments.length - 1) { sequence.push(ts(end)); times.push(Math.round(end / TP) * TP); }
  });
  sequence.push(s.id('<|endoftext|>'));
  times.push(times.at(-1)!);
  return { sequence, times: Float32Array.from(times) };
}

const EN = ['<|startoftranscript|>', '<|en|>', '<|transcribe|>'];
const JA = ['<|startoftranscript|>', '<|ja|>', '<|transcribe|>'];
const ZH = ['<|startoftranscript|>', '<|zh|>', '<|transcribe|>'];

function suite(folder: string, name: string): void {
  const present = existsSync(`${repo}${folder}/${name}/tokenizer.json`);
  describe.skipIf(!present)(`decodeAsr 'word' equals transformers.js (${name} tokenizer)`, () => {
    let s: Setup, encode: (t: string) => number[];
    beforeAll(async () => { s = await load(folder, name); encode = encoder(folder, name); });

    it('one window, two segments, punctuation merged both ways', async () => {
      const g = window(s, encode, EN, [
        [{ text: ' "Hello,"', start: 0.4 }, { text: ' she said', start: 1.1 }, { text: ' (quietly).', start: 1.9, gap: 0.8 }],
        [{ text: ' ¿Qué? — ok... [done]', start: 4.2 }, { text: " It's 5 o'clock!", start: 5.5 }],
      ]);
      const out = await compare(s, [g], 9);
      expect(out.chunks!.length).toBeGreaterThan(6);
      // Each token's punctuation test depends on its text alone: the same windows again, the same words.
      const again = () => decodeAsr(s.ours, [{ tokens: g.sequence, token_timestamps: g.times, stride: [9, 0, 0] }], { returnTimestamps: 'word', timePrecision: TP });
      expect(again()).toEqual(again());
      expect(again()).toEqual(out);
    });

    it('one window ending inside an open segment; force_full_sequences throws on both sides', async () => {
      const g = window(s, encode, EN, [[{ text: ' One two three.', start: 0.2 }], [{ text: ' Four, five', start: 2.0 }]], { open: true });
      await compare(s, [g], 4);
      await expect(reference(s, [g], 4, { force_full_sequences: true })).rejects.toThrow(/ending timestamp/);
      const windows: AsrWindow[] = [{ tokens: g.sequence, stride: [4, 0, 0], token_timestamps: Array.from(g.times) }];
      expect(() => decodeAsr(s.ours, windows, { returnTimestamps: 'word', timePrecision: TP, forceFullSequences: true })).toThrow(TesseraError);
    });

    it('no timestamp tokens: the prompt stays, its <|ja|> splits on whole characters', async () => {
      const g = window(s, encode, [...JA, '<|notimestamps|>'], []);
      const ids = encode('こんにちは、世界。今日はいい天気ですね！');
      g.sequence.splice(g.sequence.length - 1, 0, ...ids);
      const times = Array.from(g.times);
      times.splice(times.length - 1, 0, ...ids.map((_, i) => Math.fround(0.3 + 0.08 * i)));
      await compare(s, [{ sequence: g.sequence, times: Float32Array.from(times) }], 3);
    });

    it('<|zh|> after the first timestamp: that segment splits on characters, the English one before on spaces', async () => {
      const g = window(s, encode, EN, [[{ text: ' Good morning.', start: 0.2 }], [{ text: '早上好，朋友们。', start: 2.0 }]]);
      // A language token right after the second segment's opening timestamp.
      const second = g.sequence.findIndex((t, i) => i > 3 && t > s.id('<|notimestamps|>') && g.sequence[i - 1]! > s.id('<|notimestamps|>'));
      expect(second).toBeGreaterThan(0);
      g.sequence.splice(second + 1, 0, s.id('<|zh|>'));
      const times = Array.from(g.times);
      times.splice(second + 1, 0, times[second + 1]!);
      await compare(s, [{ sequence: g.sequence, times: Float32Array.from(times) }], 5);
    });

    it('Japanese window with timestamps: the stripped prompt leaves English splitting', async () => {
      const g = window(s, encode, JA, [[{ text: 'ありがとうございます。', start: 0.5 }, { text: ' はい、そうです', start: 1.6 }]]);
      await compare(s, [g], 3);
    });

    const sentence = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => {
      const i = from + k;
      const word = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliett'][i % 10]!;
      return { text: ` ${word}${i % 4 === 3 ? ',' : ''}${i % 7 === 6 ? '.' : ''}`, start: i * 0.5 };
    });
    /** Segments of up to 5 words from global pieces, as seen by a window starting at `from` seconds. */
    const segmentsOf = (pieces: Piece[], from: number): Piece[][] => {
      const local = pieces.map((p) => ({ ...p, start: Math.round((p.start - from) / TP) * TP }));
      const out: Piece[][] = [];
      for (let i = 0; i < local.length; i += 5) out.push(local.slice(i, i + 5));
      return out;
    };
    /** Three 10 s windows, 2 s strides, over 20 s (window k starts at 6k s). */
    const chunked = (shifts: [number, number, number], open = false) => {
      const all = sentence(0, 38);
      return [0, 1, 2].map((k) => {
        const from = 6 * k, to = from + (k === 2 ? 8 : 10) - 0.4;
        const mine = all.filter((p) => p.start >= from && p.start < to);
        return window(s, encode, EN, segmentsOf(mine, from), { offset: shifts[k], open: open && k < 2 });
      });
    };

    it('three overlapping windows (chunk_length_s 10, stride 2): the same times in the overlaps', async () => {
      await compare(s, chunked([0, 0, 0]), 20, 10, 2);
    });

    it('overlapping windows whose times drift by less than the merge tolerance, segments left open at the window ends', async () => {
      await compare(s, chunked([0, 0.06, -0.04], true), 20, 10, 2);
    });

    it('overlapping windows whose times disagree by more than the tolerance: tokens before the merged run\'s last are dropped', async () => {
      await compare(s, chunked([0, -0.5, 0.3]), 20, 10, 2);
      await compare(s, chunked([0, -1.2, -0.9], true), 20, 10, 2);
    });

    it('token times from tokenTimestamps on a synthetic cross-attention, as transformers.js extracts them', async () => {
      const g = window(s, encode, EN, [[{ text: ' The quick brown fox', start: 0.3 }, { text: ' jumps, over the dog.', start: 1.6 }]]);
      const rows = g.sequence.length - 1, prompt = EN.length, frames = 1500, numFrames = 250;
      const rng = new Mulberry32(21);
      const heads = [0, 1, 2].map(() => {
        const w = new Float32Array(rows * frames);
        for (let r = 0; r < rows; r++) {
          const centre = (r / rows) * numFrames;
          let sum = 0;
          for (let f = 0; f < frames; f++) sum += (w[r * frames + f] = Math.exp(2 * rng.next() - ((f - centre) / 15) ** 2));
          for (let f = 0; f < frames; f++) w[r * frames + f] = w[r * frames + f]! / sum;
        }
        return w;
      });
      const times = tokenTimestamps(heads, rows, frames, { numFrames, medianFilterWidth: 7, numInputIds: prompt, timePrecision: TP });
      // transformers.js's own extraction on the same attention (one layer of three heads, all aligned).
      const steps: Tensor[][] = [];
      for (let step = 0, from = 0; from < rows; step++) {
        const len = step === 0 ? prompt : 1;
        const data = new Float32Array(3 * len * frames);
        heads.forEach((w, h) => data.set(w.subarray(from * frames, (from + len) * frames), h * len * frames));
        steps.push([new Tensor('float32', data, [1, 3, len, frames])]);
        from += len;
      }
      const extract = (WhisperForConditionalGeneration.prototype as unknown as { _extract_token_timestamps(this: unknown, ...a: unknown[]): Tensor })._extract_token_timestamps;
      const theirs = extract.call({ config: { decoder_layers: 1, median_filter_width: 7 } },
        { cross_attentions: steps, sequences: new Tensor('int64', new BigInt64Array(rows + 1), [1, rows + 1]) }, [[0, 0], [0, 1], [0, 2]], numFrames, TP, prompt).data as Float32Array;
      expect(Array.from(times)).toEqual(Array.from(theirs));
      await compare(s, [{ sequence: g.sequence, times }], 5);
    });

    it('the same windows with segment timestamps and without: the segment path as before', async () => {
      for (const mode of [true, false]) {
        await compare(s, chunked([0, 0, 0]), 20, 10, 2, false, mode);
        await compare(s, chunked([0, 0.06, -0.04], true), 20, 10, 2, false, mode);
        await compare(s, [window(s, encode, EN, [[{ text: ' "Hello,"', start: 0.4 }], [{ text: ' Bye.', start: 2 }]])], 4, 0, 0, false, mode);
      }
    });

    it("a window without token_timestamps → TesseraError naming the window", () => {
      const g = window(s, encode, EN, [[{ text: ' Hi.', start: 0 }]]);
      expect(() => decodeAsr(s.ours, [{ tokens: g.sequence }], { returnTimestamps: 'word', timePrecision: TP })).toThrow(/window 0 has \d+ tokens and no token_timestamps/);
    });
  });
}

suite('models/whisper', 'micro');
// A real multilingual Whisper tokenizer, if a benchmark folder holds one (bench/out is not committed).
suite('bench/out', ['whisper-tiny', 'whisper-base'].find((m) => existsSync(`${repo}bench/out/${m}/tokenizer.json`)) ?? 'whisper-tiny');
