/**
 * The relaxed-SIMD kernels are chosen at run time where the engine validates them. Node 20 needs a
 * flag for that, so this runs the built package in a child process with the flag and checks that
 * both builds classify MNIST identically and agree to 1e-5.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

const script = `
import { readFileSync } from 'node:fs';
import { InferenceSession, Tensor, env } from './dist/node/index.js';
const images = readFileSync('models/mnist/heldout-images.u8');
const n = 64, data = new Float32Array(n * 784);
for (let i = 0; i < data.length; i++) data[i] = images[i] / 255;
const out = {};
for (const variant of ['simd', 'relaxed']) {
  const s = await InferenceSession.create('models/mnist/mnist-cnn.onnx', { wasmVariant: variant });
  const r = await s.run({ input: new Tensor('float32', data, [n, 1, 28, 28]) });
  out[variant] = { used: s.wasmVariant, probs: Array.from(r.probabilities.data) };
}
console.log(JSON.stringify({ auto: (await InferenceSession.create('models/mnist/mnist-cnn.onnx')).wasmVariant, ...out }));
`;

describe('relaxed-SIMD build', () => {
  it('is picked where validated and matches the SIMD128 build', () => {
    expect(existsSync(`${root}dist/node/index.js`), 'run npm run build first').toBe(true);
    const stdout = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    const res = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(res.auto).toBe('relaxed');
    expect(res.simd.used).toBe('simd');
    expect(res.relaxed.used).toBe('relaxed');
    const a: number[] = res.simd.probs, b: number[] = res.relaxed.probs;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThan(1e-5);
  });
});
