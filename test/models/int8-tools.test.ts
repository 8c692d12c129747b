/**
 * Int8 models made the way onnxruntime.quantization makes them (models/int8-tools/make.py
 * re-implements quantize_dynamic's and quantize_static's QDQ graph patterns): each runs in tessera,
 * agrees with onnxruntime-web on the same bytes, and the MNIST ones still classify the held-out
 * digits about as well as the float model.
 *
 * Tolerances. Dynamic models: DynamicQuantizeLinear's integers depend on the float input, so where
 * tessera's float ops (LayerNorm, Erf, Gemm summation order) differ from onnxruntime's in the last
 * bit, one element can round to the neighbouring step; the MNIST ConvInteger chain sees identical
 * floats (the image, then exact integer results times the same scales), so it is held to 1e-4.
 * BERT logits are held to 2% of their largest magnitude (one step of an 8-bit range is 0.4-0.8%).
 * QDQ models: onnxruntime-web fuses Q/DQ into QLinearConv/QGemm whose requantisation rounds
 * differently from the float path, so a layer may land one output step off; the final Softmax is
 * itself quantized to 1/256, so probabilities are held to 4 steps (4/256) and the predicted
 * digit must match on ≥ 99% of a batch.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { optimize } from '../../src/graph/passes/index.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { batchOf, heldout, mnistReference } from '../helpers/mnist.js';
import { ortRun, ortSession } from '../helpers/ort.js';

const dir = fileURLToPath(new URL('../../models/int8-tools/', import.meta.url));
const load = (name: string): Uint8Array => readFileSync(`${dir}${name}`);

function opTypes(bytes: Uint8Array): string[] {
  const m = decodeModel(bytes);
  optimize(m);
  return m.graph.nodes.map((n) => n.opType);
}

/**
 * Weight products run by the dynamic int8 GEMM: one per DynamicQuantizeMatMul, one per output of a
 * DynamicQuantizeMatMulGroup (Q, K and V of a layer quantize their shared input once).
 */
function dynamicProducts(bytes: Uint8Array): { products: number; groups: number } {
  const m = decodeModel(bytes);
  optimize(m);
  let products = 0, groups = 0;
  for (const n of m.graph.nodes) {
    if (n.opType === 'DynamicQuantizeMatMul') products++;
    if (n.opType === 'DynamicQuantizeMatMulGroup') { products += n.outputs.length; groups++; }
  }
  return { products, groups };
}

function worst(a: Float32Array, b: Float32Array): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!));
  return w;
}

function argmaxRows(p: Float32Array, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < p.length / cols; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (p[r * cols + c]! > p[r * cols + best]!) best = c;
    out.push(best);
  }
  return out;
}

async function mnistAccuracy(session: InferenceSession): Promise<number> {
  const data = heldout();
  let correct = 0;
  for (let start = 0; start < data.count; start += 250) {
    const n = Math.min(250, data.count - start);
    const out = await session.run({ input: new Tensor('float32', batchOf(data.images, start, n), [n, 1, 28, 28]) });
    argmaxRows(out.probabilities!.data as Float32Array, 10).forEach((d, i) => { if (d === data.labels[start + i]) correct++; });
  }
  return correct;
}

const MNIST = [
  { file: 'mnist-dynamic-quint8.onnx', qdq: false },
  { file: 'mnist-dynamic-quint8-pc-rr.onnx', qdq: false },
  { file: 'mnist-dynamic-qint8.onnx', qdq: false },
  { file: 'mnist-qdq-u8s8-per-channel.onnx', qdq: true },
  { file: 'mnist-qdq-s8s8.onnx', qdq: true },
  { file: 'mnist-qdq-u8s8-weight-qdq-pair.onnx', qdq: true },
];

for (const { file, qdq } of MNIST) {
  describe(`MNIST CNN, ${file}`, () => {
    const bytes = load(file);
    const data = heldout();

    it('agrees with onnxruntime-web on the same model', async () => {
      const session = await InferenceSession.create(bytes);
      const ort = await ortSession(bytes);
      for (const [start, n] of [[0, 1], [100, 7], [data.count - 200, 64]] as const) {
        const input = new Tensor('float32', batchOf(data.images, start, n), [n, 1, 28, 28]);
        const a = (await session.run({ input })).probabilities!.data as Float32Array;
        const b = (await ortRun(ort, { input })).probabilities!.data as Float32Array;
        const w = worst(a, b);
        const am = argmaxRows(a, 10), bm = argmaxRows(b, 10);
        const same = am.filter((d, i) => d === bm[i]).length;
        console.log(`${file} rows ${start}+${n}: worst |tessera − ort| = ${w.toExponential(2)}, same digit ${same}/${n}`);
        expect(w).toBeLessThan(qdq ? 4 / 256 : 1e-4);
        expect(same).toBeGreaterThanOrEqual(Math.floor(n * 0.99));
      }
      await ort.release();
      await session.release();
    });

    it('fuses what it should: QDQ Conv → QLinearConv (3, weight Q folded at load), dynamic ConvInteger left as written', () => {
      const ops = opTypes(bytes);
      console.log(`${file} after tessera's passes: ${ops.join(' ')}`);
      if (!qdq) expect(ops.filter((o) => o === 'ConvInteger').length).toBe(3);
      else expect(ops.filter((o) => o === 'QLinearConv').length).toBe(3);
    });

    it('classifies the held-out digits within 0.5 points of the float model', async () => {
      const session = await InferenceSession.create(bytes);
      const correct = await mnistAccuracy(session);
      await session.release();
      const float = mnistReference().heldout_correct as number;
      console.log(`${file}: ${correct}/2000 correct (float ${float}/2000)`);
      expect(Math.abs(correct - float)).toBeLessThanOrEqual(10);
    });
  });
}

function bertFeeds(batch: number, seq: number, seed: number): Record<string, Tensor> {
  let s = seed >>> 0;
  const next = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; };
  const ids = BigInt64Array.from({ length: batch * seq }, () => BigInt(next() % 1000));
  const mask = BigInt64Array.from({ length: batch * seq }, (_, i) => (i % seq < seq - (i / seq | 0) ? 1n : 0n));
  const types = BigInt64Array.from({ length: batch * seq }, (_, i) => (i % seq >= seq / 2 ? 1n : 0n));
  return {
    input_ids: new Tensor('int64', ids, [batch, seq]),
    attention_mask: new Tensor('int64', mask, [batch, seq]),
    token_type_ids: new Tensor('int64', types, [batch, seq]),
  };
}

/**
 * The tiny BERT's logits from tessera and onnxruntime-web on the same model at two batch shapes:
 * within 2% of the largest logit (independently rounded activations through the layers).
 */
async function agreesWithOrt(file: string, bytes: Uint8Array): Promise<void> {
  const session = await InferenceSession.create(bytes);
  const ort = await ortSession(bytes);
  for (const [batch, seq, seed] of [[1, 9, 1], [3, 16, 2]] as const) {
    const feeds = bertFeeds(batch, seq, seed);
    const a = (await session.run(feeds)).logits!.data as Float32Array;
    const b = (await ortRun(ort, feeds)).logits!.data as Float32Array;
    let big = 0;
    for (const v of b) big = Math.max(big, Math.abs(v));
    const w = worst(a, b);
    console.log(`${file} [${batch}×${seq}]: worst |tessera − ort| = ${w.toExponential(2)} (largest |logit| ${big.toFixed(3)})`);
    expect(w).toBeLessThan(0.02 * big);
  }
  await ort.release();
  await session.release();
}

const BERT = [
  'bert-dynamic-qint8.onnx',
  'bert-dynamic-quint8-pc-rr.onnx',
  'bert-dynamic-qint8-pc-rr.onnx',
  'bert-dynamic-qint8-matmul-only.onnx',
];

for (const file of BERT) {
  describe(`tiny BERT, ${file}`, () => {
    const bytes = load(file);

    it('agrees with onnxruntime-web on the same model', () => agreesWithOrt(file, bytes));

    it('gives the same logits with and without the graph passes (the fusions do not misfire)', async () => {
      const fused = await InferenceSession.create(bytes), plain = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
      const feeds = bertFeeds(2, 12, 3);
      const w = worst((await fused.run(feeds)).logits!.data as Float32Array, (await plain.run(feeds)).logits!.data as Float32Array);
      await fused.release(); await plain.release();
      expect(w).toBeLessThan(1e-5);
    });

    it('fuses the weight MatMuls to DynamicQuantizeMatMul and leaves activation×activation MatMulInteger alone', () => {
      const ops = opTypes(bytes);
      // 14 MatMuls have constant weights (each layer's Q, K, V as one group); the 4 attention
      // products (Q·Kᵀ, P·V) quantize both sides.
      expect(dynamicProducts(bytes)).toEqual({ products: 14, groups: 2 });
      expect(ops.filter((o) => o === 'MatMulInteger').length).toBe(4);
    });
  });
}

for (const file of ['bert-qdq-s8s8-matmul.onnx', 'bert-qdq-u8s8-matmul.onnx']) {
  describe(`tiny BERT, static QDQ on its MatMuls, ${file}`, () => {
    const bytes = load(file);

    it('agrees with onnxruntime-web on the same model', () => agreesWithOrt(file, bytes));

    it('fuses the 14 weight MatMuls to QLinearMatMul; the attention products stay DQ → MatMul', () => {
      const ops = opTypes(bytes);
      expect(ops.filter((o) => o === 'QLinearMatMul').length).toBe(14);
      expect(ops.filter((o) => o === 'MatMul').length).toBe(4);
    });
  });
}

describe('zoo classifier (opset 9 → 11), cls-dynamic-quint8.onnx', () => {
  it('agrees with onnxruntime-web on the same model', async () => {
    const bytes = load('cls-dynamic-quint8.onnx');
    const session = await InferenceSession.create(bytes);
    const ort = await ortSession(bytes);
    const n = 2, len = n * 3 * 48 * 192;
    let s = 7;
    const x = Float32Array.from({ length: len }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; });
    const feeds = { x: new Tensor('float32', x, [n, 3, 48, 192]) };
    const a = await session.run(feeds), b = await ortRun(ort, feeds);
    for (const name of session.outputNames) {
      const w = worst(a[name]!.data as Float32Array, b[name]!.data as Float32Array);
      console.log(`cls-dynamic-quint8 ${name}: worst |tessera − ort| = ${w.toExponential(2)}`);
      expect(w).toBeLessThan(1e-3);
    }
    await ort.release();
    await session.release();
  });
});

describe('trained BERT (fortunes) as transformers.js quantizes it: QUInt8, per channel, reduce_range', () => {
  const reference = JSON.parse(readFileSync(fileURLToPath(new URL('../../models/bert/reference.json', import.meta.url)), 'utf8')) as {
    examples: { text: string; input_ids: number[]; top5: { token: number }[] }[];
  };
  it("agrees with onnxruntime-web and keeps PyTorch's float top-1 within its own top 5 at every mask", async () => {
    const bytes = load('bert-fortunes-dynamic-quint8-pc-rr.onnx');
    expect(dynamicProducts(bytes)).toEqual({ products: 14, groups: 2 });
    const session = await InferenceSession.create(bytes);
    const ort = await ortSession(bytes);
    const vocab = 3000;
    for (const ex of reference.examples) {
      const seq = ex.input_ids.length;
      const feeds = {
        input_ids: new Tensor('int64', BigInt64Array.from(ex.input_ids.map(BigInt)), [1, seq]),
        attention_mask: new Tensor('int64', new BigInt64Array(seq).fill(1n), [1, seq]),
        token_type_ids: new Tensor('int64', new BigInt64Array(seq), [1, seq]),
      };
      const a = (await session.run(feeds)).logits!.data as Float32Array;
      const b = (await ortRun(ort, feeds)).logits!.data as Float32Array;
      let big = 0;
      for (const v of b) big = Math.max(big, Math.abs(v));
      const w = worst(a, b);
      const at = ex.input_ids.indexOf(4); // [MASK]
      const row = Array.from(a.subarray(at * vocab, (at + 1) * vocab));
      const top5 = row.map((v, i) => [v, i] as const).sort((x, y) => y[0] - x[0]).slice(0, 5).map(([, i]) => i);
      const overlap = top5.filter((t) => ex.top5.some((r) => r.token === t)).length;
      console.log(`fortunes int8 "${ex.text}": worst |tessera − ort| = ${w.toExponential(2)} (largest |logit| ${big.toFixed(2)}), top 5 ${top5} vs float ${ex.top5.map((r) => r.token)} (${overlap} shared)`);
      expect(w).toBeLessThan(0.02 * big);
      expect(top5).toContain(ex.top5[0]!.token);
    }
    await ort.release();
    await session.release();
  });
});
