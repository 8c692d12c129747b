/**
 * com.microsoft GatherBlockQuantized: Gather over block-quantized data (tied or quantized
 * embeddings in onnxruntime-genai's int4 exports): out = (q − zero_point) · scale, dequantized only
 * for the gathered rows — the table stays quantized in memory. Data int4/uint4 (tessera holds one
 * element per byte) or uint8 holding `bits` = 4 (two per byte, low nibble first, along the last
 * axis) or 8; scales share data's (logical) shape with the quantize axis divided into blocks of
 * block_size; zero_points (data's type, packed like data when uint8) default to 0 for int4/uint4
 * and 2^(bits−1) for uint8.
 */
import { TesseraError, describeNode } from '../../api/errors.js';
import type { OpDef } from '../types.js';
import { normalizeAxis, product, requireDtype } from '../util.js';
import { writeFloats } from '../float-io.js';
import { halfToFloat } from '../math/cast.js';

const gatherBlockQuantized: OpDef = {
  opType: 'GatherBlockQuantized', domain: 'com.microsoft', since: 1, attributes: ['gather_axis', 'quantize_axis', 'block_size', 'bits'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['int4', 'uint4', 'uint8']);
    requireDtype(ctx, 1, ['int32', 'int64']);
    requireDtype(ctx, 2, ['float32', 'float16']);
    const data = ctx.input(0), idx = ctx.input(1), scales = ctx.input(2), zp = ctx.inputs[3];
    if (zp) requireDtype(ctx, 3, [data.dtype]);
    const packedU8 = data.dtype === 'uint8';
    const bits = ctx.attrs.int('bits', 4);
    if (packedU8 ? bits !== 4 && bits !== 8 : bits !== 4) throw ctx.attrs.error('bits', `must be ${packedU8 ? '4 or 8 for uint8 data' : '4 for 4-bit data'}, got ${bits}`);
    const block = ctx.attrs.int('block_size', 128);
    if (block < 16 || (block & (block - 1)) !== 0) throw ctx.attrs.error('block_size', `must be a power of 2 and at least 16, got ${block}`);
    const rank = data.dims.length;
    if (rank < 1) ctx.fail('data must have rank ≥ 1', 'SHAPE_MISMATCH');
    const per = packedU8 ? 8 / bits : 1; // logical elements per stored element
    const dims = data.dims.map((d, i) => (i === rank - 1 ? d * per : d));
    const gAxis = normalizeAxis(ctx, ctx.attrs.int('gather_axis', 0), rank, 'gather_axis');
    const qAxis = normalizeAxis(ctx, ctx.attrs.int('quantize_axis', 1), rank, 'quantize_axis');
    if (packedU8 && per > 1 && qAxis !== rank - 1) throw ctx.attrs.error('quantize_axis', `must be the last axis for uint8 data with bits = 4, got ${qAxis}`);
    const sDims = dims.map((d, i) => (i === qAxis ? Math.ceil(d / block) : d));
    if (scales.dims.length !== rank || scales.dims.some((d, i) => d !== sDims[i])) {
      ctx.fail(`scales '${scales.name}' must be [${sDims}] for data [${dims}] and block_size ${block}, got [${scales.dims}]`, 'SHAPE_MISMATCH');
    }
    const zDims = sDims.map((d, i) => (packedU8 && i === rank - 1 ? Math.ceil(d / per) : d));
    if (zp && (zp.dims.length !== rank || zp.dims.some((d, i) => d !== zDims[i]))) {
      ctx.fail(`zero_points '${zp.name}' must be [${zDims}], got [${zp.dims}]`, 'SHAPE_MISMATCH');
    }
    const outDims = [...dims.slice(0, gAxis), ...idx.dims, ...dims.slice(gAxis + 1)];
    const gM = product(dims, 0, gAxis), gDim = dims[gAxis]!, gBlock = product(dims, gAxis + 1), gN = product(idx.dims);
    const qDim = dims[qAxis]!, qN = product(dims, qAxis + 1), qFull = qDim * qN, sFull = Math.ceil(qDim / block) * qN;
    const n = product(outDims), sn = product(scales.dims), zn = zp ? product(zp.dims) : 0, dn = product(data.dims);
    const defaultZp = packedU8 ? 1 << (bits - 1) : 0;
    const where = describeNode(ctx.node);
    return {
      outputs: [{ dtype: scales.dtype, dims: outDims }],
      build(bd) {
        const dv = bd.view(data.dtype, bd.inputs[0]!, dn), iv = bd.view(idx.dtype, bd.inputs[1]!, gN);
        const sv = bd.view(scales.dtype, bd.inputs[2]!, sn), zv = zp ? bd.view(zp.dtype, bd.inputs[3]!, zn) : undefined;
        const yv = bd.view(scales.dtype, bd.outputs[0]!, n);
        const Y = new Float64Array(n), half = scales.dtype === 'float16';
        // Packed uint8 (two 4-bit values a byte, low nibble first): data rows have an even number of
        // values; a zero-point row of sLast values takes ceil(sLast / 2) bytes.
        const sLast = sDims[rank - 1]!, zRow = zDims[rank - 1]!;
        const nib = (a: ArrayLike<number>, e: number) => (a[e >> 1]! >> ((e & 1) * 4)) & 15;
        return () => {
          const D = dv() as ArrayLike<number>, I = iv(), Z = zv?.() as ArrayLike<number> | undefined, Sc = sv() as ArrayLike<number>;
          for (let m = 0; m < gM; m++) {
            for (let j = 0; j < gN; j++) {
              let row = Number(I[j]!);
              if (!(row >= -gDim && row < gDim)) throw new TesseraError('INVALID_FEED', `${where}: index ${row} is outside [${-gDim}, ${gDim - 1}]`);
              if (row < 0) row += gDim;
              const o = (m * gN + j) * gBlock, d0 = (m * gDim + row) * gBlock;
              for (let e = 0; e < gBlock; e++) {
                const di = d0 + e;
                const x = Math.floor(di / qFull), y = Math.floor((di % qFull) / qN), z = di % qN;
                const si = x * sFull + Math.floor(y / block) * qN + z;
                const zpv = !Z ? defaultZp : per === 1 ? Z[si]! : nib(Z, Math.floor(si / sLast) * zRow * 2 + (si % sLast));
                const q = per === 1 ? D[di]! : nib(D, di);
                Y[o + e] = (q - zpv) * (half ? halfToFloat(Sc[si]!) : Sc[si]!);
              }
            }
          }
          writeFloats(scales.dtype, Y, yv());
        };
      },
    };
  },
};

/** GatherBlockQuantized (com.microsoft). */
export const gatherBlockQuantizedOps: readonly OpDef[] = [gatherBlockQuantized];
