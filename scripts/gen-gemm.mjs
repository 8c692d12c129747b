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
// - Every tile sums a row the same way: one accumulator chain per column, k in order. So a row's
//   bits never depend on the tile it lands in, nor on M: a batch of rows (Whisper's windows
//   decoded together, src/speech/decode-rows.ts) gets exactly each row's one-row bits, whatever
//   the tiling or the thread split. The 1- and 2-row tiles once kept 4 and 2 accumulator sets
//   over alternating k to hide the add latency, but TurboFan hoists every load of the unrolled
//   body, so their 12 and 8 loads plus the accumulators spilled: 21 and 18 GFLOP/s in L1 against
//   28 and 41 with one set, unrolled by V8 (below). The relaxed build's 1-row tile is bound by its
//   2 FMA chains' latency (4 cycles): 14 GFLOP/s in L1, 1536×384 weights streamed at ~28 GB/s
//   against ~34 before. Tried: one row against two panels at once (4 chains): its two streams
//   through B (a panel's K blocks are no longer read in address order) ran at 13 GB/s.
// - The `_pa` twins read A packed by `pack_a_f32` (4 rows interleaved per k): one pointer and
//   immediate offsets instead of mr row pointers. On a 4-pipe FP core (Zen 4) the 4×8 loop is
//   bound by instructions issued, not by arithmetic, and the 3 row-pointer updates and index
//   zero-extensions it drops lifted 128×768×768 from ~37 to ~40 GFLOP/s (peak 47).
// - Every tile's k loop sits inside two loops that split the steps into chunks and run once for
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
// Loops around the k loop (see above), for every tile height.
const NEST = 2;
// Steps per chunk of the outer loops: more than any K block (KC = 256), and far from overflow.
const CHUNK = [1 << 20, 1 << 19];

// packed: A is a pack_a_f32 tile (row r of step k at float 4k + r, whatever mr is).
function kernel(mr, packed) {
  const name = `gemm_f32_${mr}x8${packed ? '_pa' : ''}`;
  const aLoad = (r) => packed ? `v128.load32_splat(a, ${4 * r})` : `v128.load32_splat(a${r})`;
  const rows = [...Array(mr).keys()];
  const aStep = packed ? ['a += 16;'] : rows.map((r) => `a${r} += 4;`);
  const acc = (r, h) => `c${r}${h}`;
  const L = [];
  L.push(`// ${mr}×8 tile${packed ? ' over packed A' : ''}, ${2 * mr} accumulators.`);
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
  for (const r of rows) L.push(`  let ${acc(r, 0)} = f32x4.splat(0); let ${acc(r, 1)} = f32x4.splat(0);`);
  L.push(`  let k = kc;`);
  // The k loop, nested in NEST chunking loops (so that V8 unrolls it).
  const nest = NEST;
  let ind = '  ';
  let count = 'k';
  L.push(`  // Chunks that run once: they put the k loop at nesting depth ${nest + 1}, where V8 unrolls it (gen-gemm.mjs).`);
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
  else L.push(`${ind}for (let n = ${count}; n > 0; n--) {`);
  L.push(`${ind}  const vb0 = v128.load(b); const vb1 = v128.load(b, 16); b += 32;`);
  for (const r of rows) {
    L.push(`${ind}  const s${r} = ${aLoad(r)};`);
    L.push(`${ind}  ${acc(r, 0)} = madd(s${r}, vb0, ${acc(r, 0)}); ${acc(r, 1)} = madd(s${r}, vb1, ${acc(r, 1)});`);
  }
  for (const x of aStep) L.push(`${ind}  ${x}`);
  L.push(`${ind}}`);
  for (let level = nest; level > 0; level--) { ind = ind.slice(2); L.push(`${ind}}`); }
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
