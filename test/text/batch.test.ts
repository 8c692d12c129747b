// encodeBatch: padding, truncation and attention masks, on the real bert-base-uncased vocab.
// Truncation follows Hugging Face tokenizers' longest_first (truncate_encodings): the budget for a
// pair is maxLength − 3; only the longer side is cut while that suffices, else both get half and
// the second sequence takes the odd token. The length cases are the ones in that crate's tests.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/api/tensor.js';
import { truncateLongestFirst } from '../../src/text/bert-tokenizer.js';
import { bertBaseUncased } from './vocab.js';

const tok = await bertBaseUncased();
const CLS = 101, SEP = 102;
// Each of these words is one token, so n words are n tokens.
const WORDS = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'];
const words = (n: number) => WORDS.slice(0, n).join(' ');
const ID: Record<string, number> = Object.fromEntries(WORDS.map((w) => [w, tok.tokenToId(w)!]));

function rows(t: Tensor<'int64'>): number[][] {
  const [b, s] = t.dims as [number, number];
  return Array.from({ length: b }, (_, i) => Array.from(t.data.subarray(i * s, (i + 1) * s), Number));
}

describe('tensors', () => {
  it('returns int64 tensors shaped [batch, seq]', () => {
    const out = tok.encodeBatch(['Hello, my dog is cute']);
    for (const t of [out.input_ids, out.attention_mask, out.token_type_ids]) {
      expect(t).toBeInstanceOf(Tensor);
      expect(t.type).toBe('int64');
      expect(t.data).toBeInstanceOf(BigInt64Array);
      expect(t.dims).toEqual([1, 8]);
      expect(t.size).toBe(8);
    }
    expect(rows(out.input_ids)).toEqual([[101, 7592, 1010, 2026, 3899, 2003, 10140, 102]]);
  });

  it('returns [0, 0] tensors for an empty batch', () => {
    expect(tok.encodeBatch([]).input_ids.dims).toEqual([0, 0]);
  });
});

describe('padding', () => {
  it('pads to the longest row with [PAD] = 0, mask 0 and type 0', () => {
    const out = tok.encodeBatch(['Hello, my dog is cute', 'Hello'], { padding: true });
    expect(out.input_ids.dims).toEqual([2, 8]);
    expect(rows(out.input_ids)).toEqual([
      [101, 7592, 1010, 2026, 3899, 2003, 10140, 102],
      [101, 7592, 102, 0, 0, 0, 0, 0],
    ]);
    expect(rows(out.attention_mask)).toEqual([[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0, 0, 0]]);
    expect(rows(out.token_type_ids)).toEqual([[0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]]);
  });

  it('pads mixed singles and pairs; padding keeps token type 0', () => {
    const out = tok.encodeBatch([['Hello', 'World'], 'short'], { padding: true });
    expect(rows(out.input_ids)).toEqual([[CLS, 7592, SEP, 2088, SEP], [CLS, 2460, SEP, 0, 0]]);
    expect(rows(out.token_type_ids)).toEqual([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]);
    expect(rows(out.attention_mask)).toEqual([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]);
  });

  it("pads to maxLength with padding: 'max_length'", () => {
    const out = tok.encodeBatch(['Hello'], { padding: 'max_length', maxLength: 6 });
    expect(rows(out.input_ids)).toEqual([[CLS, 7592, SEP, 0, 0, 0]]);
    expect(rows(out.attention_mask)).toEqual([[1, 1, 1, 0, 0, 0]]);
  });

  it('refuses ragged rows without padding, and too-long rows without truncation', () => {
    expect(() => tok.encodeBatch(['Hello', 'Hello world'])).toThrow(/different lengths \(3, 4\).*padding/);
    expect(tok.encodeBatch(['Hello', 'World']).input_ids.dims).toEqual([2, 3]);
    expect(() => tok.encodeBatch([words(8)], { padding: 'max_length', maxLength: 5, truncation: false }))
      .toThrow(/10 tokens.*maxLength 5/);
  });
});

describe('truncation', () => {
  it('cuts a single sequence to maxLength including [CLS] and [SEP]', () => {
    expect(tok.encode(words(8), undefined, { maxLength: 5 })).toEqual([CLS, ID.one, ID.two, ID.three, SEP]);
    const out = tok.encodeBatch([words(8), words(2)], { padding: 'max_length', truncation: true, maxLength: 5 });
    expect(rows(out.input_ids)).toEqual([[CLS, ID.one, ID.two, ID.three, SEP], [CLS, ID.one, ID.two, SEP, 0]]);
    expect(rows(out.attention_mask)).toEqual([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]]);
  });

  it('defaults to truncating when maxLength is given, and not at all otherwise', () => {
    expect(tok.encode(words(8), undefined, { maxLength: 4 })).toHaveLength(4);
    expect(tok.encode(words(8), undefined, { maxLength: 4, truncation: false })).toHaveLength(10);
    expect(tok.encode(words(8))).toHaveLength(10);
  });

  it('uses modelMaxLength (512) when truncation is on without maxLength', () => {
    const long = Array(600).fill('one').join(' ');
    expect(tok.modelMaxLength).toBe(512);
    expect(tok.encode(long)).toHaveLength(602);
    const ids = tok.encode(long, undefined, { truncation: true });
    expect(ids).toHaveLength(512);
    expect(ids[511]).toBe(SEP);
  });

  it('truncates pairs longest-first (tokenizers crate cases, max_length 7 + 3 specials)', () => {
    const lengths = (a: number, b: number) => {
      const ids = tok.encode(words(a), words(b), { maxLength: 10 });
      const firstSep = ids.indexOf(SEP);
      return [firstSep - 1, ids.length - firstSep - 2];
    };
    expect(lengths(2, 2)).toEqual([2, 2]); // fits: untouched
    expect(lengths(2, 8)).toEqual([2, 5]); // only the longer is cut
    expect(lengths(8, 2)).toEqual([5, 2]);
    expect(lengths(4, 4)).toEqual([3, 4]); // both halved, the odd token to the second
    expect(lengths(4, 8)).toEqual([3, 4]);
    expect(lengths(8, 4)).toEqual([4, 3]);
    expect(lengths(8, 8)).toEqual([3, 4]);
  });

  it('keeps token types and the final [SEP] after truncating a pair', () => {
    const out = tok.encodeBatch([[words(4), words(4)]], { maxLength: 10 });
    expect(rows(out.input_ids)).toEqual([[CLS, ID.one, ID.two, ID.three, SEP, ID.one, ID.two, ID.three, ID.four, SEP]]);
    expect(rows(out.token_type_ids)).toEqual([[0, 0, 0, 0, 0, 1, 1, 1, 1, 1]]);
  });

  it('refuses a maxLength with no room for the special tokens', () => {
    expect(() => tok.encode('hello', undefined, { maxLength: 1 })).toThrow(/no room/);
    expect(() => tok.encode('hello', 'world', { maxLength: 2 })).toThrow(/3 special tokens/);
    expect(() => tok.encode('hello', undefined, { maxLength: 0 })).toThrow(/positive integer/);
    expect(tok.encode('hello', 'world', { maxLength: 3 })).toEqual([CLS, SEP, SEP]);
  });

  it('truncateLongestFirst matches the reference at max_length 0 and with an empty side', () => {
    const seq = (n: number) => Array.from({ length: n }, (_, i) => i);
    const len = (a: number, b: number, budget: number) => truncateLongestFirst(seq(a), seq(b), budget).map((s) => s!.length);
    expect(len(0, 8, 7)).toEqual([0, 7]);
    expect(len(8, 0, 7)).toEqual([7, 0]);
    expect(len(4, 4, 0)).toEqual([0, 0]);
    expect(len(0, 0, 7)).toEqual([0, 0]);
  });
});
