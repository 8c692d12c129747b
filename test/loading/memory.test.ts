/**
 * Memory regression guard for loading from a path: a child Node process (so the numbers are its
 * own) loads a generated 64 MB model with the built bundle and runs it once.
 * - Its table read whole (`tablesOnDemand: false`, streamed into Wasm memory): the peak resident
 *   set may grow by at most 1.15× the file (measured 1.01×). Reading the file whole into
 *   JavaScript, then copying it into Wasm memory, as loading did before streaming, peaks at 2×.
 * - By default the table, read only by a Gather, stays in the file and the run reads its 8 rows
 *   (runtime/table-on-demand.ts): the peak may grow by at most 0.1× the file (measured 0.01×).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DT, model, node, valueInfo } from '../helpers/onnx-builder.js';

let path = '', fileBytes = 0;

beforeAll(() => {
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
  path = join(mkdtempSync(join(tmpdir(), 'tessera-mem-')), 'embed.onnx');
  writeFileSync(path, bytes);
  fileBytes = bytes.length;
});

function peak(options: object): { peakGrowth: number; loadMs: number; tablesOnDemand: { tables: number; rowsRead: number } } {
  const out = execFileSync(process.execPath, ['--expose-gc', join(import.meta.dirname, 'fixtures/peak-rss.mjs'), path, 'ids', 'int64', '[1,8]'],
    { encoding: 'utf8', env: { ...process.env, SESSION_OPTIONS: JSON.stringify(options) } });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

describe('peak memory of InferenceSession.create(path)', () => {
  it('grows resident memory by at most 1.15x the file for a 64 MB embedding model read whole', () => {
    const r = peak({ tablesOnDemand: false });
    console.log(`64 MiB model by path, table read whole: peak RSS growth ${(r.peakGrowth / 2 ** 20).toFixed(1)} MiB (${(r.peakGrowth / fileBytes).toFixed(2)}x the file), load ${r.loadMs.toFixed(0)} ms`);
    expect(r.tablesOnDemand.tables).toBe(0);
    expect(r.peakGrowth).toBeLessThan(1.15 * fileBytes);
  }, 60_000);

  it('grows it by at most 0.1x the file when the table stays in the file and the run reads 8 rows of it', () => {
    const r = peak({});
    console.log(`64 MiB model by path, table on demand: peak RSS growth ${(r.peakGrowth / 2 ** 20).toFixed(1)} MiB (${(r.peakGrowth / fileBytes).toFixed(2)}x the file), load ${r.loadMs.toFixed(0)} ms`);
    expect(r.tablesOnDemand).toMatchObject({ tables: 1, rowsRead: 1 }); // the feed's 8 ids are all 3
    expect(r.peakGrowth).toBeLessThan(0.1 * fileBytes);
  }, 60_000);
});
