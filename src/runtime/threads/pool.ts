/**
 * The process's worker pool. Started by the first session that asks for threads, shared by every
 * session after it, shut down when the last one is released; its threads never keep a Node process
 * alive (they are unref'd). Each session's shared memory is attached to every thread, which
 * instantiates the kernels over it once; a work item then names (memory, kernel, arguments).
 *
 * Hand-off is through a SharedArrayBuffer (protocol in worker-main.ts): writing an item and
 * notifying one word, so the latency is a futex wake, not a message. The caller runs its own part
 * of a split and then sleeps until the pending count reaches 0.
 */
import { TesseraError } from '../../api/errors.js';
import { type PoolWorker, threadHost } from './host.js';

/** Kernels a work item may name, by index. */
export const POOL_KERNELS = ['gemm_f32', 'unary_f32'] as const;
export type PoolKernel = (typeof POOL_KERNELS)[number];

export const MAX_WORKERS = 31;
const SLOT = 32; // Float64s per work item
const PENDING = 0, FAILED = 1, SEQ = 8;
const RUN = 1, YIELD = 2, EXIT = 3;

export class Pool {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(4 * (SEQ + MAX_WORKERS + 1)));
  private readonly args = new Float64Array(new SharedArrayBuffer(8 * SLOT * (MAX_WORKERS + 1)));
  private readonly workers: PoolWorker[] = [];
  private readonly memories = new Map<number, { module: WebAssembly.Module; memory: WebAssembly.Memory }>();
  private nextId = 1;
  private growing: Promise<void> = Promise.resolve();
  /** Sessions using the pool, counted from the moment they ask (so a join in progress keeps it). */
  users = 0;
  /** Work items handed to threads so far (diagnostics: proves a split happened). */
  itemsHanded = 0;
  private readonly canBlock = canBlockHere();

  get size(): number { return this.workers.length; }

  /** Starts threads until there are `n`; resolves once each has started. */
  ensureWorkers(n: number): Promise<void> {
    // After a failed start the chain goes on: a later session may still start threads.
    this.growing = this.growing.catch(() => {}).then(async () => {
      const fresh: PoolWorker[] = [];
      try {
        while (this.workers.length + fresh.length < n) fresh.push(await this.startWorker(this.workers.length + fresh.length));
      } catch (e) {
        fresh.forEach((w) => w.terminate());
        throw e;
      }
      const first = this.workers.length;
      this.workers.push(...fresh);
      for (const [id, m] of this.memories) this.exchange({ type: 'attach', id, ...m }, first);
    });
    return this.growing;
  }

  private startWorker(slot: number): Promise<PoolWorker> {
    const host = threadHost();
    if (!host) return Promise.reject(new TesseraError('WASM_UNAVAILABLE', 'this platform cannot start threads'));
    const w = host.spawn();
    return new Promise((resolve, reject) => {
      w.onMessage((m) => { if ((m as { type?: string }).type === 'ack') resolve(w); });
      w.onError((e) => reject(new TesseraError('WASM_UNAVAILABLE', `a worker thread failed to start: ${(e as Error)?.message ?? e}`, { cause: e })));
      w.postMessage({ type: 'start', ctrl: this.ctrl.buffer, args: this.args.buffer, slot, names: POOL_KERNELS });
    });
  }

  /** Makes a session's memory known to every thread; returns its id for work items. */
  attach(module: WebAssembly.Module, memory: WebAssembly.Memory): number {
    const id = this.nextId++;
    this.memories.set(id, { module, memory });
    this.exchange({ type: 'attach', id, module, memory });
    return id;
  }

  detach(id: number): void {
    if (!this.memories.delete(id)) return;
    this.exchange({ type: 'detach', id });
  }

  /**
   * Posts a message to threads `from`.. and yields each of them to its event loop to read it. Each
   * yield is consumed before this returns, so no later work item can overwrite an unread one.
   */
  private exchange(message: unknown, from = 0): void {
    const n = this.workers.length - from;
    if (n <= 0) return;
    for (let w = from; w < this.workers.length; w++) this.workers[w]!.postMessage(message);
    Atomics.store(this.ctrl, PENDING, n);
    for (let w = from; w < this.workers.length; w++) this.hand(w, YIELD);
    this.wait();
  }

  /** Starts a split: `items` work items will be handed out before wait(). */
  begin(items: number): void {
    Atomics.store(this.ctrl, PENDING, items);
  }

  /** Writes a kernel call into thread w's slot and wakes it; `argv` are the kernel's arguments. */
  run(w: number, memoryId: number, kernel: number, argv: ArrayLike<number>, argc: number): void {
    const base = w * SLOT;
    const a = this.args;
    a[base + 1] = memoryId;
    a[base + 2] = kernel;
    a[base + 3] = argc;
    for (let i = 0; i < argc; i++) a[base + 4 + i] = argv[i]!;
    this.itemsHanded++;
    this.hand(w, RUN);
  }

  private hand(w: number, kind: number): void {
    this.args[w * SLOT] = kind;
    Atomics.add(this.ctrl, SEQ + w, 1); // a release: the item written above is visible first
    Atomics.notify(this.ctrl, SEQ + w, 1);
  }

  /** Blocks until every handed item is done (spinning where the thread may not block). */
  wait(): void {
    const c = this.ctrl;
    for (;;) {
      const p = Atomics.load(c, PENDING);
      if (p === 0) break;
      if (this.canBlock) Atomics.wait(c, PENDING, p);
    }
    if (Atomics.load(c, FAILED)) {
      Atomics.store(c, FAILED, 0);
      throw new TesseraError('INTERNAL', 'A kernel failed on a worker thread (this is a tessera bug: please report the model)');
    }
  }

  shutdown(): void {
    this.memories.clear();
    for (let w = 0; w < this.workers.length; w++) this.hand(w, EXIT);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}

/** A browser's main thread may not Atomics.wait; workers and Node's main thread may. */
function canBlockHere(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

let current: Pool | undefined;

/** One session's share of the pool: `workers` threads besides the caller, over one memory. */
export interface Team {
  readonly pool: Pool;
  readonly memoryId: number;
  readonly workers: number;
  leave(): void;
}

export async function joinPool(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<Team> {
  const pool = current ??= new Pool();
  pool.users++;
  let left = false;
  const leave = () => {
    if (left) return;
    left = true;
    if (--pool.users > 0) return;
    if (current === pool) current = undefined;
    pool.shutdown();
  };
  try {
    await pool.ensureWorkers(Math.min(threads - 1, MAX_WORKERS));
    if (pool.size === 0) throw new TesseraError('INTERNAL', 'the thread pool has no threads');
  } catch (e) {
    leave();
    throw e;
  }
  const memoryId = pool.attach(module, memory);
  return {
    pool, memoryId, workers: Math.min(threads - 1, pool.size),
    leave() { if (!left) pool.detach(memoryId); leave(); },
  };
}

/** Threads running in this process's pool (0 when none) and items handed to them: diagnostics. */
export function poolStats(): { threads: number; itemsHanded: number; sessions: number } {
  return { threads: current?.size ?? 0, itemsHanded: current?.itemsHanded ?? 0, sessions: current?.users ?? 0 };
}
