// Added tokens ([CLS], [MASK], …) are matched in the text before WordPiece sees it, so that
// "Paris is the [MASK] of France" yields the mask id instead of "[", "mask", "]" — fill-mask
// depends on it. Matching is exact and case-sensitive, as in Hugging Face's tokenizers.

export interface AddedToken {
  readonly content: string;
  /** Removed by decode(…, { skipSpecialTokens: true }). */
  readonly special: boolean;
  /** Matched against the normalized text (true) or the raw text (false). */
  readonly normalized: boolean;
}

export interface Segment {
  readonly text: string;
  /** True when `text` is exactly one added token. */
  readonly added: boolean;
}

/**
 * Splits `text` around occurrences of `tokens`, leftmost match first and the longest token on
 * ties (so "[MASK]" wins over a hypothetical "[MASK" at the same position).
 */
export function splitOnAddedTokens(text: string, tokens: readonly string[]): Segment[] {
  if (tokens.length === 0 || text === '') return text === '' ? [] : [{ text, added: false }];
  const out: Segment[] = [];
  // Next occurrence of each token at or after `pos`; -1 once a token no longer occurs.
  const next = tokens.map((t) => text.indexOf(t));
  let pos = 0;
  for (;;) {
    let best = -1;
    for (let i = 0; i < tokens.length; i++) {
      if (next[i]! !== -1 && next[i]! < pos) next[i] = text.indexOf(tokens[i]!, pos);
      const at = next[i]!;
      if (at === -1) continue;
      if (best === -1 || at < next[best]! || (at === next[best]! && tokens[i]!.length > tokens[best]!.length)) {
        best = i;
      }
    }
    if (best === -1) break;
    const at = next[best]!;
    if (at > pos) out.push({ text: text.slice(pos, at), added: false });
    out.push({ text: tokens[best]!, added: true });
    pos = at + tokens[best]!.length;
  }
  if (pos < text.length) out.push({ text: text.slice(pos), added: false });
  return out;
}
