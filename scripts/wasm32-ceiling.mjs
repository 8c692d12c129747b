/**
 * The Wasm32 ceiling, measured: writes a ~2.5 GiB external-data model (five 512 MiB float32
 * embedding tables, y = Σ Gather(Eᵢ, ids), so no op makes a packed copy) into the ignored
 * bench/out/, loads it by path in a fresh Node process (streamed: weights read from disk straight
 * into Wasm memory) and runs it once, printing peak RSS and load time. Then nine tables (4.5 GiB,
 * over wasm32's 4 GiB; their file is sparse), which must be refused at create with OUT_OF_MEMORY
 * before any weight is read. Not in CI: it writes 2.5 GiB to disk.
 *
 *   node scripts/wasm32-ceiling.mjs [dist entry, default dist/node/index.js]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const root = fileURLToPath(new URL('..', import.meta.url));
const entry = resolve(process.argv[2] ?? join(root, 'dist/node/index.js'));
const dir = join(root, 'bench/out/wasm32-ceiling');
const ROWS = 32768, WIDTH = 4096, TABLE = ROWS * WIDTH * 4; // 512 MiB each

function model(tables) {
  const nodes = [], init = [];
  for (let t = 0; t < tables; t++) {
    nodes.push({ opType: 'Gather', input: [`E${t}`, 'ids'], output: [`g${t}`] });
    if (t > 0) nodes.push({ opType: 'Add', input: [t === 1 ? 'g0' : `s${t - 1}`, `g${t}`], output: [t === tables - 1 ? 'y' : `s${t}`] });
    init.push({
      name: `E${t}`, dims: [ROWS, WIDTH], dataType: 1, dataLocation: 1,
      externalData: [{ key: 'location', value: 'tables.bin' }, { key: 'offset', value: String(t * TABLE) }, { key: 'length', value: String(TABLE) }],
    });
  }
  const vi = (name, elemType, dims) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  return onnx.ModelProto.encode({
    irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
    graph: { name: 'tables', node: nodes, input: [vi('ids', 7, [1, 16])], output: [vi('y', 1, [1, 16, WIDTH])], initializer: init },
  }).finish();
}

function writeTables(path, tables) {
  const fd = openSync(path, 'w');
  const block = new Float32Array(1 << 20); // 4 MiB of deterministic values, written over and over
  for (let i = 0; i < block.length; i++) block[i] = ((i * 2654435761) >>> 0) / 2 ** 32 - 0.5;
  const bytes = new Uint8Array(block.buffer);
  for (let o = 0; o < tables * TABLE; o += bytes.length) writeSync(fd, bytes, 0, bytes.length, o);
  closeSync(fd);
}

mkdirSync(dir, { recursive: true });
const fits = join(dir, 'fits'), over = join(dir, 'over');
for (const [sub, tables] of [[fits, 5], [over, 9]]) {
  mkdirSync(sub, { recursive: true });
  writeFileSync(join(sub, 'model.onnx'), model(tables));
  const data = join(sub, 'tables.bin');
  if (!existsSync(data)) {
    const t0 = performance.now();
    if (sub === fits) writeTables(data, tables);
    else { const fd = openSync(data, 'w'); ftruncateSync(fd, tables * TABLE); closeSync(fd); } // sparse: never read
    console.log(`wrote ${tables} × 512 MiB to ${data} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

const child = `
import { readFileSync } from 'node:fs';
const { InferenceSession, Tensor } = await import(${JSON.stringify(entry)});
const hwm = () => Number(/VmHWM:\\s*(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 2 ** 10;
const t0 = performance.now();
try {
  const s = await InferenceSession.create(process.argv[1]);
  const loadMs = performance.now() - t0;
  const ids = new Tensor('int64', BigInt64Array.from({ length: 16 }, (_, i) => BigInt(i * 2000)), [1, 16]);
  const y = (await s.run({ ids })).y;
  console.log(JSON.stringify({ ok: true, loadMs, firstResultMs: performance.now() - t0, peakRss: hwm(), y0: y.data[0] }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, ms: performance.now() - t0, peakRss: hwm(), code: e.code, message: e.message }));
}`;
for (const sub of [fits, over]) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', child, join(sub, 'model.onnx')], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').at(-1));
  const gib = (b) => (b / 2 ** 30).toFixed(2);
  if (r.ok) console.log(`${sub}: loaded ${gib(5 * TABLE)} GiB of weights in ${(r.loadMs / 1000).toFixed(1)} s, first result at ${(r.firstResultMs / 1000).toFixed(1)} s, peak RSS ${gib(r.peakRss)} GiB`);
  else console.log(`${sub}: ${r.code} after ${r.ms.toFixed(0)} ms, peak RSS ${gib(r.peakRss)} GiB — ${r.message}`);
}
