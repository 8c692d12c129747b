/**
 * The pool's life: started by the first session that asks for threads, shared by the next, shut
 * down when the last one is released, restarted on demand; it never keeps a Node process alive;
 * bad `threads` values are refused by name.
 */
import { execFileSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import { InferenceSession, Tensor, TesseraError } from '../../src/index.js';
import { AUTO_THREADS_CAP, poolStats, setThreadHost } from '../../src/runtime/threads/index.js';
import { threadHost } from '../../src/runtime/threads/host.js';
import { mnistModel } from '../helpers/mnist.js';
import { root } from '../platforms/helpers.js';

describe('the thread pool', () => {
  it('is shared by sessions, stops with the last release and starts again', async () => {
    expect(poolStats().threads).toBe(0);
    const one = await InferenceSession.create(mnistModel());
    expect(one.threads).toBe(1);
    expect(poolStats().threads).toBe(0); // one thread never starts the pool
    const a = await InferenceSession.create(mnistModel(), { threads: 2 });
    const b = await InferenceSession.create(mnistModel(), { threads: 3 });
    expect(poolStats()).toMatchObject({ threads: 2, sessions: 2 });
    await a.release();
    expect(poolStats()).toMatchObject({ threads: 2, sessions: 1 });
    await b.release();
    expect(poolStats()).toMatchObject({ threads: 0, sessions: 0 });
    const c = await InferenceSession.create(mnistModel(), { threads: 2 });
    expect(poolStats()).toMatchObject({ threads: 1, sessions: 1 });
    await c.release();
    await one.release();
    expect(poolStats().threads).toBe(0);
  });

  it('leaves the pool when a session is dropped without release()', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await (async () => {
      const s = await InferenceSession.create(mnistModel(), { threads: 2 });
      await s.run({ input: new Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) });
      expect(poolStats().sessions).toBe(1);
    })();
    for (let i = 0; i < 20 && poolStats().sessions > 0; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(poolStats()).toMatchObject({ threads: 0, sessions: 0 });
  });

  it("'auto' uses the available cores, capped", async () => {
    const s = await InferenceSession.create(mnistModel(), { threads: 'auto' });
    const { availableParallelism } = await import('node:os');
    expect(s.threads).toBe(Math.min(availableParallelism(), AUTO_THREADS_CAP));
    await s.release();
  });

  it.each([0, -1, 1.5, 99, 'many', Number.NaN])('refuses threads: %s', async (threads) => {
    const err = await InferenceSession.create(mnistModel(), { threads: threads as number }).catch((e) => e);
    expect(err).toBeInstanceOf(TesseraError);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/threads must be an integer from 1 to 32 or 'auto'/);
  });

  it('falls back to one thread, with a warning, when a thread dies at start-up', async () => {
    const real = threadHost()!;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    setThreadHost({
      ...real,
      spawn() {
        const w = new Worker('throw new Error("no threads in this sandbox")', { eval: true });
        return { postMessage: (m) => w.postMessage(m), onMessage: (f) => w.on('message', f), onError: (f) => w.once('error', f), terminate: () => void w.terminate() };
      },
    });
    try {
      const s = await InferenceSession.create(mnistModel(), { threads: 2 });
      expect(s.threads).toBe(1);
      expect(warn.mock.calls.flat().join('\n')).toMatch(/threads: 2 requested, running on one thread: .*no threads in this sandbox/);
      const out = await s.run({ input: new Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) });
      expect(out.probabilities!.dims).toEqual([1, 10]);
      await s.release();
      expect(poolStats().threads).toBe(0);
    } finally {
      setThreadHost(real);
      warn.mockRestore();
    }
  });

  it('a failed start leaves the running pool usable: a later session still gets its threads', async () => {
    const real = threadHost()!;
    const keep = await InferenceSession.create(mnistModel(), { threads: 2 });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    setThreadHost({
      ...real,
      spawn() {
        const w = new Worker('throw new Error("refused")', { eval: true });
        return { postMessage: (m) => w.postMessage(m), onMessage: (f) => w.on('message', f), onError: (f) => w.once('error', f), terminate: () => void w.terminate() };
      },
    });
    try {
      const failed = await InferenceSession.create(mnistModel(), { threads: 3 });
      expect(failed.threads).toBe(1);
      await failed.release();
    } finally {
      setThreadHost(real);
      warn.mockRestore();
    }
    const later = await InferenceSession.create(mnistModel(), { threads: 3 });
    expect(later.threads).toBe(3);
    expect(poolStats()).toMatchObject({ threads: 2, sessions: 2 });
    await later.release();
    await keep.release();
    expect(poolStats().threads).toBe(0);
  });

  it('never keeps a Node process alive, released or not', () => {
    // The built package in a child process: a session with threads that is never released, and
    // one that is. Both processes must exit by themselves (execFileSync's timeout fails a hang).
    for (const release of [false, true]) {
      const src = `
        import { InferenceSession, Tensor } from 'tessera';
        const s = await InferenceSession.create('models/mnist/mnist-cnn.onnx', { threads: 2 });
        const out = await s.run({ input: new Tensor('float32', new Float32Array(64 * 784).fill(0.5), [64, 1, 28, 28]) });
        ${release ? 'await s.release();' : ''}
        console.log(JSON.stringify({ threads: s.threads, n: out.probabilities.data.length }));`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', src], { cwd: root, encoding: 'utf8', timeout: 30_000 });
      expect(JSON.parse(out.trim())).toEqual({ threads: release ? 1 : 2, n: 640 });
    }
  });
});
