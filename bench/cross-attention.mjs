// cross_attention_f32 alone on a Whisper decoder step's shape: `layers` layers, each a batch of
// `batch` windows × `heads` heads of 1,500 resident keys and values (packed by cross_pack_f32),
// one query row per window and head; one "step" calls the kernel once per layer, as the decoder
// plan does. The caches of all layers together exceed the L2 (tiny, 2 windows: 37 MB), so every
// step streams them from memory or L3 as a decode step does. One or more kernel builds side by
// side, interleaved, so an A/B comparison shares the machine's load:
//   node bench/cross-attention.mjs [--batch 2] [--heads 6] [--d 64] [--layers 4] [a.wasm b.wasm …]
// (default build/kernels.wasm; whisper-base is --heads 8 --layers 6). Prints each build's median
// (and least) wall ms per step, its median CPU ms (a shared machine descheduling the process shows
// in the wall time only), ms per window-layer, and the cache bytes read per second over the median.
import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

v8.setFlagsFromString('--no-liftoff'); // optimised code from the first call (see bench/peak.mjs)
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); if (i < 0) return dflt; const v = Number(args[i + 1]); args.splice(i, 2); return v; };
const B = opt('--batch', 2), H = opt('--heads', 6), d = opt('--d', 64), layers = opt('--layers', 4), L = opt('--length', 1500), rounds = opt('--rounds', 15), reps = opt('--reps', 10);
const files = args.length ? args : [fileURLToPath(new URL('../build/kernels.wasm', import.meta.url))];

function setup(file) {
  const memory = new WebAssembly.Memory({ initial: 1024, maximum: 65536, shared: file.includes('threads') });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), { env: { memory, abort() { throw new Error('abort'); } } });
  const k = inst.exports;
  let top = (k.heap_base() + 63) & ~63;
  const alloc = (bytes) => {
    const p = top; top = (top + bytes + 64 + 63) & ~63;
    const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536;
    if (need > 0) memory.grow(need);
    return p;
  };
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const fill = (p, n, s) => { const f = new Float32Array(memory.buffer, p, n); for (let i = 0; i < n; i++) f[i] = rand() * s; };
  const u = B * H, kBytes = u * k.cross_keys_bytes(L, d), vBytes = u * k.cross_values_bytes(L, d);
  const q = alloc(u * d * 4), out = alloc(u * d * 4), scores = alloc(k.cross_scratch_bytes(L, u));
  const kin = alloc(u * L * d * 4), vin = alloc(u * L * d * 4);
  const caches = [];
  for (let l = 0; l < layers; l++) {
    const kc = alloc(kBytes), vc = alloc(vBytes);
    fill(kin, u * L * d, 1); fill(vin, u * L * d, 1);
    k.cross_pack_f32(kin, vin, kc, vc, u, L, d);
    caches.push([kc, vc]);
  }
  fill(q, u * d, 2);
  const scale = 1 / Math.sqrt(d);
  return { bytes: layers * (kBytes + vBytes), step: () => { for (const [kc, vc] of caches) k.cross_attention_f32(q, kc, vc, out, scores, u, 1, L, d, scale); } };
}

const runs = files.map(setup);
const times = files.map(() => []), cpu = files.map(() => []);
for (const r of runs) for (let i = 0; i < 10; i++) r.step();
for (let round = 0; round < rounds; round++) {
  runs.forEach((r, i) => {
    const t = performance.now(), c = process.cpuUsage();
    for (let n = 0; n < reps; n++) r.step();
    times[i].push((performance.now() - t) / reps);
    const u = process.cpuUsage(c);
    cpu[i].push((u.user + u.system) / 1000 / reps);
  });
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`cross_attention_f32: ${layers} layers × ${B} windows × ${H} heads, L ${L}, d ${d}; cache ${(runs[0].bytes / 1e6).toFixed(1)} MB; load ${load}`);
files.forEach((f, i) => {
  const s = times[i].sort((a, b) => a - b), t = s[s.length >> 1];
  console.log(`${t.toFixed(3).padStart(8)} ms/step (min ${s[0].toFixed(3)}, CPU ${median(cpu[i]).toFixed(3)})  ${(t / layers / B).toFixed(3)} ms per window-layer  ${(runs[i].bytes / t / 1e6).toFixed(1).padStart(5)} GB/s  ${f}`);
});
