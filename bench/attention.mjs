// attention_f32 alone on BERT-base's shape (1×128, 12 heads of 64, padding mask [B, 1, 1, S]),
// with one or more kernel builds side by side, interleaved, so an A/B comparison shares the
// machine's load: `node bench/attention.mjs [--seq 128] [--heads 12] [--d 64] [a.wasm b.wasm …]`
// (default build/kernels.wasm). Prints each build's median (and least) ms per call and GFLOP/s
// (Q·Kᵀ and P·V flops over the median).
import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

v8.setFlagsFromString('--no-liftoff'); // optimised code from the first call (see bench/peak.mjs)
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); if (i < 0) return dflt; const v = Number(args[i + 1]); args.splice(i, 2); return v; };
const S = opt('--seq', 128), H = opt('--heads', 12), d = opt('--d', 64), B = opt('--batch', 1), rounds = opt('--rounds', 15);
const files = args.length ? args : [fileURLToPath(new URL('../build/kernels.wasm', import.meta.url))];

const HD = H * d;
function setup(file) {
  const memory = new WebAssembly.Memory({ initial: 1024, maximum: 65536, shared: file.includes('threads') });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), { env: { memory, abort() { throw new Error('abort'); } } });
  const k = inst.exports;
  let top = (k.heap_base() + 63) & ~63;
  const alloc = (n) => { const p = top; top = (top + n * 4 + 64 + 63) & ~63; return p; };
  const f32 = new Float32Array(memory.buffer);
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const q = alloc(B * S * HD), kk = alloc(B * S * HD), v = alloc(B * S * HD), m = alloc(B * S), o = alloc(B * S * HD);
  for (const p of [q, kk, v]) for (let i = 0; i < B * S * HD; i++) f32[p / 4 + i] = rand();
  for (let i = 0; i < B * S; i++) f32[m / 4 + i] = i % S > S - 5 ? -3.4e38 : 0;
  const scratch = alloc(k.attention_scratch_bytes(S, d) / 4 * 4); // room for split calls' scratch too
  return () => k.attention_f32(q, kk, v, m, o, scratch, B, H, S, S, d, HD, HD, HD, HD, S, 0, 0, 1, 1 / Math.sqrt(d));
}

const runs = files.map(setup);
const times = files.map(() => []);
for (const r of runs) for (let i = 0; i < 20; i++) r();
for (let round = 0; round < rounds; round++) {
  runs.forEach((r, i) => {
    const t = performance.now();
    for (let n = 0; n < 10; n++) r();
    times[i].push((performance.now() - t) / 10);
  });
}
const flop = 4 * B * H * S * S * d;
files.forEach((f, i) => {
  const s = times[i].sort((a, b) => a - b), t = s[s.length >> 1];
  console.log(`${t.toFixed(3).padStart(8)} ms (min ${s[0].toFixed(3)})  ${(flop / t / 1e6).toFixed(1).padStart(5)} GFLOP/s  ${f}`);
});
