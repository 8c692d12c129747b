/**
 * The body of every pool thread. Node runs it as source text (`workerSource`) from a data: URL, so
 * the Node bundle needs no file beside it; browsers load dist/browser/pool-worker.js, which calls
 * it. As text it must reference nothing outside itself.
 *
 * Protocol (see pool.ts for the caller's side). `ctrl` is an Int32Array over a SharedArrayBuffer:
 *   ctrl[0]            PENDING: work items not yet finished; whoever brings it to 0 notifies it
 *   ctrl[1]            FAILED: set to 1 when a kernel threw
 *   ctrl[8 + w]        slot w's sequence number; the caller bumps it (after writing the item) to
 *                      hand thread w one item, and notifies that word
 *   ctrl[busy + w]     1 while slot w holds an unfinished item (set by the caller, cleared here)
 *   ctrl[dead + w]     set to 1 by a thread that is dying (its last JS), then PENDING is notified
 *                      so that a caller blocked on it looks
 * `args` is a Float64Array: slot w's item is at args[w * 32]: [kind, memoryId, kernelId, argc, ...].
 * kind 1 runs kernels[kernelId](...args) on the instance attached to memoryId; kind 2 returns to
 * the event loop so that postMessage'd attach / detach requests can be handled; kind 3 exits;
 * kinds 4 and 5 are test hooks (pool.failNextItem): die by an uncaught error, or go silent forever.
 * Idle threads sleep in Atomics.wait on their slot word, so a hand-off costs one notify.
 */
export function workerMain(): void {
  type Port = { postMessage(m: unknown): void; on?: (e: string, f: (m: unknown) => void) => void };
  // Node: worker_threads' parentPort, which the Node host's prologue leaves here; browsers: self.
  const g = globalThis as unknown as Record<string, unknown>;
  const nodePort = g.__tesseraParentPort as Port | undefined;
  const post = (m: unknown) => (nodePort ?? (g as unknown as Port)).postMessage(m);
  const listen = (f: (m: unknown) => void) => {
    if (nodePort) nodePort.on!('message', f);
    else (g as { onmessage: unknown }).onmessage = (e: { data: unknown }) => f(e.data);
  };

  let ctrl: Int32Array | undefined;
  let args: Float64Array;
  let slot = 0;
  let seen = 0;
  let busy = 0, dead = 0;
  let names: string[] = [];
  let exiting = false;
  const SPIN = 10000; // ~50–100 µs of polling: most gaps between a run's splits are shorter
  const instances = new Map<number, Array<(...a: number[]) => unknown>>();
  const argv: number[][] = [];

  function done(): void {
    Atomics.store(ctrl!, busy + slot, 0);
    if (Atomics.sub(ctrl!, 0, 1) === 1) Atomics.notify(ctrl!, 0);
  }

  /** This thread is going away: say so where a caller blocked on PENDING will look. */
  function markDead(): void {
    if (!ctrl || exiting) return;
    Atomics.store(ctrl, dead + slot, 1);
    Atomics.notify(ctrl, 0);
  }
  // Node runs process 'exit' listeners in a worker that calls process.exit or dies of an uncaught
  // error; browsers fire 'error' on the worker's global scope for an uncaught error.
  const proc = g.process as { on?(e: string, f: () => void): void } | undefined;
  if (nodePort && proc?.on) proc.on('exit', markDead);
  else (g as { addEventListener?(e: string, f: () => void): void }).addEventListener?.('error', markDead);

  /** Serves work items until told to yield (returns true) or exit (returns false). */
  function serve(): boolean {
    const c = ctrl!;
    const word = 8 + slot;
    for (;;) {
      let seq = Atomics.load(c, word);
      // Splits come in bursts (one per kernel call of a run): look a little before sleeping, so
      // the next item costs no futex wake-up (~10–50 µs each).
      for (let spin = 0; seq === seen && spin < SPIN; spin++) seq = Atomics.load(c, word);
      if (seq === seen) { Atomics.wait(c, word, seq); continue; }
      seen = seq;
      const base = slot * 32;
      const kind = args[base]!;
      if (kind === 2) { done(); return true; }
      if (kind === 3) { exiting = true; done(); return false; }
      if (kind === 4) throw new Error('test hook: a pool thread dies in the middle of a split');
      if (kind === 5) for (;;) Atomics.wait(c, word, Atomics.load(c, word)); // silent until terminated
      try {
        const fns = instances.get(args[base + 1]!)!;
        const argc = args[base + 3]!;
        let a = argv[argc];
        if (!a) a = argv[argc] = new Array<number>(argc).fill(0);
        for (let i = 0; i < argc; i++) a[i] = args[base + 4 + i]!;
        fns[args[base + 2]!]!(...a);
      } catch {
        Atomics.store(c, 1, 1);
      }
      done();
    }
  }

  listen((raw) => {
    const m = raw as { type: string; id?: number; module?: WebAssembly.Module; memory?: WebAssembly.Memory;
      ctrl?: SharedArrayBuffer; args?: SharedArrayBuffer; slot?: number; names?: string[]; busy?: number; dead?: number };
    if (m.type === 'start') {
      ctrl = new Int32Array(m.ctrl!);
      args = new Float64Array(m.args!);
      slot = m.slot!;
      names = m.names!;
      busy = m.busy!;
      dead = m.dead!;
      seen = Atomics.load(ctrl, 8 + slot);
    } else if (m.type === 'attach') {
      const abort = () => { throw new Error('kernel abort'); };
      const inst = new WebAssembly.Instance(m.module!, { env: { memory: m.memory!, abort } });
      const exp = inst.exports as Record<string, (...a: number[]) => unknown>;
      instances.set(m.id!, names.map((n) => exp[n]!));
    } else if (m.type === 'detach') {
      instances.delete(m.id!);
    }
    post({ type: 'ack', slot });
    let more: boolean;
    try {
      more = serve();
    } catch (e) {
      markDead(); // a browser worker outlives an uncaught error, but this slot is no longer served
      throw e;
    }
    if (!more) {
      if (nodePort) (nodePort as unknown as { close(): void }).close();
      else (g as { close(): void }).close();
    }
  });
}

/** The worker's whole program as text. */
export const workerSource = `(${workerMain.toString()})();`;
