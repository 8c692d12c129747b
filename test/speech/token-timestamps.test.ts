// tokenTimestamps (src/speech/token-timestamps.ts) against transformers.js v4's own
// WhisperForConditionalGeneration._extract_token_timestamps, called on synthetic generate outputs
// (cross-attentions as generate returns them: the prompt's rows in the first step, one row a step
// after) built from a seeded generator: the same float32 bits for every shape — prompts of 1–4
// tokens, frames cut below 1500 and past it, median widths 7, 5, 3 and 1, one head and several,
// rows shorter than half the filter (its mirrored index falls outside: NaN), a single row (zero
// deviation: NaN everywhere) and columns of equal weights (ties in the filter and the warping).
import { describe, expect, it } from 'vitest';
import { mean, stack, std_mean, Tensor, WhisperForConditionalGeneration } from '@huggingface/transformers';
// Not in the package's exports: the filter _extract_token_timestamps applies, from its source.
// @ts-expect-error the source has no declaration file
import { medianFilter } from '../../node_modules/@huggingface/transformers/src/utils/maths.js';
import { TesseraError } from '../../src/api/errors.js';
import { Mulberry32 } from '../../src/generation/rng.js';
import { alignmentMatrix, tokenTimestamps } from '../../src/speech/token-timestamps.js';

const FRAMES = 1500;

interface Case {
  name: string;
  rows: number; // decoder positions fed: prompt + generated − 1
  prompt: number;
  layers: number;
  headsPerLayer: number;
  alignment: [number, number][];
  numFrames: number;
  width: number;
  /** 'random': softmax of noise; 'diagonal': a peak moving along time with the row; 'flat': few levels, equal columns. */
  kind: 'random' | 'diagonal' | 'flat';
  seed: number;
}

/** One head's cross-attention [rows][FRAMES]: rows of positive weights summing to about 1. */
function attention(c: Case, rng: Mulberry32): Float32Array {
  const out = new Float32Array(c.rows * FRAMES);
  const logits = new Float64Array(FRAMES);
  for (let r = 0; r < c.rows; r++) {
    const centre = ((r + 0.5) / c.rows) * Math.min(c.numFrames, FRAMES);
    for (let f = 0; f < FRAMES; f++) {
      const noise = rng.next();
      if (c.kind === 'random') logits[f] = 4 * noise;
      else if (c.kind === 'diagonal') logits[f] = 2 * noise - ((f - centre) / 40) ** 2;
      else logits[f] = f % 3 === 0 ? 0 : Math.floor(noise * 3); // every third column equal in all rows
    }
    let max = -Infinity, sum = 0;
    for (const v of logits) max = Math.max(max, v);
    for (let f = 0; f < FRAMES; f++) sum += (logits[f] = Math.exp(logits[f]! - max));
    for (let f = 0; f < FRAMES; f++) out[r * FRAMES + f] = logits[f]! / sum;
  }
  return out;
}

/** transformers.js's token_timestamps[0] for these heads (all layers × heads given, the alignment ones picked by it). */
function reference(c: Case, heads: Float32Array[][]): Float32Array {
  const steps = c.rows - c.prompt + 1;
  const crossAttentions: Tensor[][] = [];
  for (let s = 0; s < steps; s++) {
    const from = s === 0 ? 0 : c.prompt + s - 1, len = s === 0 ? c.prompt : 1;
    crossAttentions.push(heads.map((layer) => {
      const data = new Float32Array(c.headsPerLayer * len * FRAMES);
      layer.forEach((w, h) => data.set(w.subarray(from * FRAMES, (from + len) * FRAMES), h * len * FRAMES));
      return new Tensor('float32', data, [1, c.headsPerLayer, len, FRAMES]);
    }));
  }
  const sequences = new Tensor('int64', new BigInt64Array(c.rows + 1), [1, c.rows + 1]);
  const self = { config: { decoder_layers: c.layers, median_filter_width: c.width } };
  const extract = (WhisperForConditionalGeneration.prototype as unknown as {
    _extract_token_timestamps(this: unknown, out: object, heads: number[][], numFrames: number, tp: number, numInputIds: number): Tensor;
  })._extract_token_timestamps;
  const t = extract.call(self, { cross_attentions: crossAttentions, sequences }, c.alignment, c.numFrames, 0.02, c.prompt);
  expect(t.dims).toEqual([1, c.rows + 1]);
  return t.data as Float32Array;
}

const CASES: Case[] = [
  { name: 'diagonal, prompt 3, 2 of 6 heads, 1000 frames, width 7', rows: 14, prompt: 3, layers: 2, headsPerLayer: 3, alignment: [[0, 2], [1, 0]], numFrames: 1000, width: 7, kind: 'diagonal', seed: 1 },
  { name: 'random, prompt 1, one head, 1500 frames, width 7', rows: 6, prompt: 1, layers: 1, headsPerLayer: 2, alignment: [[0, 1]], numFrames: 1500, width: 7, kind: 'random', seed: 2 },
  { name: 'diagonal, prompt 4, 5 heads, 173 frames, width 3', rows: 31, prompt: 4, layers: 4, headsPerLayer: 2, alignment: [[1, 1], [2, 0], [2, 1], [3, 0], [3, 1]], numFrames: 173, width: 3, kind: 'diagonal', seed: 3 },
  { name: 'random, prompt 2, 3 heads, 3000 frames (cut to 1500), width 5', rows: 9, prompt: 2, layers: 2, headsPerLayer: 2, alignment: [[0, 0], [1, 0], [1, 1]], numFrames: 3000, width: 5, kind: 'random', seed: 4 },
  { name: 'random, prompt 1, 2 frames: the filter reads past both mirrors (NaN)', rows: 4, prompt: 1, layers: 1, headsPerLayer: 2, alignment: [[0, 0], [0, 1]], numFrames: 2, width: 7, kind: 'random', seed: 5 },
  { name: 'random, prompt 0, a single row: zero deviation, NaN everywhere', rows: 1, prompt: 0, layers: 1, headsPerLayer: 1, alignment: [[0, 0]], numFrames: 50, width: 7, kind: 'random', seed: 6 },
  { name: 'flat levels, prompt 3, equal columns, 600 frames, width 7', rows: 12, prompt: 3, layers: 2, headsPerLayer: 2, alignment: [[0, 1], [1, 0]], numFrames: 600, width: 7, kind: 'flat', seed: 7 },
  { name: 'diagonal, prompt 4, 8 heads, 1499 frames, width 7 (a long window)', rows: 64, prompt: 4, layers: 4, headsPerLayer: 4, alignment: [[2, 0], [2, 3], [3, 0], [3, 1], [3, 2], [3, 3], [1, 2], [0, 1]], numFrames: 1499, width: 7, kind: 'diagonal', seed: 8 },
  { name: 'random, prompt 2, one generated row, 9 frames, width 1', rows: 3, prompt: 2, layers: 1, headsPerLayer: 3, alignment: [[0, 2], [0, 0]], numFrames: 9, width: 1, kind: 'random', seed: 9 },
];

/**
 * The matrix transformers.js warps (before its negation), step for step as _extract_token_timestamps
 * makes it with its own tensor functions: the time a token gets hides most rounding (a frame index
 * × 0.02), this does not.
 */
function referenceMatrix(c: Case, heads: Float32Array[][]): Float32Array {
  const layers = heads.map((layer) => {
    const data = new Float32Array(c.headsPerLayer * c.rows * FRAMES);
    layer.forEach((w, h) => data.set(w, h * c.rows * FRAMES));
    return new Tensor('float32', data, [1, c.headsPerLayer, c.rows, FRAMES]);
  });
  const weights = stack(c.alignment.map(([l, h]) => layers[l]!.slice(null, h, null, [0, c.numFrames]))).permute(1, 0, 2, 3);
  const [std, calculatedMean] = std_mean(weights, -2, 0, true) as [Tensor, Tensor];
  const smoothed = weights.clone();
  const [, heads2, rows, n] = smoothed.dims as [number, number, number, number];
  const data = smoothed.data as Float32Array, s = std.data as Float32Array, m = calculatedMean.data as Float32Array;
  for (let h = 0; h < heads2; h++) {
    for (let r = 0; r < rows; r++) {
      const row = data.subarray((h * rows + r) * n, (h * rows + r + 1) * n);
      for (let d = 0; d < n; d++) row[d] = (row[d]! - m[h * n + d]!) / s[h * n + d]!;
      row.set((medianFilter as (a: Float32Array, w: number) => Float32Array)(row, c.width));
    }
  }
  const cropped = c.prompt > 0 ? smoothed.slice(null, null, [c.prompt, rows], null) : smoothed;
  return mean(cropped, 1).data as Float32Array;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('tokenTimestamps equals transformers.js _extract_token_timestamps', () => {
  it.each(CASES)('the warped matrix, bit for bit: $name', (c) => {
    const rng = new Mulberry32(c.seed);
    const heads = Array.from({ length: c.layers }, () => Array.from({ length: c.headsPerLayer }, () => attention(c, rng)));
    const ours = alignmentMatrix(c.alignment.map(([l, h]) => heads[l]![h]!), c.rows, FRAMES, {
      numFrames: c.numFrames, medianFilterWidth: c.width, numInputIds: c.prompt, timePrecision: 0.02,
    });
    expect(bits(ours)).toEqual(bits(referenceMatrix(c, heads)));
  });

  it.each(CASES)('$name', (c) => {
    const rng = new Mulberry32(c.seed);
    const heads = Array.from({ length: c.layers }, () => Array.from({ length: c.headsPerLayer }, () => attention(c, rng)));
    const expected = reference(c, heads);
    const ours = tokenTimestamps(c.alignment.map(([l, h]) => heads[l]![h]!), c.rows, FRAMES, {
      numFrames: c.numFrames, medianFilterWidth: c.width, numInputIds: c.prompt, timePrecision: 0.02,
    });
    expect(ours.length).toBe(c.rows + 1);
    // Bits, not values: NaN, −0 and float32 rounding all count.
    expect(bits(ours)).toEqual(bits(expected));
    if (c.kind === 'diagonal') {
      // A sanity check on the synthetic data itself: the times rise with the tokens after the prompt.
      const after = Array.from(ours.subarray(c.prompt));
      expect(after.every((t, i) => i === 0 || t >= after[i - 1]!)).toBe(true);
      expect(after.at(-1)!).toBeGreaterThan(after[0]!);
    }
  });

  it('weights longer than rows × frames: only the first rows × frames values are read', () => {
    const c = CASES[0]!;
    const rng = new Mulberry32(11);
    const w = [attention(c, rng), attention(c, rng)];
    const options = { numFrames: 700, medianFilterWidth: 7, numInputIds: 2, timePrecision: 0.02 };
    const fromLonger = tokenTimestamps(w, c.rows - 1, FRAMES, options);
    const fromExact = tokenTimestamps(w.map((x) => x.subarray(0, (c.rows - 1) * FRAMES)), c.rows - 1, FRAMES, options);
    expect(Array.from(fromLonger)).toEqual(Array.from(fromExact));
  });

  it('bad arguments → TesseraError naming the argument', () => {
    const w = [new Float32Array(4 * 10)];
    const ok = { numFrames: 10, medianFilterWidth: 7, numInputIds: 1, timePrecision: 0.02 };
    const bad = (f: () => unknown, what: RegExp) => {
      expect(f).toThrow(TesseraError);
      expect(f).toThrow(what);
    };
    bad(() => tokenTimestamps([], 4, 10, ok), /weights/);
    bad(() => tokenTimestamps(w, 5, 10, ok), /weights\[0\] holds 40 values/);
    bad(() => tokenTimestamps(w, 0, 10, ok), /rows/);
    bad(() => tokenTimestamps(w, 4, 10, { ...ok, medianFilterWidth: 4 }), /medianFilterWidth/);
    bad(() => tokenTimestamps(w, 4, 10, { ...ok, numFrames: 0 }), /numFrames/);
    bad(() => tokenTimestamps(w, 4, 10, { ...ok, numInputIds: 4 }), /numInputIds/);
    bad(() => tokenTimestamps(w, 4, 10, { ...ok, timePrecision: 0 }), /timePrecision/);
    expect(tokenTimestamps(w, 4, 10, ok).length).toBe(5);
  });
});
