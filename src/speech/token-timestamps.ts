/**
 * Whisper's token-level timestamps from the alignment heads' cross-attention, as transformers.js v4
 * computes them (WhisperForConditionalGeneration._extract_token_timestamps): each head's weights
 * standardised over the token axis, median-filtered along time, the prompt rows dropped, the heads
 * averaged, and a dynamic-time-warping path through the negated average; a token's time is where
 * the path first reaches its row. transformers.js holds every intermediate in float32 tensors
 * (sums accumulated in float32 too); this file rounds at the same places, so the results are the
 * same bits, not merely close. It runs once per window: a few typed arrays, nothing per element.
 */
import { TesseraError } from '../api/errors.js';

/** What tokenTimestamps needs besides the weights. */
export interface TokenTimestampOptions {
  /** Encoder frames holding audio: only the first numFrames columns are aligned (more than `frames` means all of them). */
  numFrames: number;
  /** Width of the median filter along time (the model config's median_filter_width, 7 by default): odd, ≥ 1. */
  medianFilterWidth: number;
  /** Prompt tokens fed before the first generated one: their rows are left out of the alignment and their times are 0. */
  numInputIds: number;
  /** Seconds per encoder frame (0.02). */
  timePrecision: number;
}

/**
 * One time in seconds per token of the sequence (`rows + 1` values: the prompt's zeros, one per
 * generated token, the last repeated for the final token, which was never fed), as transformers.js's
 * `token_timestamps[0]`. `weights[h]` is alignment head h's cross-attention, `rows` × `frames`
 * row-major (row r at r × frames, at least rows × frames values): one row per decoder position fed,
 * the prompt's then every generated token's but the last.
 * @throws TesseraError INVALID_ARGUMENT naming the argument that is wrong.
 */
export function tokenTimestamps(weights: readonly Float32Array[], rows: number, frames: number, options: TokenTimestampOptions): Float32Array {
  check(weights, rows, frames, options);
  const n = Math.min(options.numFrames, frames);
  return timesOfPath(alignmentMatrix(weights, rows, frames, options), rows - options.numInputIds, n, options.numInputIds, options.timePrecision);
}

/**
 * @internal The matrix the path is warped through: the heads' mean of the standardised,
 * median-filtered weights, rows after the prompt × min(numFrames, frames), float32 as
 * transformers.js holds it (tested against its tensor functions). Arguments as tokenTimestamps,
 * checked there.
 */
export function alignmentMatrix(weights: readonly Float32Array[], rows: number, frames: number, options: TokenTimestampOptions): Float32Array {
  const { numFrames, medianFilterWidth: width, numInputIds: prompt } = options;
  const n = Math.min(numFrames, frames); // transformers.js slices [0, num_frames), clamped to the axis
  const aligned = rows - prompt;
  // Σ over heads of the filtered, standardised weights of the rows after the prompt, then ÷ heads.
  const average = new Float32Array(aligned * n);
  const mean = new Float32Array(n), std = new Float32Array(n);
  const row = new Float32Array(n), window = new Float32Array(width);
  for (const w of weights) {
    meanAndStd(w, rows, frames, n, mean, std);
    for (let r = prompt; r < rows; r++) {
      const base = r * frames;
      for (let c = 0; c < n; c++) row[c] = (w[base + c]! - mean[c]!) / std[c]!;
      addMedianFiltered(row, width, window, average, (r - prompt) * n);
    }
  }
  if (weights.length !== 1) for (let i = 0; i < average.length; i++) average[i] = average[i]! / weights.length;
  return average;
}

function check(weights: readonly Float32Array[], rows: number, frames: number, o: TokenTimestampOptions): void {
  const bad = (what: string) => { throw new TesseraError('INVALID_ARGUMENT', `tokenTimestamps: ${what}`); };
  if (!Number.isInteger(rows) || rows < 1) bad(`rows must be a positive integer (got ${rows})`);
  if (!Number.isInteger(frames) || frames < 1) bad(`frames must be a positive integer (got ${frames})`);
  if (!Array.isArray(weights) || weights.length === 0) bad('weights must hold one Float32Array per alignment head (got none)');
  weights.forEach((w, h) => {
    if (!(w instanceof Float32Array)) bad(`weights[${h}] is not a Float32Array`);
    if (w.length < rows * frames) bad(`weights[${h}] holds ${w.length} values, fewer than rows × frames = ${rows} × ${frames}`);
  });
  if (!Number.isInteger(o.numFrames) || o.numFrames < 1) bad(`numFrames must be a positive integer (got ${o.numFrames})`);
  const width = o.medianFilterWidth;
  if (!Number.isInteger(width) || width < 1 || width % 2 === 0) bad(`medianFilterWidth must be a positive odd integer (got ${width})`);
  if (!Number.isInteger(o.numInputIds) || o.numInputIds < 0 || o.numInputIds >= rows) {
    bad(`numInputIds must be an integer in [0, rows) = [0, ${rows}) (got ${o.numInputIds}): at least one generated token's row is needed to align`);
  }
  if (!(o.timePrecision > 0) || !Number.isFinite(o.timePrecision)) bad(`timePrecision must be a positive number (got ${o.timePrecision})`);
}

/**
 * transformers.js's std_mean over the token axis (correction 0): the sums accumulate in float32,
 * row after row, as its reduce_helper does into a Float32Array.
 */
function meanAndStd(w: Float32Array, rows: number, frames: number, n: number, mean: Float32Array, std: Float32Array): void {
  mean.fill(0);
  for (let r = 0; r < rows; r++) for (let c = 0, base = r * frames; c < n; c++) mean[c] = mean[c]! + w[base + c]!;
  if (rows !== 1) for (let c = 0; c < n; c++) mean[c] = mean[c]! / rows;
  std.fill(0);
  for (let r = 0; r < rows; r++) for (let c = 0, base = r * frames; c < n; c++) std[c] = std[c]! + (w[base + c]! - mean[c]!) ** 2;
  for (let c = 0; c < n; c++) std[c] = Math.sqrt(std[c]! / rows);
}

/**
 * Adds transformers.js's medianFilter of `row` to out[at…]: a window of `width` around each
 * element, mirrored once at the edges (an index still outside — rows shorter than half the window —
 * reads as NaN, as its `data[index]` of undefined does), the middle of the window sorted as a
 * Float32Array sorts (−0 before +0, NaN last).
 */
function addMedianFiltered(row: Float32Array, width: number, window: Float32Array, out: Float32Array, at: number): void {
  const n = row.length, half = width >> 1;
  for (let i = 0; i < n; i++) {
    if (i > half && i + half < n) {
      // Away from the edges the window slides: one value leaves, one comes (the sorted order of a
      // multiset is unique, so this is the fresh sort's order).
      const leaving = row[i - half - 1]!;
      let p = 0;
      while (!same(window[p]!, leaving)) p++;
      for (; p < width - 1; p++) window[p] = window[p + 1]!;
      insertSorted(window, width - 1, row[i + half]!);
    } else {
      for (let k = 0; k < width; k++) {
        let index = i + k - half;
        if (index < 0) index = -index;
        else if (index >= n) index = 2 * (n - 1) - index;
        insertSorted(window, k, index >= 0 && index < n ? row[index]! : NaN);
      }
    }
    out[at + i] = out[at + i]! + window[half]!;
  }
}

/** Inserts v into the sorted window[0..count). */
function insertSorted(window: Float32Array, count: number, v: number): void {
  let p = count;
  while (p > 0 && before(v, window[p - 1]!)) { window[p] = window[p - 1]!; p--; }
  window[p] = v;
}

/** Equal as the sort sees values: NaN is NaN, −0 is not +0. */
function same(a: number, b: number): boolean {
  return a === b ? a !== 0 || 1 / a === 1 / b : a !== a && b !== b;
}

/** The order TypedArray.prototype.sort puts numbers in: ascending, −0 before +0, NaN last. */
function before(a: number, b: number): boolean {
  if (a < b) return true;
  if (a !== a) return false;
  if (b !== b) return true;
  return a === 0 && b === 0 && 1 / a < 0 && 1 / b > 0;
}

/**
 * transformers.js's dynamic_time_warping over −average (rows × frames), then its jumps: each row's
 * time is the frame at which the path first enters that row. Cost and trace are held column by
 * column, the order they are filled in; ties go as in transformers.js (diagonal only when strictly
 * cheapest, then up, else left).
 */
function timesOfPath(average: Float32Array, rows: number, frames: number, prompt: number, timePrecision: number): Float32Array {
  const h = rows + 1;
  const cost = new Float64Array(h * (frames + 1)).fill(Infinity);
  const trace = new Int8Array(h * (frames + 1));
  cost[0] = 0;
  for (let j = 1; j <= frames; j++) {
    for (let i = 1; i <= rows; i++) {
      const at = j * h + i;
      const c0 = cost[at - h - 1]!, c1 = cost[at - 1]!, c2 = cost[at - h]!;
      let c: number, t: number;
      if (c0 < c1 && c0 < c2) { c = c0; t = 0; }
      else if (c1 < c0 && c1 < c2) { c = c1; t = 1; }
      else { c = c2; t = 2; }
      cost[at] = -average[(i - 1) * frames + (j - 1)]! + c;
      trace[at] = t;
    }
  }
  for (let j = 0; j <= frames; j++) trace[j * h] = 2; // first row: left
  for (let i = 0; i < h; i++) trace[i] = 1; // first column: up
  const times = new Float32Array(prompt + rows + 1);
  // Walking back, the last time a row is seen is where the forward path enters it.
  for (let i = rows, j = frames; i > 0 || j > 0;) {
    if (i > 0) times[prompt + i - 1] = (j - 1) * timePrecision;
    const t = trace[j * h + i];
    if (t === 0) { i--; j--; } else if (t === 1) i--; else j--;
  }
  times[prompt + rows] = times[prompt + rows - 1]!;
  return times;
}
