// Generates assembly/gemm_microkernels.ts: the f32 GEMM micro-kernels gemm_f32_{1..MR}x8 from
// one template, so the main tile and its row remainders can never drift apart (XNNPACK style).
// Run: node scripts/gen-gemm.mjs   (`--check` exits 1 if the committed file is stale; a unit
// test runs that).
//
// Why this shape (measured on Node 20 / V8 11.3, x64, see assembly/README.md):
// - A is broadcast straight from memory (`v128.load32_splat` → vbroadcastss), one k at a time.
//   TurboFan schedules every load of a loop body before the arithmetic, so unrolling k (or
//   loading A as a v128 and shuffling lanes out) keeps all those loads live at once and spills
//   accumulators: 6×8 with shuffles ran at 33.6/43.9 GFLOP/s (plain/relaxed), this 4×8 at 38/46.
// - 4×8 = 8 accumulators + 2 B + 4 A broadcasts = 14 of the 16 xmm registers: no spills.
// - Tiles with few rows would be bound by the add/FMA latency of their 2·mr accumulator chains,
//   so they keep SETS independent accumulator sets over alternating k and sum them at the end.
// - The `_pa` twins read A packed by `pack_a_f32` (4 rows interleaved per k): one pointer and
//   immediate offsets instead of mr row pointers. On a 4-pipe FP core (Zen 4) the 4×8 loop is
//   bound by instructions issued, not by arithmetic, and the 3 row-pointer updates and index
//   zero-extensions it drops lifted 128×768×768 from ~37 to ~40 GFLOP/s (peak 47).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MR = 4;
const NR = 8;
// Accumulator sets per tile height: enough independent chains to cover FMA latency.
const SETS = { 1: 4, 2: 2, 3: 1, 4: 1 };

// packed: A is a pack_a_f32 tile (row r of step k at float 4k + r, whatever mr is).
function kernel(mr, packed) {
  const S = SETS[mr];
  const name = `gemm_f32_${mr}x8${packed ? '_pa' : ''}`;
  const aLoad = (r, s) => packed ? `v128.load32_splat(a, ${16 * s + 4 * r})` : `v128.load32_splat(a${r}, ${4 * s})`;
  const aStep = (n) => packed ? [`a += ${16 * n};`] : rows.map((r) => `a${r} += ${4 * n};`);
  const rows = [...Array(mr).keys()];
  const sets = [...Array(S).keys()];
  const acc = (r, h, s) => `c${r}${h}${s ? `_${s}` : ''}`;
  const L = [];
  L.push(`// ${mr}×8 tile${packed ? ' over packed A' : ''}, ${2 * mr * S} accumulators (${S} set${S > 1 ? 's' : ''} of ${2 * mr}).`);
  if (packed) {
    // Few integer parameters: every one live across the loop takes a general register, and when
    // they run out V8 recomputes the A offsets' addresses inside the loop (3 more instructions).
    // flags: nr (≤ 8) in bits 0–3, addC bit 4, act in bits 5–9, bias per row bit 10, per column 11.
    L.push(`export function ${name}(a: usize, b: usize, c: usize, ldc: usize, kc: i32, flags: i32, bias: usize,`);
    L.push(`  alpha: f32, beta: f32): void {`);
  } else {
    L.push(`export function ${name}(a: usize, lda: usize, b: usize, c: usize, ldc: usize, nr: i32, kc: i32,`);
    L.push(`  addC: bool, brow: usize, bcol: usize, act: i32, alpha: f32, beta: f32): void {`);
  }
  if (!packed) for (const r of rows) L.push(`  let a${r} = a${r === 0 ? '' : ` + ${r} * lda`};`);
  for (const s of sets) for (const r of rows) L.push(`  let ${acc(r, 0, s)} = f32x4.splat(0); let ${acc(r, 1, s)} = f32x4.splat(0);`);
  L.push(`  let k = kc;`);
  if (S > 1) {
    L.push(`  for (; k >= ${S}; k -= ${S}) {`);
    for (const s of sets) {
      L.push(`    {`);
      L.push(`      const vb0 = v128.load(b, ${32 * s}); const vb1 = v128.load(b, ${32 * s + 16});`);
      for (const r of rows) {
        L.push(`      const s${r} = ${aLoad(r, s)};`);
        L.push(`      ${acc(r, 0, s)} = madd(s${r}, vb0, ${acc(r, 0, s)}); ${acc(r, 1, s)} = madd(s${r}, vb1, ${acc(r, 1, s)});`);
      }
      L.push(`    }`);
    }
    for (const x of aStep(S)) L.push(`    ${x}`);
    L.push(`    b += ${32 * S};`);
    L.push(`  }`);
  }
  // Packed A: the loop ends on A's pointer, one instruction fewer per step than a counter.
  if (packed) L.push(`  const aEnd = a + (<usize>k << 4);`, `  while (a < aEnd) {`);
  else L.push(`  for (; k > 0; k--) {`);
  L.push(`    const vb0 = v128.load(b); const vb1 = v128.load(b, 16); b += 32;`);
  for (const r of rows) {
    L.push(`    const s${r} = ${aLoad(r, 0)};`);
    L.push(`    ${acc(r, 0, 0)} = madd(s${r}, vb0, ${acc(r, 0, 0)}); ${acc(r, 1, 0)} = madd(s${r}, vb1, ${acc(r, 1, 0)});`);
  }
  for (const x of aStep(1)) L.push(`    ${x}`);
  L.push(`  }`);
  for (const s of sets.slice(1))
    for (const r of rows)
      for (const h of [0, 1]) L.push(`  ${acc(r, h, 0)} = f32x4.add(${acc(r, h, 0)}, ${acc(r, h, s)});`);
  if (packed) {
    L.push(`  const nr = flags & 15; const addC = (flags & 16) != 0; const act = (flags >> 5) & 31;`);
    L.push(`  const brow: usize = flags & 1024 ? bias : 0; const bcol: usize = flags & 2048 ? bias : 0;`);
  }
  L.push(`  let bc0 = f32x4.splat(0); let bc1 = f32x4.splat(0);`);
  L.push(`  if (bcol) { bc0 = loadN(bcol, nr); bc1 = loadN(bcol + 16, nr - 4); }`);
  for (const r of rows) {
    L.push(`  store_row(c${r === 0 ? '' : ` + ${r} * ldc`}, c${r}0, c${r}1, nr, addC, brow ? load<f32>(brow, ${4 * r}) : 0, bc0, bc1, act, alpha, beta);`);
  }
  L.push(`}`);
  return L.join('\n');
}

const out = [
  '// Generated by scripts/gen-gemm.mjs from one template — do not edit by hand.',
  '// Micro-kernel contract: C tile (mr × nr, nr ≤ 8) = epilogue(A[mr × kc] · Bpanel[kc × 8]).',
  '// lda/ldc are in BYTES here (the driver converts); b is a packed 8-column panel.',
  "import { madd } from './activation';",
  "import { loadN, store_row } from './gemm_epilogue';",
  '',
  `export const GEMM_MR: i32 = ${MR};`,
  `export const GEMM_NR: i32 = ${NR};`,
  '',
  ...[false, true].flatMap((packed) => [...Array(MR).keys()].map((i) => kernel(i + 1, packed) + '\n')),
].join('\n');

const file = join(root, 'assembly', 'gemm_microkernels.ts');
if (process.argv.includes('--check')) {
  if (readFileSync(file, 'utf8') !== out) { console.error(`${file} is stale: run node scripts/gen-gemm.mjs`); process.exit(1); }
} else writeFileSync(file, out);
