/**
 * How this platform starts threads: registered by the entry's platform file (Node: worker_threads;
 * browsers: Web Workers from a Blob URL). Cloudflare Workers register none: workerd cannot start
 * threads, so sessions there run on one.
 */
export interface PoolWorker {
  postMessage(message: unknown): void;
  /** Called once if the thread fails to start or dies of an error. */
  onError(f: (e: unknown) => void): void;
  /** Called once when the thread has stopped, for whatever reason (where the platform says so). */
  onExit?(f: (code: number) => void): void;
  onMessage(f: (m: unknown) => void): void;
  terminate(): void;
}

export interface ThreadHost {
  /** Why threads cannot run here (e.g. a page that is not cross-origin isolated), or undefined. */
  unavailable(): string | undefined;
  /** Cores this process may use. */
  cores(): number;
  /** Starts a pool thread (worker-main.ts); it must never keep the process alive on its own. */
  spawn(): PoolWorker;
}

let host: ThreadHost | undefined;

export function setThreadHost(h: ThreadHost | undefined): void {
  host = h;
}

export function threadHost(): ThreadHost | undefined {
  return host;
}
