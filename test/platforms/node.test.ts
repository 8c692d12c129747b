/**
 * The built package from plain Node (no vitest transform): ESM import and CJS require of
 * `tessera` by name (the package's own exports map), classifying held-out digits.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { root } from './helpers.js';

const classify = (load: string) => `
${load}
const fs = require('node:fs');
const images = fs.readFileSync('models/mnist/heldout-images.u8'), labels = fs.readFileSync('models/mnist/heldout-labels.u8');
(async () => {
  const session = await InferenceSession.create('models/mnist/mnist-cnn.onnx');
  const n = 16, x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = images[i] / 255;
  const p = (await session.run({ input: new Tensor('float32', x, [n, 1, 28, 28]) })).probabilities.data;
  const out = [];
  for (let i = 0; i < n; i++) { let b = 0; for (let c = 1; c < 10; c++) if (p[i * 10 + c] > p[i * 10 + b]) b = c; out.push(b); }
  console.log(JSON.stringify({ predicted: out, labels: Array.from(labels.subarray(0, n)) }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function run(args: string[]): { predicted: number[]; labels: number[] } {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  // Nothing on stderr: no deprecation or experimental-feature warnings reach a user's console.
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

function agree({ predicted, labels }: { predicted: number[]; labels: number[] }): number {
  return predicted.filter((p, i) => p === labels[i]).length;
}

describe('dist in Node', () => {
  it("require('tessera') (CJS) classifies digits", () => {
    const r = run(['-e', classify("const { InferenceSession, Tensor } = require('tessera');")]);
    expect(agree(r)).toBeGreaterThanOrEqual(15);
  });

  it("import 'tessera' (ESM) classifies digits", () => {
    const src = classify("import { createRequire } from 'node:module'; const require = createRequire(process.cwd() + '/'); import { InferenceSession, Tensor } from 'tessera';");
    const r = run(['--input-type=module', '-e', src]);
    expect(agree(r)).toBeGreaterThanOrEqual(15);
  });

  it('resolves each condition to its bundle', () => {
    const resolve = (cond: string) => execFileSync(process.execPath, [...(cond ? ['-C', cond] : []), '--input-type=module', '-e', "console.log(import.meta.resolve('tessera'))"], { cwd: root, encoding: 'utf8' }).trim();
    expect(resolve('')).toMatch(/dist\/node\/index\.js$/);
    expect(resolve('workerd')).toMatch(/dist\/worker\/index\.js$/);
    expect(resolve('browser')).toMatch(/dist\/browser\/index\.js$/);
  });
});
