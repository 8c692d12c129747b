/**
 * Whisper's token sequences → `{ text, chunks }`, as transformers.js's WhisperTokenizer._decode_asr
 * (itself Hugging Face's): a state machine over every window's tokens — language tokens, other
 * special tokens (skipped), timestamp tokens (open and close segments, shifted by the window's
 * offset; those inside a stride are resolved later) and text tokens — and overlapping windows
 * merged by their longest common token run (findLongestCommonSequence). Segment timestamps only
 * ('word' needs the cross-attention alignment, not implemented).
 */
import { TesseraError } from '../api/errors.js';
import { WHISPER_LANGUAGE_MAPPING } from './languages.js';

/** What decoding needs of the tokenizer. */
export interface AsrTokenizer {
  /** Text of token ids (special tokens kept). */
  decode(ids: readonly number[]): string;
  /** Ids of the special tokens. */
  readonly allSpecialIds: readonly number[];
  /** Id of a token's text. */
  tokenToId(token: string): number | undefined;
}

/** One window's result: its tokens and [length, left stride, right stride] in seconds. */
export interface AsrWindow {
  tokens: readonly number[];
  stride?: readonly [number, number, number];
}

/** A segment of the transcription. */
export interface AsrChunk {
  /** [start, end] in seconds (end null when the model never closed the segment). */
  timestamp: [number | null, number | null];
  /** The segment's text. */
  text: string;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Decodes the windows of one audio input. `timePrecision`: seconds per timestamp token
 * (chunk_length / max_source_positions = 0.02).
 */
export function decodeAsr(tok: AsrTokenizer, windows: readonly AsrWindow[], options: { returnTimestamps: boolean; timePrecision: number; forceFullSequences?: boolean }): { text: string; chunks?: AsrChunk[] } {
  const { returnTimestamps, timePrecision: tp, forceFullSequences = false } = options;
  const noTs = tok.tokenToId('<|notimestamps|>');
  if (noTs === undefined) throw new TesseraError('INVALID_MODEL', 'Whisper tokenizer: no <|notimestamps|> token');
  const tsBegin = noTs + 1, tsEnd = tsBegin + 1500;
  const special = new Set(tok.allSpecialIds);
  type Chunk = { language: string | null; timestamp: [number | null, number | null]; text: string };
  let lastLanguage: string | null = null;
  const newChunk = (): Chunk => ({ language: lastLanguage, timestamp: [null, null], text: '' });
  const chunks: Chunk[] = [];
  let chunk = newChunk();
  let timeOffset = 0;
  let previous: number[][] = [];
  let skip = false;
  let rightStrideStart: number | null = null;

  for (const output of windows) {
    const ids = output.tokens;
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
    /** Ends the chunk being built: its text is the merge of the windows' overlapping token runs. */
    const closeChunk = () => {
      previous.push(current);
      chunk.text = tok.decode(longestCommonSequence(previous));
      chunks.push(chunk);
      previous = [];
      current = [];
      chunk = newChunk();
    };
    for (const t of ids) {
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
      }
    }
    if (output.stride) timeOffset += output.stride[0] - output.stride[2];
    if (current.length > 0) {
      previous.push(current);
    } else if (previous.every((p) => p.length === 0)) {
      chunk = newChunk();
      previous = [];
      current = [];
    }
  }
  if (previous.length > 0) {
    if (forceFullSequences && returnTimestamps) {
      throw new TesseraError('INVALID_MODEL', 'Whisper did not predict an ending timestamp, which can happen if audio is cut off in the middle of a word');
    }
    chunk.text = tok.decode(longestCommonSequence(previous));
    chunks.push(chunk);
  }
  const text = chunks.map((c) => c.text).join('');
  if (!returnTimestamps) return { text };
  return { text, chunks: chunks.map((c) => ({ timestamp: c.timestamp, text: c.text })) };
}

/**
 * Merges token runs whose ends overlap (consecutive windows): slides each run over the merged
 * one, keeps the alignment with the most matching tokens (ties to the longer overlap) and cuts
 * both at the middle of the overlap.
 */
export function longestCommonSequence(sequences: readonly (readonly number[])[]): number[] {
  let left = sequences[0]!.slice();
  let leftLength = left.length;
  const total: number[] = [];
  for (let i = 1; i < sequences.length; i++) {
    const right = sequences[i]!;
    let max = 0;
    let best = [leftLength, leftLength, 0, 0];
    const rightLength = right.length;
    for (let j = 1; j < leftLength + rightLength; j++) {
      const leftStart = Math.max(0, leftLength - j), leftStop = Math.min(leftLength, leftLength + rightLength - j);
      const rightStart = Math.max(0, j - leftLength), rightStop = Math.min(rightLength, j);
      let matches = 0;
      for (let k = 0; k < leftStop - leftStart; k++) if (left[leftStart + k] === right[rightStart + k]) matches++;
      const matching = matches / j + j / 10000;
      if (matches > 1 && matching > max) { max = matching; best = [leftStart, leftStop, rightStart, rightStop]; }
    }
    const [ls, le, rs, re] = best as [number, number, number, number];
    const leftMid = Math.floor((le + ls) / 2), rightMid = Math.floor((re + rs) / 2);
    total.push(...left.slice(0, leftMid));
    left = right.slice(rightMid);
    leftLength = left.length;
  }
  total.push(...left);
  return total;
}
