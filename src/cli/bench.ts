/** `tessera bench model.onnx`: latency percentiles, throughput, optional profile and ORT side by side. */
import { InferenceSession } from '../api/session.js';
import type { Tensor } from '../api/tensor.js';
import { concreteDims, randomTensor } from './feeds.js';
import { stepFlops, totalFlops } from './flops.js';
import { Progress } from './progress.js';

export interface BenchOptions {
  runs: number;
  warmup: number;
  shapes: Record<string, number[]>;
  vsOrt: boolean;
  profile: boolean;
  quiet: boolean;
}

interface Engine {
  run(feeds: Record<string, Tensor>): Promise<unknown>;
}

async function timeRuns(label: string, engine: Engine, feeds: Record<string, Tensor>, o: BenchOptions) {
  for (let i = 0; i < o.warmup; i++) await engine.run(feeds);
  const times: number[] = [];
  const bar = new Progress(label, o.runs, o.quiet);
  for (let i = 0; i < o.runs; i++) {
    const t = performance.now();
    await engine.run(feeds);
    times.push(performance.now() - t);
    bar.update(i + 1);
  }
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
  return { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), min: times[0]!, mean: times.reduce((a, b) => a + b, 0) / times.length };
}

export async function bench(file: string, o: BenchOptions) {
  const t0 = performance.now();
  const session = await InferenceSession.create(file);
  const loadMs = performance.now() - t0;
  const feeds = Object.fromEntries(session.inputMetadata.map((v) => [v.name, randomTensor((v.type ?? 'float32') as never, concreteDims({ name: v.name, dtype: v.type as never, shape: v.shape }, Object.hasOwn(o.shapes, v.name) ? o.shapes[v.name] : undefined))]));
  await session.run(feeds, { profile: true });
  const flops = totalFlops(session.lastProfile!);
  const tessera = await timeRuns('tessera', session, feeds, o);
  let profile;
  if (o.profile) {
    // Sum node times over several runs so that small nodes are not lost in timer noise.
    const acc = new Map<number, number>();
    const reps = Math.max(5, Math.min(o.runs, 50));
    let total = 0;
    for (let r = 0; r < reps; r++) {
      await session.run(feeds, { profile: true });
      total += session.lastProfile!.totalMs;
      session.lastProfile!.nodes.forEach((n, i) => acc.set(i, (acc.get(i) ?? 0) + n.ms));
    }
    const nodes = session.lastProfile!.nodes.map((n, i) => ({ ...n, ms: acc.get(i)! / reps, flops: stepFlops(n) }));
    profile = { totalMs: total / reps, nodes: nodes.sort((a, b) => b.ms - a.ms) };
  }
  const batch = Object.values(feeds)[0]?.dims[0] ?? 1;
  let ort;
  if (o.vsOrt) ort = await benchOrt(file, feeds, o);
  await session.release();
  return { file, loadMs, flops, batch, tessera, gflops: flops / tessera.p50 / 1e6, ort, ratio: ort ? tessera.p50 / ort.p50 : undefined, profile };
}

async function benchOrt(file: string, feeds: Record<string, Tensor>, o: BenchOptions) {
  let ort: typeof import('onnxruntime-web');
  try {
    ort = await import('onnxruntime-web');
  } catch {
    throw new Error('--vs onnxruntime-web needs the package: npm install onnxruntime-web');
  }
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const s = await ort.InferenceSession.create(file, { executionProviders: ['wasm'] });
  const f = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.type as never, t.data as never, [...t.dims])]));
  const r = await timeRuns('onnxruntime-web', { run: (x) => s.run(x as never) }, f as never, o);
  await s.release();
  return r;
}

export function printBench(r: Awaited<ReturnType<typeof bench>>): void {
  const ms = (x: number) => `${x.toFixed(x < 10 ? 3 : 1)} ms`;
  console.log(`${r.file}: load ${ms(r.loadMs)}, ${(r.flops / 1e9).toFixed(3)} GFLOP per run`);
  console.log(`tessera          p50 ${ms(r.tessera.p50)}  p90 ${ms(r.tessera.p90)}  p99 ${ms(r.tessera.p99)}  min ${ms(r.tessera.min)}  ${(1000 / r.tessera.p50 * r.batch).toFixed(1)} items/s  ${r.gflops.toFixed(1)} GFLOP/s`);
  if (r.ort) {
    console.log(`onnxruntime-web  p50 ${ms(r.ort.p50)}  p90 ${ms(r.ort.p90)}  p99 ${ms(r.ort.p99)}  min ${ms(r.ort.min)}`);
    console.log(`ratio tessera / onnxruntime-web (p50): ${r.ratio!.toFixed(2)} (same process, one thread; npm run bench isolates processes)`);
  }
  if (r.profile) {
    const sum = r.profile.nodes.reduce((a, n) => a + n.ms, 0);
    console.log(`\nprofile: ${r.profile.nodes.length} steps, ${ms(sum)} in nodes of ${ms(r.profile.totalMs)} per run (rest: feeds, outputs)`);
    console.log('   ms     share  GFLOP/s  node');
    for (const n of r.profile.nodes.slice(0, 15)) {
      const g = n.flops ? (n.flops / n.ms / 1e6).toFixed(1).padStart(7) : '      -';
      console.log(`${n.ms.toFixed(3).padStart(8)}  ${(100 * n.ms / sum).toFixed(1).padStart(5)}%  ${g}  ${n.node} ${n.inputs.map((d) => `[${d.join('×')}]`).join(' ')} → ${n.outputs.map((d) => `[${d.join('×')}]`).join(' ')}`);
    }
  }
}
