/**
 * Memory regression guard for loading from a path: a child Node process (so the numbers are its
 * own) loads a generated 64 MB model with the built bundle and runs it once; its peak resident set
 * may grow by at most 1.3× the file. Reading the file whole into JavaScript, then copying it into
 * Wasm memory, as loading did before streaming, peaks at 2×.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DT, model, node, valueInfo } from '../helpers/onnx-builder.js';

describe('peak memory of InferenceSession.create(path)', () => {
  it('grows resident memory by at most 1.3x the file for a 64 MB embedding model', () => {
    // y = Gather(E, ids) + b: E is [16384, 1024] float32 (64 MiB), read by no op that packs it.
    const rows = 16384, width = 1024;
    const table = new Float32Array(rows * width);
    for (let i = 0; i < table.length; i += 97) table[i] = i % 13;
    const bytes = model({
      nodes: [node('Gather', ['E', 'ids'], ['g']), node('Add', ['g', 'b'], ['y'])],
      inputs: [valueInfo('ids', DT.INT64, [1, 8])],
      outputs: [valueInfo('y', DT.FLOAT, [1, 8, width])],
      initializers: [
        { name: 'E', dims: [rows, width], dataType: DT.FLOAT, rawData: new Uint8Array(table.buffer) },
        { name: 'b', dims: [width], dataType: DT.FLOAT, rawData: new Uint8Array(new Float32Array(width).fill(1).buffer) },
      ],
    });
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-mem-')), 'embed.onnx');
    writeFileSync(path, bytes);
    const out = execFileSync(process.execPath, ['--expose-gc', join(import.meta.dirname, 'fixtures/peak-rss.mjs'), path, 'ids', 'int64', '[1,8]'], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as { peakGrowth: number; loadMs: number };
    console.log(`64 MiB model by path: peak RSS growth ${(r.peakGrowth / 2 ** 20).toFixed(1)} MiB (${(r.peakGrowth / bytes.length).toFixed(2)}x the file), load ${r.loadMs.toFixed(0)} ms`);
    expect(r.peakGrowth).toBeLessThan(1.3 * bytes.length);
  }, 60_000);
});
