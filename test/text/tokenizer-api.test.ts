// Tokenizer's own behaviour on a small WordPiece tokenizer: padding (sides, max_length, the pad
// token), truncation options, decode of tensors and unknown ids, special-token accessors, loading
// from a folder, a file: URL and a hub-style server (resolve/<revision>/ URLs, progress, no
// cache), and the errors for broken or missing files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, TesseraError, Tokenizer } from '../../src/index.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', '##s', ',', '.', 'a', 'b', 'c'];
const special = (content: string) => ({ id: VOCAB.indexOf(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
const JSON_ = {
  version: '1.0',
  added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map(special),
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
    special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
  },
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])) },
};
const CONFIG = { cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', mask_token: '[MASK]', unk_token: '[UNK]', model_max_length: 8, tokenizer_class: 'BertTokenizer' };
const tok = Tokenizer.fromJSON(JSON_, CONFIG);
const rows = (t: Tensor) => Array.from(t.data as BigInt64Array, Number);

describe('encoding', () => {
  it('encodes, tokenizes and reads the special tokens', () => {
    expect(tok.tokenize('Hello worlds, a.')).toEqual(['hello', 'world', '##s', ',', 'a', '.']);
    expect(tok.encode('hello')).toEqual([2, 5, 3]);
    expect(tok.encode('hello', { addSpecialTokens: false })).toEqual([5]);
    expect(tok.encode('hello', { textPair: 'a b' })).toEqual([2, 5, 3, 10, 11, 3]);
    expect([tok.clsTokenId, tok.sepTokenId, tok.padTokenId, tok.maskTokenId, tok.unkTokenId]).toEqual([2, 3, 0, 4, 1]);
    expect([tok.maskToken, tok.bosToken, tok.eosToken, tok.modelMaxLength]).toEqual(['[MASK]', undefined, undefined, 8]);
    expect(tok.convertIdsToTokens([5, 7n, 99])).toEqual(['hello', '##s', undefined]);
    expect(tok.convertTokensToIds(['world', 'nope'])).toEqual([6, undefined]);
    expect(tok.allSpecialIds.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(tok.returnsTokenTypeIds).toBe(true);
  });

  it('gives offsets into the original text, specials at [0, 0]', () => {
    const text = 'HÉllo,  worlds';
    const enc = tok.encodeWithOffsets(text, { textPair: 'b' });
    expect(enc.tokens).toEqual(['[CLS]', 'hello', ',', 'world', '##s', '[SEP]', 'b', '[SEP]']);
    expect(enc.offsets.map(([s, e], i) => (enc.sequenceIds[i] === 0 ? text.slice(s, e) : enc.sequenceIds[i] === 1 ? 'b'.slice(s, e) : null)))
      .toEqual([null, 'HÉllo', ',', 'world', 's', null, 'b', null]);
    expect(enc.sequenceIds).toEqual([null, 0, 0, 0, 0, null, 1, null]);
  });

  it('truncates the texts and keeps the specials', () => {
    expect(tok.encode('a b c a b c a b c')).toHaveLength(11); // no truncation unless asked
    expect(tok.encode('a b c a b c a b c', { truncation: true })).toEqual([2, 10, 11, 12, 10, 11, 12, 3]); // modelMaxLength 8
    expect(tok.encode('a b c', { textPair: 'a b c a b', maxLength: 7 })).toEqual([2, 10, 11, 3, 10, 11, 3]);
    expect(() => tok.encode('a', { maxLength: 1 })).toThrow(/leaves no room for the 2 special tokens/);
    expect(() => tok.encode('a', { maxLength: 0 })).toThrow(/maxLength must be a positive integer/);
  });

  it('pads batches into int64 tensors', () => {
    const b = tok.encodeBatch(['hello world', 'a', ['a', 'b']]);
    expect(b.input_ids.dims).toEqual([3, 5]);
    expect(b.input_ids.type).toBe('int64');
    expect(rows(b.input_ids)).toEqual([2, 5, 6, 3, 0, 2, 10, 3, 0, 0, 2, 10, 3, 11, 3]);
    expect(rows(b.attention_mask)).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    expect(rows(b.token_type_ids!)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    const m = tok.encodeBatch(['a'], { padding: 'max_length' });
    expect(m.input_ids.dims).toEqual([1, 8]);
    expect(tok.encodeBatch(['a'], { padding: 'max_length', maxLength: 4 }).input_ids.dims).toEqual([1, 4]);
    expect(() => tok.encodeBatch(['a', 'a b'], { padding: false })).toThrow(/different lengths \(3, 4\)/);
    expect(() => tok.encodeBatch(['a b c a b c'], { padding: 'max_length', maxLength: 4, truncation: false })).toThrow(/more than maxLength 4/);
    expect(() => tok.encodeBatch([])).toThrow(TesseraError);
    expect(tok.encodeBatch(['a'], { returnTokenTypeIds: false }).token_type_ids).toBeUndefined();
  });

  it('pads on the left when the config says so', () => {
    const left = Tokenizer.fromJSON(JSON_, { ...CONFIG, padding_side: 'left' });
    expect(rows(left.encodeBatch(['hello world', 'a']).input_ids)).toEqual([2, 5, 6, 3, 0, 2, 10, 3]);
    expect(rows(left.encodeBatch(['hello world', 'a']).attention_mask)).toEqual([1, 1, 1, 1, 0, 1, 1, 1]);
  });

  it('decodes ids, tensors and batches', () => {
    const ids = tok.encode('hello worlds, a.');
    expect(tok.decode(ids)).toBe('[CLS] hello worlds, a. [SEP]');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('hello worlds, a.');
    // The WordPiece decoder cleans up by itself (its "cleanup": true), as in Rust; without it, the
    // option decides.
    expect(tok.decode(ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false })).toBe('hello worlds, a.');
    const raw = Tokenizer.fromJSON({ ...JSON_, decoder: { type: 'WordPiece', prefix: '##', cleanup: false } }, CONFIG);
    expect(raw.decode(ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false })).toBe('hello worlds , a .');
    expect(raw.decode(ids, { skipSpecialTokens: true })).toBe('hello worlds, a.');
    expect(tok.decode([])).toBe('');
    expect(tok.decode([5, 9999, 6])).toBe('hello world'); // ids past the vocabulary are left out, as in Rust
    expect(() => tok.decode([1.5])).toThrow(/not an integer/);
    const batch = tok.encodeBatch(['hello', 'a b']);
    expect(tok.batchDecode(batch.input_ids, { skipSpecialTokens: true })).toEqual(['hello', 'a b']);
    expect(tok.batchDecode([[5], [10n, 11n]])).toEqual(['hello', 'a b']);
  });
});

describe('loading', () => {
  let dir: string;
  let server: Server;
  let host: string;
  const requests: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-tok-'));
    mkdirSync(join(dir, 'good'));
    writeFileSync(join(dir, 'good', 'tokenizer.json'), JSON.stringify(JSON_));
    writeFileSync(join(dir, 'good', 'tokenizer_config.json'), JSON.stringify({ ...CONFIG, pad_token: undefined }));
    writeFileSync(join(dir, 'good', 'special_tokens_map.json'), JSON.stringify({ pad_token: '[MASK]', cls_token: 'ignored: the config has one' }));
    mkdirSync(join(dir, 'empty'));
    server = createServer((req, res) => {
      requests.push(req.url!);
      const m = /^\/org\/name\/resolve\/v1\/(.+)$/.exec(req.url!);
      const body = m ? { 'tokenizer.json': JSON.stringify(JSON_), 'tokenizer_config.json': JSON.stringify(CONFIG) }[m[1]!] : undefined;
      if (body === undefined) { res.statusCode = 404; res.end(); return; }
      res.setHeader('content-length', Buffer.byteLength(body));
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a local folder and a file: URL, with special_tokens_map.json filling gaps', async () => {
    for (const where of [join(dir, 'good'), pathToFileURL(join(dir, 'good'))]) {
      const t = await Tokenizer.fromPretrained(where);
      expect(t.encode('hello')).toEqual([2, 5, 3]);
      expect(t.padToken).toBe('[MASK]');
      expect(t.clsToken).toBe('[CLS]');
    }
  });

  it('reads a hub repository from <host>/<repo>/resolve/<revision>/, with progress', async () => {
    const progress: string[] = [];
    const t = await Tokenizer.fromPretrained('org/name', { host, revision: 'v1', cache: false, onProgress: (file, loaded, total) => progress.push(`${file}:${loaded}/${total}`) });
    expect(t.encode('a b')).toEqual([2, 10, 11, 3]);
    expect(requests).toEqual(expect.arrayContaining(['/org/name/resolve/v1/tokenizer.json', '/org/name/resolve/v1/tokenizer_config.json', '/org/name/resolve/v1/special_tokens_map.json']));
    expect(progress.some((p) => p.startsWith('tokenizer.json:') && p.endsWith(`/${JSON.stringify(JSON_).length}`))).toBe(true);
    await expect(Tokenizer.fromPretrained('org/other', { host, cache: false })).rejects.toThrow(/there is no http:\/\/127\.0\.0\.1:\d+\/org\/other\/resolve\/main\/tokenizer\.json/);
  });

  it('names the folder without tokenizer.json', async () => {
    await expect(Tokenizer.fromPretrained(join(dir, 'empty'))).rejects.toThrow(TesseraError);
    await expect(Tokenizer.fromPretrained(join(dir, 'empty'))).rejects.toThrow(`there is no ${join(dir, 'empty')}/tokenizer.json`);
  });

  it('names the broken file and what is wrong', async () => {
    mkdirSync(join(dir, 'broken'));
    writeFileSync(join(dir, 'broken', 'tokenizer.json'), '{"model": ');
    await expect(Tokenizer.fromPretrained(join(dir, 'broken'))).rejects.toThrow(new RegExp(`${join(dir, 'broken')}/tokenizer.json is not JSON`));
    writeFileSync(join(dir, 'broken', 'tokenizer.json'), JSON.stringify(JSON_));
    writeFileSync(join(dir, 'broken', 'tokenizer_config.json'), '[1, 2]');
    await expect(Tokenizer.fromPretrained(join(dir, 'broken'))).rejects.toThrow(/tokenizer_config.json should hold a JSON object, found an array/);
  });
});

describe('errors', () => {
  const fromJSON = (json: unknown, config?: unknown) => () => Tokenizer.fromJSON(json as object, config as object);
  it('refuses broken tokenizer.json with TesseraError naming the problem', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['not json', /tokenizer.json is not JSON/],
      ['[1]', /tokenizer.json should hold a JSON object, found an array/],
      [{}, /has no "model" object/],
      [{ model: { type: 'WordLevel', vocab: {} } }, /model of type "WordLevel", which tessera cannot run \(known: BPE, WordPiece, Unigram\)/],
      [{ model: { type: 'Magic', vocab: {} } }, /model of type "Magic"/],
      [{ model: { type: 'BPE', vocab: {} } }, /BPE model without a "merges" list/],
      [{ model: { type: 'WordPiece' } }, /WordPiece model without "vocab"/],
      [{ ...JSON_, added_tokens: [{ content: 5 }] }, /added_tokens\[0\] without a string "content"/],
      [{ ...JSON_, normalizer: { type: 'NoSuchNormalizer' } }, /tokenizer.json cannot be read: .*NoSuchNormalizer/],
    ];
    for (const [json, message] of cases) {
      expect(fromJSON(json)).toThrow(TesseraError);
      expect(fromJSON(json)).toThrow(message);
    }
    expect(fromJSON(JSON_, '{')).toThrow(/tokenizer_config.json is not JSON/);
    expect(fromJSON(JSON_, { mask_token: 42 })).toThrow(/"mask_token" should be a token/);
    expect(fromJSON(JSON_, { chat_template: 7 })).toThrow(/"chat_template" should be a string or a list/);
  });

  it('refuses non-string input', () => {
    expect(() => tok.encode(undefined as unknown as string)).toThrow(/expected a string, got undefined/);
    expect(() => tok.encodeBatch([5 as unknown as string])).toThrow(/input 0 should be a string or a \[text, pair\] tuple/);
  });

  it('pads only with a pad token', () => {
    const noPad = Tokenizer.fromJSON(JSON_, { ...CONFIG, pad_token: null });
    expect(noPad.encodeBatch(['a', 'a']).input_ids.dims).toEqual([2, 3]);
    expect(() => noPad.encodeBatch(['a', 'a b'])).toThrow(/padding needs a pad token/);
  });
});
