// How many rows a register-resident f32 GEMM micro-tile can have in V8: an MR×8 tile (MR splat
// loads of A and 2 vector loads of B per step, 2·MR accumulators) run over one L1-resident panel,
// with f32x4 mul + add and, where the engine validates it, relaxed_madd (FMA). Compiled here from
// source with the AssemblyScript compiler, as bench/peak.mjs.
//   node [--experimental-wasm-relaxed-simd] bench/gemm-tile-rows.mjs
// 2026-12-07 (AMD EPYC, Node 20 with the flag): 4×8 50.3 / 50.2 GFLOP/s (mul+add / FMA), 5×8
// 22.7 / 20.7, 6×8 27.1 / 24.6 — past 8 accumulators TurboFan spills on x64's 16 vector registers,
// so FMA's higher peak (58 GFLOP/s in bench/peak.mjs, no loads) does not reach a GEMM tile.
import asc from 'assemblyscript/asc';
import v8 from 'node:v8';
v8.setFlagsFromString('--no-liftoff');
const madd = (x, y, z, relaxed) => relaxed ? `f32x4.relaxed_madd(${x}, ${y}, ${z})` : `f32x4.add(f32x4.mul(${x}, ${y}), ${z})`;
function src(MR, relaxed) {
  const accs = []; for (let r = 0; r < MR; r++) for (let j = 0; j < 2; j++) accs.push(`c${r}${j}`);
  const body = [];
  body.push('const vb0 = v128.load(b), vb1 = v128.load(b, 16);');
  for (let r = 0; r < MR; r++) {
    body.push(`const s${r} = v128.load32_splat(a, ${4 * r});`);
    body.push(`c${r}0 = ${madd(`s${r}`, 'vb0', `c${r}0`, relaxed)}; c${r}1 = ${madd(`s${r}`, 'vb1', `c${r}1`, relaxed)};`);
  }
  return `export function tile(a0: usize, b0: usize, kc: i32, c: usize, reps: i32): void {
  for (let rep = 0; rep < reps; rep++) {
  let a = a0, b = b0;
  ${accs.map((x) => `let ${x} = v128.load(c);`).join(' ')}
  let k = kc;
  while (k > 0) {
    const chunk1 = min(k, 1 << 20); k -= chunk1;
    let left1 = chunk1;
    while (left1 > 0) {
      const chunk2 = min(left1, 1 << 19); left1 -= chunk2;
      const aEnd = a + (<usize>chunk2 * ${4 * MR});
      while (a < aEnd) {
        ${body.join('\n        ')}
        a += ${4 * MR};
        b += 32;
      }
    }
  }
  ${accs.map((x, i) => `v128.store(c, ${x}, ${16 * i});`).join(' ')}
  }
}`;
}
for (const relaxed of [false, true]) for (const MR of [4, 5, 6]) {
  const { binary, stderr, error } = await asc.compileString(src(MR, relaxed), { optimizeLevel: 3, runtime: 'stub', importMemory: true, enable: relaxed ? ['simd', 'relaxed-simd'] : ['simd'] });
  if (error) { console.log(stderr.toString()); process.exit(1); }
  if (!WebAssembly.validate(binary)) { console.log(`relaxed_madd ${MR}x8: relaxed SIMD is off in this engine (--experimental-wasm-relaxed-simd on Node 20)`); continue; }
  const memory = new WebAssembly.Memory({ initial: 64 });
  const { tile } = new WebAssembly.Instance(new WebAssembly.Module(binary), { env: { memory, abort() {} } }).exports;
  const kc = 256, reps = 2000;
  const a = 4096, b = a + kc * 4 * MR + 64, c = b + kc * 32 + 64;
  const t0 = performance.now(); while (performance.now() - t0 < 800) tile(a, b, kc, c, 100);
  let best = 0;
  for (let i = 0; i < 9; i++) { const t = performance.now(); tile(a, b, kc, c, reps); const s = (performance.now() - t) / 1000; best = Math.max(best, 2 * MR * 8 * kc * reps / s / 1e9); }
  console.log(`${relaxed ? 'relaxed_madd' : 'mul+add    '} ${MR}x8 tile in L1: ${best.toFixed(1)} GFLOP/s`);
}
