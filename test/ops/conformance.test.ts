/**
 * ONNX's own backend tests through the public API. `conformance-status.json` lists the cases
 * expected to pass (a regression fails the suite) and a reason for every other one.
 * Regenerate it with `npm run conformance:update` after adding ops.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { compare, dataSets, listCases, type TestCase } from './onnx-test-data.js';

const STATUS_FILE = join(__dirname, 'conformance-status.json');
const UPDATE = process.env.CONFORMANCE_UPDATE === '1';
const FILTER = process.env.CONFORMANCE_FILTER ? new RegExp(process.env.CONFORMANCE_FILTER) : undefined;

interface Status { totals: Record<string, { passed: number; total: number }>; passes: string[]; skips: Record<string, string> }
const status: Status = existsSync(STATUS_FILE) ? JSON.parse(readFileSync(STATUS_FILE, 'utf8')) : { totals: {}, passes: [], skips: {} };
const expected = new Set(status.passes);
const results = new Map<string, string | undefined>(); // key → failure reason (undefined = pass)

async function runCase(c: TestCase): Promise<string | undefined> {
  let session: InferenceSession | undefined;
  try {
    session = await InferenceSession.create(join(c.dir, 'model.onnx'));
    for (const ds of dataSets(c)) {
      if (ds.inputs.length !== session.inputNames.length) {
        return `the case feeds ${ds.inputs.length} inputs, the model declares ${session.inputNames.length}`;
      }
      const feeds: Record<string, Tensor> = {};
      session.inputNames.forEach((n, i) => { feeds[n] = ds.inputs[i]!; });
      const out = await session.run(feeds);
      for (const [i, want] of ds.outputs.entries()) {
        const name = session.outputNames[i]!;
        const why = compare(out[name]!, want);
        if (why) return `output '${name}': ${why}`;
      }
    }
    return undefined;
  } catch (e) {
    const err = e as Error & { code?: string };
    return `${err.code ?? err.name}: ${String(err.message).split('\n').slice(0, 2).join(' ').slice(0, 300)}`;
  } finally {
    await session?.release();
  }
}

const cases = listCases().filter((c) => !FILTER || FILTER.test(c.name));
const bySuite = new Map<string, TestCase[]>();
for (const c of cases) (bySuite.get(c.suite) ?? bySuite.set(c.suite, []).get(c.suite)!).push(c);

for (const [suite, list] of bySuite) {
  describe(`onnx ${suite}`, () => {
    for (const c of list) {
      const key = `${suite}/${c.name}`;
      it(c.name, async () => {
        const why = await runCase(c);
        results.set(key, why);
        // Only listed passes are held to account; anything else is reported in the totals.
        if (expected.has(key) && !UPDATE) expect(why, key).toBeUndefined();
      });
    }
  });
}

afterAll(() => {
  const totals: Status['totals'] = {};
  for (const [key, why] of results) {
    const suite = key.split('/')[0]!;
    const t = (totals[suite] ??= { passed: 0, total: 0 });
    t.total++;
    if (why === undefined) t.passed++;
  }
  const newly = [...results].filter(([k, w]) => w === undefined && !expected.has(k)).map(([k]) => k);
  console.log(`\nONNX conformance: ${Object.entries(totals).map(([s, t]) => `${s} ${t.passed}/${t.total}`).join(', ')}`);
  if (newly.length) console.log(`  newly passing (run npm run conformance:update): ${newly.length}`);
  if (UPDATE && !FILTER) {
    const passes = [...results].filter(([, w]) => w === undefined).map(([k]) => k).sort();
    const skips: Record<string, string> = {};
    for (const [k, w] of [...results].sort()) if (w !== undefined) skips[k] = w;
    writeFileSync(STATUS_FILE, `${JSON.stringify({ totals, passes, skips }, null, 1)}\n`);
    console.log(`  wrote ${STATUS_FILE}`);
  }
});
