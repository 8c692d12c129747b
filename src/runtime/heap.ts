/**
 * A first-fit allocator over one session's Wasm memory. It hands out blocks for weights, packed
 * weights, plan constants and the activation arena; runs never call it. Blocks are 64-byte
 * aligned and followed by 16 bytes of slack, because kernels may over-read by up to 16 bytes.
 */
import { TesseraError } from '../api/errors.js';

const ALIGN = 64;
const SLACK = 16;
const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE; // 4 GiB: the wasm32 limit

interface Block { start: number; size: number }

export function alignUp(n: number, a = ALIGN): number {
  return Math.ceil(n / a) * a;
}

export class Heap {
  private free: Block[] = [];
  private top: number;
  private readonly limit: number;
  private used = 0;
  private peak = 0;

  constructor(private readonly memory: WebAssembly.Memory, private readonly base: number, maxBytes = MAX_BYTES) {
    // NaN would disable every check below (x > NaN is false): refuse it with the rest.
    if (typeof maxBytes !== 'number' || !(maxBytes > 0)) {
      throw new TesseraError('INVALID_ARGUMENT', `maxMemoryBytes must be a positive number of bytes, got ${String(maxBytes)}`);
    }
    this.top = alignUp(Math.max(base, ALIGN));
    this.limit = Math.min(maxBytes, MAX_BYTES);
  }

  /** Bytes handed out and not yet freed. */
  get bytesInUse(): number { return this.used; }
  /**
   * The highest address ever handed out: the part of Wasm memory this heap has touched (memory
   * grows ahead of it, but untouched pages cost no physical memory), which never goes down.
   */
  get highWaterBytes(): number { return this.peak; }
  get memoryBytes(): number { return this.memory.buffer.byteLength; }
  /** The most this heap may ever hand out: maxMemoryBytes or the 4 GiB of wasm32, less what it starts at. */
  get capacityBytes(): number { return this.limit - alignUp(Math.max(this.base, ALIGN)); }

  alloc(bytes: number, what = 'tensor'): number {
    const size = alignUp(Math.max(bytes, 1) + SLACK);
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      if (b.size >= size) {
        const start = b.start;
        if (b.size === size) this.free.splice(i, 1);
        else { b.start += size; b.size -= size; }
        this.used += size;
        this.sizes.set(start, size);
        return start;
      }
    }
    const start = this.top;
    const end = start + size;
    if (end > this.limit) {
      throw new TesseraError('OUT_OF_MEMORY',
        `Allocating ${formatBytes(bytes)} for ${what} would need ${formatBytes(end)} of Wasm memory, over the limit of ${formatBytes(this.limit)}`);
    }
    this.ensure(end);
    this.top = end;
    if (end > this.peak) this.peak = end;
    this.used += size;
    this.sizes.set(start, size);
    return start;
  }

  private readonly sizes = new Map<number, number>();

  /** Bytes the block at `ptr` may hold (its size less the over-read slack), 0 if not allocated. */
  capacityOf(ptr: number): number {
    const size = this.sizes.get(ptr);
    return size === undefined ? 0 : size - SLACK;
  }

  /**
   * Gives back the tail of the block at `ptr` past `bytes` (a packed weight written over its
   * source when it came out smaller), so that later allocations can use it.
   */
  shrink(ptr: number, bytes: number): void {
    const size = this.sizes.get(ptr);
    const keep = alignUp(Math.max(bytes, 1) + SLACK);
    if (size === undefined || keep >= size) return;
    this.sizes.set(ptr, keep);
    this.sizes.set(ptr + keep, size - keep);
    this.release(ptr + keep);
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    this.used -= size;
    if (ptr + size === this.top) {
      this.top = ptr;
      // Fold a free block that now touches the top back into it.
      const last = this.free[this.free.length - 1];
      if (last && last.start + last.size === this.top) { this.top = last.start; this.free.pop(); }
      return;
    }
    let i = 0;
    while (i < this.free.length && this.free[i]!.start < ptr) i++;
    this.free.splice(i, 0, { start: ptr, size });
    // Coalesce with neighbours so the arena can be re-sized in place later.
    const prev = this.free[i - 1];
    const cur = this.free[i]!;
    const next = this.free[i + 1];
    if (next && cur.start + cur.size === next.start) { cur.size += next.size; this.free.splice(i + 1, 1); }
    if (prev && prev.start + prev.size === cur.start) { prev.size += cur.size; this.free.splice(i, 1); }
  }

  /**
   * Grows Wasm memory now so that `bytes` more can be allocated above what is in use without
   * growing again (in one step instead of many); memory not yet written costs nothing physical.
   */
  reserve(bytes: number): void {
    // Best effort: where the engine refuses, allocations grow it as they come (and fail there).
    try { this.ensure(Math.min(this.top + alignUp(bytes), this.limit)); } catch { /* grown on demand */ }
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    // Grow geometrically so that a sequence of allocations costs few grows.
    const want = Math.min(Math.max(end, have + (have >> 2)), this.limit);
    try {
      this.memory.grow(Math.ceil((want - have) / PAGE));
    } catch (e) {
      throw new TesseraError('OUT_OF_MEMORY', `The engine refused to grow Wasm memory to ${formatBytes(want)}`, { cause: e });
    }
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
