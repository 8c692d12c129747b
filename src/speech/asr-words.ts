/**
 * Whisper's tokens → words with times, as transformers.js v4's WhisperTokenizer does it for
 * `return_timestamps: 'word'` (collateWordTimestamps and the helpers it calls): tokens are grouped
 * where their text decodes to whole characters, then — except for languages written without
 * spaces — subwords are joined until a space, a punctuation-only subword or a special token, and
 * punctuation is glued to its neighbour (opening marks forward, closing marks back). A word's time
 * runs from its first token's start to its last token's end. decode-asr.ts calls this per segment.
 */
import { TesseraError } from '../api/errors.js';
import type { AsrTokenizer } from './decode-asr.js';

/** A word and [start, end] in seconds (end null when its last token was the window's last). */
export interface AsrWord {
  text: string;
  timestamp: [number, number | null];
}

/** [start, end] of one token, seconds. */
export type TokenTime = [number, number | null];

const PUNCTUATION_ONLY = /^[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]+$/u;
const UNSPACED_LANGUAGES = ['chinese', 'japanese', 'thai', 'lao', 'myanmar'];
const PREPENDED = '"\'“¡¿([{-';
const APPENDED = '"\'.。,，!！?？:：”)]}、';
const REPLACEMENT = '\uFFFD';

/**
 * Whether a token's text is punctuation only, from that text alone. (transformers.js v4 tests it
 * with one module-level regex carrying the `g` flag, so a test right after a match fails whatever
 * the text: its answers depend on the tokens before, even in an earlier call. Here each answer
 * depends on its text only: same input, same words, whatever was transcribed before.)
 */
export function punctuationOnly(text: string): boolean {
  return PUNCTUATION_ONLY.test(text);
}

/** The words of a segment's tokens and their times (times[i]: token i's [start, end]). */
export function collateWords(tok: AsrTokenizer, tokens: readonly number[], times: readonly TokenTime[], language: string | null): AsrWord[] {
  const { words, indices } = combineTokensIntoWords(tok, tokens, language ?? 'english');
  return words.map((text, i) => {
    const idx = indices[i];
    if (idx === undefined) {
      // transformers.js filters empty words and empty index lists apart; a token with no text skews them.
      throw new TesseraError('INVALID_ARGUMENT', `Whisper word timestamps: word ${i} ('${text}') has no tokens (a token in [${tokens.join(', ')}] decodes to no text)`);
    }
    return { text, timestamp: [times[idx[0]!]![0], times[idx.at(-1)!]![1]] };
  });
}

interface Split { words: string[]; tokens: number[][]; indices: number[][] }

function combineTokensIntoWords(tok: AsrTokenizer, tokens: readonly number[], language: string): Split {
  const split = UNSPACED_LANGUAGES.includes(language) ? splitOnUnicode(tok, tokens) : splitOnSpaces(tok, tokens);
  return mergePunctuations(split);
}

/**
 * transformers.js's decode_with_timestamps: ids from the last special id + 1 on are written as
 * `<|t.tt|>` (0.02 s a step), the runs between them decoded apart.
 */
function decodeWithTimestamps(tok: AsrTokenizer, ids: readonly number[]): string {
  const begin = tok.allSpecialIds.at(-1)! + 1;
  let text = '';
  let run: number[] = [];
  for (const id of ids) {
    if (id >= begin) {
      text += tok.decode(run) + `<|${((id - begin) * 0.02).toFixed(2)}|>`;
      run = [];
    } else {
      run.push(id);
    }
  }
  return text + tok.decode(run);
}

/**
 * Groups of tokens that decode to whole characters: a group ends when its text has no U+FFFD, or
 * when the U+FFFD is in the full text too (a byte sequence that never completes). Tokens left
 * after the last complete group are dropped, as there.
 */
function splitOnUnicode(tok: AsrTokenizer, tokens: readonly number[]): Split {
  const full = decodeWithTimestamps(tok, tokens);
  const out: Split = { words: [], tokens: [], indices: [] };
  let current: number[] = [], currentIndices: number[] = [];
  let offset = 0;
  for (let i = 0; i < tokens.length; i++) {
    current.push(tokens[i]!);
    currentIndices.push(i);
    const decoded = decodeWithTimestamps(tok, current);
    if (!decoded.includes(REPLACEMENT) || full[offset + decoded.indexOf(REPLACEMENT)] === REPLACEMENT) {
      out.words.push(decoded);
      out.tokens.push(current);
      out.indices.push(currentIndices);
      current = [];
      currentIndices = [];
      offset += decoded.length;
    }
  }
  return out;
}

/** Subwords joined into words: a new word at a leading space, a punctuation-only subword or a special token. */
function splitOnSpaces(tok: AsrTokenizer, tokens: readonly number[]): Split {
  const sub = splitOnUnicode(tok, tokens);
  const endOfText = tok.tokenToId('<|endoftext|>');
  const out: Split = { words: [], tokens: [], indices: [] };
  for (let i = 0; i < sub.words.length; i++) {
    const subword = sub.words[i]!;
    const special = endOfText !== undefined && sub.tokens[i]![0]! >= endOfText;
    const punctuation = punctuationOnly(subword.trim());
    if (special || subword.startsWith(' ') || punctuation || out.words.length === 0) {
      out.words.push(subword);
      out.tokens.push(sub.tokens[i]!);
      out.indices.push(sub.indices[i]!);
    } else {
      const last = out.words.length - 1;
      out.words[last] += subword;
      out.tokens[last]!.push(...sub.tokens[i]!);
      out.indices[last]!.push(...sub.indices[i]!);
    }
  }
  return out;
}

/** Word `from` joins word `to` (the earlier one's text and tokens first), leaving `from` empty. */
function moveWord(w: string[], t: number[][], ix: number[][], from: number, to: number): void {
  const a = Math.min(from, to), b = Math.max(from, to);
  w[to] = w[a]! + w[b]!;
  t[to] = [...t[a]!, ...t[b]!];
  ix[to] = [...ix[a]!, ...ix[b]!];
  w[from] = '';
  t[from] = [];
  ix[from] = [];
}

/**
 * Opening punctuation (a word that starts with a space and trims to a substring of PREPENDED —
 * the empty string included, as String.includes has it) joins the next word; closing punctuation
 * (a substring of APPENDED) joins the word before unless that ends with a space. Emptied entries are
 * then dropped from each list on its own (words by text, the others by length), as there.
 */
function mergePunctuations({ words, tokens, indices }: Split): Split {
  const w = words.slice(), t = tokens.map((x) => x.slice()), ix = indices.map((x) => x.slice());
  for (let i = w.length - 2, j = w.length - 1; i >= 0; i--) {
    if (w[i]!.startsWith(' ') && PREPENDED.includes(w[i]!.trim())) {
      moveWord(w, t, ix, i, j);
    } else {
      j = i;
    }
  }
  for (let i = 0, j = 1; j < w.length; j++) {
    if (!w[i]!.endsWith(' ') && APPENDED.includes(w[j]!)) {
      moveWord(w, t, ix, j, i);
    } else {
      i = j;
    }
  }
  return { words: w.filter((x) => x), tokens: t.filter((x) => x.length > 0), indices: ix.filter((x) => x.length > 0) };
}
