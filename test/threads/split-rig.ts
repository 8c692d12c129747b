/**
 * The rig the kernel-by-kernel split tests share: one threaded kernel instance, a bump allocator
 * in its memory, and the parallel kernel tables at 2, 3 and 1 threads over a pool of two workers.
 * `same` runs a call with the plain table and with each parallel one and demands the same output
 * bytes, and the same canary after them, every time.
 */
import { expect } from 'vitest';
import '../../src/index.js'; // installs the Node platform (kernel files, threads)
import type { Kernels } from '../../src/runtime/kernels.js';
import { instantiateKernels } from '../../src/runtime/wasm.js';
import { joinPool, parallelKernels, poolStats, type Team } from '../../src/runtime/threads/index.js';

/** Bytes after each output that no split may touch. */
const CANARY = 64;

export interface SplitTable {
  threads: number;
  k: Kernels;
}

export class SplitRig {
  k!: Kernels;
  memory!: WebAssembly.Memory;
  readonly tables: SplitTable[] = [];
  private team!: Team;
  private next = 0;

  async start(): Promise<void> {
    const inst = await instantiateKernels(64, undefined, true);
    this.k = inst.kernels;
    this.memory = inst.memory;
    this.next = Math.ceil(Math.max(this.k.heap_base(), 1024) / 64) * 64;
    this.team = await joinPool(inst.module, this.memory, 3);
    expect(this.team.workers).toBe(2);
    this.tables.push({ threads: 2, k: parallelKernels(this.k, { ...this.team, workers: 1 }) });
    this.tables.push({ threads: 3, k: parallelKernels(this.k, this.team) });
    // One thread: the table is the wrapper, and nothing is handed to the pool.
    this.tables.push({ threads: 1, k: parallelKernels(this.k, { ...this.team, workers: 0 }) });
  }

  leave(): void {
    this.team.leave();
  }

  /** `bytes` (+ a canary) of fresh memory, 64-byte aligned; memory grows as needed. */
  alloc(bytes: number): number {
    const p = this.next;
    this.next += Math.ceil((bytes + CANARY) / 64) * 64;
    const need = Math.ceil(this.next / 65536) - this.memory.buffer.byteLength / 65536;
    if (need > 0) this.memory.grow(need);
    return p;
  }

  /** n seeded floats in [lo, hi) at p. */
  randomF32(p: number, n: number, seed: number, lo = -2, hi = 2): void {
    const f = new Float32Array(this.memory.buffer, p, n), r = lcg(seed);
    for (let i = 0; i < n; i++) f[i] = lo + r() * (hi - lo);
  }

  /** n seeded bytes at p. */
  randomBytes(p: number, n: number, seed: number): void {
    const b = new Uint8Array(this.memory.buffer, p, n), r = lcg(seed);
    for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  }

  /**
   * Runs `call` with the plain table and each parallel one. The `n` bytes at `out` are poisoned
   * with a NaN pattern before each call (so an element a split forgets shows) and must then match
   * the plain call's bit for bit, canary included; `handed(threads, items)` checks how many items
   * went to the pool. Returns the plain call's bytes.
   */
  same(out: number, n: number, call: (kt: Kernels) => void, handed: (threads: number, items: number) => void): Buffer {
    this.poison(out, n);
    call(this.k);
    const want = this.bytes(out, n);
    for (const t of this.tables) {
      this.poison(out, n);
      const before = poolStats().itemsHanded;
      call(t.k);
      handed(t.threads, poolStats().itemsHanded - before);
      expect(this.bytes(out, n).equals(want), `bit-identical at ${t.threads} threads`).toBe(true);
    }
    return want;
  }

  /** n bytes at p (+ the canary) set to a NaN pattern. */
  poison(p: number, n: number): void {
    new Uint32Array(this.memory.buffer, p, Math.ceil(n / 4) + CANARY / 4).fill(0x7fc0dead);
  }

  /** A copy of n bytes at p and the canary after them. */
  bytes(p: number, n: number): Buffer {
    return Buffer.from(new Uint8Array(this.memory.buffer, p, n + CANARY).slice());
  }
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
