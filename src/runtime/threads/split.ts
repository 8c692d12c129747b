/**
 * The vocabulary of a kernel split, shared by parallel.ts and the kernel families split in their
 * own files (parallel-i8.ts): how a part's arguments are derived, the splitter's signature, and
 * the helpers the shifters and cut choices use.
 */

/**
 * Argument shifters: write into `d` the arguments of the sub-call over units [s, s + n) of `f`,
 * which is part `p` of the split (0 runs on the caller).
 */
export type Shift = (d: number[], f: number[], s: number, n: number, p: number) => void;
/** parallelKernels' splitter, handed to the kernel families split in their own files. */
export type Fan = (fn: (...a: number[]) => void, kernel: number, argc: number, total: number, align: number, shift: Shift, what: string) => boolean;

/** A part's arguments start as the whole call's. */
export function copy(d: number[], f: number[]): void {
  for (let i = 0; i < f.length; i++) d[i] = f[i]!;
}

/** The share of `units` equal units that the largest of `threads` parts gets. */
export function largestShare(units: number, threads: number): number {
  return Math.ceil(units / threads) / units;
}
