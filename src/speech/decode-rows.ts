/**
 * The token loop of Whisper's decoding passes, for one window or several decoded in lockstep as the
 * rows of one batch (WhisperModel.stepBatchViews: one decoder run per token for every row, the weights
 * read once). Each row keeps its own sequence, logits processors, sampler and no-speech state and
 * sees exactly the logits it would see decoded alone (the decoder's rows are independent), so its
 * tokens are the one-window pass's. A row that ends (EOS or its max length) stays in the batch fed
 * its last token again, its logits ignored, until every row has ended; `signal` stops them all
 * between tokens. Streamers see each row's put/end in row order (orderedStreams).
 */
import { TesseraError } from '../api/errors.js';
import type { Tensor } from '../api/tensor.js';
import { resolveConfig } from '../generation/config.js';
import { TokenSampler } from '../generation/sampling.js';
import type { BaseStreamer } from '../generation/streamers.js';
import type { WhisperConfig } from './whisper-generate.js';
import type { WhisperModel } from './whisper-model.js';

/** One logits processor: changes `logits` in place given the sequence so far. */
export type Processor = { beginIndex?: number; apply(ids: readonly number[], logits: Float32Array): void };

/** One pass's detection state: the no-speech token, then what the pass measured. */
export interface NoSpeech { token: number; no_speech_prob: number; sumLogprob: number; textTokens: number }

/** What a streamer needs: put the prompt, then each token; end once. */
export type RowStreamer = Pick<BaseStreamer, 'put' | 'end'>;

/** One row of a decoding pass: its prompt, configuration, processors and observers. */
export interface PassRow {
  init: readonly number[];
  cfg: WhisperConfig;
  processors: readonly Processor[];
  detect?: NoSpeech;
  streamer?: RowStreamer | null;
  /**
   * Word timestamps: receives, for every step that fed this row (its prompt, then each token but
   * the last), the alignment heads' cross-attention of that step ([heads][new tokens][encoder
   * positions], WhisperModel.lastCrossAttentions), in order. The caller turns collection on.
   */
  attentions?: Float32Array[];
}

/** softmax(logits)[t], in float64 (OpenAI and HF take it in float32 of float32 logits). */
export function softmaxAt(logits: Float32Array, t: number): number {
  return Math.exp(logSoftmaxAt(logits, t));
}

/**
 * Σ exp(x − m) over the row in index order, in float64, skipping −∞ logits (suppressed tokens;
 * after a timestamp, most of the row): with a finite m their exp is exactly 0, which leaves the
 * sum as it is.
 */
export function sumExp(logits: Float32Array, m: number): number {
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i]!;
    if (x !== -Infinity) sum += Math.exp(x - m);
  }
  return sum;
}

/** log_softmax(logits)[t], in float64; NaN when no logit is finite, as the plain formula gives. */
export function logSoftmaxAt(logits: Float32Array, t: number): number {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > m) m = logits[i]!;
  if (m === -Infinity) return NaN; // every logit −∞ (or NaN): −∞ − (−∞) is NaN
  return logits[t]! - m - Math.log(sumExp(logits, m));
}

const pick = (o: Record<string, unknown>, keys: readonly string[]) =>
  Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

const eosOf = (cfg: WhisperConfig): number[] => (cfg.eos_token_id == null ? [] : Array.isArray(cfg.eos_token_id) ? cfg.eos_token_id : [cfg.eos_token_id]);

/**
 * Decodes the rows over `hidden` (the encoder outputs, [rows, L, D]): each row's prompt, then tokens
 * until EOS or its max length. Returns each row's whole sequence (prompt included), as
 * transformers.js's generate. Every row's prompt must be as long (one decoder run takes them all).
 */
export async function decodeRows(model: WhisperModel, hidden: Tensor, rows: readonly PassRow[], signal?: AbortSignal | null): Promise<number[][]> {
  const S = rows[0]!.init.length;
  if (rows.some((r) => r.init.length !== S)) throw new TesseraError('INVALID_ARGUMENT', `Whisper: windows decoded as one batch need prompts of one length, got ${rows.map((r) => r.init.length).join(', ')}`);
  const state = rows.map((r) => {
    const eos = eosOf(r.cfg);
    return {
      eos,
      maxLength: r.cfg.max_new_tokens != null ? S + r.cfg.max_new_tokens : r.cfg.max_length,
      sampler: new TokenSampler(resolveConfig([{ ...pick(r.cfg, ['do_sample', 'temperature', 'top_k', 'top_p', 'min_p', 'repetition_penalty', 'no_repeat_ngram_size', 'min_new_tokens', 'seed']), eos_token_id: eos, max_new_tokens: 0 }], S)),
      seq: [...r.init],
      done: false,
    };
  });
  // No-speech detection reads the <|startoftranscript|> row of the prompt's run besides the last.
  const detecting = rows[0]!.detect !== undefined;
  if (rows.some((r) => (r.detect !== undefined) !== detecting)) throw new TesseraError('INVALID_ARGUMENT', 'Whisper: windows decoded as one batch must all detect no-speech or none');
  const sot = Math.max(0, rows[0]!.init.indexOf(rows[0]!.cfg.decoder_start_token_id));
  const firstRows = !detecting ? [S - 1] : sot === S - 1 ? [sot] : [sot, S - 1];
  for (const r of rows) r.streamer?.put([[...r.init]]);
  try {
    for (let generated = 0; ; generated++) {
      const out = generated === 0
        ? await model.stepBatchViews(rows.map((r) => r.init), hidden, firstRows)
        : await model.stepBatchViews(state.map((s) => [s.seq[s.seq.length - 1]!]), undefined, [0]);
      for (let b = 0; b < rows.length; b++) {
        const s = state[b]!, r = rows[b]!;
        if (s.done) continue;
        const got = out[b]!;
        r.attentions?.push(model.lastCrossAttentions(b));
        if (generated === 0 && r.detect) r.detect.no_speech_prob = softmaxAt(got[0]!, r.detect.token);
        const logits = got[got.length - 1]!;
        if (r.cfg.min_length && s.seq.length < (r.cfg.min_length as number)) for (const e of s.eos) logits[e] = -Infinity;
        for (const p of r.processors) p.apply(s.seq, logits);
        const t = s.sampler.next(logits, s.seq, generated);
        if (r.detect) { r.detect.sumLogprob += logSoftmaxAt(logits, t); if (!s.eos.includes(t)) r.detect.textTokens++; }
        s.seq.push(t);
        r.streamer?.put([[t]]);
        if (s.seq.length >= s.maxLength || s.eos.includes(t)) s.done = true;
      }
      if (signal?.aborted || state.every((s) => s.done)) break;
    }
  } finally {
    for (const r of rows) r.streamer?.end();
  }
  return state.map((s) => s.seq);
}

/**
 * One streamer seen through `n` rows decoded together, so that it receives what decoding the rows
 * one after the other would send: row 0's calls pass at once; a later row's wait until every
 * earlier row has ended, then follow in their order (transformers.js's put/end contract, window by
 * window).
 */
export function orderedStreams(target: RowStreamer | null | undefined, n: number): (RowStreamer | undefined)[] {
  if (!target) return Array.from({ length: n }, () => undefined);
  const queues: (number[][] | null)[][] = Array.from({ length: n }, () => []);
  let live = 0;
  const drain = () => {
    while (live < n && queues[live]!.length) {
      const e = queues[live]!.shift()!;
      if (e === null) { live++; target.end(); } else target.put(e);
    }
  };
  return queues.map((q) => ({
    put(ids: number[][]) { q.push(ids); drain(); },
    end() { q.push(null); drain(); },
  }));
}
