// WordPiece: greedy longest-match-first segmentation of one pre-tokenized word, as in Google's
// WordpieceTokenizer and Hugging Face's WordPiece model.

export interface WordPieceModel {
  readonly vocab: ReadonlyMap<string, number>;
  readonly unkToken: string;
  /** Marks a piece that continues a word ("##" for BERT). */
  readonly continuingSubwordPrefix: string;
  /** Longer words become unkToken without being searched (100 for BERT). */
  readonly maxInputCharsPerWord: number;
}

/**
 * Splits `word` into vocabulary pieces, or returns [unkToken] when any part of it cannot be
 * covered: BERT maps the whole word to [UNK] rather than keeping the pieces it did find.
 */
export function wordPiece(word: string, model: WordPieceModel): string[] {
  // Lengths are in code points, as in Python and Rust, so an emoji counts once, not twice.
  const chars = Array.from(word);
  if (chars.length > model.maxInputCharsPerWord) return [model.unkToken];
  const pieces: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = chars.length;
    let piece: string | undefined;
    while (start < end) {
      const candidate = (start > 0 ? model.continuingSubwordPrefix : '') + chars.slice(start, end).join('');
      if (model.vocab.has(candidate)) {
        piece = candidate;
        break;
      }
      end--;
    }
    if (piece === undefined) return [model.unkToken];
    pieces.push(piece);
    start = end;
  }
  return pieces;
}
