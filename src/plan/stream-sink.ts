/**
 * Where a streamed load puts each large initializer's bytes (see onnx/stream-walk.ts). From a file
 * they are skipped and read later by offset straight into the block the load step allocates; from a
 * stream (a download) they are copied as they arrive into a heap block of the session's engine,
 * which the load step then adopts as the initializer's home — one copy, in Wasm memory, never a
 * second one in JavaScript. Blocks no initializer adopted (a fusion replaced the weight) are freed
 * once loading is over.
 */
import { TesseraError } from '../api/errors.js';
import type { RawSink } from '../onnx/stream-walk.js';
import type { ResidentBlock } from '../onnx/streamed-raw.js';
import type { Engine } from '../runtime/engine.js';
import { formatBytes } from '../runtime/heap.js';

const label = (name: string | undefined) => `initializer${name ? ` '${name}'` : ''}`;

/** Large initializers of a file: skipped now, read by offset when the load step writes them. */
export function fileSink(readAt: (dest: Uint8Array, offset: number) => void): RawSink {
  return {
    raw({ offset, length, where }) {
      // Subgraph initializers may be read after the file is closed (at plan time): keep them.
      if (where !== 'initializer') return undefined;
      return { kind: 'seek', entry: { length, readInto: (dest) => readAt(dest, offset), readRange: (dest, at) => readAt(dest, offset + at) } };
    },
  };
}

/** A RawSink writing into an engine's heap, and the freeing of what no initializer adopted. */
export type ResidentSink = RawSink & { releaseUnadopted(): void };

/** Large initializers of a stream: written as they arrive into heap blocks of `engine`. */
export function residentSink(engine: Engine): ResidentSink {
  const blocks: (ResidentBlock & { freed?: boolean })[] = [];
  let streamed = 0;
  return {
    raw({ length, tensor, where }) {
      if (where !== 'initializer') return undefined;
      let ptr: number;
      try {
        ptr = engine.heap.alloc(length, label(tensor.name));
      } catch (e) {
        if (!(e instanceof TesseraError) || e.code !== 'OUT_OF_MEMORY') throw e;
        throw new TesseraError('OUT_OF_MEMORY',
          `The model's weights need more than the session's Wasm memory can hold (wasm32 allows 4 GiB; maxMemoryBytes may lower it): ` +
          `after ${formatBytes(streamed)} of weights, ${label(tensor.name)} needs ${formatBytes(length)} more. ${e.message}`, { cause: e });
      }
      streamed += length;
      const block: ResidentBlock & { freed?: boolean } = { owner: engine, ptr, bytes: length };
      blocks.push(block);
      return {
        kind: 'write',
        entry: {
          length,
          resident: block,
          readInto(dest) {
            if (block.freed) throw new TesseraError('INTERNAL', `${label(tensor.name)} was read after loading freed its streamed copy`);
            dest.set(new Uint8Array(engine.memory.buffer, ptr, length));
          },
        },
        // A fresh view per chunk: the heap may have grown (detaching older views) since the last one.
        write: (bytes, at) => new Uint8Array(engine.memory.buffer, ptr + at, bytes.length).set(bytes),
      };
    },
    releaseUnadopted() {
      for (const b of blocks) if (!b.adopted && !b.freed) { b.freed = true; engine.heap.release(b.ptr); }
    },
  };
}
