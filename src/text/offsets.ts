// Token offsets: for every token, the range of the caller's text it came from, in UTF-16 code
// units (so `text.slice(start, end)` is the token's source), as Hugging Face's Rust tokenizers
// computes them (its bindings report code points; the ranges are the same characters).
//
// @huggingface/tokenizers computes no offsets, so the encoding is redone here in its own steps,
// with the library's own components (ids cannot drift; the tests check tokens equal encode's):
//   1. split on added tokens (their ranges are known exactly);
//   2. normalize each other section with an alignment (normalize-align.ts);
//   3. pre-tokenize into words, tokenize each word with the model;
//   4. place each word, then each of its tokens, in the normalized text by matching the bytes the
//      token stands for ("surface"): byte-level tokens (Ġ…) map back to UTF-8 bytes, WordPiece
//      drops its ## prefix, SentencePiece's ▁ stands for a space, <0xNN> byte-fallback tokens for
//      one byte; an unknown token spans what lies between its neighbours. A token that covers
//      part of a character (byte-level BPE splits emoji) gets the whole character, as in Rust;
//   5. map normalized ranges back through the alignment; trim leading/trailing spaces when the
//      post-processor says trim_offsets (ByteLevel, RoBERTa), as Rust does.
// Special tokens the post-processor adds have the range [0, 0] and sequence id null.

import type { CoreTokenizer } from './hf-core.js';
import { identity, normalizeAligned, type Aligned, type CoreNormalizer } from './normalize-align.js';

type Json = Record<string, unknown>;

/** How a tokenizer's tokens spell the text, read once from its tokenizer.json. */
export interface SurfaceRules {
  /** Tokens are GPT-2 byte-level characters (a ByteLevel pre-tokenizer or decoder). */
  byteLevel: boolean;
  /** SentencePiece's space character (Metaspace), usually ▁. */
  spaceMark?: string;
  /** A prefix marking a word's continuation pieces (WordPiece ##). */
  continuingPrefix?: string;
  /** A suffix marking a word's end (some BPEs: </w>). */
  endOfWordSuffix?: string;
  /** The model's unknown token. */
  unkToken?: string;
  /** Trim spaces from token ranges (ByteLevel / RoBERTa post-processor trim_offsets). */
  trimOffsets: boolean;
  /** The post-processor adds a prefix space (kept on the first token when trimming). */
  addPrefixSpace: boolean;
}

function walk(node: unknown, visit: (n: Json) => void): void {
  if (!node || typeof node !== 'object') return;
  const n = node as Json;
  visit(n);
  for (const key of ['pretokenizers', 'decoders', 'processors', 'normalizers']) {
    if (Array.isArray(n[key])) for (const child of n[key] as unknown[]) walk(child, visit);
  }
}

/** Reads the rules from tokenizer.json. */
export function surfaceRules(json: Json): SurfaceRules {
  const rules: SurfaceRules = { byteLevel: false, trimOffsets: false, addPrefixSpace: false };
  for (const key of ['pre_tokenizer', 'decoder']) {
    walk(json[key], (n) => {
      if (n.type === 'ByteLevel') rules.byteLevel = true;
      if (n.type === 'Metaspace') rules.spaceMark = typeof n.replacement === 'string' ? n.replacement : '\u2581';
    });
  }
  walk(json.decoder, (n) => {
    // A decoder turning ▁ back into spaces (Gemma, Llama 2) marks a SentencePiece vocabulary.
    if (n.type === 'Replace' && (n.pattern as Json)?.String === '\u2581') rules.spaceMark ??= '\u2581';
  });
  walk(json.post_processor, (n) => {
    if (n.type === 'ByteLevel' && n.trim_offsets === true) rules.trimOffsets = true;
    if (n.type === 'RobertaProcessing' && n.trim_offsets !== false) {
      rules.trimOffsets = true;
      rules.addPrefixSpace = n.add_prefix_space !== false;
    }
    if (n.type === 'ByteLevel' && n.add_prefix_space === true) rules.addPrefixSpace = true;
  });
  const model = (json.model ?? {}) as Json;
  if (model.type === 'WordPiece' || (typeof model.continuing_subword_prefix === 'string' && model.continuing_subword_prefix !== '')) {
    rules.continuingPrefix = typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '##';
  }
  if (typeof model.end_of_word_suffix === 'string' && model.end_of_word_suffix !== '') rules.endOfWordSuffix = model.end_of_word_suffix;
  if (typeof model.unk_token === 'string') rules.unkToken = model.unk_token;
  else if (model.type === 'Unigram' && Number.isInteger(model.unk_id) && Array.isArray(model.vocab)) {
    rules.unkToken = ((model.vocab as unknown[])[model.unk_id as number] as [string])?.[0];
  }
  return rules;
}

/** One token of one text: its string and its range in that text. */
export interface SpannedToken {
  token: string;
  start: number;
  end: number;
}

const BYTE_OF = byteLevelDecoder();
const utf8 = new TextEncoder();

function byteLevelDecoder(): Map<string, number> {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const map = new Map<string, number>();
  let n = 0;
  for (let b = 0; b < 256; b++) map.set(String.fromCharCode(keep.includes(b) ? b : 256 + n++), b);
  return map;
}

/** The bytes a token stands for; undefined for the unknown token (its length is unknown). */
function surface(token: string, first: boolean, last: boolean, rules: SurfaceRules): number[] | undefined {
  if (token === rules.unkToken) return undefined;
  let t = token;
  if (!first && rules.continuingPrefix && t.startsWith(rules.continuingPrefix)) t = t.slice(rules.continuingPrefix.length);
  if (last && rules.endOfWordSuffix && t.endsWith(rules.endOfWordSuffix)) t = t.slice(0, -rules.endOfWordSuffix.length);
  const fallback = /^<0x([0-9A-Fa-f]{2})>$/.exec(t);
  if (fallback) return [parseInt(fallback[1]!, 16)];
  if (rules.byteLevel) {
    const bytes: number[] = [];
    for (const ch of t) {
      const b = BYTE_OF.get(ch);
      if (b === undefined) return Array.from(utf8.encode(t));
      bytes.push(b);
    }
    return bytes;
  }
  return Array.from(utf8.encode(t));
}

/** A normalized text as UTF-8 bytes, each byte knowing its character's UTF-16 range. */
class ByteView {
  readonly bytes: Uint8Array;
  readonly charStart: Int32Array;
  readonly charEnd: Int32Array;
  constructor(readonly text: string) {
    this.bytes = utf8.encode(text);
    this.charStart = new Int32Array(this.bytes.length);
    this.charEnd = new Int32Array(this.bytes.length);
    let b = 0;
    for (let i = 0; i < text.length;) {
      const cp = text.codePointAt(i)!;
      const units = cp > 0xffff ? 2 : 1;
      const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      this.charStart.fill(i, b, b + n);
      this.charEnd.fill(i + units, b, b + n);
      b += n;
      i += units;
    }
  }
}

/**
 * Where `s` matches the text at byte `p`: the end byte, or -1. The space mark matches a space or
 * itself; a leading space (or space mark) the text does not have is skipped when `prefixOk`
 * (pre-tokenizers add one to the first word).
 */
function matchAt(view: ByteView, p: number, s: number[], mark: number[] | undefined, prefixOk: boolean): number {
  const t = view.bytes;
  let q = p;
  for (let i = 0; i < s.length;) {
    if (mark && startsWith(s, i, mark)) {
      if (startsWith(t, q, mark)) q += mark.length;
      else if (t[q] === 0x20) q += 1;
      else if (!(i === 0 && prefixOk)) return -1;
      i += mark.length;
    } else if (t[q] === s[i]) {
      q++; i++;
    } else if (i === 0 && prefixOk && s[i] === 0x20) {
      i++;
    } else {
      return -1;
    }
  }
  return q;
}

function startsWith(a: ArrayLike<number>, at: number, b: number[]): boolean {
  for (let k = 0; k < b.length; k++) if (a[at + k] !== b[k]) return false;
  return true;
}

/** First position ≥ from where `s` matches, with its end; undefined when nowhere. */
function find(view: ByteView, from: number, s: number[], mark: number[] | undefined, prefixOk: boolean): [number, number] | undefined {
  for (let p = from; p <= view.bytes.length; p++) {
    const q = matchAt(view, p, s, mark, prefixOk);
    if (q >= 0) return [p, q];
  }
  return undefined;
}

/**
 * The tokens of one text with their ranges in it, computed along the same steps as
 * @huggingface/tokenizers' encode_text (so the tokens are the same).
 */
export function tokensWithOffsets(core: CoreTokenizer, rules: SurfaceRules, text: string): SpannedToken[] {
  const out: SpannedToken[] = [];
  const sections = splitSpans(core, text, 'splitter_unnormalized');
  const mark = rules.spaceMark ? Array.from(utf8.encode(rules.spaceMark)) : undefined;
  sections.forEach((sec, sectionIndex) => {
    if (sec.end <= sec.start) return;
    const piece = text.slice(sec.start, sec.end);
    if (core.added_tokens_map.has(piece)) {
      out.push({ token: piece, start: sec.start, end: sec.end });
      return;
    }
    const aligned = normalizeAligned(core.normalizer as CoreNormalizer | null, identity(piece, sec.start));
    if (aligned.text.length === 0) return;
    for (const sub of splitSpans(core, aligned.text, 'splitter_normalized')) {
      if (sub.end <= sub.start) continue;
      const subText = aligned.text.slice(sub.start, sub.end);
      const range = (a: number, b: number): [number, number] => mapBack(aligned, sub.start + a, sub.start + b);
      if (core.added_tokens_map.has(subText)) {
        const [s, e] = range(0, subText.length);
        out.push({ token: subText, start: s, end: e });
        continue;
      }
      const view = new ByteView(subText);
      const words = core.pre_tokenizer ? core.pre_tokenizer(subText, { section_index: sectionIndex }) : [subText];
      let cursor = 0;
      for (const word of words) {
        const tokens = (core.model as unknown as (words: string[]) => string[])([word]);
        const wordBytes = surface(word, true, true, { ...rules, continuingPrefix: undefined, endOfWordSuffix: undefined, unkToken: undefined })!;
        const placed = find(view, cursor, wordBytes, mark, true);
        const wordEnd = placed?.[1] ?? cursor;
        // Byte ranges in the normalized section, converted once the word is done.
        const spans: SpannedToken[] = [];
        let pos = placed?.[0] ?? cursor;
        let unkFrom: number | undefined;
        tokens.forEach((token, i) => {
          const s = surface(token, i === 0, i === tokens.length - 1, rules);
          if (s === undefined) {
            unkFrom ??= spans.length;
            spans.push({ token, start: pos, end: pos });
            return;
          }
          const here = unkFrom === undefined ? matchAt(view, pos, s, mark, i === 0) : -1;
          const [a, b] = here >= 0 ? [pos, here] : find(view, pos, s, mark, i === 0 && unkFrom === undefined) ?? [pos, pos];
          if (unkFrom !== undefined) for (let k = unkFrom; k < spans.length; k++) spans[k]!.end = a;
          unkFrom = undefined;
          spans.push({ token, start: a, end: b });
          pos = b;
        });
        if (unkFrom !== undefined) for (let k = unkFrom; k < spans.length; k++) spans[k]!.end = Math.max(wordEnd, pos);
        cursor = Math.max(pos, wordEnd);
        for (const t of spans) {
          const [a, b] = byteRange(view, t.start, t.end);
          [t.start, t.end] = b > a ? range(a, b) : collapsed(range, a, subText.length);
          out.push(t);
        }
      }
    }
  });
  if (rules.trimOffsets) trim(out, rules.addPrefixSpace);
  return out;
}

/** Bytes [a, b) → the UTF-16 range of the whole characters they touch. */
function byteRange(view: ByteView, a: number, b: number): [number, number] {
  if (b <= a || view.bytes.length === 0) {
    const at = a >= view.bytes.length ? view.text.length : view.charStart[a]!;
    return [at, at];
  }
  return [view.charStart[a]!, view.charEnd[b - 1]!];
}

/**
 * A token that matched nothing (a prefix space or ▁ the pre-tokenizer added) has the range of the
 * character it was added before, as Rust aligns an inserted prefix with the first character.
 */
function collapsed(range: (a: number, b: number) => [number, number], at: number, length: number): [number, number] {
  if (at < length) return range(at, at + 1);
  if (length === 0) return range(0, 0);
  const end = range(length - 1, length)[1];
  return [end, end];
}

/** Normalized units [a, b) → the original range they came from. */
function mapBack(al: Aligned, a: number, b: number): [number, number] {
  if (b <= a) {
    const p = a < al.text.length ? al.start[a]! : (al.text.length ? al.end[al.text.length - 1]! : 0);
    return [p, p];
  }
  let s = al.start[a]!;
  let e = al.end[b - 1]!;
  for (let i = a; i < b; i++) { s = Math.min(s, al.start[i]!); e = Math.max(e, al.end[i]!); }
  return [s, e];
}

/** Added-token splitting with positions (the library's DictionarySplitter returns only strings). */
function splitSpans(core: CoreTokenizer, text: string, which: 'splitter_unnormalized' | 'splitter_normalized'): Array<{ start: number; end: number }> {
  const splitter = (core as unknown as Record<string, { split(t: string): string[] }>)[which]!;
  const parts = splitter.split(text);
  const spans: Array<{ start: number; end: number }> = [];
  let at = 0;
  for (const p of parts) { spans.push({ start: at, end: at + p.length }); at += p.length; }
  // lstrip / rstrip added tokens eat the whitespace beside them (as encode_text trims it).
  spans.forEach((span, i) => {
    const token = core.added_tokens_map.get(parts[i]!);
    if (!token) return;
    if (token.lstrip && i > 0) {
      const prev = spans[i - 1]!;
      while (prev.end > prev.start && /\s/.test(text[prev.end - 1]!)) prev.end--;
    }
    if (token.rstrip && i < spans.length - 1) {
      const next = spans[i + 1]!;
      while (next.start < next.end && /\s/.test(text[next.start]!)) next.start++;
    }
  });
  return spans;
}

/** Rust's ByteLevel process_offsets: ranges lose the spaces their token starts or ends with. */
function trim(tokens: SpannedToken[], addPrefixSpace: boolean): void {
  tokens.forEach((t, i) => {
    let lead = 0;
    for (const ch of t.token) { if (ch === '\u0120' || /\s/u.test(ch)) lead++; else break; }
    let trail = 0;
    for (const ch of [...t.token].reverse()) { if (ch === '\u0120' || /\s/u.test(ch)) trail++; else break; }
    if (lead === 0 && trail === 0) return;
    if (lead > 0) {
      if ((i === 0 || t.start === 0) && addPrefixSpace && lead === 1) lead = 0;
      t.start = Math.min(t.start + lead, t.end);
    }
    if (trail > 0 && t.end >= trail) t.end = Math.max(t.end - trail, t.start);
  });
}
