// The int8 GEMM over one-byte panels (gemm_q8_dq_f32, the one packed copy an int8 weight keeps)
// against the i16 panels it replaced (gemm_i16_dq_f32), on BERT-base's shapes (M = 128) and a
// decode-sized prefill, in one process, alternating, best of many short repetitions (on a shared
// machine the best is the least disturbed). `node bench/gemm-q8.mjs` after `npm run build`.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const memory = new WebAssembly.Memory({ initial: 4096 });
const { instance } = await WebAssembly.instantiate(readFileSync(`${root}build/kernels.wasm`), { env: { memory, abort() { throw new Error('abort'); } } });
const k = instance.exports;
let top = 1 << 20;
const alloc = (bytes) => { const p = top; top += Math.ceil((bytes + 16) / 64) * 64; return p; };
const shapes = [[128, 768, 768], [128, 3072, 768], [128, 768, 3072], [128, 30522, 768], [16, 3072, 1024]];
console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')}`);
console.log('| M×N×K | i16 panels ms | one-byte panels ms | byte / i16 |');
console.log('|---|---:|---:|---:|');
for (const [M, N, K] of shapes) {
  top = 1 << 20;
  const Kp = Math.ceil(K / 8) * 8, Np = Math.ceil(N / 8) * 8;
  const w = alloc(K * N), x = alloc(M * K * 4), ap = alloc(Math.ceil(M / 4) * 4 * Kp * 2);
  const bp = alloc(Np * Kp * 2), bq = alloc(Np * Kp), ws = alloc(N * 4), y = alloc(M * N * 4);
  const need = top;
  if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
  const wb = new Int8Array(memory.buffer, w, K * N);
  for (let i = 0; i < wb.length; i++) wb[i] = ((i * 2654435761) >>> 24) - 128;
  const xf = new Float32Array(memory.buffer, x, M * K);
  for (let i = 0; i < xf.length; i++) xf[i] = Math.sin(i);
  new Float32Array(memory.buffer, ws, N).fill(0.01);
  k.pack_b_i8(w, bp, K, N, N, 0, 1, 0, 0);
  k.pack_b_q8(w, bq, K, N, N, 0, 1, 0, 0);
  k.quantize_pack_a_f32(x, K, ap, M, K, 2 / 255, 128);
  const reps = Math.max(5, Math.min(60, Math.round(2e9 / (M * N * K))));
  const best = { i16: Infinity, q8: Infinity };
  for (let r = 0; r < reps; r++) {
    for (const [name, fn, b] of [['i16', k.gemm_i16_dq_f32, bp], ['q8', k.gemm_q8_dq_f32, bq]]) {
      const t = performance.now();
      fn(ap, b, y, N, M, N, K, 2 / 255, ws, 0, 0, 0, 0, 0);
      best[name] = Math.min(best[name], performance.now() - t);
    }
  }
  console.log(`| ${M}×${N}×${K} | ${best.i16.toFixed(2)} | ${best.q8.toFixed(2)} | ${(best.q8 / best.i16).toFixed(3)} |`);
}
console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')}`);
