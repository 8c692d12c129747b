import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadMakeVocab } from './vocab.js';

const { makeVocab, makeVocabTokens, readConvertedVocab } = await loadMakeVocab();

describe('scripts/make-vocab.mjs', () => {
  const tokens = makeVocabTokens();

  it('rebuilds 30,522 unique tokens as newline-terminated lines', () => {
    const text = makeVocab();
    expect(tokens).toHaveLength(30522);
    expect(new Set(tokens).size).toBe(30522);
    expect(text.startsWith('[PAD]\n[unused0]\n')).toBe(true);
    expect(text.endsWith('\n##～\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(30523); // the trailing newline leaves one empty field
    // Byte-identical to the published bert-base-uncased vocab.txt: 231,508 bytes, md5 below.
    expect(Buffer.byteLength(text, 'utf8')).toBe(231508);
    expect(createHash('md5').update(text).digest('hex')).toBe('64800d5d8528ce344256daf115d4965e');
  });

  it('puts the special tokens and [unusedN] where bert-base-uncased has them', () => {
    expect(tokens.slice(0, 2)).toEqual(['[PAD]', '[unused0]']);
    expect(tokens[99]).toBe('[unused98]');
    expect(tokens.slice(100, 105)).toEqual(['[UNK]', '[CLS]', '[SEP]', '[MASK]', '[unused99]']);
    expect(tokens[998]).toBe('[unused993]');
    for (let i = 1; i < 999; i++) if (i < 100 || i > 103) expect(tokens[i]).toMatch(/^\[unused\d+\]$/);
  });

  it('restores word starts without a marker and continuations with ##', () => {
    expect(tokens.slice(999, 1003)).toEqual(['!', '"', '#', '$']);
    expect(tokens.indexOf('hello')).toBe(7592);
    expect(tokens.indexOf('the')).toBe(1996);
    expect(tokens.indexOf('##s')).toBe(2015);
    expect(tokens.indexOf('##ing')).toBe(2075);
    expect(tokens.indexOf('...')).toBe(2133);
    // The tail of the vocab is "##" + every single character; "###" is the continuation of "#".
    expect(tokens[29612]).toBe('##!');
    expect(tokens[29614]).toBe('###');
    expect(tokens[30521]).toBe('##～');
    expect(tokens.some((t) => t.includes('\u2581'))).toBe(false);
  });

  it('fails loudly when the converted list does not look like bert-base-uncased', () => {
    const converted = readConvertedVocab();
    expect(() => makeVocabTokens(converted.slice(0, -1))).toThrow(/30522/);
    const moved = [...converted];
    [moved[7592], moved[7593]] = [moved[7593]!, moved[7592]!];
    expect(() => makeVocabTokens(moved)).toThrow(/id 7592 should be "hello"/);
    const bare = [...converted];
    bare[5] = '\u2581';
    expect(() => makeVocabTokens(bare)).toThrow(/id 5/);
    // Swapping two [unusedN] entries passes every per-id check; only the checksum catches it.
    const swapped = [...converted];
    [swapped[5], swapped[6]] = [swapped[6]!, swapped[5]!];
    expect(() => makeVocabTokens(swapped)).not.toThrow();
    expect(() => makeVocab(swapped)).toThrow(/md5/);
  });
});
