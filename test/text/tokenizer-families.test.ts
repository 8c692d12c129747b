// The tokenizer families the four real files do not cover, built from the small cut-down
// tokenizers in models/tokenizers/ and checked against Hugging Face's Rust `tokenizers` on the
// corpus (ids, tokens, offsets, decode): Llama 2 style (Prepend + Replace normalizer, byte
// fallback, Strip decoder), Metaspace pre-tokenizer (Mistral, T5), GPT-2/RoBERTa byte-level with a
// prefix space and trim_offsets, and a Unigram model with unknown pieces.
import { Tokenizer as RustTokenizer } from '@anush008/tokenizers';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../../src/text/index.js';
import { CORPUS } from './corpus.js';

type Json = Record<string, any>;
const mini = (name: string): Json => JSON.parse(readFileSync(new URL(`../../models/tokenizers/${name}/tokenizer.json`, import.meta.url), 'utf8'));
const qwen = mini('qwen3-mini');
const gemma = mini('gemma3-mini');
const id = (json: Json, token: string) => json.added_tokens.find((t: Json) => t.content === token).id;
const S = '\u2581';

function unigram(): Json {
  const chars = new Set<string>();
  for (const text of Object.values(CORPUS).slice(0, 8)) for (const ch of text.normalize('NFKC')) if (ch !== ' ') chars.add(ch);
  const words = ['the', 'quick', 'brown', 'fox', 'tokenizer', 'token', 'izer', 'ing', 'er', 're', 'turn', 'it', 'is', 'in', 'on'];
  const vocab: Array<[string, number]> = [['<unk>', 0], ['<s>', 0], ['</s>', 0], [S, -2]];
  for (const w of words) vocab.push([S + w, -3 - w.length / 10], [w, -5]);
  // Some characters stay out of the vocabulary, to make unknown pieces (fused, as Rust does).
  [...chars].filter((_, i) => i % 5 !== 0).forEach((ch) => vocab.push([ch, -8], [S + ch, -9]));
  return {
    version: '1.0',
    added_tokens: ['<unk>', '<s>', '</s>'].map((content, i) => ({ id: i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: S, prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      special_tokens: { '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: S, prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 0, vocab, byte_fallback: false },
  };
}

const FAMILIES: Record<string, Json> = {
  'byte-level BPE (Qwen3 cut)': qwen,
  'SentencePiece BPE with byte fallback (Gemma 3 cut)': gemma,
  'Llama 2 style: Prepend + Replace normalizer, Strip decoder': {
    ...gemma,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: S }, { type: 'Replace', pattern: { String: ' ' }, content: S }] },
    pre_tokenizer: null,
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: S }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
  },
  'Metaspace pre-tokenizer (Mistral, T5)': {
    ...gemma,
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: S, prepend_scheme: 'first', split: false },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: S }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
  },
  'GPT-2/RoBERTa: prefix space, RobertaProcessing with trim_offsets': {
    ...qwen,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['<|im_end|>', id(qwen, '<|im_end|>')], cls: ['<|im_start|>', id(qwen, '<|im_start|>')], trim_offsets: true, add_prefix_space: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  },
  'Unigram with unknown pieces': unigram(),
};

function toUtf16(text: string, offsets: number[][]): Array<[number, number]> {
  const unitAt: number[] = [];
  let u = 0;
  for (const ch of text) { unitAt.push(u); u += ch.length; }
  unitAt.push(u);
  return offsets.map(([s, e]) => [unitAt[s!]!, unitAt[e!]!]);
}

describe.each(Object.keys(FAMILIES))('%s', (family) => {
  const json = JSON.stringify(FAMILIES[family]);
  const ours = Tokenizer.fromJSON(json);
  const rust = RustTokenizer.fromString(json);
  it.each(Object.keys(CORPUS))('%s', async (key) => {
    const text = CORPUS[key]!;
    const expected = await rust.encode(text, null, { addSpecialTokens: true });
    const got = ours.encodeWithOffsets(text);
    expect(ours.encode(text)).toEqual(expected.getIds());
    expect(got.ids).toEqual(expected.getIds());
    expect(got.tokens).toEqual(expected.getTokens());
    expect(got.offsets).toEqual(toUtf16(text, expected.getOffsets()));
    for (const skip of [false, true]) {
      expect(ours.decode(expected.getIds(), { skipSpecialTokens: skip, cleanUpTokenizationSpaces: false })).toBe(await rust.decode(expected.getIds(), skip));
    }
  });
});
