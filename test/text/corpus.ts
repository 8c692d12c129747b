// The texts the tokenizers are checked on against Hugging Face's Rust `tokenizers`: the kinds of
// input that trip tokenizers up (whitespace runs, byte-level splits of emoji and CJK, combining
// marks, digits, special tokens typed into the text, the empty string, a very long word).

const code = [
  'function add(a, b) {',
  '\treturn a + b;  // tab-indented',
  '}',
  '',
  'def f(x):',
  '    if x > 0:',
  '        return [i ** 2 for i in range(x)]',
  '\t\t# mixed\ttabs   and spaces',
  'const s = `${a}\\n`; x !== y && z >= 1_000;',
].join('\n');

/** Name → text. */
export const CORPUS: Record<string, string> = {
  empty: '',
  space: ' ',
  prose: 'The quick brown fox jumps over the lazy dog. It wasn\'t me, they\'re sure; "quoted" (parenthesised) — dashes… and ellipses!',
  capitals: 'HELLO World, McDonald\'s iPhone UNESCO NASA\'s XML-HTTP.',
  code,
  emoji: 'I ❤️ tokenizers 😀😂🎉 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 flag 🇫🇷 keycap 1️⃣',
  cjk: '東京は日本の首都です。我爱自然语言处理。한국어 텍스트도 있습니다。ｆｕｌｌｗｉｄｔｈ　ｓｐａｃｅ',
  arabic: 'مرحبا بالعالم، كيف حالك؟ النص العربي من اليمين إلى اليسار ١٢٣',
  hindi: 'नमस्ते दुनिया, यह हिंदी पाठ है। क्षत्रिय',
  accents: 'Café naïve résumé coöperate Ångström São Paulo Dvořák Łódź ß straße ÉCOLE',
  combining: 'e\u0301 a\u0300 o\u0308 n\u0303 — decomposed; Z\u0351\u036b\u0343\u036a\u0302\u036b zalgo; İstanbul ǅ ﬁ ligature',
  digits: '0 12 345 6789 3.14159 1,000,000 2026-12-07 12:30:45 +1 (555) 010-9999 123456789012345678901234567890',
  whitespace: '  leading and trailing  \n\n\nthree newlines\r\nCRLF\t\ttabs   \u00a0nbsp\u2003em space\u200bzero width   ',
  newlines: '\n\n\n\n',
  specials: '<|im_start|>user\nHi<|im_end|> <start_of_turn>model [MASK] [CLS] x [SEP] <bos><eos> <|begin_of_text|><|eot_id|> <unk>',
  brackets: '[mask] <|im_start <start_of_turn [ MASK ] <<>> </s> <s>',
  punctuation: '!!! ??? ... --- ___ *** ### @@@ $$$ %%% ^^^ &&& ((( ))) ~~~ ``` \'\'\' """ /// \\\\\\ |||',
  urls: 'See https://example.com/path?query=a%20b&x=1#frag or mail me@example.org',
  mixed: 'Prix: 12,50 € — 東京 — Привет, мир! — Γειά σου — שלום — 🙂 ok',
  control: 'tab\there\u0000nul\u0007bell\u001besc\ufeffbom\ufffdrepl',
  longWord: 'a'.repeat(3000),
  longMixedWord: 'supercalifragilistic'.repeat(150),
  longText: 'Tokenizers turn text into ids. '.repeat(60),
};

/** [question, context] and [premise, hypothesis] pairs for BERT. */
export const PAIRS: Array<[string, string]> = [
  ['Where is the Eiffel Tower?', 'The Eiffel Tower is in Paris, France. It was built in 1889.'],
  ['', 'An empty first text.'],
  ['A premise with émojis 😀.', ''],
  ['Héllo WORLD', 'second [MASK] text with\ttabs\nand newlines'],
];
