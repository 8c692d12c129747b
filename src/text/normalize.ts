// BERT's text normalisation and pre-tokenisation, after Google's tokenization.py (BasicTokenizer)
// and Hugging Face's BertNormalizer + BertPreTokenizer. The character classes follow Google's
// definitions exactly, because every released BERT vocabulary was built with them: a class that
// is one code point wider or narrower changes ids.

/** What BertNormalizer does to a string before it is split into words. */
export interface NormalizerOptions {
  /** Drop NUL, U+FFFD and control/format characters; turn whitespace into ' '. */
  cleanText: boolean;
  /** Put spaces around CJK ideographs so each becomes its own word. */
  handleChineseChars: boolean;
  lowercase: boolean;
  /** NFD, then drop nonspacing marks (é → e). */
  stripAccents: boolean;
}

// \t \n \r are Cc but count as whitespace, hence the lookahead. U+FFFD is what decoders emit for
// broken bytes, which BERT treats as noise rather than as an unknown word.
const CONTROL_OR_NOISE = /\0|\uFFFD|(?![\t\n\r])[\p{Cc}\p{Cf}]/gu;

// Google: ' ', \t, \n, \r and category Zs. U+2028/U+2029 (Zl/Zp) are added because Google's
// whitespace_tokenize (Python str.split) and HF's Rust is_whitespace both split on them too.
const WHITESPACE = /[\t\n\r\p{Zs}\u2028\u2029]/gu;
// Word splitting uses Unicode White_Space (HF's Rust is_whitespace), which adds \v \f and U+0085.
// Those are Cc, so they only survive to this point when clean_text is off.
const WHITESPACE_RUN = /[\t-\r\u0085\p{Zs}\u2028\u2029]+/u;

// The CJK ideograph blocks BERT's _is_chinese_char lists. Hangul, Hiragana and Katakana are
// absent on purpose (Google treats them as space-separated scripts), so WordPiece splits them.
const CJK_IDEOGRAPH =
  /[\u4E00-\u9FFF\u3400-\u4DBF\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\uF900-\uFAFF\u{2F800}-\u{2FA1F}]/gu;

// All non-letter/number ASCII is punctuation for BERT, including symbols such as $ + < = > ^ ` | ~
// that Unicode files under S*; beyond ASCII only the P* categories count (so € and © do not split).
const PUNCTUATION = /[!-/:-@[-`{-~]|\p{P}/u;

const NONSPACING_MARK = /\p{Mn}/gu;

export function cleanText(text: string): string {
  return text.replace(CONTROL_OR_NOISE, '').replace(WHITESPACE, ' ');
}

export function padChineseChars(text: string): string {
  return text.replace(CJK_IDEOGRAPH, ' $& ');
}

export function stripAccents(text: string): string {
  return text.normalize('NFD').replace(NONSPACING_MARK, '');
}

export function isPunctuation(char: string): boolean {
  return PUNCTUATION.test(char);
}

/** BertNormalizer: the whole string in, the whole string out. */
export function normalizeText(text: string, options: NormalizerOptions): string {
  let out = text;
  if (options.cleanText) out = cleanText(out);
  if (options.handleChineseChars) out = padChineseChars(out);
  // Lowercase before stripping accents (Google's order): lowercasing can itself produce
  // combining marks (İ → i + U+0307), which must then go too.
  if (options.lowercase) out = out.toLowerCase();
  if (options.stripAccents) out = stripAccents(out);
  return out;
}

/** BertPreTokenizer: split on whitespace (dropped), then isolate every punctuation character. */
export function preTokenize(text: string): string[] {
  const words: string[] = [];
  for (const chunk of text.split(WHITESPACE_RUN)) {
    let word = '';
    for (const char of chunk) {
      if (isPunctuation(char)) {
        if (word) words.push(word);
        words.push(char);
        word = '';
      } else {
        word += char;
      }
    }
    if (word) words.push(word);
  }
  return words;
}
