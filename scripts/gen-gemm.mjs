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
// - The 4×8 tiles' k loop sits inside two loops that split the steps into chunks and run once for
//   any kc the driver passes. TurboFan unrolls an innermost wasm loop min((depth + 1)·50 / size, 5)
//   times (size in graph nodes, depth its nesting; V8's loop-unrolling.h): this body (~65 nodes)
//   at depth 1 is never unrolled, at depth 3 it is unrolled ×3. The copies drop the per-step stack
//   check, zero-extensions and offset additions of all but one step (33 → ~29 instructions a
//   step), and unlike unrolling by hand they keep an exit test between copies, so TurboFan cannot
//   hoist every copy's loads to the top and spill. Same operations in the same order: the same
//   bits. 1500×1536×384 (Whisper's fc1): 38 → 45 GFLOP/s (peak 48).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MR = 4;
const NR = 8;
// Accumulator sets per tile height: enough independent chains to cover FMA latency.
const SETS = { 1: 4, 2: 2, 3: 1, 4: 1 };
// Loops around the k loop, per tile height (see above); the small tiles keep their plain loop.
const NEST = { 1: 0, 2: 0, 3: 0, 4: 2 };
// Steps per chunk of the outer loops: more than any K block (KC = 256), and far from overflow.
const CHUNK = [1 << 20, 1 << 19];

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
  // The k loop, nested in NEST[mr] chunking loops (so that V8 unrolls it); `k` steps remain.
  const nest = NEST[mr];
  let ind = '  ';
  let count = 'k';
  if (nest) L.push(`  // Chunks that run once: they put the k loop at nesting depth ${nest + 1}, where V8 unrolls it (gen-gemm.mjs).`);
  for (let level = 0; level < nest; level++) {
    const left = level === 0 ? 'k' : `left${level}`;
    L.push(`${ind}while (${left} > 0) {`);
    ind += '  ';
    L.push(`${ind}const chunk${level + 1} = min(${left}, ${CHUNK[level]}); ${left} -= chunk${level + 1};`);
    if (level + 1 < nest) L.push(`${ind}let left${level + 1} = chunk${level + 1};`);
    count = `chunk${level + 1}`;
  }
  // Packed A: the loop ends on A's pointer, one instruction fewer per step than a counter.
  if (packed) L.push(`${ind}const aEnd = a + (<usize>${count} << 4);`, `${ind}while (a < aEnd) {`);
  else if (nest) L.push(`${ind}for (let n = ${count}; n > 0; n--) {`);
  else L.push(`${ind}for (; k > 0; k--) {`);
  L.push(`${ind}  const vb0 = v128.load(b); const vb1 = v128.load(b, 16); b += 32;`);
  for (const r of rows) {
    L.push(`${ind}  const s${r} = ${aLoad(r, 0)};`);
    L.push(`${ind}  ${acc(r, 0, 0)} = madd(s${r}, vb0, ${acc(r, 0, 0)}); ${acc(r, 1, 0)} = madd(s${r}, vb1, ${acc(r, 1, 0)});`);
  }
  for (const x of aStep(1)) L.push(`${ind}  ${x}`);
  L.push(`${ind}}`);
  for (let level = nest; level > 0; level--) { ind = ind.slice(2); L.push(`${ind}}`); }
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
