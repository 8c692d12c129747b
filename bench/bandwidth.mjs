// This machine's single-core read bandwidth from Wasm: the floor of a decode step. A decode step
// (one token, M = 1) reads every weight once, so it can go no faster than (bytes of weights) ÷
// (bytes per second one core can stream from memory). `node bench/bandwidth.mjs [--json] [--mb N]`
// sums a buffer far larger than the caches (512 MB by default) with v128 loads into 8 independent
// accumulators (so neither add latency nor issue limits it: the loop runs at whatever memory
// delivers), several passes, and prints the best and the median in GB/s (10⁹ bytes). Each pass is
// timed in 8 MB calls, as the decode kernels are timed per matrix: on a shared machine a 50 ms
// pass is almost never left alone by the scheduler, an 8 MB call often is, so `best` and `median`
// are over the calls (chunks of a buffer 16× the L3, so every byte still comes from memory) and
// `pass` is the best whole pass. Other benches import `measureBandwidth`. The loop is compiled here from source with the
// AssemblyScript compiler, as in bench/peak.mjs, so nothing is committed in binary form.
import asc from 'assemblyscript/asc';
import v8 from 'node:v8';

v8.setFlagsFromString('--no-liftoff');

const SOURCE = `
export function sum_bytes(p: usize, n: usize): i32 {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  const end = p + n;
  for (; p + 128 <= end; p += 128) {
    a0 = i32x4.add(a0, v128.load(p)); a1 = i32x4.add(a1, v128.load(p, 16));
    a2 = i32x4.add(a2, v128.load(p, 32)); a3 = i32x4.add(a3, v128.load(p, 48));
    a4 = i32x4.add(a4, v128.load(p, 64)); a5 = i32x4.add(a5, v128.load(p, 80));
    a6 = i32x4.add(a6, v128.load(p, 96)); a7 = i32x4.add(a7, v128.load(p, 112));
  }
  const s = i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(i32x4.add(a4, a5), i32x4.add(a6, a7)));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
}`;

/**
 * Single-core read bandwidth in GB/s (10⁹ bytes/s): `passes` timed sums over a fresh `mb`-MB
 * buffer (touched first so its pages exist), after one untimed pass. Returns best and median.
 */
export async function measureBandwidth({ mb = 512, passes = 7 } = {}) {
  const bytes = mb * 1e6 - ((mb * 1e6) % 128);
  const { binary, error, stderr } = await asc.compileString(SOURCE, { optimizeLevel: 3, runtime: 'stub', enable: ['simd'], importMemory: true });
  if (error) throw new Error(`bandwidth.mjs: ${stderr}`);
  const memory = new WebAssembly.Memory({ initial: Math.ceil((bytes + 65536) / 65536) });
  const { sum_bytes } = new WebAssembly.Instance(new WebAssembly.Module(binary), { env: { memory, abort() {} } }).exports;
  const base = 65536;
  const u32 = new Uint32Array(memory.buffer, base, bytes / 4);
  for (let i = 0; i < u32.length; i += 1024) u32[i] = i;
  sum_bytes(base, bytes);
  const chunk = 8e6, gbs = [];
  let pass = 0;
  for (let r = 0; r < passes; r++) {
    const t0 = performance.now();
    for (let o = 0; o + chunk <= bytes; o += chunk) {
      const t = performance.now();
      sum_bytes(base + o, chunk);
      gbs.push(chunk / ((performance.now() - t) / 1000) / 1e9);
    }
    pass = Math.max(pass, bytes / ((performance.now() - t0) / 1000) / 1e9);
  }
  gbs.sort((a, b) => a - b);
  return { mb, best: gbs[gbs.length - 1], median: gbs[gbs.length >> 1], pass, calls: gbs.length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--mb');
  const r = await measureBandwidth(i > 0 ? { mb: Number(process.argv[i + 1]) } : {});
  if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  else console.log(`single-core read bandwidth (Wasm, v128 loads, ${r.mb} MB in 8 MB calls): best ${r.best.toFixed(1)} GB/s, median ${r.median.toFixed(1)} GB/s over ${r.calls} calls; best whole pass ${r.pass.toFixed(1)} GB/s`);
}
