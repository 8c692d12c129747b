/**
 * Weights packed once, at the right size (issue 19): after a run, the Wasm heap's high-water mark
 * stays within the weights as loaded + the activation arena + one packed tensor (the temporary a
 * weight is packed into before it is copied over its own initializer), for float32 MatMuls and
 * for quantize_dynamic's int8 ones — whose one packed copy (one-byte panels, read by both the
 * prefill GEMM and the decode GEMV) replaces the initializer. Outputs stay right at every shape.
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor, quantizeDynamic } from '../../src/index.js';
import { DT, floatTensor, model, node, valueInfo } from '../helpers/onnx-builder.js';

const H = 128, LAYERS = 6;
const weight = (l: number) => Array.from({ length: H * H }, (_, i) => Math.sin(i * 0.37 + l) * 0.1);

function mlp(): Uint8Array {
  const nodes = [], inits = [];
  let x = 'x';
  for (let l = 0; l < LAYERS; l++) {
    inits.push(floatTensor(`W${l}`, [H, H], weight(l)));
    nodes.push(node('MatMul', [x, `W${l}`], [`h${l}`]));
    x = `h${l}`;
  }
  nodes.push(node('Identity', [x], ['y']));
  return model({ nodes, inputs: [valueInfo('x', DT.FLOAT, ['n', H])], outputs: [valueInfo('y', DT.FLOAT, ['n', H])], initializers: inits, opset: 14 });
}

function reference(x: Float32Array, rows: number): Float32Array {
  let a = Float64Array.from(x);
  for (let l = 0; l < LAYERS; l++) {
    const w = weight(l), b = new Float64Array(rows * H);
    for (let r = 0; r < rows; r++) for (let n = 0; n < H; n++) {
      let s = 0;
      for (let k = 0; k < H; k++) s += a[r * H + k]! * Math.fround(w[k * H + n]!);
      b[r * H + n] = s;
    }
    a = b;
  }
  return Float32Array.from(a);
}

type Internals = { graph: { consts: Map<string, { released?: boolean }> }; executor: { arena: { bytes: number } }; heapHighWaterBytes: number; heapBytesInUse: number };
const internals = (s: InferenceSession) => s as unknown as Internals;

async function check(bytes: Uint8Array, weightBytes: number, packedOne: number, tol: number) {
  const s = await InferenceSession.create(bytes);
  const loaded = internals(s).heapHighWaterBytes;
  expect(loaded).toBeGreaterThanOrEqual(weightBytes);
  for (const rows of [1, 16, 3]) {
    const x = Float32Array.from({ length: rows * H }, (_, i) => Math.cos(i + rows));
    const y = (await s.run({ x: new Tensor('float32', x, [rows, H]) })).y!.data as Float32Array;
    const want = reference(x, rows);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(y[i]! - want[i]!));
    expect(worst, `rows ${rows}`).toBeLessThan(tol);
  }
  // The weights (W0 … or quantize_dynamic's W0_quantized …) were each replaced by their packed copy.
  const weights = [...internals(s).graph.consts.entries()].filter(([name]) => /^W\d/.test(name) && !/scale|zero/.test(name));
  expect(weights.map(([name]) => name)).toHaveLength(LAYERS);
  for (const [name, c] of weights) expect(c.released, name).toBe(true);
  const arena = internals(s).executor.arena.bytes;
  // Loaded weights (+ small constants) + the arena + one packed weight as the temporary, with 64 KiB of slack.
  expect(internals(s).heapHighWaterBytes).toBeLessThanOrEqual(loaded + arena + packedOne + 65536);
  // No holes left: what is in use is what the heap spans, within the small blocks' rounding.
  expect(internals(s).heapBytesInUse).toBeGreaterThan(loaded - 65536);
  await s.release();
}

describe('weights packed once, high-water mark', () => {
  it('float32 MatMuls: packed over their initializers', async () => {
    await check(mlp(), LAYERS * H * H * 4, H * H * 4 + 128, 2e-4);
  });

  it('dynamic int8 MatMuls: one-byte panels over their initializers, for decode and prefill rows', async () => {
    const q = quantizeDynamic(mlp()).bytes;
    // int8 weights: a byte each, and the one-byte panels the same size (H is a multiple of 8).
    await check(q, LAYERS * H * H, H * H + 128, 0.25);
  });
});

describe("memory: 'low'", () => {
  const D = 512; // 1 MiB float32 weights: the low-memory path's threshold
  const big = () => {
    const w = (l: number) => Array.from({ length: D * D }, (_, i) => Math.sin(i * 0.11 + l) * 0.05);
    return model({
      nodes: [node('MatMul', ['x', 'A'], ['h']), node('Relu', ['h'], ['r']), node('MatMul', ['r', 'B'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT, ['n', D])], outputs: [valueInfo('y', DT.FLOAT, ['n', D])],
      initializers: [floatTensor('A', [D, D], w(0)), floatTensor('B', [D, D], w(1))], opset: 14,
    });
  };

  it('keeps large weights as stored, packs nothing beside them, runs on one thread, same bits', async () => {
    const bytes = big();
    const normal = await InferenceSession.create(bytes);
    const low = await InferenceSession.create(bytes, { memory: 'low', threads: 2 });
    expect(low.threads).toBe(1);
    const loaded = internals(low).heapHighWaterBytes;
    for (const rows of [1, 20, 5]) {
      const x = new Tensor('float32', Float32Array.from({ length: rows * D }, (_, i) => Math.cos(i * 0.3 + rows)), [rows, D]);
      const a = (await normal.run({ x })).y!.data as Float32Array, b = (await low.run({ x })).y!.data as Float32Array;
      expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer)), `rows ${rows}`).toBe(0);
    }
    for (const name of ['A', 'B']) expect(internals(low).graph.consts.get(name)?.released, name).toBeUndefined();
    // No packed weight, no temporary: the arena (with a band of packed B) is all that was added.
    expect(internals(low).heapHighWaterBytes).toBeLessThanOrEqual(loaded + internals(low).executor.arena.bytes + 65536);
    // The default profile packs each weight through a temporary as large as the weight.
    expect(internals(normal).heapHighWaterBytes).toBeGreaterThanOrEqual(loaded + D * D * 4);
    expect(internals(normal).heapHighWaterBytes).toBeGreaterThan(internals(low).heapHighWaterBytes);
    await normal.release();
    await low.release();
  });

  it('refuses an unknown profile by name', async () => {
    await expect(InferenceSession.create(big(), { memory: 'tiny' as never })).rejects.toThrow(/memory must be 'default' or 'low', got tiny/);
  });
});
