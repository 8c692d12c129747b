// Unit tests for the normalizer, pre-tokenizer and WordPiece. Cases marked "Google" are the
// published ones from google-research/bert tokenization_test.py; "HF" from transformers'
// test_tokenization_bert.py. The rest pin the character classes at their boundaries.
import { describe, expect, it } from 'vitest';
import {
  cleanText, isPunctuation, normalizeText, padChineseChars, preTokenize, stripAccents,
  type NormalizerOptions,
} from '../../src/text/normalize.js';
import { wordPiece } from '../../src/text/wordpiece.js';

function basic(text: string, opts: Partial<NormalizerOptions> = {}): string[] {
  const lowercase = opts.lowercase ?? true;
  return preTokenize(normalizeText(text, {
    cleanText: true, handleChineseChars: true, lowercase, stripAccents: lowercase, ...opts,
  }));
}

describe('basic tokenization (published cases)', () => {
  it('Google: splits CJK ideographs into single words', () => {
    expect(basic('ah\u535A\u63A8zz')).toEqual(['ah', '\u535A', '\u63A8', 'zz']);
  });

  it('Google: lowercases, strips accents, splits punctuation and whitespace', () => {
    expect(basic(' \tHeLLo!how  \n Are yoU?  ')).toEqual(['hello', '!', 'how', 'are', 'you', '?']);
    expect(basic('H\u00E9llo')).toEqual(['hello']);
  });

  it('Google: keeps case and accents when lowercasing is off', () => {
    expect(basic(' \tHeLLo!how  \n Are yoU?  ', { lowercase: false })).toEqual(['HeLLo', '!', 'how', 'Are', 'yoU', '?']);
  });

  it('HF: strip_accents is independent of lowercase when set explicitly', () => {
    const text = ' \tHäLLo!how  \n Are yoU?  ';
    expect(basic(text, { lowercase: true, stripAccents: false })).toEqual(['hällo', '!', 'how', 'are', 'you', '?']);
    expect(basic(text, { lowercase: true, stripAccents: true })).toEqual(['hallo', '!', 'how', 'are', 'you', '?']);
    expect(basic(text, { lowercase: false, stripAccents: true })).toEqual(['HaLLo', '!', 'how', 'Are', 'yoU', '?']);
  });
});

describe('cleanText', () => {
  it('turns \\t \\n \\r and Zs spaces (NBSP, ideographic space) into plain spaces', () => {
    expect(cleanText('a\tb\nc\rd\u00A0e\u3000f\u2009g')).toBe('a b c d e f g');
  });

  it('drops NUL, U+FFFD and Cc/Cf characters (Google: \\u0005 is control, \\t is not)', () => {
    expect(cleanText('a\u0000b\uFFFDc\u0005d\u007Fe\u200Bf\u00ADg\uFEFFh')).toBe('abcdefgh');
  });

  it('keeps astral characters, which are neither control nor whitespace (Google: U+1F4A9)', () => {
    expect(cleanText('\u{1F4A9}')).toBe('\u{1F4A9}');
  });
});

describe('CJK handling', () => {
  it('pads exactly the ranges BERT lists, including astral ones', () => {
    for (const cp of [0x4E00, 0x9FFF, 0x3400, 0x4DBF, 0x20000, 0x2A6DF, 0x2A700, 0x2B740, 0x2B820, 0x2CEAF, 0xF900, 0xFAFF, 0x2F800, 0x2FA1F]) {
      const ch = String.fromCodePoint(cp);
      expect(padChineseChars(`a${ch}b`), cp.toString(16)).toBe(`a ${ch} b`);
    }
  });

  it('leaves kana, Hangul, CJK punctuation and radicals alone (they are not in the list)', () => {
    for (const ch of ['あ', 'カ', '한', '\u3007', '\u2E80', '\u3002', '\u{2A6E0}', '\u{2FA20}']) {
      expect(padChineseChars(`a${ch}b`)).toBe(`a${ch}b`);
    }
  });
});

describe('punctuation', () => {
  it('Google: - $ ` . are punctuation, letters and spaces are not', () => {
    for (const ch of ['-', '$', '`', '.']) expect(isPunctuation(ch), ch).toBe(true);
    for (const ch of ['A', ' ']) expect(isPunctuation(ch), ch).toBe(false);
  });

  it('counts every ASCII symbol, but outside ASCII only Unicode P* categories', () => {
    for (const ch of '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~') expect(isPunctuation(ch), ch).toBe(true);
    for (const ch of ['¿', '—', '「', '。', '…', '«']) expect(isPunctuation(ch), ch).toBe(true);
    // € (Sc), © (So), + lookalikes beyond ASCII such as − (Sm) stay inside words.
    for (const ch of ['€', '©', '−', '0', 'é', '中']) expect(isPunctuation(ch), ch).toBe(false);
  });

  it('splits words on Unicode White_Space even when clean_text is off', () => {
    expect(basic('a\vb\fc\u0085d\u2028e\u00A0f', { cleanText: false })).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('isolates each punctuation character, so runs become one token per character', () => {
    expect(preTokenize('wait...!!?')).toEqual(['wait', '.', '.', '.', '!', '!', '?']);
    expect(preTokenize("don't")).toEqual(['don', "'", 't']);
  });
});

describe('stripAccents', () => {
  it('removes nonspacing marks after NFD', () => {
    expect(stripAccents('Ångström café naïve ñ')).toBe('Angstrom cafe naive n');
  });

  it('decomposes Hangul syllables into jamo, as Python NFD does', () => {
    expect(stripAccents('한')).toBe('\u1112\u1161\u11AB');
  });
});

describe('wordPiece', () => {
  // Google's tokenization_test.py vocabulary.
  const vocab = new Map(['[UNK]', '[CLS]', '[SEP]', 'want', '##want', '##ed', 'wa', 'un', 'runn', '##ing'].map((t, i) => [t, i]));
  const model = { vocab, unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 };
  const wp = (text: string) => preTokenize(text).flatMap((w) => wordPiece(w, model));

  it('Google: greedy longest match first with ## continuations', () => {
    expect(wp('')).toEqual([]);
    expect(wp('unwanted running')).toEqual(['un', '##want', '##ed', 'runn', '##ing']);
  });

  it('Google: a word with any uncoverable part becomes a single [UNK]', () => {
    expect(wp('unwantedX running')).toEqual(['[UNK]', 'runn', '##ing']);
  });

  it('counts max_input_chars_per_word in code points and only rejects longer words', () => {
    const small = { ...model, maxInputCharsPerWord: 4 };
    expect(wordPiece('want', small)).toEqual(['want']);
    expect(wordPiece('wanted', small)).toEqual(['[UNK]']);
    const withEmoji = new Map([['\u{1F600}', 0], ['##\u{1F600}', 1], ['[UNK]', 2]]);
    // Four emoji are 8 UTF-16 units but 4 characters: allowed.
    expect(wordPiece('\u{1F600}'.repeat(4), { ...small, vocab: withEmoji })).toHaveLength(4);
  });
});
