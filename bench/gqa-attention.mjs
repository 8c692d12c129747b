// gqa_attention_f32 (com.microsoft GroupQueryAttention's kernel) alone on Qwen3-0.6B's attention
// shape (16 query heads, 8 KV heads, head size 128): one decode step (one query row per head
// against a cache of --context keys, read in place) and a 128-token prompt. Decode is bound by
// reading K and V, so each decode measurement is set beside minmax_f32 streaming the same bytes
// (a plain read on the same machine, in the same moment): the ratio is what the kernel reaches of
// a read. `node bench/gqa-attention.mjs [--context 128,1024] [build/kernels.wasm]`.
import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

v8.setFlagsFromString('--no-liftoff');
const args = process.argv.slice(2);
const ci = args.indexOf('--context');
const contexts = ci >= 0 ? args.splice(ci, 2)[1].split(',').map(Number) : [128, 1024];
const file = args[0] ?? fileURLToPath(new URL('../build/kernels.wasm', import.meta.url));
const memory = new WebAssembly.Memory({ initial: 4096 });
const k = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), { env: { memory } }).exports;
const H = 16, KVH = 8, D = 128, G = H / KVH;
let top = (k.heap_base() + 63) & ~63;
const alloc = (n) => { const p = top; top = (top + n * 4 + 63) & ~63; return p; };
const fill = (p, n, f) => { const a = new Float32Array(memory.buffer, p, n); for (let i = 0; i < n; i++) a[i] = f(i); };
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
function time(fn, reps) {
  for (let i = 0; i < 3; i++) fn();
  const t = [];
  for (let r = 0; r < 9; r++) { const t0 = performance.now(); for (let i = 0; i < reps; i++) fn(); t.push((performance.now() - t0) / reps); }
  return median(t);
}

for (const L of contexts) {
  const kc = alloc(KVH * L * D), vc = alloc(KVH * L * D), q = alloc(H * D), out = alloc(H * D), sc = alloc(k.gqa_scratch_bytes(L) / 4), mm = alloc(4);
  fill(kc, KVH * L * D, Math.sin); fill(vc, KVH * L * D, Math.cos); fill(q, H * D, (i) => Math.sin(0.3 * i));
  const step = () => { for (let h = 0; h < KVH; h++) k.gqa_attention_f32(q + h * G * D * 4, H * D, kc + h * L * D * 4, vc + h * L * D * 4, out + h * G * D * 4, H * D, sc, G, 1, D, L - 1, -1, 1 / Math.sqrt(D), 0, 0, 0, 0, 0, 0); };
  const read = () => { for (let h = 0; h < KVH; h++) { k.minmax_f32(kc + h * L * D * 4, L * D, mm); k.minmax_f32(vc + h * L * D * 4, L * D, mm); } };
  const reps = Math.max(5, Math.round(20000 / L));
  const ms = time(step, reps), msRead = time(read, reps);
  const mb = (2 * KVH * L * D * 4) / 1e6;
  console.log(`decode, context ${L}: ${(ms * 1000).toFixed(0)} µs per layer (${(mb / ms).toFixed(1)} GB/s of K/V; a plain read of them: ${(msRead * 1000).toFixed(0)} µs, ${(msRead / ms * 100).toFixed(0)}%)`);
}
{
  const S = 128;
  const kc = alloc(KVH * S * D), vc = alloc(KVH * S * D), q = alloc(S * H * D), out = alloc(S * H * D), sc = alloc(k.gqa_scratch_bytes(S) / 4);
  fill(kc, KVH * S * D, Math.sin); fill(vc, KVH * S * D, Math.cos); fill(q, S * H * D, (i) => Math.sin(0.3 * i));
  const ms = time(() => { for (let h = 0; h < KVH; h++) k.gqa_attention_f32(q + h * G * D * 4, H * D, kc + h * S * D * 4, vc + h * S * D * 4, out + h * G * D * 4, H * D, sc, G, S, D, 0, -1, 1 / Math.sqrt(D), 0, 0, 0, 0, 0, 0); }, 2);
  const flops = 2 * 2 * H * D * (S * (S + 1) / 2);
  console.log(`prompt of ${S} tokens (causal): ${ms.toFixed(2)} ms per layer, ${(flops / ms / 1e6).toFixed(1)} GFLOP/s`);
}
