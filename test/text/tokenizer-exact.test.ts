// Tokenizer against Hugging Face's Rust `tokenizers` (npm @anush008/tokenizers, a Node addon) on
// the corpus: ids with and without special tokens, the tokens, every token's offsets, text pairs,
// and decode with and without skipSpecialTokens — for Qwen3, Llama 3, Gemma 3 and
// bert-base-uncased. Differences are failures; none is tolerated silently.
import { Tokenizer as RustTokenizer } from '@anush008/tokenizers';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../../src/text/index.js';
import { CORPUS, PAIRS } from './corpus.js';
import { NAMES, files } from './hf-files.js';

/** Rust reports offsets in code points; ours are UTF-16 units (what String.slice takes). */
function toUtf16(text: string, offsets: number[][]): Array<[number, number]> {
  const unitAt: number[] = [];
  let u = 0;
  for (const ch of text) { unitAt.push(u); u += ch.length; }
  unitAt.push(u);
  return offsets.map(([s, e]) => [unitAt[s!]!, unitAt[e!]!]);
}

describe.each(NAMES)('%s', async (name) => {
  const { json, config } = await files(name);
  const ours = Tokenizer.fromJSON(json, config);
  const rust = RustTokenizer.fromString(json);

  it.each(Object.keys(CORPUS))('encodes %s as the Rust library does', async (key) => {
    const text = CORPUS[key]!;
    for (const addSpecialTokens of [true, false]) {
      const expected = await rust.encode(text, null, { addSpecialTokens });
      expect(ours.encode(text, { addSpecialTokens })).toEqual(expected.getIds());
      const withOffsets = ours.encodeWithOffsets(text, { addSpecialTokens });
      expect(withOffsets.ids).toEqual(expected.getIds());
      expect(withOffsets.tokens).toEqual(expected.getTokens());
      expect(withOffsets.offsets).toEqual(toUtf16(text, expected.getOffsets()));
    }
  });

  it.each(Object.keys(CORPUS))('decodes %s as the Rust library does', async (key) => {
    const ids = (await rust.encode(CORPUS[key]!, null, { addSpecialTokens: true })).getIds();
    for (const skipSpecialTokens of [false, true]) {
      // The Rust library never applies transformers' clean_up_tokenization_spaces (only decoders
      // that do their own cleanup, like WordPiece's, do), so compare without it.
      expect(ours.decode(ids, { skipSpecialTokens, cleanUpTokenizationSpaces: false })).toBe(await rust.decode(ids, skipSpecialTokens));
    }
  });

  it('encodes pairs as the Rust library does', async () => {
    for (const [a, b] of PAIRS) {
      const expected = await rust.encode(a, b, { addSpecialTokens: true });
      const got = ours.encodeWithOffsets(a, { textPair: b });
      expect(ours.encode(a, { textPair: b })).toEqual(expected.getIds());
      expect(got.ids).toEqual(expected.getIds());
      expect(got.typeIds).toEqual(expected.getTypeIds());
      expect(got.sequenceIds).toEqual(expected.getSequenceIds().map((s) => s ?? null));
      const seqs = expected.getSequenceIds();
      const rustOffsets = expected.getOffsets().map((o, i) => toUtf16(seqs[i] === 1 ? b : a, [o])[0]);
      expect(got.offsets).toEqual(rustOffsets);
    }
  });

  it('truncates as the Rust library does (longest first, specials kept)', async () => {
    const inputs: Array<[string, string | null]> = [[CORPUS.prose!, null], [CORPUS.code!, null], ...PAIRS, [CORPUS.cjk!, CORPUS.emoji!]];
    try {
      for (const maxLength of [5, 8, 13, 40]) {
        rust.setTruncation(maxLength, { strategy: 'LongestFirst' as never });
        for (const [a, b] of inputs) {
          const expected = await rust.encode(a, b, { addSpecialTokens: true });
          const got = ours.encodeWithOffsets(a, { textPair: b ?? undefined, maxLength });
          expect(ours.encode(a, { textPair: b ?? undefined, maxLength })).toEqual(expected.getIds());
          expect(got.ids).toEqual(expected.getIds());
          expect(got.typeIds).toEqual(expected.getTypeIds());
          expect(got.tokens).toEqual(expected.getTokens());
        }
      }
    } finally {
      rust.disableTruncation();
    }
  });
});
