// This engine's f32x4 arithmetic ceiling on one core, and the GEMM kernel against it.
// `node bench/peak.mjs [--json]` (`npm run bench` prints it too). The peak loop runs 12 independent
// accumulator chains of f32x4 mul + add (and, where the engine validates relaxed SIMD,
// f32x4.relaxed_madd) so latency never limits it: what it measures is issue throughput, the
// number a kernel's GFLOP/s should be read against. The loop is compiled here from source with
// the AssemblyScript compiler (a devDependency), so nothing is committed in binary form.
import asc from 'assemblyscript/asc';
import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CHAINS = 12;
// Compile straight to optimised code: waiting for V8 to tier up in the background is unreliable on
// a busy machine (the optimising compile thread starves and the baseline code gets measured).
// Only this process's modules compiled from here on are affected; the bench children are not.
v8.setFlagsFromString('--no-liftoff');
const root = fileURLToPath(new URL('..', import.meta.url));

function peakSource(relaxed) {
  const decl = Array.from({ length: CHAINS }, (_, i) => `let a${i} = f32x4.splat(${i + 1});`).join('\n  ');
  const step = Array.from({ length: CHAINS }, (_, i) => relaxed
    ? `a${i} = f32x4.relaxed_madd(a${i}, m, c);`
    : `a${i} = f32x4.add(f32x4.mul(a${i}, m), c);`).join('\n    ');
  const sum = Array.from({ length: CHAINS }, (_, i) => `a${i}`).reduce((s, a) => `f32x4.add(${s}, ${a})`);
  return `export function peak(iters: i32, mf: f32, cf: f32): f32 {
  const m = f32x4.splat(mf); const c = f32x4.splat(cf);
  ${decl}
  for (let i = 0; i < iters; i++) {
    ${step}
  }
  const s = ${sum};
  return f32x4.extract_lane(s, 0);
}`;
}

async function compile(relaxed) {
  const flags = ['-O3', '--runtime', 'stub', '--enable', 'simd', ...(relaxed ? ['--enable', 'relaxed-simd'] : [])];
  const { binary, error, stderr } = await asc.compileString(peakSource(relaxed), Object.fromEntries(
    [['optimizeLevel', 3], ['runtime', 'stub'], ['enable', relaxed ? ['simd', 'relaxed-simd'] : ['simd']]]));
  if (error) throw new Error(`${flags.join(' ')}: ${stderr}`);
  return binary;
}

/**
 * Best GFLOP/s of timed repetitions after a warm-up. V8 first runs Wasm in its baseline compiler
 * and swaps in the optimised code between calls, in the background — on a loaded machine that
 * can take a second — so the warm-up is timed, not counted.
 */
function bestGflops(fn, flopsPerCall, reps = 7, warmMs = 1500) {
  for (const t0 = performance.now(); performance.now() - t0 < warmMs;) fn();
  let best = 0;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    fn();
    const s = (performance.now() - t) / 1000;
    best = Math.max(best, flopsPerCall / s / 1e9);
  }
  return best;
}

export async function measurePeak() {
  const out = {};
  for (const relaxed of [false, true]) {
    const bin = await compile(relaxed);
    if (!WebAssembly.validate(bin)) { out[relaxed ? 'relaxed' : 'simd128'] = null; continue; }
    const { peak } = new WebAssembly.Instance(new WebAssembly.Module(bin)).exports;
    // Many short calls: V8 tiers a Wasm function up between calls, never inside one.
    const iters = 200_000;
    out[relaxed ? 'relaxed' : 'simd128'] = bestGflops(() => peak(iters, 0.999, 1e-3), iters * CHAINS * 4 * 2, 30);
  }
  return out;
}

/** gemm_f32 from build/kernels*.wasm on layer-shaped problems, GFLOP/s. */
export function measureGemm(relaxed) {
  const file = `${root}build/kernels${relaxed ? '-relaxed' : ''}.wasm`;
  const bytes = readFileSync(file);
  if (!WebAssembly.validate(bytes)) return null;
  const memory = new WebAssembly.Memory({ initial: 4096 });
  const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  const base = (k.heap_base() + 63) & ~63;
  const shapes = [[64, 7744, 288, 'MNIST conv2, batch 64 folded'], [64, 3136, 576, 'ResNet 3×3 64→64 @ 56²'],
    [256, 784, 1152, 'ResNet 3×3 128 @ 28² (K > KC)'], [128, 768, 768, 'BERT-base projection'],
    [128, 3072, 768, 'BERT-base FFN in'], [128, 768, 3072, 'BERT-base FFN out (K > KC)'], [1, 1000, 2048, 'dense, batch 1']];
  const f32 = new Float32Array(memory.buffer);
  return shapes.map(([M, N, K, what]) => {
    const a = base, bp = a + M * K * 4, c = bp + Math.ceil(N / 8) * 8 * K * 4, pa = c + M * N * 4;
    if (pa + Math.ceil(M / 4) * 16 * K > memory.buffer.byteLength) throw new Error('peak.mjs: memory too small');
    for (let i = a / 4; i < c / 4; i++) f32[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
    const g = bestGflops(() => k.gemm_f32(a, K, bp, c, N, M, N, K, 0, 0, 0, 0, 0, 0, 0), 2 * M * N * K, 5);
    // What MatMul/Gemm with constant weights run for M ≥ 16 (src/ops/math/gemm.ts): pack A, then the
    // packed kernel; the packing is timed too.
    const packed = bestGflops(() => {
      k.pack_a_f32(a, K, pa, M, K);
      k.gemm_f32(pa, K, bp, c, N, M, N, K, 0, 0, 0, 0, 0, 0, 1);
    }, 2 * M * N * K, 5);
    return { shape: `${M}×${N}×${K}`, what, gflops: g, packedA: packed };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const peak = await measurePeak();
  const gemm = { simd128: measureGemm(false), relaxed: peak.relaxed ? measureGemm(true) : null };
  if (process.argv.includes('--json')) console.log(JSON.stringify({ peak, gemm }, null, 2));
  else {
    const f = (x) => (x == null ? 'n/a' : x.toFixed(1));
    console.log(`f32x4 peak, ${CHAINS} chains: mul+add ${f(peak.simd128)} GFLOP/s; relaxed_madd ${f(peak.relaxed)} GFLOP/s`);
    console.log('| gemm_f32 M×N×K | layer | SIMD128 GFLOP/s (of peak) | packed A | relaxed GFLOP/s (of peak) | packed A |\n|---|---|---:|---:|---:|---:|');
    const of = (g, p) => `${f(g)} (${(100 * g / p).toFixed(0)}%)`;
    gemm.simd128.forEach((r, i) => {
      const rr = gemm.relaxed?.[i];
      console.log(`| ${r.shape} | ${r.what} | ${of(r.gflops, peak.simd128)} | ${of(r.packedA, peak.simd128)} | ${rr ? `${of(rr.gflops, peak.relaxed)} | ${of(rr.packedA, peak.relaxed)}` : 'n/a | n/a'} |`);
    });
  }
}
