// convert_i32_f32 (assembly/convert.ts, the int32 → float32 Cast) against JavaScript's own
// conversion (an int32 stored into a Float32Array: round to nearest even): values that float32
// holds exactly, values past 2^24 that round (ties both ways), the int32 extremes, lengths around
// the 8-value step, and canary bytes after the output.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, Heap, loadModule, rng, WASM } from './harness';

let heap: Heap;
beforeAll(() => { ensureBuilt(); heap = new Heap(loadModule(WASM.simd)); });

describe('convert_i32_f32', () => {
  const special = [0, 1, -1, 16777216, 16777217, 16777218, 16777219, -16777217, -16777219, 33554435, 2147483647, -2147483648, 2147483520, 2147483584, -2147483584];
  for (const n of [0, 1, 7, 8, 9, 15, 16, 17, 100]) {
    it(`${n} values equal JavaScript's Float32Array conversion`, () => {
      heap.reset();
      const r = rng(n + 1);
      const src = Int32Array.from({ length: n }, (_, i) => i < special.length ? special[i]! : Math.floor((r() * 2 - 1) * 2 ** 31));
      const ps = heap.alloc(n), pd = heap.alloc(n);
      new Int32Array(heap.memory.buffer, ps, n).set(src);
      heap.k.convert_i32_f32(ps, pd, n);
      expect(heap.checkCanaries()).toBeNull();
      expect(Array.from(heap.get(pd, n))).toEqual(Array.from(Float32Array.from(src)));
    });
  }
});
