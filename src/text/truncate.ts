// Truncation as Hugging Face's Rust tokenizers does it (truncate_encodings, strategy
// longest_first): the texts are cut before the special tokens are placed, so the specials always
// survive; for a pair, only the longer text is cut while that suffices, otherwise both get half
// of the budget and the longer one the odd token.

import { truncateLongestFirst } from './bert-tokenizer.js';

/** Cuts a (and b) to `budget` tokens in total, from the end ('right') or the start ('left'). */
export function truncatePair<T>(a: T[], b: T[] | null, budget: number, side: 'left' | 'right'): [T[], T[] | null] {
  if (a.length + (b?.length ?? 0) <= budget) return [a, b];
  // Lengths first (on stand-in arrays), then the cut on the chosen side.
  const [na, nb] = truncateLongestFirst(new Array<number>(a.length), b ? new Array<number>(b.length) : undefined, budget);
  const cut = (xs: T[], n: number) => (side === 'left' ? xs.slice(xs.length - n) : xs.slice(0, n));
  return [cut(a, na.length), b ? cut(b, nb!.length) : null];
}
