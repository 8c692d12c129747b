/**
 * Static memory planning: every intermediate tensor gets an offset in one arena, and two tensors
 * share bytes only when their lifetimes do not overlap. Greedy by size (largest first, lowest
 * offset that fits), the strategy TFLite's and onnxruntime's planners use.
 */
import { alignUp } from '../runtime/heap.js';

export interface Lifetime {
  bytes: number;
  /** Index of the step that writes it (-1 for graph inputs). */
  first: number;
  /** Index of the last step that reads it (Infinity for graph outputs). */
  last: number;
}

/** Kernels may over-read 16 bytes; keep every buffer's tail readable and aligned. */
const SLACK = 16;

export function assignOffsets(items: readonly Lifetime[]): { offsets: number[]; size: number } {
  const order = items.map((_, i) => i).sort((a, b) => items[b]!.bytes - items[a]!.bytes || a - b);
  const placed: { start: number; end: number; first: number; last: number }[] = [];
  const offsets = new Array<number>(items.length).fill(0);
  let size = 0;
  for (const i of order) {
    const it = items[i]!;
    const need = alignUp(it.bytes + SLACK);
    // Gaps between the blocks whose lifetimes overlap this one, lowest first.
    const live = placed
      .filter((p) => p.first <= it.last && it.first <= p.last)
      .sort((a, b) => a.start - b.start);
    let offset = 0;
    for (const p of live) {
      if (p.start - offset >= need) break;
      offset = Math.max(offset, p.end);
    }
    offsets[i] = offset;
    placed.push({ start: offset, end: offset + need, first: it.first, last: it.last });
    size = Math.max(size, offset + need);
  }
  return { offsets, size };
}
