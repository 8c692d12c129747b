// The int8 GEMM against this engine's ceiling on one core: `node bench/peak-i8.mjs` (after
// `npm run build`). The GEMM's inner step is i32x4.dot_i16x8_s + i32x4.add (8 multiply-adds);
// nothing in SIMD128 does it in fewer instructions, so its rate bounds the kernel. Measured here:
// the dot alone (10 independent chains) and dot + add (6 dot chains beside 6 add chains, so the
// adds can take the pipes the dots leave), with no loads; then gemm_i16_dq_f32 from
// build/kernels.wasm on an L1-resident problem and on BERT-base's shapes (M = 128). The loops
// are compiled here from source with the AssemblyScript compiler, as in bench/peak.mjs. Best of
// many short repetitions: on a shared machine the best is the least disturbed one.
import asc from 'assemblyscript/asc';
import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

v8.setFlagsFromString('--no-liftoff');
const root = fileURLToPath(new URL('..', import.meta.url));

const chains = (n, step) => Array.from({ length: n }, (_, i) => step(i)).join('\n    ');
const sum = (names) => names.reduce((s, a) => `i32x4.add(${s}, ${a})`);
const SOURCE = `
export function dots(iters: i32, p: usize): i32 {
  const x = v128.load(p, 256);
  ${chains(10, (i) => `let c${i} = v128.load(p, ${16 * i});`)}
  for (let i = 0; i < iters; i++) {
    ${chains(10, (i) => `c${i} = i32x4.dot_i16x8_s(c${i}, x);`)}
  }
  return i32x4.extract_lane(${sum(Array.from({ length: 10 }, (_, i) => `c${i}`))}, 0);
}
export function dotAdd(iters: i32, p: usize): i32 {
  const x = v128.load(p, 256), y = v128.load(p, 272);
  ${chains(6, (i) => `let c${i} = v128.load(p, ${16 * i}); let d${i} = v128.load(p, ${96 + 16 * i});`)}
  for (let i = 0; i < iters; i++) {
    ${chains(6, (i) => `c${i} = i32x4.dot_i16x8_s(c${i}, x); d${i} = i32x4.add(d${i}, y);`)}
  }
  return i32x4.extract_lane(${sum(Array.from({ length: 6 }, (_, i) => `i32x4.add(c${i}, d${i})`))}, 0);
}`;

function best(fn, reps = 40) {
  fn();
  let t = Infinity;
  for (let r = 0; r < reps; r++) { const t0 = performance.now(); fn(); t = Math.min(t, performance.now() - t0); }
  return t / 1000;
}

export async function measureI8() {
  const { binary, error, stderr } = await asc.compileString(SOURCE, { optimizeLevel: 3, runtime: 'stub', initialMemory: 1, enable: ['simd'] });
  if (error) throw new Error(`peak-i8.mjs: ${stderr}`);
  const loops = new WebAssembly.Instance(new WebAssembly.Module(binary), { env: { abort() {} } }).exports;
  const iters = 1_000_000;
  const dotGmacs = (10 * iters * 8) / best(() => loops.dots(iters, 0)) / 1e9;
  const dotAddGmacs = (6 * iters * 8) / best(() => loops.dotAdd(iters, 0)) / 1e9;

  const memory = new WebAssembly.Memory({ initial: 2048 });
  const k = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(`${root}build/kernels.wasm`)), { env: { memory } }).exports;
  const shapes = [[8, 32, 256, 'L1-resident'], [128, 768, 768, 'attention projection'], [128, 3072, 768, 'FFN in (timed without its fused Gelu)'],
    [128, 768, 3072, 'FFN out'], [128, 30522, 768, 'MLM head']];
  const gemm = shapes.map(([M, N, K, what]) => {
    const base = (k.heap_base() + 63) & ~63, Kp = Math.ceil(K / 8) * 8;
    const x = base, w = x + M * K * 4, ap = w + K * N + 64, bp = ap + Math.ceil(M / 4) * 4 * Kp * 2 + 64;
    const ws = bp + Math.ceil(N / 8) * 8 * Kp * 2, y = ws + N * 4;
    const need = y + M * N * 4 - memory.buffer.byteLength;
    if (need > 0) memory.grow(Math.ceil(need / 65536));
    new Int8Array(memory.buffer, w, K * N).forEach((_, i, a) => { a[i] = ((i * 2654435761) >>> 24) - 128; });
    new Float32Array(memory.buffer, x, M * K).forEach((_, i, a) => { a[i] = ((i * 40503) % 1000) / 250 - 2; });
    new Float32Array(memory.buffer, ws, N).fill(0.01);
    k.pack_b_i8(w, bp, K, N, N, 0, 1, 0, 0);
    k.quantize_pack_a_f32(x, K, ap, M, K, 4 / 255, 128);
    const calls = Math.max(1, Math.round(3e7 / (M * N * K)));
    const reps = Math.min(60, Math.max(15, Math.round(3e9 / (calls * M * N * K))));
    const s = best(() => { for (let c = 0; c < calls; c++) k.gemm_i16_dq_f32(ap, bp, y, N, M, N, K, 4 / 255, ws, 0, 0, 0, 0, 0); }, reps);
    return { shape: `${M}×${N}×${K}`, what, gmacs: (calls * M * N * K) / s / 1e9 };
  });
  return { dotGmacs, dotAddGmacs, gemm };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await measureI8();
  if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  else {
    console.log(`i32x4.dot_i16x8_s alone: ${r.dotGmacs.toFixed(1)} GMAC/s; dot + add: ${r.dotAddGmacs.toFixed(1)} GMAC/s (one core, no loads)`);
    console.log('| gemm_i16_dq_f32 M×N×K | layer | GMAC/s | of dot + add |\n|---|---|---:|---:|');
    for (const g of r.gemm) console.log(`| ${g.shape} | ${g.what} | ${g.gmacs.toFixed(1)} | ${(100 * g.gmacs / r.dotAddGmacs).toFixed(0)}% |`);
  }
}
