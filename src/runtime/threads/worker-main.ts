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
 * `args` is a Float64Array: slot w's item is at args[w * 32]: [kind, memoryId, kernelId, argc, ...].
 * kind 1 runs kernels[kernelId](...args) on the instance attached to memoryId; kind 2 returns to
 * the event loop so that postMessage'd attach / detach requests can be handled; kind 3 exits.
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

  let ctrl: Int32Array;
  let args: Float64Array;
  let slot = 0;
  let seen = 0;
  let names: string[] = [];
  const instances = new Map<number, Array<(...a: number[]) => unknown>>();
  const argv: number[][] = [];

  function done(): void {
    if (Atomics.sub(ctrl, 0, 1) === 1) Atomics.notify(ctrl, 0);
  }

  /** Serves work items until told to yield (returns true) or exit (returns false). */
  function serve(): boolean {
    const word = 8 + slot;
    for (;;) {
      const seq = Atomics.load(ctrl, word);
      if (seq === seen) { Atomics.wait(ctrl, word, seq); continue; }
      seen = seq;
      const base = slot * 32;
      const kind = args[base]!;
      if (kind === 2) { done(); return true; }
      if (kind === 3) { done(); return false; }
      try {
        const fns = instances.get(args[base + 1]!)!;
        const argc = args[base + 3]!;
        let a = argv[argc];
        if (!a) a = argv[argc] = new Array<number>(argc).fill(0);
        for (let i = 0; i < argc; i++) a[i] = args[base + 4 + i]!;
        fns[args[base + 2]!]!(...a);
      } catch {
        Atomics.store(ctrl, 1, 1);
      }
      done();
    }
  }

  listen((raw) => {
    const m = raw as { type: string; id?: number; module?: WebAssembly.Module; memory?: WebAssembly.Memory;
      ctrl?: SharedArrayBuffer; args?: SharedArrayBuffer; slot?: number; names?: string[] };
    if (m.type === 'start') {
      ctrl = new Int32Array(m.ctrl!);
      args = new Float64Array(m.args!);
      slot = m.slot!;
      names = m.names!;
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
    if (!serve()) {
      if (nodePort) (nodePort as unknown as { close(): void }).close();
      else (g as { close(): void }).close();
    }
  });
}

/** The worker's whole program as text. */
export const workerSource = `(${workerMain.toString()})();`;
