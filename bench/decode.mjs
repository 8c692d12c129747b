// Decode-step kernels (one token: y[1×N] = x[1×K]·W) against this machine's single-core read
// bandwidth (bench/bandwidth.mjs), at Qwen3-0.6B's shapes: `node bench/decode.mjs [--json]` after
// `npm run build`. A decode step reads every weight once, so its floor is bytes ÷ bandwidth; each
// row prints the kernel's GB/s of weights streamed and its time over that floor. The weights are
// cycled through enough copies (≥ 160 MB) that they come from memory, not the 32 MB L3, as a real
// model's layers do. Formats: fp32 (gemm_f32 over pack_b_f32 panels, what MatMul runs for M = 1),
// int8 (gemm_i16_dq_f32 over pack_b_i8 panels, what DynamicQuantizeMatMul runs: i16 in memory,
// 2 bytes a weight; and gemv_q8_dq_f32, its M ≤ 4 GEMV over one-byte panels) and int4 (gemv_q4_f32 over MatMulNBits' packed nibbles, block 32, with the
// scales: 0.625 bytes a weight; and gemv_q4_i8, MatMulNBits' accuracy_level 4 path, x as int8;
// on the weights repacked at load: gemv_q4x_i8 and gemv_q4x_i16, the default, x as 16 bits).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { measureBandwidth } from './bandwidth.mjs';

v8.setFlagsFromString('--no-liftoff');
const root = fileURLToPath(new URL('..', import.meta.url));
const SHAPES = [[1024, 3072, 'q/k/v-sized in (K=1024 → 3072: MLP gate/up)'], [3072, 1024, 'MLP down (3072 → 1024)'], [1024, 151936, 'lm_head (1024 → 151936)']];
const MIN_BYTES = 160e6;

function kernels(relaxed) {
  const bytes = readFileSync(`${root}build/kernels${relaxed ? '-relaxed' : ''}.wasm`);
  if (!WebAssembly.validate(bytes)) return null;
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536 });
  const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  let top = (k.heap_base() + 63) & ~63;
  const alloc = (n) => {
    const p = top; top = (top + n + 64 + 63) & ~63;
    if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
    return p;
  };
  return { k, memory, alloc, reset: () => { top = (k.heap_base() + 63) & ~63; } };
}

/** Best ms of a call over `reps` rounds of `copies` calls (one per weight copy). */
function bestMs(copies, reps, call) {
  for (let c = 0; c < copies; c++) call(c);
  let best = Infinity;
  for (let r = 0; r < reps; r++) for (let c = 0; c < copies; c++) {
    const t = performance.now(); call(c); best = Math.min(best, performance.now() - t);
  }
  return best;
}

function fill(mem, p, n, f) { const u = new Uint8Array(mem.buffer, p, n); for (let i = 0; i < n; i++) u[i] = f(i); }

export function measureDecode(relaxed = false) {
  const env = kernels(relaxed);
  if (!env) return null;
  const { k, memory, alloc, reset } = env;
  const out = [];
  for (const [K, N, what] of SHAPES) {
    const row = { shape: `${K}×${N}`, what };
    // fp32: packed panels, 4 bytes a weight.
    {
      reset();
      const bytes = Math.ceil(N / 8) * 8 * K * 4, copies = Math.max(1, Math.ceil(MIN_BYTES / bytes));
      const x = alloc(K * 4), y = alloc(N * 4), w = Array.from({ length: copies }, () => alloc(bytes));
      new Float32Array(memory.buffer, x, K).fill(0.5);
      for (const p of w) new Float32Array(memory.buffer, p, bytes / 4).fill(0.01);
      const ms = bestMs(copies, 3, (c) => k.gemm_f32(x, K, w[c], y, N, 1, N, K, 0, 0, 0, 0, 0, 0, 0));
      row.fp32 = { ms, bytes, gbs: bytes / ms / 1e6 };
    }
    // int8: the i16 panels the int8 GEMM keeps (2 bytes a weight).
    {
      reset();
      const Kp = Math.ceil(K / 8) * 8, bytes = Math.ceil(N / 8) * 8 * Kp * 2, copies = Math.max(1, Math.ceil(MIN_BYTES / bytes));
      const x = alloc(K * 4), ap = alloc(4 * Kp * 2), ws = alloc(N * 4), y = alloc(N * 4), w = Array.from({ length: copies }, () => alloc(bytes));
      new Float32Array(memory.buffer, x, K).fill(0.5); new Float32Array(memory.buffer, ws, N).fill(0.01);
      for (const p of w) fill(memory, p, bytes, (i) => (i * 7) & 0x3f);
      const ms = bestMs(copies, 3, (c) => { k.quantize_pack_a_f32(x, K, ap, 1, K, 1 / 255, 0); k.gemm_i16_dq_f32(ap, w[c], y, N, 1, N, K, 1 / 255, ws, 0, 0, 0, 0, 0); });
      row.int8 = { ms, bytes, gbs: bytes / ms / 1e6, bytesPerWeight: 2 };
    }
    // int8 GEMV: what DynamicQuantizeMatMul runs for M ≤ 4, gemv_q8_dq_f32 over pack_b_q8's
    // one-byte panels (the same bits as the GEMM row above).
    {
      reset();
      const Kp = Math.ceil(K / 8) * 8, bytes = Math.ceil(N / 8) * 8 * Kp, copies = Math.max(1, Math.ceil(MIN_BYTES / bytes));
      const x = alloc(K * 4), ap = alloc(4 * Kp * 2), ws = alloc(N * 4), y = alloc(N * 4), w = Array.from({ length: copies }, () => alloc(bytes));
      new Float32Array(memory.buffer, x, K).fill(0.5); new Float32Array(memory.buffer, ws, N).fill(0.01);
      for (const p of w) fill(memory, p, bytes, (i) => (i * 7) & 0x3f);
      const ms = bestMs(copies, 3, (c) => { k.quantize_pack_a_f32(x, K, ap, 1, K, 1 / 255, 0); k.gemv_q8_dq_f32(ap, w[c], y, N, 1, N, K, 1 / 255, ws, 0, 0, 0, 0, 0); });
      row['int8 gemv'] = { ms, bytes, gbs: bytes / ms / 1e6, bytesPerWeight: 1 };
    }
    // int4: MatMulNBits' nibbles + f32 scales, block 32.
    {
      reset();
      const bs = 32, nb = Math.ceil(K / bs), wb = N * nb * bs / 2, sb = N * nb * 4, bytes = wb + sb;
      const copies = Math.max(1, Math.ceil(MIN_BYTES / bytes));
      const x = alloc(K * 4), xs = alloc((nb * bs + nb) * 4), y = alloc(N * 4);
      new Float32Array(memory.buffer, x, K).fill(0.5);
      // What MatMulNBits runs for one row: the scales regrouped per 4 columns at load
      // (q4_group_meta, same bytes as the scales), then the 4-column kernels.
      const w = Array.from({ length: copies }, () => {
        const p = alloc(wb), s = alloc(sb), s4 = alloc(sb); fill(memory, p, wb, (i) => (i * 37) & 0xff);
        new Float32Array(memory.buffer, s, sb / 4).fill(0.01); k.q4_group_meta(s, 0, 0, N, K, bs, s4, 0); return [p, s4];
      });
      const ms = bestMs(copies, 3, (c) => { k.gemv_q4_prep_x(x, K, 1, K, bs, xs); k.gemv_q4_f32_n4(xs, K, N / 4, bs, w[c][0], w[c][1], 0, y); });
      row.int4 = { ms, bytes, gbs: bytes / ms / 1e6 };
      // accuracy_level 4: x quantized to int8 per block, integer dot products.
      const ms8 = bestMs(copies, 3, (c) => { k.gemv_q4_prep_x_i8(x, K, 1, K, bs, xs); k.gemv_q4_i8_n4(xs, K, N / 4, bs, w[c][0], w[c][1], 0, y); });
      row['int4 (int8 x)'] = { ms: ms8, bytes, gbs: bytes / ms8 / 1e6 };
    }
    // accuracy_level 4 on the weights repacked at load (assembly/gemv_q4x.ts): 4-column groups,
    // scales f32 and zero points u8 per (group, block); what MatMulNBits runs for int8 compute.
    {
      reset();
      const bs = 32, nb = Math.ceil(K / bs), G = Math.ceil(N / 4), wb = G * nb * bs * 2, sb = G * nb * 16, zb = G * nb * 4, bytes = wb + sb + zb;
      const copies = Math.max(1, Math.ceil(MIN_BYTES / bytes));
      const x = alloc(K * 4), xq = alloc(nb * bs * 2 + nb * 8), y = alloc(N * 4);
      new Float32Array(memory.buffer, x, K).fill(0.5);
      const w = Array.from({ length: copies }, () => {
        const p = alloc(wb), s4 = alloc(sb), z4 = alloc(zb); fill(memory, p, wb, (i) => (i * 37) & 0xff);
        new Float32Array(memory.buffer, s4, sb / 4).fill(0.01); fill(memory, z4, zb, () => 8); return [p, s4, z4];
      });
      const ms = bestMs(copies, 3, (c) => { k.q4x_prep_x(x, K, bs, xq); k.gemv_q4x_i8(xq, K, N, bs, w[c][0], w[c][1], w[c][2], y); });
      row['int4 (int8 x, repacked)'] = { ms, bytes, gbs: bytes / ms / 1e6 };
      // The default (accuracy_level 0 … 3): the same repacked weights, x quantized to 16 bits per
      // block (assembly/gemv_q4x16.ts).
      const ms16 = bestMs(copies, 3, (c) => { k.q4x_prep_x16(x, K, bs, xq); k.gemv_q4x_i16(xq, K, N, bs, w[c][0], w[c][1], w[c][2], y); });
      row['int4 (16-bit x, repacked)'] = { ms: ms16, bytes, gbs: bytes / ms16 / 1e6 };
    }
    // Prefill, 128 rows (not for the lm_head: only the last position's logits are needed):
    // MatMulNBits dequantizes 64 KiB-wide bands of columns into GEMM panels, then gemm_f32; fp32
    // is pack_a_f32 + gemm_f32 on the panels packed at load. GFLOP/s of 2·M·N·K.
    if (N < 100000) {
      reset();
      const M = 128, bs = 32, nb = Math.ceil(K / bs), wb = N * nb * bs / 2;
      const nc = Math.min(Math.ceil(N / 8) * 8, Math.max(8, Math.floor((256 << 10) / (K * 32)) * 8));
      const x = alloc(M * K * 4), pa = alloc(M * K * 4), y = alloc(M * N * 4), bp = alloc(Math.ceil(N / 8) * 8 * K * 4);
      const p = alloc(wb), sc = alloc(N * nb * 4), panels = alloc(Math.ceil(nc / 8) * 8 * K * 4);
      new Float32Array(memory.buffer, x, M * K).fill(0.5); new Float32Array(memory.buffer, bp, Math.ceil(N / 8) * 8 * K).fill(0.01);
      fill(memory, p, wb, (i) => (i * 37) & 0xff); new Float32Array(memory.buffer, sc, N * nb).fill(0.01);
      const flops = 2 * M * N * K;
      const f = bestMs(1, 3, () => { k.pack_a_f32(x, K, pa, M, K); k.gemm_f32(pa, K, bp, y, N, M, N, K, 0, 0, 0, 0, 0, 0, 1); });
      const q = bestMs(1, 3, () => {
        for (let n0 = 0; n0 < N; n0 += nc) { const w = Math.min(nc, N - n0); k.dequant_q4_panels(p, sc, 0, 0, K, bs, n0, w, panels); k.gemm_f32(x, K, panels, y + n0 * 4, N, M, w, K, 0, 0, 0, 0, 0, 0, 0); }
      });
      row.prefill = { fp32: flops / f / 1e6, int4: flops / q / 1e6 };
    }
    out.push(row);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const bw = await measureBandwidth({ mb: 512, passes: 5 });
  const relaxed = process.argv.includes('--relaxed');
  const rows = measureDecode(relaxed);
  if (!rows) throw new Error('--relaxed: this engine does not validate relaxed SIMD (Node 20: node --experimental-wasm-relaxed-simd)');
  if (process.argv.includes('--json')) console.log(JSON.stringify({ bandwidth: bw, [relaxed ? 'relaxed' : 'simd128']: rows }, null, 2));
  else {
    console.log(`single-core read bandwidth: best ${bw.best.toFixed(1)} GB/s (median ${bw.median.toFixed(1)}); floor = bytes ÷ best`);
    console.log('| K×N | format | bytes | ms | GB/s | × floor | vs fp32 |\n|---|---|---:|---:|---:|---:|---:|');
    for (const r of rows) for (const f of ['fp32', 'int8', 'int8 gemv', 'int4', 'int4 (int8 x)', 'int4 (int8 x, repacked)', 'int4 (16-bit x, repacked)']) {
      const m = r[f];
      console.log(`| ${r.shape} | ${f} | ${(m.bytes / 1e6).toFixed(1)} MB | ${m.ms.toFixed(2)} | ${m.gbs.toFixed(1)} | ${(m.ms / (m.bytes / bw.best / 1e6)).toFixed(2)} | ${(r.fp32.ms / m.ms).toFixed(2)}× |`);
    }
    console.log('\n| prefill 128×K×N | fp32 GFLOP/s | int4 (dequantized panels + GEMM) GFLOP/s |\n|---|---:|---:|');
    for (const r of rows) if (r.prefill) console.log(`| ${r.shape} | ${r.prefill.fp32.toFixed(1)} | ${r.prefill.int4.toFixed(1)} |`);
  }
}
