import type { Heap } from '../harness';

/** One named check: runs on a fresh heap, returns an error message or null. */
export interface Case { name: string; run(h: Heap): string | null; }
