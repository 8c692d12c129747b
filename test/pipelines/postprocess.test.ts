// The pure post-processing of token-classification and question-answering, on hand-made inputs
// whose expected outputs follow transformers.js v4's code (pipelines/token-classification.js
// groupEntities, pipelines/question-answering.js span search); the end-to-end equality with
// transformers.js is test/pipelines/ner-qa-image.test.ts.
import { describe, expect, it } from 'vitest';
import { answerSpans } from '../../src/pipelines/question-answering.js';
import { classifyTokens, groupEntities, splitTag, type TokenClassificationToken } from '../../src/pipelines/token-classification.js';

const decode = (ids: number[]) => ids.map((i) => `w${i}`).join(' ');
const tok = (entity: string, index: number, score = 0.5): TokenClassificationToken => ({ entity, score, index, word: `w${index}` });

describe('token classification', () => {
  it('splits BIOES prefixes; anything else is an I- tag of itself', () => {
    expect(splitTag('B-PER')).toEqual(['B', 'PER']);
    expect(splitTag('S-LOC')).toEqual(['S', 'LOC']);
    expect(splitTag('O')).toEqual(['I', 'O']);
    expect(splitTag('X-FOO')).toEqual(['I', 'X-FOO']);
    expect(splitTag('PER')).toEqual(['I', 'PER']);
  });

  it('groups as transformers.js: B- opens, I-/E- of the same tag continue, E- and S- close', () => {
    const ids = [100, 11, 12, 13, 14, 15, 16, 17, 18, 19];
    const tokens = [
      tok('B-PER', 1, 0.9), tok('I-PER', 2, 0.7), // PER: w11 w12
      tok('B-PER', 3, 0.6), // a new B- starts a new group even with the same tag
      tok('I-LOC', 4, 0.8), tok('E-LOC', 5, 0.4), tok('I-LOC', 6, 0.2), // E closes: I-LOC after it opens anew
      tok('S-ORG', 7, 0.3), tok('I-ORG', 8, 0.5), // S opens and closes
      tok('I-MISC', 9, 1.0),
    ];
    const groups = groupEntities(tokens, ids, decode);
    expect(groups.map((g) => [g.entity_group, g.word])).toEqual([
      ['PER', 'w11 w12'], ['PER', 'w13'], ['LOC', 'w14 w15'], ['LOC', 'w16'], ['ORG', 'w17'], ['ORG', 'w18'], ['MISC', 'w19'],
    ]);
    expect(groups[0]!.score).toBeCloseTo(0.8, 12);
    expect(groups[2]!.score).toBeCloseTo(0.6, 12);
  });

  it('takes the first arg-max, skips ignored labels and tokens that decode to nothing', () => {
    const labels = ['O', 'B-PER', 'I-PER'];
    const logits = new Float32Array([
      0, 9, 1, // [CLS]: B-PER but decodes to '' → skipped
      1, 3, 3, // tie between B-PER and I-PER → the first (B-PER)
      5, 1, 1, // O → ignored
      0, 0, 2, // I-PER
    ]);
    const out = classifyTokens(logits, 0, 3, [101, 7, 8, 9], (i) => labels[i]!, ['O'], (ids) => (ids[0] === 101 ? '' : `w${ids[0]}`));
    expect(out.map((t) => [t.entity, t.index, t.word])).toEqual([['B-PER', 1, 'w7'], ['I-PER', 3, 'w9']]);
    const e3 = Math.fround(Math.exp(0)), e1 = Math.fround(Math.exp(-2));
    expect(out[0]!.score).toBe(Math.fround(e3 / (Math.fround(Math.exp(-2)) + e3 + e3)));
    expect(out[1]!.score).toBe(Math.fround(e3 / (e1 + e1 + e3)));
  });
});

describe('question answering spans', () => {
  // [CLS] q [SEP] c1 c2 c3 [SEP] [PAD]
  const ids = [101, 5, 102, 6, 7, 8, 102, 0];
  const special = (id: number) => id === 101 || id === 102 || id === 0;

  it('scores every start ≤ end in the context, best first', () => {
    const start = [9, 9, 9, 2, 1, 0, 9, 9], end = [9, 9, 9, 0, 1, 2, 9, 9];
    const spans = answerSpans(start, end, ids, 102, special, 10);
    const ps = [2, 1, 0].map((x) => Math.exp(x)), pe = [0, 1, 2].map((x) => Math.exp(x));
    const zs = ps.reduce((a, b) => a + b, 0 + Math.exp(9)), ze = pe.reduce((a, b) => a + b, 0 + Math.exp(9));
    // position 0 ([CLS]) keeps its logit in the softmax, then gets probability 0
    const p = (a: number, b: number) => (ps[a - 3]! / zs) * (pe[b - 3]! / ze);
    const expected = [[3, 5], [3, 4], [4, 5], [3, 3], [4, 4], [5, 5]]
      .map(([a, b]) => ({ start: a!, end: b!, score: p(a!, b!) }))
      .sort((x, y) => y.score - x.score);
    expect(spans.slice(0, 6).map((s) => [s.start, s.end])).toEqual(expected.map((s) => [s.start, s.end]));
    spans.slice(0, 6).forEach((s, i) => expect(s.score).toBeCloseTo(expected[i]!.score, 14));
    // then the zero-probability spans in (start, end) order, starting at [CLS]
    expect(spans.slice(6).map((s) => [s.start, s.end, s.score])).toEqual([[0, 0, 0], [0, 1, 0], [0, 2, 0], [0, 3, 0]]);
  });

  it('keeps ties in (start, end) order and stops at top_k', () => {
    const flat = [0, 0, 0, 0, 0, 0, 0, 0];
    const spans = answerSpans(flat, flat, ids, 102, special, 3);
    expect(spans.map((s) => [s.start, s.end])).toEqual([[3, 3], [3, 4], [3, 5]]);
  });
});
