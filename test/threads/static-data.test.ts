/**
 * Why one module can be instantiated by every thread over one memory: the kernels never write
 * below __heap_base (their static data: read-only math tables; the stub runtime has no shadow
 * stack), and a thread instantiating rewrites those bytes with the same values. Checked on a
 * running threaded session: the static region is byte-for-byte the same before and after runs
 * whose work was split across the pool, and after more threads instantiated over it.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { poolStats } from '../../src/runtime/threads/index.js';
import { batchOf, heldout, mnistModel } from '../helpers/mnist.js';

interface EngineInside { memory: WebAssembly.Memory; kernels: { heap_base(): number } }

describe('the threads build over one shared memory', () => {
  it('keeps the static data region unchanged while threads run kernels and attach', async () => {
    const s = await InferenceSession.create(mnistModel(), { threads: 2 });
    const engine = (s as unknown as { engine: EngineInside }).engine; // private, reached on purpose
    expect(engine.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    const end = engine.kernels.heap_base();
    expect(end).toBeGreaterThan(1024); // there is static data to check
    const snapshot = () => new Uint8Array(engine.memory.buffer, 0, end).slice();
    const before = snapshot();
    const data = heldout();
    const handed = poolStats().itemsHanded;
    await s.run({ input: new Tensor('float32', batchOf(data.images, 0, 64), [64, 1, 28, 28]) });
    expect(poolStats().itemsHanded).toBeGreaterThan(handed);
    // More threads join the pool and instantiate over this memory too.
    const other = await InferenceSession.create(mnistModel(), { threads: 3 });
    await s.run({ input: new Tensor('float32', batchOf(data.images, 64, 64), [64, 1, 28, 28]) });
    expect(Buffer.from(snapshot()).equals(Buffer.from(before))).toBe(true);
    await other.release();
    await s.release();
  });
});
