/**
 * Threads for a session: what `threads: N | 'auto'` resolves to here, and a team from the pool.
 * Where threads were asked for but cannot run (no SharedArrayBuffer, a page without cross-origin
 * isolation, Cloudflare Workers), the session runs on one thread and says so once on the console:
 * the same code must keep working when deployed without COOP/COEP headers.
 */
import { TesseraError } from '../../api/errors.js';
import { threadHost } from './host.js';
import { MAX_WORKERS } from './pool.js';

/** 'auto' uses the cores this process may use, up to this many. */
export const AUTO_THREADS_CAP = 4;

export type ThreadsOption = number | 'auto';

/** Why threads cannot run in this environment, or undefined where they can. */
export function threadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') {
    return 'SharedArrayBuffer is not available (a browser page must be cross-origin isolated: serve it with COOP: same-origin and COEP: require-corp)';
  }
  const host = threadHost();
  if (!host) return 'this platform cannot start worker threads (Cloudflare Workers run one thread per request)';
  return host.unavailable();
}

const warned = new Set<string>();

/** The thread count a session will use: validates the option, falls back to 1 with a warning. */
export function resolveThreads(option: ThreadsOption | undefined): number {
  if (option === undefined) return 1;
  let n: number;
  if (option === 'auto') {
    const host = threadsUnavailable() ? undefined : threadHost();
    n = host ? Math.max(1, Math.min(host.cores(), AUTO_THREADS_CAP)) : 1;
  } else if (typeof option === 'number' && Number.isInteger(option) && option >= 1 && option <= MAX_WORKERS + 1) {
    n = option;
  } else {
    throw new TesseraError('INVALID_ARGUMENT', `threads must be an integer from 1 to ${MAX_WORKERS + 1} or 'auto', got ${typeof option === 'string' ? `'${option}'` : String(option)}`);
  }
  if (n === 1) return 1;
  const why = threadsUnavailable();
  if (why) {
    if (!warned.has(why)) {
      warned.add(why);
      console.warn(`tessera: threads: ${option} requested, running on one thread: ${why}`);
    }
    return 1;
  }
  return n;
}

export { currentPool, joinPool, poolStats, type Team } from './pool.js';
export { parallelKernels } from './parallel.js';
export { setThreadHost, type ThreadHost, type PoolWorker } from './host.js';
