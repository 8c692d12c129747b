/**
 * Choosing the next token from one row of logits, in the order Hugging Face's processors run:
 * repetition penalty, no-repeat n-grams and min_new_tokens (which change the scores), then either
 * the arg max (greedy) or, when sampling, temperature → top-k → top-p → min-p and a draw from the
 * seeded RNG. Scratch arrays are allocated once per generation (a vocabulary is ~150 k wide), and
 * sampling never sorts the whole vocabulary unless top_k is 0 and top_p < 1.
 */
import type { ResolvedConfig } from './config.js';
import { Mulberry32 } from './rng.js';

/** Picks tokens for one sequence: holds the RNG and the scratch it needs. */
export class TokenSampler {
  private readonly rng: Mulberry32;
  private order: Int32Array = new Int32Array(0);
  private probs: Float64Array = new Float64Array(0);

  /** `stream`: the sequence's index in its batch (each row draws from its own seeded stream). */
  constructor(private readonly cfg: ResolvedConfig, stream = 0) {
    this.rng = new Mulberry32((cfg.seed ?? Math.floor(Math.random() * 2 ** 32)) + stream * 0x9e3779b9);
  }

  /**
   * The next token. `logits` is modified in place (penalties); `context` is every token of the
   * sequence so far (prompt and generated); `generated` how many of them are new.
   */
  next(logits: Float32Array, context: readonly number[], generated: number): number {
    const c = this.cfg;
    if (c.repetitionPenalty !== 1) repetitionPenalty(logits, context, c.repetitionPenalty);
    if (c.noRepeatNgramSize > 0) banRepeatedNgrams(logits, context, c.noRepeatNgramSize);
    if (generated < c.minNewTokens) for (const e of c.eos) if (e < logits.length) logits[e] = -Infinity;
    if (!c.doSample) return argmax(logits);
    return this.sample(logits);
  }

  private sample(logits: Float32Array): number {
    const c = this.cfg;
    const V = logits.length;
    const invT = 1 / c.temperature;
    const k = c.topK > 0 && c.topK < V ? c.topK : V;
    if (this.order.length < Math.min(k, V)) { this.order = new Int32Array(Math.min(k, V)); this.probs = new Float64Array(Math.min(k, V)); }
    // The candidates, most likely first: the k best (a bounded selection), or all sorted.
    const n = k < V ? topK(logits, k, this.order) : sortAll(logits, this.order);
    const order = this.order, probs = this.probs;
    const max = logits[order[0]!]! * invT;
    let sum = 0;
    for (let i = 0; i < n; i++) { const p = Math.exp(logits[order[i]!]! * invT - max); probs[i] = p; sum += p; }
    let keep = n;
    if (c.topP < 1) {
      // The smallest prefix whose probability reaches top_p (at least one token).
      let acc = 0;
      for (let i = 0; i < n; i++) { acc += probs[i]! / sum; if (acc >= c.topP) { keep = i + 1; break; } }
    }
    if (c.minP > 0) {
      // p_i ≥ min_p · p_max; p_0 is the max, and its unnormalised value is 1.
      let m = 1;
      while (m < keep && probs[m]! >= c.minP) m++;
      keep = m;
    }
    let total = 0;
    for (let i = 0; i < keep; i++) total += probs[i]!;
    let u = this.rng.next() * total;
    for (let i = 0; i < keep; i++) { u -= probs[i]!; if (u < 0) return order[i]!; }
    return order[keep - 1]!;
  }
}

/** Index of the largest logit (the first on ties, as torch.argmax). NaN never wins. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0, bv = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > bv) { bv = logits[i]!; best = i; }
  return best;
}

/** CTRL's penalty, as transformers': a seen token's logit divided by p if positive, else times p. */
export function repetitionPenalty(logits: Float32Array, context: readonly number[], penalty: number): void {
  const seen = new Set(context);
  for (const t of seen) {
    if (t < 0 || t >= logits.length) continue;
    const l = logits[t]!;
    logits[t] = l < 0 ? l * penalty : l / penalty;
  }
}

/** Forbids every token that would complete an n-gram already present in `context`. */
export function banRepeatedNgrams(logits: Float32Array, context: readonly number[], n: number): void {
  const L = context.length;
  if (L + 1 < n) return;
  const start = L - n + 1; // the n − 1 tokens a new n-gram would begin with
  for (let i = 0; i + n <= L; i++) {
    let same = true;
    for (let j = 0; j < n - 1 && same; j++) same = context[i + j] === context[start + j];
    if (same) { const t = context[i + n - 1]!; if (t < logits.length) logits[t] = -Infinity; }
  }
}

/** The k largest logits' indices, largest first, through a min-heap of k entries: O(V log k). */
function topK(logits: Float32Array, k: number, out: Int32Array): number {
  let size = 0;
  const less = (a: number, b: number) => logits[a]! < logits[b]! || (logits[a] === logits[b] && a > b);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < size && less(out[l]!, out[m]!)) m = l;
      if (r < size && less(out[r]!, out[m]!)) m = r;
      if (m === i) return;
      const t = out[i]!; out[i] = out[m]!; out[m] = t; i = m;
    }
  };
  for (let t = 0; t < logits.length; t++) {
    if (!(logits[t]! > -Infinity)) continue;
    if (size < k) {
      let i = size++;
      out[i] = t;
      while (i > 0) { const p = (i - 1) >> 1; if (!less(out[i]!, out[p]!)) break; const x = out[i]!; out[i] = out[p]!; out[p] = x; i = p; }
    } else if (less(out[0]!, t)) {
      out[0] = t;
      siftDown(0);
    }
  }
  // Heap → descending order.
  const n = size;
  for (let end = n - 1; end > 0; end--) { const x = out[0]!; out[0] = out[end]!; out[end] = x; size = end; siftDown(0); }
  if (n === 0) { out[0] = argmax(logits); return 1; }
  return n;
}

function sortAll(logits: Float32Array, out: Int32Array): number {
  const idx: number[] = [];
  for (let t = 0; t < logits.length; t++) if (logits[t]! > -Infinity) idx.push(t);
  idx.sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (!idx.length) idx.push(argmax(logits));
  out.set(idx);
  return idx.length;
}
