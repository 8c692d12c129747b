/** The committed BERT models and BERT-shaped feeds (seeded, padded rows with zeros in attention_mask). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../../src/index.js';

const dir = fileURLToPath(new URL('../../models/bert/', import.meta.url));

export const bertModels = {
  /** Trained on fortunes: 2 layers, hidden 128, 4 heads, vocab 3000, 48 positions. */
  fortunes: { path: `${dir}bert-fortunes.onnx`, vocab: 3000, maxPosition: 48 },
  /** Random weights: 2 layers, hidden 32, 2 heads, vocab 1000, 64 positions. */
  tiny: { path: `${dir}tiny-random.onnx`, vocab: 1000, maxPosition: 64 },
} as const;

export const bertFile = (path: string): Uint8Array => new Uint8Array(readFileSync(path));
export const fortunesVocab = (): string => readFileSync(`${dir}vocab.txt`, 'utf8');

/** A 32-bit LCG, so feeds are the same on every run. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/**
 * [batch, seq] feeds: row b holds seq − b·padStep real tokens (at least 1), then padding
 * ([PAD] = 0, attention_mask 0); token types switch to 1 half-way through the real tokens.
 */
export function bertFeeds(batch: number, seq: number, vocab: number, padStep: number, seed = 1): Record<string, Tensor> {
  const next = lcg(seed);
  const n = batch * seq;
  const ids = new BigInt64Array(n), mask = new BigInt64Array(n), types = new BigInt64Array(n);
  for (let b = 0; b < batch; b++) {
    const len = Math.max(1, seq - b * padStep);
    for (let s = 0; s < seq; s++) {
      const i = b * seq + s;
      if (s >= len) continue;
      ids[i] = BigInt(s === 0 ? 2 : 5 + Math.floor(next() * (vocab - 5)));
      mask[i] = 1n;
      types[i] = s >= len / 2 ? 1n : 0n;
    }
  }
  const dims = [batch, seq];
  return {
    input_ids: new Tensor('int64', ids, dims),
    attention_mask: new Tensor('int64', mask, dims),
    token_type_ids: new Tensor('int64', types, dims),
  };
}

/** max |a − b| / max |b|: one number for "how far", independent of the logits' scale. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let worst = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return worst / Math.max(scale, 1e-30);
}
