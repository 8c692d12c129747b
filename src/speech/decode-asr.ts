/**
 * Whisper's token sequences → `{ text, chunks }`, as transformers.js's WhisperTokenizer._decode_asr
 * (itself Hugging Face's): a state machine over every window's tokens — language tokens, other
 * special tokens (skipped), timestamp tokens (open and close segments, shifted by the window's
 * offset; those inside a stride are resolved later) and text tokens — and overlapping windows
 * merged by their longest common token run (findLongestCommonSequence). With
 * `returnTimestamps: 'word'` each window also carries one time per token (token-timestamps.ts), the
 * text tokens get [start, end] from them, the merge keeps only runs whose times agree, and every
 * segment is split into words (asr-words.ts); the chunks are then the words.
 */
import { TesseraError } from '../api/errors.js';
import { type AsrWord, collateWords, punctuationOnly, type TokenTime } from './asr-words.js';
import { WHISPER_LANGUAGE_MAPPING } from './languages.js';

/** What decoding needs of the tokenizer. */
export interface AsrTokenizer {
  /** Text of token ids (special tokens kept). */
  decode(ids: readonly number[]): string;
  /** Ids of the special tokens, in added-token order ('word' takes the last + 1 as where timestamps start, as transformers.js). */
  readonly allSpecialIds: readonly number[];
  /** Id of a token's text. */
  tokenToId(token: string): number | undefined;
}

/** One window's result: its tokens and [length, left stride, right stride] in seconds. */
export interface AsrWindow {
  /** The whole sequence generate returned, prompt included. */
  tokens: readonly number[];
  stride?: readonly [number, number, number];
  /**
   * 'word' only: a time in seconds for each token of `tokens` (transformers.js's
   * token_timestamps[0]: tokenTimestamps' values, with a seek pass's offset added).
   */
  token_timestamps?: ArrayLike<number>;
}

/** A segment of the transcription, or a word ('word'). */
export interface AsrChunk {
  /** [start, end] in seconds (end null when the model never closed the segment, or a word ends the window). */
  timestamp: [number | null, number | null];
  /** The segment's or word's text. */
  text: string;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Decodes the windows of one audio input. `timePrecision`: seconds per timestamp token
 * (chunk_length / max_source_positions = 0.02). `returnTimestamps`: false → `{ text }`; true →
 * segments; 'word' → words, each window needing `token_timestamps` (as transformers.js's pipeline:
 * the prompt up to the first timestamp token dropped, times rounded to 0.01 s, then its tokenizer's
 * _decode_asr).
 */
export function decodeAsr(tok: AsrTokenizer, windows: readonly AsrWindow[], options: { returnTimestamps: boolean | 'word'; timePrecision: number; forceFullSequences?: boolean }): { text: string; chunks?: AsrChunk[] } {
  const { returnTimestamps, timePrecision: tp, forceFullSequences = false } = options;
  const words = returnTimestamps === 'word';
  const noTs = tok.tokenToId('<|notimestamps|>');
  if (noTs === undefined) throw new TesseraError('INVALID_MODEL', 'Whisper tokenizer: no <|notimestamps|> token');
  const tsBegin = noTs + 1, tsEnd = tsBegin + 1500;
  const special = new Set(tok.allSpecialIds);
  type Chunk = { language: string | null; timestamp: [number | null, number | null]; text: string; words?: AsrWord[] };
  let lastLanguage: string | null = null;
  const newChunk = (): Chunk => ({ language: lastLanguage, timestamp: [null, null], text: '' });
  const chunks: Chunk[] = [];
  let chunk = newChunk();
  let timeOffset = 0;
  let previous: number[][] = [];
  let previousTimes: TokenTime[][] = []; // 'word': the times of `previous`, run for run
  let skip = false;
  let rightStrideStart: number | null = null;

  for (const [w, output] of windows.entries()) {
    const { tokens: ids, times } = words ? withoutPrompt(output, w, tsBegin) : { tokens: output.tokens, times: [] };
    let lastTimestamp: number | null = null;
    let firstTimestamp = tsBegin;
    if (output.stride) {
      const [chunkLen, left, right] = output.stride;
      timeOffset -= left;
      rightStrideStart = chunkLen - right;
      if (left) firstTimestamp = left / tp + tsBegin;
      if (right) {
        for (let i = ids.length - 1; i >= 0; i--) {
          const t = ids[i]!;
          if (t >= tsBegin) {
            if (lastTimestamp !== null && (t - tsBegin) * tp < rightStrideStart) break;
            lastTimestamp = t;
          }
        }
      }
    }
    let current: number[] = [];
    let currentTimes: TokenTime[] = [];
    /** Ends the chunk being built: its text is the merge of the windows' overlapping token runs. */
    const closeChunk = () => {
      previous.push(current);
      if (words) previousTimes.push(currentTimes);
      const merged = mergeOverlaps(previous, words ? previousTimes : null);
      chunk.text = tok.decode(merged.tokens);
      if (words) {
        chunk.words = collateWords(tok, merged.tokens, merged.times, lastLanguage);
        capWordEnds(chunk.words, chunk.timestamp[1]);
      }
      chunks.push(chunk);
      previous = [];
      current = [];
      previousTimes = [];
      currentTimes = [];
      chunk = newChunk();
    };
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i]!;
      if (special.has(t)) {
        const text = tok.decode([t]);
        const language = WHISPER_LANGUAGE_MAPPING.get(text.slice(2, -2));
        if (language !== undefined) {
          if (lastLanguage !== null && language !== lastLanguage && !returnTimestamps) {
            closeChunk();
          }
          lastLanguage = chunk.language = language;
        }
      } else if (t >= tsBegin && t <= tsEnd) {
        const time = round2((t - tsBegin) * tp + timeOffset);
        if (lastTimestamp !== null && t >= lastTimestamp) {
          skip = true;
        } else if (skip || (previous.length > 0 && t < firstTimestamp)) {
          skip = false;
        } else if (chunk.timestamp[0] === null) {
          chunk.timestamp[0] = time;
        } else if (time !== chunk.timestamp[0]) {
          chunk.timestamp[1] = time;
          closeChunk();
        }
      } else {
        current.push(t);
        if (words) currentTimes.push(tokenTime(tok, t, times, i, timeOffset, tp));
      }
    }
    if (output.stride) timeOffset += output.stride[0] - output.stride[2];
    if (current.length > 0) {
      previous.push(current);
      if (words) previousTimes.push(currentTimes);
    } else if (previous.every((p) => p.length === 0)) {
      chunk = newChunk();
      previous = [];
      current = [];
      previousTimes = [];
      currentTimes = [];
    }
  }
  if (previous.length > 0) {
    if (forceFullSequences && returnTimestamps) {
      throw new TesseraError('INVALID_MODEL', 'Whisper did not predict an ending timestamp, which can happen if audio is cut off in the middle of a word');
    }
    const merged = mergeOverlaps(previous, words ? previousTimes : null);
    chunk.text = tok.decode(merged.tokens);
    if (words) chunk.words = collateWords(tok, merged.tokens, merged.times, lastLanguage);
    chunks.push(chunk);
  }
  const text = chunks.map((c) => c.text).join('');
  if (!returnTimestamps) return { text };
  if (words) return { text, chunks: chunks.flatMap((c) => c.words!) };
  return { text, chunks: chunks.map((c) => ({ timestamp: c.timestamp, text: c.text })) };
}

/**
 * The ASR pipeline's part of 'word' (transformers.js's _call_whisper): the tokens before the first
 * timestamp token left out (the prompt, its language token included), the times rounded to 0.01 s.
 */
function withoutPrompt(output: AsrWindow, w: number, tsBegin: number): { tokens: readonly number[]; times: number[] } {
  const all = output.token_timestamps;
  if (all === undefined || all.length !== output.tokens.length) {
    const got = all === undefined ? 'no token_timestamps' : `${all.length} token_timestamps`;
    throw new TesseraError('INVALID_ARGUMENT', `decodeAsr: returnTimestamps 'word' needs token_timestamps, one per token: window ${w} has ${output.tokens.length} tokens and ${got}`);
  }
  const prefix = Math.max(output.tokens.findIndex((t) => t >= tsBegin), 0);
  return { tokens: output.tokens.slice(prefix), times: Array.from(all).slice(prefix).map(round2) };
}

/**
 * A text token's [start, end]: its time and the next token's, shifted by the window's offset;
 * punctuation-only tokens last at most one time step (a long pause must not stretch them). The
 * window's last token has no end.
 */
function tokenTime(tok: AsrTokenizer, token: number, times: readonly number[], i: number, timeOffset: number, tp: number): TokenTime {
  const start = round2(times[i]! + timeOffset);
  if (i + 1 >= times.length) return [start, null];
  let end = round2(times[i + 1]! + timeOffset);
  if (punctuationOnly(tok.decode([token]))) end = round2(Math.min(start + tp, end));
  return [start, end];
}

/** Words may not end after their segment, unless that would end them before they start. */
function capWordEnds(words: AsrWord[], segmentEnd: number | null): void {
  if (words.length === 0 || segmentEnd === null) return;
  for (const word of words) {
    // (end ?? 0): JavaScript compares a null end as 0, and transformers.js leaves it to do so.
    if ((word.timestamp[1] ?? 0) > segmentEnd && segmentEnd >= word.timestamp[0]) word.timestamp[1] = segmentEnd;
  }
}

/**
 * Merges token runs whose ends overlap (consecutive windows): slides each run over the merged
 * one, keeps the alignment with the most matching tokens (ties to the longer overlap) and cuts
 * both at the middle of the overlap.
 */
export function longestCommonSequence(sequences: readonly (readonly number[])[]): number[] {
  return mergeOverlaps(sequences, null).tokens;
}

/** Tokens that match across an overlap may start up to this much earlier on the right (DTW differs a little between windows). */
const TIMESTAMP_MERGE_TOLERANCE = 0.1;

/**
 * longestCommonSequence, and with `times` (one [start, end] per token of each run) the times cut
 * the same way: a token then matches only if it does not start more than the tolerance before its
 * partner, and when nothing overlaps the right run loses its tokens that start before the merged
 * run's last one.
 */
function mergeOverlaps(sequences: readonly (readonly number[])[], times: readonly (readonly TokenTime[])[] | null): { tokens: number[]; times: TokenTime[] } {
  const timed = times !== null && times.length > 0;
  let left = sequences[0]!.slice();
  let leftTimes = timed ? times[0]!.slice() : [];
  let leftLength = left.length;
  const total: number[] = [];
  const totalTimes: TokenTime[] = [];
  for (let i = 1; i < sequences.length; i++) {
    const right = sequences[i]!;
    const rightTimes = timed ? times[i]! : [];
    let max = 0;
    let best = [leftLength, leftLength, 0, 0];
    const rightLength = right.length;
    for (let j = 1; j < leftLength + rightLength; j++) {
      const leftStart = Math.max(0, leftLength - j), leftStop = Math.min(leftLength, leftLength + rightLength - j);
      const rightStart = Math.max(0, j - leftLength), rightStop = Math.min(rightLength, j);
      let matches = 0;
      for (let k = 0; k < leftStop - leftStart; k++) {
        if (left[leftStart + k] === right[rightStart + k]
          && (!timed || leftTimes[leftStart + k]![0] - TIMESTAMP_MERGE_TOLERANCE <= rightTimes[rightStart + k]![0])) matches++;
      }
      const matching = matches / j + j / 10000;
      if (matches > 1 && matching > max) { max = matching; best = [leftStart, leftStop, rightStart, rightStop]; }
    }
    const [ls, le, rs, re] = best as [number, number, number, number];
    const leftMid = Math.floor((le + ls) / 2);
    let rightMid = Math.floor((re + rs) / 2);
    if (timed && max === 0 && leftLength > 0) {
      const lastLeftStart = leftTimes[leftLength - 1]![0];
      const idx = rightTimes.findIndex((ts) => ts[0] >= lastLeftStart);
      rightMid = idx === -1 ? right.length : idx;
    }
    total.push(...left.slice(0, leftMid));
    left = right.slice(rightMid);
    leftLength = left.length;
    if (timed) {
      totalTimes.push(...leftTimes.slice(0, leftMid));
      leftTimes = rightTimes.slice(rightMid);
    }
  }
  total.push(...left);
  totalTimes.push(...leftTimes);
  return { tokens: total, times: totalTimes };
}
