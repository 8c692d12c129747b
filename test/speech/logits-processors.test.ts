// WhisperTimeStampLogitsProcessor (src/speech/logits-processors.ts) against transformers.js's
// algorithm written out step for step (the float32 log_softmax array, the float32 exp of its
// timestamp part, the max of its text part), which tessera ran until 2026-12-07: the same logits,
// bit for bit, on Whisper-sized rows in every state of the timestamp rule (first position, after
// text, after one timestamp, after a pair), with rows where the timestamps win and lose, rows with
// −∞ runs, a NaN, rows that are all −∞, and near-ties, where the quick test (log Σ cancelled)
// must give way to the exact one.
import { describe, expect, it } from 'vitest';
import { textForbiddenExact, textForbiddenQuick, timestamps } from '../../src/speech/logits-processors.js';
import { logSoftmaxAt } from '../../src/speech/decode-rows.js';
import type { WhisperConfig } from '../../src/speech/whisper-generate.js';

const V = 51865, EOS = 50257, NO_TS = 50363, TS_BEGIN = NO_TS + 1;
const cfg = { eos_token_id: EOS, no_timestamps_token_id: NO_TS } as unknown as WhisperConfig;
const INIT = [50258, 50259, 50359]; // <|startoftranscript|> <|en|> <|transcribe|>

function maxOf(a: Float32Array): number {
  let m = a[0]!;
  for (let i = 1; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}

/** transformers.js's WhisperTimeStampLogitsProcessor._call on one row, as it computes it. */
function reference(ids: readonly number[], logits: Float32Array, beginIndex: number): void {
  logits[NO_TS] = -Infinity;
  if (ids.length === beginIndex) { logits.subarray(0, TS_BEGIN).fill(-Infinity); return; }
  const seq = ids.slice(beginIndex);
  const last = seq.length >= 1 && seq[seq.length - 1]! >= TS_BEGIN;
  const penultimate = seq.length < 2 || seq[seq.length - 2]! >= TS_BEGIN;
  if (last) {
    if (penultimate) logits.subarray(TS_BEGIN).fill(-Infinity);
    else logits.subarray(0, EOS).fill(-Infinity);
  }
  const m = maxOf(logits);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - m);
  const logSum = Math.log(sum);
  const logprobs = logits.map((x) => x - m - logSum);
  const ts = logprobs.subarray(TS_BEGIN).map(Math.exp);
  let tsSum = ts[0]!;
  for (let i = 1; i < ts.length; i++) tsSum += ts[i]!;
  if (Math.log(tsSum) > maxOf(logprobs.subarray(0, TS_BEGIN))) logits.subarray(0, TS_BEGIN).fill(-Infinity);
}

function row(seed: number, tsBias: number): Float32Array {
  const x = new Float32Array(V);
  let s = seed;
  for (let i = 0; i < V; i++) { s = (s * 1103515245 + 12345) >>> 0; x[i] = ((s / 2 ** 32) * 2 - 1) * 8 + (i >= TS_BEGIN ? tsBias : 0); }
  return x;
}

/**
 * Text logits below 0, one text logit at `top`, every timestamp at top − log(1,501) + shift: the
 * timestamps' total probability is the top text token's up to `shift`.
 */
function nearTie(seed: number, shift: number): Float32Array {
  const x = row(seed, 0).map((v) => v - 20);
  const top = 3;
  x[seed % 1000] = top;
  x.subarray(TS_BEGIN).fill(top - Math.log(V - TS_BEGIN) + shift);
  return x;
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('WhisperTimeStampLogitsProcessor', () => {
  const sequences: [string, number[]][] = [
    ['first position', INIT],
    ['after text', [...INIT, 50364, 440, 2068]],
    ['after one timestamp', [...INIT, 50364, 440, 50400]],
    ['after a timestamp pair', [...INIT, 50364, 440, 50400, 50400]],
    ['a timestamp first', [...INIT, 50364]],
  ];
  const rows: [string, (seed: number) => Float32Array][] = [
    ['text favoured', (s) => row(s, -6)],
    ['timestamps favoured', (s) => row(s, 4)],
    ['balanced', (s) => row(s, 1.5)],
    ['a −∞ run', (s) => { const x = row(s, 1); x.subarray(1000, 30000).fill(-Infinity); return x; }],
    ['a NaN', (s) => { const x = row(s, 1); x[777] = NaN; return x; }],
    ['a NaN at 0', (s) => { const x = row(s, 1); x[0] = NaN; return x; }],
    ['all −∞', () => new Float32Array(V).fill(-Infinity)],
    ['a near-tie', (s) => nearTie(s, 0)],
    ['a near-tie, timestamps a hair ahead', (s) => nearTie(s, 3e-7)],
    ['a near-tie, text a hair ahead', (s) => nearTie(s, -3e-7)],
  ];
  for (const [what, ids] of sequences) {
    for (const [kind, make] of rows) {
      it(`${what}, ${kind}: transformers.js's logits`, () => {
        for (let seed = 1; seed <= 4; seed++) {
          const want = make(seed * 7919 + ids.length), got = want.slice();
          reference(ids, want, INIT.length);
          const p = timestamps(cfg, INIT);
          expect(p.beginIndex).toBe(INIT.length);
          p.apply(ids, got);
          expect(bits(got)).toEqual(bits(want));
        }
      });
    }
  }

  it('the quick test answers ordinary rows and agrees with the exact one; near-ties go to the exact one', () => {
    const m = (x: Float32Array) => x.reduce((a, v) => (v > a ? v : a), x[0]!);
    let answered = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const x = row(seed, (seed % 9) - 5);
      const quick = textForbiddenQuick(x, TS_BEGIN, m(x));
      if (quick !== undefined) { answered++; expect(quick).toBe(textForbiddenExact(x, TS_BEGIN, m(x))); }
    }
    expect(answered).toBe(40);
    for (const shift of [0, 3e-7, -3e-7]) expect(textForbiddenQuick(nearTie(3, shift), TS_BEGIN, 3)).toBeUndefined();
    const clear = nearTie(3, 0.01);
    expect(textForbiddenQuick(clear, TS_BEGIN, 3)).toBe(true);
    expect(textForbiddenExact(clear, TS_BEGIN, 3)).toBe(true);
  });

  it('the rows above reach both outcomes of the text-or-timestamps rule', () => {
    const outcome = (bias: number) => { const x = row(5, bias); timestamps(cfg, INIT).apply([...INIT, 50364, 440], x); return x[440] === -Infinity; };
    expect(outcome(-6)).toBe(false);
    expect(outcome(4)).toBe(true);
  });
});

describe('logSoftmaxAt (no-speech detection)', () => {
  /** The plain float64 formula over every logit. */
  function plain(x: Float32Array, t: number): number {
    let m = -Infinity;
    for (let i = 0; i < x.length; i++) if (x[i]! > m) m = x[i]!;
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += Math.exp(x[i]! - m);
    return x[t]! - m - Math.log(sum);
  }
  const cases: [string, () => Float32Array][] = [
    ['a plain row', () => row(3, 0)],
    ['a −∞ run (text after a timestamp)', () => { const x = row(4, 1); x.subarray(0, EOS).fill(-Infinity); return x; }],
    ['a NaN', () => { const x = row(5, 0); x[99] = NaN; return x; }],
    ['+∞', () => { const x = row(6, 0); x[7] = Infinity; return x; }],
    ['all −∞', () => new Float32Array(V).fill(-Infinity)],
  ];
  for (const [what, make] of cases) {
    it(`${what}: the plain formula's value`, () => {
      const x = make();
      for (const t of [0, 7, EOS, TS_BEGIN + 5]) expect(logSoftmaxAt(x, t), `token ${t}`).toBe(plain(x, t)); // Object.is: NaN is NaN, bits of finite values
    });
  }
});
