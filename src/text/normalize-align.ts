// Normalization with an alignment: for every UTF-16 unit of the normalized text, the range of the
// original text it came from (what Hugging Face's Rust NormalizedString tracks), so tokens found
// in the normalized text get offsets into the text the caller passed.
//
// The text is always normalized by @huggingface/tokenizers' own normalizer (so ids cannot
// change); the alignment is found beside it. Sequence, Prepend, Strip and Replace are followed
// step by step; every other normalizer (NFC/NFD/NFKC/NFKD, Lowercase, StripAccents,
// BertNormalizer, Precompiled…) acts on one character and its combining marks at a time, so it is
// applied per cluster and the pieces checked to join into the real result. If they do not (a
// normalizer that looks across clusters), the step falls back to whole whitespace-separated
// chunks, and last to the whole text: offsets then get coarser, never wrong about which text
// they point into.

type Json = Record<string, unknown>;

/** A normalizer as @huggingface/tokenizers builds it: callable, with its config. */
export interface CoreNormalizer {
  (text: string): string;
  config?: Json;
  normalizers?: Array<CoreNormalizer | null>;
  pattern?: RegExp | string | null;
}

/** The normalized text and, per UTF-16 unit of it, the original range [start[i], end[i]). */
export interface Aligned {
  text: string;
  start: Int32Array;
  end: Int32Array;
}

/** The identity alignment of `text` (offsets relative to `base`). */
export function identity(text: string, base = 0): Aligned {
  const start = new Int32Array(text.length);
  const end = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    const w = cp > 0xffff ? 2 : 1;
    for (let k = 0; k < w && i + k < text.length; k++) { start[i + k] = base + i; end[i + k] = base + i + w; }
    i += w - 1;
  }
  return { text, start, end };
}

/** Runs `normalizer` on `a.text`, carrying the alignment through. */
export function normalizeAligned(normalizer: CoreNormalizer | null, a: Aligned): Aligned {
  if (!normalizer) return a;
  const type = normalizer.config?.type;
  if (type === 'Sequence' && Array.isArray(normalizer.normalizers)) {
    return normalizer.normalizers.reduce((acc, n) => normalizeAligned(n, acc), a);
  }
  const out = normalizer(a.text);
  if (out === a.text) return a;
  if (type === 'Prepend') return prepend(a, out);
  if (type === 'Strip') return strip(a, out);
  if (type === 'Replace' && normalizer.pattern) return replace(a, out, normalizer.pattern, String(normalizer.config?.content ?? ''));
  return piecewise(a, out, normalizer);
}

/** The inserted prefix belongs to the first character (as Rust's prepend aligns it). */
function prepend(a: Aligned, out: string): Aligned {
  const added = out.length - a.text.length;
  const start = new Int32Array(out.length);
  const end = new Int32Array(out.length);
  start.set(a.start, added);
  end.set(a.end, added);
  for (let i = 0; i < added; i++) { start[i] = a.start[0] ?? 0; end[i] = a.end[0] ?? 0; }
  return { text: out, start, end };
}

function strip(a: Aligned, out: string): Aligned {
  const from = a.text.indexOf(out);
  if (from < 0) return coarse(a, out);
  return { text: out, start: a.start.slice(from, from + out.length), end: a.end.slice(from, from + out.length) };
}

/**
 * The replacement takes the range of the last character it replaced: Rust's replace removes the
 * match and inserts the new characters after it, and an inserted character is aligned with the
 * one before it ("  " → " " points at the second space).
 */
function replace(a: Aligned, out: string, pattern: RegExp | string, content: string): Aligned {
  const start: number[] = [];
  const end: number[] = [];
  let last = 0;
  const copy = (from: number, to: number) => {
    for (let i = from; i < to; i++) { start.push(a.start[i]!); end.push(a.end[i]!); }
  };
  const matches: Array<[number, number]> = [];
  if (typeof pattern !== 'string') {
    const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
    for (const m of a.text.matchAll(re)) matches.push([m.index!, m.index! + m[0].length]);
  } else if (pattern !== '') {
    for (let i = a.text.indexOf(pattern); i >= 0; i = a.text.indexOf(pattern, i + pattern.length)) matches.push([i, i + pattern.length]);
  }
  for (const [s, e] of matches) {
    copy(last, s);
    const at = e > s ? e - 1 : s - 1;
    const from = at >= 0 ? a.start[at]! : (a.start[0] ?? 0);
    const to = at >= 0 ? a.end[at]! : from;
    for (let k = 0; k < content.length; k++) { start.push(from); end.push(to); }
    last = e;
  }
  copy(last, a.text.length);
  if (start.length !== out.length) return coarse(a, out);
  return { text: out, start: Int32Array.from(start), end: Int32Array.from(end) };
}

/** A character with the combining marks after it: what one-character normalizers act on. */
const CLUSTER = /\P{M}\p{M}*|\p{M}+/gsu;
/** A run of non-space with the spaces after it. */
const CHUNK = /\s*\S*\s*/gu;

function piecewise(a: Aligned, out: string, normalizer: CoreNormalizer): Aligned {
  return split(a, out, normalizer, CLUSTER) ?? split(a, out, normalizer, CHUNK) ?? coarse(a, out);
}

/**
 * Applies the normalizer piece by piece, and aligns each piece's output code points with its
 * input code points as Rust's NormalizedString does: same count → one to one; otherwise an output
 * code point equal to a later input one is that one (a dropped mark leaves no trace: "1 ◌️ ⃣" →
 * "1 ⃣" keeps the ⃣'s own range), and one that is not (a composed "e + ◌́ → é", a lowercased "İ
 * → i̇") comes from the next unused input code point, the last one once they run out.
 */
function split(a: Aligned, out: string, normalizer: CoreNormalizer, pattern: RegExp): Aligned | undefined {
  const start = new Int32Array(out.length);
  const end = new Int32Array(out.length);
  let o = 0;
  for (const m of a.text.matchAll(pattern)) {
    if (m[0] === '') continue;
    const piece = normalizer(m[0]);
    if (out.startsWith(piece, o) === false) return undefined;
    const inputs = codePoints(a.text, m.index!, m.index! + m[0].length);
    const outputs = codePoints(piece, 0, piece.length);
    let next = 0;
    for (const [j, [k, cp, units]] of outputs.entries()) {
      let src: number;
      if (outputs.length === inputs.length) src = j;
      else {
        let found = -1;
        for (let i = next; i < inputs.length; i++) if (inputs[i]![1] === cp) { found = i; break; }
        src = found >= 0 ? found : Math.min(next, inputs.length - 1);
        next = Math.max(next, src + 1);
      }
      const from = inputs[src]![0];
      start.fill(a.start[from]!, o + k, o + k + units);
      end.fill(a.end[from]!, o + k, o + k + units);
    }
    o += piece.length;
  }
  return o === out.length ? { text: out, start, end } : undefined;
}

/** [UTF-16 index, code point, UTF-16 length] of each code point of text[from, to). */
function codePoints(text: string, from: number, to: number): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let i = from; i < to;) {
    const cp = text.codePointAt(i)!;
    const units = cp > 0xffff ? 2 : 1;
    out.push([i, cp, units]);
    i += units;
  }
  return out;
}

/** Everything maps to the whole input range. */
function coarse(a: Aligned, out: string): Aligned {
  let s = a.text.length ? Infinity : 0;
  let e = 0;
  for (let i = 0; i < a.text.length; i++) { s = Math.min(s, a.start[i]!); e = Math.max(e, a.end[i]!); }
  return { text: out, start: new Int32Array(out.length).fill(s), end: new Int32Array(out.length).fill(e) };
}
