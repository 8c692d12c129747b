/**
 * What the web bundles must never contain: eval and its kin (Workers and strict CSPs refuse them),
 * dynamic import and blob URLs (Workers have neither). And what the package must ship.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './helpers.js';

const FORBIDDEN: [string, RegExp][] = [
  ['eval', /(?<![\w$.])eval\s*\(/],
  ['new Function', /new\s+Function\s*\(/],
  ['Function(…)', /(?<![\w$.])Function\s*\(/],
  ['dynamic import()', /(?<![\w$.])import\s*\(/],
  ['blob URLs', /createObjectURL/],
];

describe('web bundles', () => {
  for (const file of ['dist/browser/index.js', 'dist/worker/index.js']) {
    it(`${file} has no eval, new Function, dynamic import or blob URL`, () => {
      const code = readFileSync(join(root, file), 'utf8');
      for (const [what, re] of FORBIDDEN) expect(re.exec(code)?.[0], `${what} in ${file}`).toBeUndefined();
    });
  }

  it('the Workers bundle imports its kernels as modules and compiles nothing by default', () => {
    const code = readFileSync(join(root, 'dist/worker/index.js'), 'utf8');
    expect(code).toMatch(/import [\w$]+ from"\.\.\/kernels\.wasm"/);
    expect(code).toMatch(/import [\w$]+ from"\.\.\/kernels-relaxed\.wasm"/);
    expect(code).not.toMatch(/new URL\(/);
  });

  it('the browser bundle finds its kernels relative to import.meta.url', () => {
    const code = readFileSync(join(root, 'dist/browser/index.js'), 'utf8');
    expect(code).toContain('new URL("../kernels.wasm",import.meta.url)');
    expect(code).toContain('new URL("../kernels-relaxed.wasm",import.meta.url)');
  });

  it('the package ships every bundle and both kernel files', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    for (const f of ['dist/node', 'dist/browser', 'dist/worker', 'dist/types', 'dist/kernels.wasm', 'dist/kernels-relaxed.wasm']) expect(pkg.files).toContain(f);
  });
});
