// BertTokenizer.fromJSON with small hand-written tokenizer.json objects in the layout the Hugging
// Face tokenizers library saves for bert-base-uncased (TemplateProcessing, WordPiece decoder).
import { describe, expect, it } from 'vitest';
import { TesseraError } from '../../src/api/errors.js';
import { BertTokenizer } from '../../src/text/index.js';
import { bertBaseUncased } from './vocab.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', '##s', ',', '.', '!',
  'un', '##aff', '##able', 'cafe', 'café', '中', '文', 'long', '##er'];

function special(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

function tokenizerJson(): Record<string, any> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '[PAD]'), special(1, '[UNK]'), special(2, '[CLS]'), special(3, '[SEP]'), special(4, '[MASK]')],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])),
    },
  };
}

describe('fromJSON: reading', () => {
  it('reads vocab, specials and the template, from an object or its JSON text', () => {
    for (const input of [tokenizerJson(), JSON.stringify(tokenizerJson())]) {
      const tok = BertTokenizer.fromJSON(input);
      expect(tok.vocabSize).toBe(VOCAB.length);
      expect([tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId]).toEqual([0, 1, 2, 3, 4]);
      expect(tok.tokenize('Hello, worlds! Unaffable')).toEqual(['hello', ',', 'world', '##s', '!', 'un', '##aff', '##able']);
      expect(tok.encode('Hello', 'World')).toEqual([2, 5, 3, 6, 3]);
      expect(tok.decode(tok.encode('Hello, worlds!'))).toBe('hello, worlds!');
    }
  });

  it('gives the same ids as fromVocab on the real vocab', async () => {
    const real = await bertBaseUncased();
    const vocab: Record<string, number> = {};
    for (let id = 0; id < real.vocabSize; id++) vocab[real.idToToken(id)!] = id;
    const json = tokenizerJson();
    json.model.vocab = vocab;
    json.added_tokens = [special(0, '[PAD]'), special(100, '[UNK]'), special(101, '[CLS]'), special(102, '[SEP]'), special(103, '[MASK]')];
    const tok = BertTokenizer.fromJSON(json);
    for (const text of ['Hello, my dog is cute', 'Ångström 中文字 wait...!!?', 'The capital of France is [MASK].']) {
      expect(tok.encode(text)).toEqual(real.encode(text));
    }
  });

  it('follows lowercase and strip_accents (null = follow lowercase)', () => {
    const json = tokenizerJson();
    expect(BertTokenizer.fromJSON(json).tokenize('Café')).toEqual(['cafe']);
    json.normalizer.strip_accents = false;
    expect(BertTokenizer.fromJSON(json).tokenize('Café')).toEqual(['café']);
    json.normalizer.lowercase = false;
    json.normalizer.strip_accents = null;
    // Cased: "Hello" is not in this lowercase vocab.
    expect(BertTokenizer.fromJSON(json).tokenize('Hello hello Café')).toEqual(['[UNK]', 'hello', '[UNK]']);
  });

  it('follows handle_chinese_chars and max_input_chars_per_word', () => {
    const json = tokenizerJson();
    expect(BertTokenizer.fromJSON(json).tokenize('中文')).toEqual(['中', '文']);
    json.normalizer.handle_chinese_chars = false;
    expect(BertTokenizer.fromJSON(json).tokenize('中文')).toEqual(['[UNK]']); // one word, not in vocab
    json.model.max_input_chars_per_word = 5;
    expect(BertTokenizer.fromJSON(json).tokenize('hello longer')).toEqual(['hello', '[UNK]']);
  });

  it('uses a custom unk token and continuation prefix', () => {
    const json = tokenizerJson();
    const vocab = VOCAB.map((t) => (t === '[UNK]' ? '<unk>' : t.replace(/^##/, '@@')));
    json.model.vocab = Object.fromEntries(vocab.map((t, i) => [t, i]));
    json.model.unk_token = '<unk>';
    json.model.continuing_subword_prefix = '@@';
    json.decoder.prefix = '@@';
    json.added_tokens[1] = special(1, '<unk>');
    const tok = BertTokenizer.fromJSON(json);
    expect(tok.tokenize('worlds ☃')).toEqual(['world', '@@s', '<unk>']);
    expect(tok.unkTokenId).toBe(1);
    expect(tok.decode(tok.encode('worlds'))).toBe('worlds');
  });

  it('accepts BertProcessing and reads pad token and max length', () => {
    const json = tokenizerJson();
    json.post_processor = { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] };
    json.padding = { strategy: 'BatchLongest', pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' };
    json.truncation = { max_length: 4, strategy: 'LongestFirst', stride: 0 };
    const tok = BertTokenizer.fromJSON(json);
    expect(tok.modelMaxLength).toBe(4);
    expect(tok.encode('hello world hello', undefined, { truncation: true })).toEqual([2, 5, 6, 3]);
  });

  it('matches normalized added tokens after normalization and decodes them whole', () => {
    const json = tokenizerJson();
    json.added_tokens.push({ id: 20, content: 'newword', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
    const tok = BertTokenizer.fromJSON(json);
    expect(tok.vocabSize).toBe(21);
    expect(tok.tokenize('Hello NewWord!')).toEqual(['hello', 'newword', '!']);
    expect(tok.encode('NEWWORD')).toEqual([2, 20, 3]);
    // Not special, so decode keeps it.
    expect(tok.decode([2, 20, 3])).toBe('newword');
  });
});

describe('fromJSON: refusals name what they found', () => {
  const refuse = (edit: (json: Record<string, any>) => void, message: RegExp) => {
    const json = tokenizerJson();
    edit(json);
    let error: unknown;
    try {
      BertTokenizer.fromJSON(json);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TesseraError);
    expect((error as Error).message).toMatch(message);
  };

  it('refuses other models', () => {
    refuse((j) => { j.model = { type: 'BPE', vocab: {}, merges: [] }; }, /model should be 'WordPiece', found 'BPE'/);
    refuse((j) => { j.model.type = 'Unigram'; }, /found 'Unigram'/);
    refuse((j) => { delete j.model; }, /"model" should be a WordPiece model, found nothing/);
    refuse((j) => { j.model.vocab = [['hello', 0]]; }, /model.vocab should map tokens to ids, found an array/);
    refuse((j) => { j.model.vocab.hello = -1; }, /model.vocab\["hello"\] is not an id/);
  });

  it('refuses other normalizers, pre-tokenizers and decoders', () => {
    refuse((j) => { j.normalizer = { type: 'Sequence', normalizers: [] }; }, /normalizer should be 'BertNormalizer', found 'Sequence'/);
    refuse((j) => { j.normalizer = null; }, /normalizer should be 'BertNormalizer', found null/);
    refuse((j) => { j.pre_tokenizer = { type: 'Whitespace' }; }, /pre_tokenizer should be 'BertPreTokenizer', found 'Whitespace'/);
    refuse((j) => { j.decoder = { type: 'ByteLevel' }; }, /decoder should be 'WordPiece', found 'ByteLevel'/);
    refuse((j) => { j.decoder.prefix = '@@'; }, /decoder prefix "@@" differs/);
  });

  it('refuses non-BERT post-processors and templates', () => {
    refuse((j) => { j.post_processor = { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0] }; }, /found 'RobertaProcessing'/);
    refuse((j) => { j.post_processor.pair[3].Sequence.type_id = 0; }, /TemplateProcessing should be .* found "\[CLS\]:0 \$A:0 \[SEP\]:0" \/ "\[CLS\]:0 \$A:0 \[SEP\]:0 \$B:0 \[SEP\]:1"/);
    refuse((j) => { j.post_processor.single.pop(); }, /TemplateProcessing should be/);
  });

  it('refuses unsupported or inconsistent added tokens and missing specials', () => {
    refuse((j) => { j.added_tokens[4].single_word = true; }, /"\[MASK\]" has single_word: true/);
    refuse((j) => { j.added_tokens[4].id = 9; }, /"\[MASK\]" has id 9 but model.vocab says 4/);
    refuse((j) => { delete j.model.vocab['[MASK]']; j.added_tokens.pop(); }, /mask token "\[MASK\]" is not in the vocabulary/);
    refuse((j) => { j.model.max_input_chars_per_word = '100'; }, /"max_input_chars_per_word" should be a number/);
  });

  it('refuses text that is not JSON, and JSON that is not an object', () => {
    expect(() => BertTokenizer.fromJSON('{ not json')).toThrow(/not JSON/);
    expect(() => BertTokenizer.fromJSON('[1, 2]')).toThrow(/expected a tokenizer.json object, found an array/);
  });
});

describe('fromVocab', () => {
  it('accepts lines as an array or CRLF text, and refuses a vocab without specials', () => {
    const a = BertTokenizer.fromVocab(VOCAB);
    const b = BertTokenizer.fromVocab(VOCAB.join('\r\n') + '\r\n');
    expect(b.vocabSize).toBe(VOCAB.length);
    expect(b.encode('hello worlds')).toEqual(a.encode('hello worlds'));
    expect(() => BertTokenizer.fromVocab(VOCAB.filter((t) => t !== '[MASK]'))).toThrow(/no \[MASK\]/);
  });

  it('honours doLowerCase, stripAccents and maxInputCharsPerWord', () => {
    expect(BertTokenizer.fromVocab(VOCAB, { doLowerCase: false }).tokenize('Hello hello')).toEqual(['[UNK]', 'hello']);
    expect(BertTokenizer.fromVocab(VOCAB, { stripAccents: false }).tokenize('Café')).toEqual(['café']);
    expect(BertTokenizer.fromVocab(VOCAB, { maxInputCharsPerWord: 4 }).tokenize('hello')).toEqual(['[UNK]']);
    expect(() => BertTokenizer.fromVocab(VOCAB, { maxInputCharsPerWord: 0 })).toThrow(/positive integer/);
  });
});
