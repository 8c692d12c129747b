/**
 * One fuzz worker: loads tessera from a bundle path, runs cases [from, to) of a campaign and
 * reports each on stdout as a JSON line. The parent (scripts/fuzz.mjs) watches for a case that
 * never ends (a hang) or a process that dies (a crash) and restarts past it.
 *   node child.mjs '<json config>'
 */
import { readFileSync } from 'node:fs';
import { makeCase } from './cases.mjs';

const config = JSON.parse(process.argv[2]);
const tessera = await import(config.bundle);
const { InferenceSession, Tensor, TesseraError } = tessera;
const corpus = config.corpus.map((f) => ({ file: f, bytes: new Uint8Array(readFileSync(f)) }));

const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const CTOR = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array,
  int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, uint64: BigUint64Array, bool: Uint8Array, float16: Uint16Array,
};

function feedsFor(session) {
  const feeds = Object.create(null);
  for (const m of session.inputMetadata) {
    const type = m.type ?? 'float32';
    const dims = (m.shape ?? [1]).map((d) => (typeof d === 'number' ? Math.min(d, 64) : 1));
    const size = dims.reduce((a, b) => a * b, 1);
    if (size > 1 << 20) return undefined;
    if (type === 'string') feeds[m.name] = new Tensor('string', Array(size).fill('a'), dims);
    else {
      const C = CTOR[type];
      if (!C) return undefined;
      const data = new C(size);
      for (let i = 0; i < size; i++) data[i] = C === BigInt64Array || C === BigUint64Array ? 1n : (i % 7) / 3;
      feeds[m.name] = new Tensor(type, data, dims);
    }
  }
  return feeds;
}

async function runCase(id) {
  const c = makeCase(config.seed, id, corpus);
  let session;
  try {
    session = await InferenceSession.create(c.bytes, { maxMemoryBytes: config.maxMemoryBytes ?? 256 * 2 ** 20, cache: false });
  } catch (e) {
    return outcome(c, e, 'create');
  }
  try {
    const feeds = feedsFor(session);
    if (feeds) await session.run(feeds);
    return { kind: 'ok' };
  } catch (e) {
    return outcome(c, e, 'run');
  } finally {
    await session.release().catch(() => {});
  }
}

function outcome(c, e, stage) {
  if (e instanceof TesseraError && e.code !== 'INTERNAL') return { kind: `error:${e.code}` };
  const err = e instanceof Error ? e : new Error(String(e));
  const cause = err.cause instanceof Error ? ` ← ${err.cause.name}: ${err.cause.message}` : '';
  // INTERNAL is a TesseraError (the API contract held) but still a bug below the boundary.
  return { kind: e instanceof TesseraError ? 'internal' : 'bug', stage, what: c.what, error: `${err.name}${e?.code ? `(${e.code})` : ''}: ${err.message}${cause}`.slice(0, 400), stack: String(err.cause?.stack ?? err.stack).split('\n').slice(0, 6).join('\n') };
}

for (let id = config.from; id < config.to; id++) {
  say({ start: id });
  // The runner's own test: a case that never ends, and one that takes the process down.
  if (config.simulate?.hang === id) for (;;);
  if (config.simulate?.crash === id) process.abort();
  const r = await runCase(id);
  say({ end: id, ...r });
}
process.exit(0);
