/**
 * Whisper's logits processors, as transformers.js v4 runs them on each generated position:
 * suppress_tokens, begin_suppress_tokens, and WhisperTimeStampLogitsProcessor. Each edits one row
 * of logits (51,865 floats) in place; decode-rows.ts applies them in the order whisper-generate.ts
 * lists them.
 */
import { type Processor, sumExp } from './decode-rows.js';
import type { WhisperConfig } from './whisper-generate.js';

/** suppress_tokens: these tokens never come. */
export function suppress(tokens: readonly number[]): Processor {
  return { apply(_ids, logits) { for (const t of tokens) logits[t] = -Infinity; } };
}

/** begin_suppress_tokens: these tokens never come first. */
export function suppressAtBegin(tokens: readonly number[], beginIndex: number): Processor {
  return { beginIndex, apply(ids, logits) { if (ids.length === this.beginIndex) for (const t of tokens) logits[t] = -Infinity; } };
}

/** transformers.js's max(): the strict maximum, starting from element 0 (a NaN there stays). */
function maxOf(a: Float32Array, from: number, to: number): number {
  let m = a[from]!;
  for (let i = from + 1; i < to; i++) if (a[i]! > m) m = a[i]!;
  return m;
}

/**
 * WhisperTimeStampLogitsProcessor, with transformers.js's numbers: timestamps come in pairs, and
 * text is forbidden when the timestamps' total probability beats every text token's (see
 * textForbidden).
 */
export function timestamps(cfg: WhisperConfig, init: readonly number[]): Processor {
  const eos = Array.isArray(cfg.eos_token_id) ? cfg.eos_token_id[0]! : cfg.eos_token_id!;
  const noTs = cfg.no_timestamps_token_id!;
  const tsBegin = noTs + 1;
  return {
    beginIndex: init.length - (init.at(-1) === noTs ? 1 : 0),
    apply(ids, logits) {
      logits[noTs] = -Infinity;
      if (ids.length === this.beginIndex) { logits.subarray(0, tsBegin).fill(-Infinity); return; }
      const n = ids.length - this.beginIndex!;
      const last = n >= 1 && ids[ids.length - 1]! >= tsBegin;
      const penultimate = n < 2 || ids[ids.length - 2]! >= tsBegin;
      if (last) {
        if (penultimate) logits.subarray(tsBegin).fill(-Infinity);
        else logits.subarray(0, eos).fill(-Infinity);
      }
      if (textForbidden(logits, tsBegin)) logits.subarray(0, tsBegin).fill(-Infinity);
    },
  };
}

/**
 * transformers.js's test: log Σ_{t ≥ tsBegin} exp(logprob_t) > max_{t < tsBegin} logprob_t, over the
 * float32 log_softmax it builds — logprob = fround(x − max − logΣ), logΣ = log Σ exp(x − max) in
 * float64 in index order, and the exp of each timestamp logprob rounded to float32. Decided
 * without the full-vocabulary Σ when the answer is not close (textForbiddenQuick), else as
 * transformers.js computes it (textForbiddenExact), with no array built.
 */
function textForbidden(logits: Float32Array, tsBegin: number): boolean {
  const m = maxOf(logits, 0, logits.length);
  return textForbiddenQuick(logits, tsBegin, m) ?? textForbiddenExact(logits, tsBegin, m);
}

/**
 * The test with logΣ cancelled: both sides hold −logΣ, so it is D = log Σ_ts exp(x − max) −
 * (max_text − max) > 0 up to float32 roundings. Each rounding moves a side by at most
 * 2⁻²⁴·|logprob| (and |logprob| ≤ (max − x) + logΣ, logΣ in [0, log V] ⊂ [0, 11]: the Σ holds
 * exp(0) = 1 and V terms ≤ 1), so when |D| is 4× beyond their sum the answer is D's sign. Costs
 * a compare per logit and an exp per timestamp, not an exp per logit. Undefined when close, or
 * when a NaN or an infinity other than −∞ takes part, or the timestamps' mass is so small that
 * their float32 exps would be subnormal: those go to the exact test.
 */
export function textForbiddenQuick(logits: Float32Array, tsBegin: number, m: number): boolean | undefined {
  if (!Number.isFinite(m)) return undefined;
  let textMax = -Infinity;
  for (let i = 0; i < tsBegin; i++) {
    const x = logits[i]!;
    if (x > textMax) textMax = x;
    else if (x !== x) return undefined;
  }
  let sum = 0, lo = m;
  for (let i = tsBegin; i < logits.length; i++) {
    const x = logits[i]!;
    if (x > -Infinity) { sum += Math.exp(x - m); if (x < lo) lo = x; } else if (x !== x) return undefined;
  }
  if (sum === 0) return false; // every timestamp −∞: log 0 = −∞ beats nothing
  const A = Math.log(sum);
  if (A < -60 || textMax === -Infinity) return undefined;
  const D = A - (textMax - m);
  const slack = 4 * ((m - lo + 12) + (m - textMax + 11)) * 2 ** -24 + 1e-9;
  if (D > slack) return true;
  if (D < -slack) return false;
  return undefined;
}

/** The test as transformers.js computes it (its float64 Σ, which sumExp gives). */
export function textForbiddenExact(logits: Float32Array, tsBegin: number, m: number): boolean {
  const logSum = Math.log(sumExp(logits, m));
  let tsSum = 0;
  for (let i = tsBegin; i < logits.length; i++) tsSum += Math.fround(Math.exp(Math.fround(logits[i]! - m - logSum)));
  // fround(x − max − logΣ) is non-decreasing in x: the largest text logprob is the largest text logit's.
  return Math.log(tsSum) > Math.fround(maxOf(logits, 0, tsBegin) - m - logSum);
}
