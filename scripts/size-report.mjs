// What each platform downloads, raw and gzipped: the browser entry (and everything it imports,
// all inlined) plus the one kernel file it fetches. Prints the table and writes docs/size.md.
// Fails the build when the browser total passes the budget.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { replaceSection } from './readme-section.mjs';

const BUDGET_KB = 300;
const files = [
  ['dist/browser/index.js', 'browser + Web Worker entry (ESM, minified, all JS)'],
  ['dist/worker/index.js', 'Cloudflare Workers entry (ESM, minified)'],
  ['dist/node/index.js', 'Node entry (ESM, not minified)'],
  ['dist/kernels.wasm', 'SIMD128 kernels'],
  ['dist/kernels-relaxed.wasm', 'relaxed-SIMD kernels'],
];
const kb = (n) => (n / 1024).toFixed(1);
const sizes = Object.fromEntries(files.map(([f]) => {
  const bytes = readFileSync(f);
  return [f, { raw: bytes.length, gz: gzipSync(bytes, { level: 9 }).length }];
}));
// A browser fetches one kernel file: the relaxed one where it validates, else the baseline.
const wasm = Math.max(sizes['dist/kernels.wasm'].gz, sizes['dist/kernels-relaxed.wasm'].gz);
const wasmRaw = Math.max(sizes['dist/kernels.wasm'].raw, sizes['dist/kernels-relaxed.wasm'].raw);
const total = { raw: sizes['dist/browser/index.js'].raw + wasmRaw, gz: sizes['dist/browser/index.js'].gz + wasm };

const rows = files.map(([f, what]) => `| \`${f}\` | ${what} | ${kb(sizes[f].raw)} | ${kb(sizes[f].gz)} |`);
const md = [
  '| file | what | raw KB | gzip KB |',
  '|---|---|---:|---:|',
  ...rows,
  `| **a browser downloads** | entry JS + one kernel file | **${kb(total.raw)}** | **${kb(total.gz)}** |`,
  '',
  `Budget: ${BUDGET_KB} KB gzip for what a browser downloads (onnxruntime-web 1.x: 3,617 KB). Sizes in KiB (1024 bytes), gzip level 9, from \`npm run build\` (scripts/size-report.mjs).`,
].join('\n');
mkdirSync('docs', { recursive: true });
writeFileSync('docs/size.md', `# Bundle sizes\n\n${md}\n`);
replaceSection('size', `| what a browser downloads, gzip | tessera | onnxruntime-web 1.x |
|---|---:|---:|
| JS + Wasm | **${kb(total.gz)} KB** | 3,617 KB |`);
console.log(md);
if (total.gz / 1024 > BUDGET_KB) {
  console.error(`Browser download ${kb(total.gz)} KB gzip is over the ${BUDGET_KB} KB budget`);
  process.exit(1);
}
