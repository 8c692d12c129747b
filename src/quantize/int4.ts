/**
 * 4-bit weight-only quantization: every MatMul whose B is a constant 2-D float32 initializer becomes
 * a `com.microsoft` MatMulNBits, written as onnxruntime's `MatMul4BitsQuantizer` (default
 * algorithm, QOperator format) writes it, so onnxruntime (web, node, genai) runs the file too:
 *
 *  - B [K, N] → `<B>_Q4` uint8 [N, n_blocks, block_size/2], blocks of `block_size` along K per
 *    column, two 4-bit values per byte (even k in the low nibble), rows past K zero;
 *  - `<B>_scales` float32 [N · n_blocks]; asymmetric only: `<B>_zero_points` uint8
 *    [N · ceil(n_blocks/2)], two per byte (even block low); symmetric files have no zero points
 *    (the op's default, 8);
 *  - node `<name>_Q4` (or unnamed), attributes K, N, accuracy_level (when given), bits = 4,
 *    block_size, in onnx.helper.make_node's sorted order; the com.microsoft opset imported at 1.
 *
 * The arithmetic is MLAS's (onnxruntime/core/mlas/lib/q4_dq.cpp) in float32: symmetric, the block's
 * value of largest magnitude m gives scale = −m / 8; asymmetric, min ≤ 0 ≤ max gives scale =
 * (max − min) / 15 and zp = roundf(−min / scale) clamped to 0 … 15; then q = clamp(roundf(v · (1 /
 * scale) + zp), 0, 15) (0 when scale is 0). Defaults follow the tool's command line: block 32,
 * symmetric.
 */
import onnxProto from 'onnx-proto';
import { TesseraError } from '../api/errors.js';
import { decodeTensorProto } from '../onnx/tensor-proto.js';
import { decodeModelForRewrite } from './model-proto.js';
import type { QuantizeDynamicReport } from './dynamic.js';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.TensorProto;

/** Options of `quantizeInt4`. */
export interface QuantizeInt4Options {
  /** Weights per block along K: a power of two ≥ 16 (default 32, as onnxruntime's command line). */
  blockSize?: number;
  /** Symmetric blocks (zero point 8, no zero-point tensor; default true) or asymmetric (min/max, zero points written). */
  symmetric?: boolean;
  /** Written as the node's `accuracy_level` attribute when given (onnxruntime: 4 = int8 compute). */
  accuracyLevel?: number;
  /** Weights with fewer elements stay float (default 0). */
  minElements?: number;
}

/** One block-quantized K×N weight in MatMulNBits' layout. */
export interface Int4Weight {
  /** uint8 [N, n_blocks, block_size / 2]. */
  packed: Uint8Array;
  /** float32 [N · n_blocks]. */
  scales: Float32Array;
  /** uint8 [N · ceil(n_blocks / 2)] (asymmetric only). */
  zeroPoints?: Uint8Array;
}

const f = Math.fround;

/**
 * Quantizes a row-major K×N float32 weight to 4 bits per value, block by block along K, with
 * onnxruntime's arithmetic and byte layout (see the file header).
 */
export function quantizeInt4Weight(w: ArrayLike<number>, K: number, N: number, blockSize: number, symmetric: boolean): Int4Weight {
  const nb = Math.ceil(K / blockSize), blob = blockSize / 2, zpRow = Math.ceil(nb / 2);
  const packed = new Uint8Array(N * nb * blob);
  const scales = new Float32Array(N * nb);
  const zeroPoints = symmetric ? undefined : new Uint8Array(N * zpRow);
  const zps = [8, 8];
  for (let n = 0; n < N; n++) {
    // MLAS works on pairs of blocks (one byte of zero points); its two staged nibbles persist
    // within the pair, which decides the high nibble of an odd K's last byte.
    for (let b0 = 0; b0 < nb; b0 += 2) {
      zps[0] = 8; zps[1] = 8;
      for (let p = 0; p < 2 && b0 + p < nb; p++) {
        const b = b0 + p, end = Math.min(K, (b + 1) * blockSize);
        let min = 3.4028234663852886e38, max = -min;
        for (let k = b * blockSize; k < end; k++) {
          const v = f(w[k * N + n]!);
          if (v < min) min = v;
          if (v > max) max = v;
        }
        if (symmetric) {
          const m = Math.abs(max) > Math.abs(min) ? max : min;
          scales[n * nb + b] = f(-m / 8);
        } else {
          min = Math.min(min, 0); max = Math.max(max, 0);
          const s = f(f(max - min) / 15);
          let z = min;
          if (s !== 0) z = f(0 - f(min / s));
          zps[p] = z < 0 ? 0 : z > 15 ? 15 : Math.round(z);
          scales[n * nb + b] = s;
        }
      }
      if (zeroPoints) zeroPoints[n * zpRow + (b0 >> 1)] = (zps[0]! & 15) | (zps[1]! << 4);
      let v0 = 0, v1 = 0;
      const rEnd = Math.min(K, (b0 + 2) * blockSize);
      for (let k = b0 * blockSize; k < rEnd; k += 2) {
        const q = (kk: number) => {
          const b = Math.floor(kk / blockSize), s = scales[n * nb + b]!;
          const rs = s !== 0 ? f(1 / s) : 0;
          const t = f(f(f(w[kk * N + n]!) * rs) + zps[b - b0]!);
          return Math.min(15, Math.max(0, Math.round(t)));
        };
        v0 = q(k);
        if (k + 1 < rEnd) v1 = q(k + 1);
        packed[n * nb * blob + (k >> 1)] = (v0 & 15) | (v1 << 4);
      }
    }
  }
  return { packed, scales, zeroPoints };
}

function tensor(name: string, dims: number[], dataType: number, data: Uint8Array | Float32Array): TensorProto {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return onnx.TensorProto.create({ name, dims, dataType, rawData: raw });
}

/**
 * Rewrites a model's MatMul weights to 4-bit MatMulNBits (see above) and returns the new model's
 * bytes with a report. Pure: the input bytes are not modified, and nothing is run.
 * @throws TesseraError INVALID_MODEL when the bytes are not an ONNX model, INVALID_ARGUMENT for a bad block size.
 */
export function quantizeInt4(modelBytes: Uint8Array, options: QuantizeInt4Options = {}): { bytes: Uint8Array; report: QuantizeDynamicReport } {
  const bs = options.blockSize ?? 32;
  const symmetric = options.symmetric ?? true;
  if (!Number.isInteger(bs) || bs < 16 || (bs & (bs - 1)) !== 0) throw new TesseraError('INVALID_ARGUMENT', `quantizeInt4: blockSize must be a power of two ≥ 16, got ${bs}`);
  const { model, graph } = decodeModelForRewrite(modelBytes);
  graph.initializer ??= [];
  graph.node ??= [];
  const inits = new Map<string, TensorProto>();
  for (const t of graph.initializer) inits.set(t.name ?? '', t as TensorProto);
  const report: QuantizeDynamicReport = { quantized: [], skipped: [], bytesBefore: modelBytes.length, bytesAfter: 0 };
  const made = new Map<string, string[]>();
  const out: NodeProto[] = [];
  for (const [idx, n] of graph.node.entries()) {
    const label = n.name || `${n.opType}#${idx}`;
    if (n.opType !== 'MatMul' || (n.domain && n.domain !== 'ai.onnx')) { out.push(n); continue; }
    const skip = (reason: string) => { report.skipped.push({ node: label, reason }); out.push(n); };
    const [x, wName] = n.input ?? [];
    const w = inits.get(wName ?? '');
    if (!x || !w) { skip('B is not a constant initializer'); continue; }
    if (w.dataType !== onnx.TensorProto.DataType.FLOAT || (w.dims ?? []).length !== 2) { skip('B is not a 2-D float32 initializer'); continue; }
    const [K, N] = (w.dims ?? []).map(Number) as [number, number];
    if (K * N < (options.minElements ?? 0)) { skip(`B has ${K * N} elements, fewer than minElements`); continue; }
    let names = made.get(wName!);
    if (!names) {
      const src = decodeTensorProto(w, `initializer '${wName}'`).data as ArrayLike<number>;
      const q = quantizeInt4Weight(src, K, N, bs, symmetric);
      const nb = Math.ceil(K / bs);
      names = [`${wName}_Q4`, `${wName}_scales`];
      graph.initializer.push(tensor(names[0]!, [N, nb, bs / 2], onnx.TensorProto.DataType.UINT8, q.packed));
      graph.initializer.push(tensor(names[1]!, [N * nb], onnx.TensorProto.DataType.FLOAT, q.scales));
      if (q.zeroPoints) {
        names.push(`${wName}_zero_points`);
        graph.initializer.push(tensor(names[2]!, [N * Math.ceil(nb / 2)], onnx.TensorProto.DataType.UINT8, q.zeroPoints));
      }
      made.set(wName!, names);
    }
    const int = (name: string, i: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i });
    const attrs = [int('K', K), int('N', N)];
    if (options.accuracyLevel !== undefined) attrs.push(int('accuracy_level', options.accuracyLevel));
    attrs.push(int('bits', 4), int('block_size', bs));
    out.push(onnx.NodeProto.create({
      opType: 'MatMulNBits', domain: 'com.microsoft', name: n.name ? `${n.name}_Q4` : '',
      input: [x, ...names], output: n.output ?? [], attribute: attrs,
    }));
    report.quantized.push(label);
  }
  graph.node = out;
  if (report.quantized.length) {
    const ms = model.opsetImport.find((o) => o.domain === 'com.microsoft');
    if (ms) ms.version = 1;
    else model.opsetImport.push(onnx.OperatorSetIdProto.create({ domain: 'com.microsoft', version: 1 }));
  }
  // Float weights no node reads any more are dropped, as are graph inputs that named them.
  const read = new Set<string>();
  for (const node of graph.node) for (const i of node.input ?? []) read.add(i);
  for (const o of graph.output) read.add(o.name ?? '');
  const dropped = new Set(graph.initializer.filter((t) => !read.has(t.name ?? '')).map((t) => t.name ?? ''));
  graph.initializer = graph.initializer.filter((t) => !dropped.has(t.name ?? ''));
  graph.input = (graph.input ?? []).filter((i) => !dropped.has(i.name ?? ''));
  const bytes = onnx.ModelProto.encode(model).finish();
  report.bytesAfter = bytes.length;
  return { bytes, report };
}
