// transformers.js v4's Whisper tokenizer tests "is this token punctuation only?" with one
// module-level RegExp carrying the `g` flag (tokenization_whisper.js, PUNCTUATION_ONLY_REGEX), so
// each `.test` after a match starts past its text's start and fails: whether a token counts as
// punctuation depends on the call before it, in that call or an earlier one. tessera answers from
// the token alone (src/speech/asr-words.ts). To compare word chunks with what
// transformers.js means, the tests run it with that one regex made stateless: `lastIndex` back at 0
// before every test of it. Nothing else is touched (the patch matches that regex's source and flags).
const PUNCTUATION_ONLY_SOURCE = '^[\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E]+$';

let installed = false;

/** Makes transformers.js's punctuation-only regex stateless, for this test file's process. */
export function statelessTransformersJsPunctuation(): void {
  if (installed) return;
  installed = true;
  const test = RegExp.prototype.test;
  RegExp.prototype.test = function (this: RegExp, s: string): boolean {
    if (this.global && this.unicode && this.source === PUNCTUATION_ONLY_SOURCE) this.lastIndex = 0;
    return test.call(this, s);
  };
}
