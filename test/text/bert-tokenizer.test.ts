// BertTokenizer against the real bert-base-uncased vocabulary. Expected ids come from Hugging
// Face's documented outputs where one exists; elsewhere the tokens are derived by hand from the
// algorithm (normalize → split → greedy longest match) and the comment says how, and the ids are
// the vocab.txt line numbers of those tokens.
import { describe, expect, it } from 'vitest';
import { bertBaseUncased } from './vocab.js';

const tok = await bertBaseUncased();
const CLS = 101, SEP = 102, UNK = 100;

describe('bert-base-uncased ids', () => {
  it('encodes the transformers docs example', () => {
    expect(tok.encode('Hello, my dog is cute')).toEqual([101, 7592, 1010, 2026, 3899, 2003, 10140, 102]);
  });

  it("matches the tokenizers docs example, emoji → [UNK] included", () => {
    // huggingface/tokenizers "pipeline" docs, bert-base-uncased.
    expect(tok.tokenize("Hello, y'all! How are you 😁 ?")).toEqual(
      ['hello', ',', 'y', "'", 'all', '!', 'how', 'are', 'you', '[UNK]', '?']);
    expect(tok.encode("Hello, y'all! How are you 😁 ?")).toEqual(
      [101, 7592, 1010, 1061, 1005, 2035, 999, 2129, 2024, 2017, 100, 1029, 102]);
  });

  it('splits words into ## pieces (HF course: "GPU" → gp ##u)', () => {
    expect(tok.tokenize('I have a new GPU!')).toEqual(['i', 'have', 'a', 'new', 'gp', '##u', '!']);
    expect(tok.encode('I have a new GPU!')).toEqual([CLS, 1045, 2031, 1037, 2047, 14246, 2226, 999, SEP]);
  });

  it('exposes the special ids and vocabulary size', () => {
    expect([tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId]).toEqual([0, 100, 101, 102, 103]);
    expect(tok.vocabSize).toBe(30522);
    expect(tok.tokenToId('hello')).toBe(7592);
    expect(tok.tokenToId('##s')).toBe(2015);
    expect(tok.tokenToId('Hello')).toBeUndefined();
    expect(tok.idToToken(7592)).toBe('hello');
    expect(tok.idToToken(30522)).toBeUndefined();
  });

  it('keeps [MASK] written in the text as the mask token (fill-mask relies on it)', () => {
    expect(tok.tokenize('The capital of France is [MASK].')).toEqual(['the', 'capital', 'of', 'france', 'is', '[MASK]', '.']);
    expect(tok.encode('The capital of France is [MASK].')).toEqual([CLS, 1996, 3007, 1997, 2605, 2003, 103, 1012, SEP]);
    // Matching is case-sensitive, as in HF: "[mask]" is ordinary text.
    expect(tok.tokenize('[mask]')).toEqual(['[', 'mask', ']']);
  });
});

describe('normalization on real text', () => {
  it('strips accents: café → cafe, naïve → naive', () => {
    expect(tok.tokenize('café naïve')).toEqual(['cafe', 'naive']);
    expect(tok.encode('Café')).toEqual([CLS, 7668, SEP]);
    expect(tok.encode('naïve')).toEqual([CLS, 15743, SEP]);
  });

  it('Ångström → angstrom → ang ##strom', () => {
    // "angstrom", "angstro", "angstr", "angst" and "angs" are not in the vocab; "ang" is, and the
    // rest "strom" is covered whole by "##strom", so greedy matching gives two pieces.
    for (const t of ['angstrom', 'angstro', 'angstr', 'angst', 'angs']) expect(tok.tokenToId(t)).toBeUndefined();
    expect(tok.tokenize('Ångström')).toEqual(['ang', '##strom']);
    expect(tok.encode('Ångström')).toEqual([CLS, 17076, 15687, SEP]);
    expect(tok.tokenize('ÅNGSTRÖM')).toEqual(tok.tokenize('angstrom'));
  });

  it('isolates CJK ideographs; one missing from the vocab is [UNK]', () => {
    // 中 and 文 are vocab entries; 字 is not, and alone it cannot be split further.
    expect(tok.tokenToId('字')).toBeUndefined();
    expect(tok.tokenize('中文字')).toEqual(['中', '文', '[UNK]']);
    expect(tok.encode('中文字')).toEqual([CLS, 1746, 1861, UNK, SEP]);
  });

  it('does not pad kana: こんにちは stays one word and is split by WordPiece', () => {
    expect(tok.tokenize('こんにちは')).toEqual(['こ', '##ん', '##に', '##ち', '##は']);
  });

  it('drops control and format characters and normalises odd whitespace', () => {
    // U+00AD soft hyphen and U+200B zero-width space are Cf, U+0007 is Cc: removed, so the
    // surrounding letters join; NBSP and U+3000 are Zs: word breaks.
    expect(tok.tokenize('co\u00ADoperate he\u200Bllo a\u0007b')).toEqual(['cooperate', 'hello', 'ab']);
    expect(tok.tokenize('hello\u00A0world\u3000again')).toEqual(['hello', 'world', 'again']);
    expect(tok.tokenize('\u0000hello\uFFFD')).toEqual(['hello']);
  });
});

describe('punctuation, numbers, emails and URLs', () => {
  it('gives every punctuation character of a run its own token', () => {
    expect(tok.tokenize('wait...!!?')).toEqual(['wait', '.', '.', '.', '!', '!', '?']);
    expect(tok.encode('wait...!!?')).toEqual([CLS, 3524, 1012, 1012, 1012, 999, 999, 1029, SEP]);
  });

  it('splits numbers at . and , (the vocab has "14" and "000" as words)', () => {
    expect(tok.tokenize('3.14')).toEqual(['3', '.', '14']);
    expect(tok.tokenize('1,000,000')).toEqual(['1', ',', '000', ',', '000']);
    expect(tok.encode('3.14 1,000,000')).toEqual([CLS, 1017, 1012, 2403, 1015, 1010, 2199, 1010, 2199, SEP]);
  });

  it('splits emails and URLs at every ASCII symbol', () => {
    expect(tok.tokenize('john.doe@example.com')).toEqual(['john', '.', 'doe', '@', 'example', '.', 'com']);
    expect(tok.tokenize('https://example.com/a?b=c')).toEqual(
      ['https', ':', '/', '/', 'example', '.', 'com', '/', 'a', '?', 'b', '=', 'c']);
    expect(tok.encode('john.doe@example.com')).toEqual([CLS, 2198, 1012, 18629, 1030, 2742, 1012, 4012, SEP]);
  });

  it('keeps non-ASCII symbols (Sc, So) inside words', () => {
    // € and © are not P*, so "5€" is one word: "5" then the continuation "##€".
    expect(tok.tokenize('5€ ©')).toEqual(['5', '##€', '©']);
  });
});

describe('unknown, long and empty input', () => {
  it('maps a word longer than 100 characters to [UNK], and allows exactly 100', () => {
    expect(tok.tokenize('a'.repeat(101))).toEqual(['[UNK]']);
    // 100 a's: "aaa", then 48 × "##aa", then "##a" ("##aaa" is not in the vocab).
    expect(tok.tokenToId('##aaa')).toBeUndefined();
    expect(tok.tokenize('a'.repeat(100))).toEqual(['aaa', ...Array(48).fill('##aa'), '##a']);
    expect(tok.tokenize(`ok ${'a'.repeat(101)} ok`)).toEqual(['ok', '[UNK]', 'ok']);
  });

  it('maps characters outside the vocab to [UNK], one per word', () => {
    expect(tok.tokenize('☃ snow☃')).toEqual(['[UNK]', '[UNK]']);
    expect(tok.encode('☃')).toEqual([CLS, UNK, SEP]);
  });

  it('encodes empty and whitespace-only text as just [CLS] [SEP]', () => {
    expect(tok.tokenize('')).toEqual([]);
    expect(tok.tokenize(' \t\n\r\u00A0 ')).toEqual([]);
    expect(tok.encode('')).toEqual([CLS, SEP]);
    expect(tok.encode('  \n ')).toEqual([CLS, SEP]);
  });
});

describe('pairs', () => {
  it('builds [CLS] A [SEP] B [SEP] with token types 0 then 1', () => {
    expect(tok.encode('Hello', 'World')).toEqual([CLS, 7592, SEP, 2088, SEP]);
    const { token_type_ids, attention_mask } = tok.encodeBatch([['Hello', 'World']]);
    expect([...token_type_ids.data]).toEqual([0n, 0n, 0n, 1n, 1n]);
    expect([...attention_mask.data]).toEqual([1n, 1n, 1n, 1n, 1n]);
  });

  it('handles an empty second sequence', () => {
    expect(tok.encode('Hello', '')).toEqual([CLS, 7592, SEP, SEP]);
  });
});

describe('decode', () => {
  it('round-trips to the normalized text', () => {
    expect(tok.decode(tok.encode('Hello, my dog is cute'))).toBe('hello, my dog is cute');
    expect(tok.decode(tok.encode('I have a new GPU!'))).toBe('i have a new gpu!');
    expect(tok.decode(tok.encode('Ångström, café'))).toBe('angstrom, cafe');
  });

  it("applies transformers' clean_up_tokenization", () => {
    expect(tok.decode(tok.encode("Hello, y'all! How are you?"))).toBe("hello, y'all! how are you?");
    expect(tok.decode(tok.encode("I don't think it's what we're doing, isn't it?")))
      .toBe("i don't think it's what we're doing, isn't it?");
  });

  it('keeps specials on request; skipping also drops [UNK] (it is a special token in HF)', () => {
    const ids = tok.encode('☃ snow');
    expect(tok.decode(ids)).toBe('snow');
    expect(tok.decode(ids, { skipSpecialTokens: false })).toBe('[CLS] [UNK] snow [SEP]');
  });

  it('accepts the int64 data of a batch tensor and rejects ids outside the vocab', () => {
    const { input_ids } = tok.encodeBatch(['Hello, my dog is cute']);
    expect(tok.decode(input_ids.data)).toBe('hello, my dog is cute');
    expect(() => tok.decode([7592, 30522])).toThrow(/30522/);
    expect(tok.decode([])).toBe('');
  });
});
