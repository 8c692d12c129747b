/**
 * Memory over a long life, in a process of its own (node --expose-gc lifetime.mjs <bundle url>
 * <model path>): RSS and JS heap before and after 2,000 runs, and 30 create/release cycles.
 */
import { readFileSync } from 'node:fs';

const [bundle, modelPath] = process.argv.slice(2);
const { InferenceSession, Tensor } = await import(bundle);
const bytes = new Uint8Array(readFileSync(modelPath));
const settle = async () => { for (let i = 0; i < 4; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); } };
const mem = () => ({ rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, ab: process.memoryUsage().arrayBuffers });
const feed = () => ({ input: new Tensor('float32', new Float32Array(784).fill(0.5), [1, 1, 28, 28]) });

const s = await InferenceSession.create(bytes);
for (let i = 0; i < 100; i++) await s.run(feed());
await settle();
const runs0 = mem();
for (let i = 0; i < 2000; i++) await s.run(feed());
await settle();
const runs1 = mem();
await s.release();

for (let i = 0; i < 3; i++) { const t = await InferenceSession.create(bytes); await t.run(feed()); await t.release(); }
await settle();
const cyc0 = mem();
const kept = []; // released sessions the user still holds must not pin their memory
let freed = 0;
const registry = new FinalizationRegistry(() => { freed++; });
for (let i = 0; i < 30; i++) {
  const t = await InferenceSession.create(bytes);
  registry.register(t.engine.memory, i); // private field, reached from JS on purpose
  await t.run(feed());
  await t.release();
  kept.push(t);
}
await settle();
await settle();
const cyc1 = mem();
process.stdout.write(JSON.stringify({ runs: [runs0, runs1], cycles: [cyc0, cyc1], kept: kept.length, freed }) + '\n');
