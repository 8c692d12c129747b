/**
 * The process's worker pool. Started by the first session that asks for threads, shared by every
 * session after it, shut down when the last one is released; its threads never keep a Node process
 * alive (they are unref'd). Each session's shared memory is attached to every thread, which
 * instantiates the kernels over it once; a work item then names (memory, kernel, arguments).
 *
 * Hand-off is through a SharedArrayBuffer (protocol in worker-main.ts): writing an item and
 * notifying one word, so the latency is a futex wake, not a message. The caller runs its own part
 * of a split and then sleeps until the pending count reaches 0.
 *
 * A thread can die mid-split (an uncaught error, process.exit in a worker, an out-of-memory kill,
 * terminate()). The caller is then blocked in Atomics.wait, so the host's 'error'/'exit' events
 * cannot reach it: a dying thread marks its own DEAD word and wakes the caller where it still runs
 * JS (worker-main.ts), and every wait is bounded for the deaths nobody reports. Either way the
 * split throws a TesseraError naming the cause, the pool is closed (`broken`) and its threads
 * stopped; sessions on it go on with one thread, later sessions start a fresh pool. Deaths between
 * runs arrive as host events and close the pool the same way.
 */
import { TesseraError } from '../../api/errors.js';
import { type PoolWorker, threadHost } from './host.js';

/** Kernels a work item may name, by index. */
export const POOL_KERNELS = [
  'gemm_f32', 'unary_f32', 'binary_f32', 'dwconv2d_f32', 'conv2d_direct_f32', 'im2col_packed_f32',
  'im2col_packed_batch_f32', 'channel_affine_f32', 'maxpool2d_f32', 'avgpool2d_f32', 'global_avgpool_f32',
  'global_maxpool_f32', 'softmax_f32', 'log_softmax_f32', 'layernorm_f32', 'col2im_f32', 'reduce_f32',
  'attention_f32', 'add_layernorm_f32',
  'conv2d_im2col_gemm_f32', 'pack_b_f32', 'resize_nearest_32',
  'gemm_i16_dq_f32', 'gemm_i16_i32', 'quantize_pack_a_f32', 'pack_a_i8',
  'gemv_q4_f32_n4', 'gemv_q4_i8_n4', 'gemv_q4x_i8',
  'gemv_q4x_i16',
  'gemv_q8_dq_f32', 'gemm_q8_dq_f32', 'gemm_q8_i32',
  'cached_attention_heads_f32',
  'gemv_nt_f32',
] as const;
export type PoolKernel = (typeof POOL_KERNELS)[number];

export const MAX_WORKERS = 31;
const SLOT = 32; // Float64s per work item
/** Word indices in `ctrl` (worker-main.ts gets BUSY and DEAD in its start message). */
const PENDING = 0, FAILED = 1, SEQ = 8, BUSY = SEQ + MAX_WORKERS + 1, DEAD = BUSY + MAX_WORKERS + 1;
const RUN = 1, YIELD = 2, EXIT = 3, TEST_THROW = 4, TEST_VANISH = 5;
/** How long the caller sleeps before looking again at DEAD words and the clock. */
const SLICE_MS = 50;
/** Polls of PENDING before the caller sleeps (~10–20 µs). */
const SPIN = 2000;

export class Pool {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(4 * (DEAD + MAX_WORKERS + 1)));
  private readonly args = new Float64Array(new SharedArrayBuffer(8 * SLOT * (MAX_WORKERS + 1)));
  private readonly workers: PoolWorker[] = [];
  private readonly memories = new Map<number, { module: WebAssembly.Module; memory: WebAssembly.Memory }>();
  private nextId = 1;
  private growing: Promise<void> = Promise.resolve();
  /** Sessions using the pool, counted from the moment they ask (so a join in progress keeps it). */
  users = 0;
  /** Work items handed to threads so far (diagnostics: proves a split happened). */
  itemsHanded = 0;
  /** Why the pool was closed after a thread died; its sessions then run on the caller alone. */
  broken: string | undefined;
  /**
   * The least time a wait gives threads before it counts one as lost without a word; the bound is
   * this or 200× the caller's own share of the split, whichever is longer. Generous on purpose: a
   * busy machine may deschedule a thread for a while, and a wrong verdict fails a good run.
   */
  waitFloorMs = 10_000;
  private closed = false;
  private testFailure = 0;
  private readonly canBlock = canBlockHere();

  get size(): number { return this.workers.length; }

  /** Starts threads until there are `n`; resolves once each has started. */
  ensureWorkers(n: number): Promise<void> {
    // After a failed start the chain goes on: a later session may still start threads.
    this.growing = this.growing.catch(() => {}).then(async () => {
      if (this.broken) throw new TesseraError('WASM_UNAVAILABLE', `the thread pool was closed: ${this.broken}`);
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
    let started = false;
    Atomics.store(this.ctrl, DEAD + slot, 0);
    Atomics.store(this.ctrl, BUSY + slot, 0);
    return new Promise((resolve, reject) => {
      const died = (why: string, e?: unknown) => {
        if (!started) reject(new TesseraError('WASM_UNAVAILABLE', `a worker thread failed to start: ${why}`, { cause: e }));
        else this.lost(w, slot, why);
      };
      w.onMessage((m) => { if ((m as { type?: string }).type === 'ack' && !started) { started = true; resolve(w); } });
      w.onError((e) => died(describe(e), e));
      w.onExit?.((code) => died(`it exited (code ${code})`));
      w.postMessage({ type: 'start', ctrl: this.ctrl.buffer, args: this.args.buffer, slot, names: POOL_KERNELS, busy: BUSY, dead: DEAD });
    });
  }

  /** A host event says thread `slot` died (between splits: a split in progress cannot see events). */
  private lost(w: PoolWorker, slot: number, why: string): void {
    if (this.closed || this.workers[slot] !== w) return; // stopped by us, or not yet in the pool
    Atomics.store(this.ctrl, DEAD + slot, 1);
    this.close(`worker thread ${slot + 1} died: ${why}`);
  }

  /** Makes a session's memory known to every thread; returns its id for work items. */
  attach(module: WebAssembly.Module, memory: WebAssembly.Memory): number {
    const id = this.nextId++;
    this.memories.set(id, { module, memory });
    this.exchange({ type: 'attach', id, module, memory });
    return id;
  }

  detach(id: number): void {
    if (!this.memories.delete(id) || this.closed) return;
    this.exchange({ type: 'detach', id });
  }

  /**
   * Posts a message to threads `from`.. and yields each of them to its event loop to read it. Each
   * yield is consumed before this returns, so no later work item can overwrite an unread one.
   */
  private exchange(message: unknown, from = 0): void {
    if (this.broken) throw new TesseraError('WASM_UNAVAILABLE', `the thread pool was closed: ${this.broken}`);
    const n = this.workers.length - from;
    if (n <= 0) return;
    for (let w = from; w < this.workers.length; w++) this.workers[w]!.postMessage(message);
    Atomics.store(this.ctrl, PENDING, n);
    for (let w = from; w < this.workers.length; w++) this.hand(w, YIELD);
    this.wait(0, 'a message to the pool threads');
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
    const kind = this.testFailure || RUN;
    this.testFailure = 0;
    this.hand(w, kind);
  }

  private hand(w: number, kind: number): void {
    this.args[w * SLOT] = kind;
    if (kind !== EXIT) Atomics.store(this.ctrl, BUSY + w, 1);
    Atomics.add(this.ctrl, SEQ + w, 1); // a release: the item written above is visible first
    Atomics.notify(this.ctrl, SEQ + w, 1);
  }

  /**
   * Blocks until every handed item is done (spinning where the thread may not block). `ownMs` is
   * how long the caller's own share took, which scales the bound; `what` names the work for errors.
   * Throws if a thread died or went silent: after the live threads finish their items (so none
   * writes into the session's memory later), with the pool closed.
   */
  wait(ownMs: number, what: string): void {
    const c = this.ctrl;
    const bound = Math.max(this.waitFloorMs, 200 * ownMs);
    const deadline = now() + bound;
    for (let spins = 0; ; spins++) {
      const p = Atomics.load(c, PENDING);
      if (p === 0) break;
      if (spins < SPIN) continue; // the last part often ends within microseconds: no futex round trip
      if (this.canBlock) {
        if (Atomics.wait(c, PENDING, p, SLICE_MS) === 'not-equal') continue;
      } else if ((spins & 1023) !== 0) continue;
      const dead = this.busyDead();
      if (dead >= 0) this.fail(`worker thread ${dead + 1} died while running ${what}`, deadline);
      if (now() > deadline) {
        this.fail(`a worker thread did not finish its part of ${what} in ${Math.round(bound)} ms: it was lost without a word (killed, out of memory) or the machine is starved`, deadline);
      }
    }
    if (Atomics.load(c, FAILED)) {
      Atomics.store(c, FAILED, 0);
      throw new TesseraError('INTERNAL', `A kernel failed on a worker thread while running ${what} (this is a tessera bug: please report the model)`);
    }
  }

  /** The first thread that holds an unfinished item and has died, or -1. */
  private busyDead(): number {
    for (let w = 0; w < this.workers.length; w++) {
      if (Atomics.load(this.ctrl, BUSY + w) && Atomics.load(this.ctrl, DEAD + w)) return w;
    }
    return -1;
  }

  private fail(why: string, deadline: number): never {
    // Live threads still inside their items write into the session's memory: let them finish
    // (bounded again) so that nothing lands in the arena after the run has given up.
    const extra = now() + Math.max(this.waitFloorMs, deadline - now());
    for (let w = 0; w < this.workers.length; w++) {
      while (Atomics.load(this.ctrl, BUSY + w) && !Atomics.load(this.ctrl, DEAD + w) && now() < extra) {
        if (this.canBlock) Atomics.wait(this.ctrl, BUSY + w, 1, SLICE_MS);
      }
    }
    Atomics.store(this.ctrl, PENDING, 0);
    Atomics.store(this.ctrl, FAILED, 0);
    this.close(why);
    throw new TesseraError('WASM_UNAVAILABLE', `${why}; the thread pool is closed, this session goes on with one thread and new sessions start a fresh pool`);
  }

  /** Marks the pool broken and stops its threads; the next joinPool makes a new pool. */
  private close(why: string): void {
    this.broken ??= why;
    if (current === this) current = undefined;
    this.shutdown();
  }

  /**
   * Test hook: the next work item makes its thread die, by an uncaught error ('throw': the thread
   * reports it, as a crash does) or by going silent forever ('vanish': what a kill or an
   * out-of-memory abort looks like to the caller, caught only by the bounded wait).
   */
  failNextItem(how: 'throw' | 'vanish'): void {
    this.testFailure = how === 'throw' ? TEST_THROW : TEST_VANISH;
  }

  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.memories.clear();
    for (let w = 0; w < this.workers.length; w++) this.hand(w, EXIT);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

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
  let memoryId: number;
  try {
    await pool.ensureWorkers(Math.min(threads - 1, MAX_WORKERS));
    if (pool.size === 0) throw new TesseraError('INTERNAL', 'the thread pool has no threads');
    memoryId = pool.attach(module, memory);
  } catch (e) {
    leave();
    throw e;
  }
  return {
    pool, memoryId, workers: Math.min(threads - 1, pool.size),
    leave() { if (!left) pool.detach(memoryId); leave(); },
  };
}

/** The pool new sessions would join, if one is running (tests and diagnostics). */
export function currentPool(): Pool | undefined {
  return current;
}

/** Threads running in this process's pool (0 when none) and items handed to them: diagnostics. */
export function poolStats(): { threads: number; itemsHanded: number; sessions: number } {
  return { threads: current?.size ?? 0, itemsHanded: current?.itemsHanded ?? 0, sessions: current?.users ?? 0 };
}
