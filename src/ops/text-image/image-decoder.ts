/**
 * ImageDecoder (opset 20): encoded bytes → [H, W, C] uint8 in RGB, BGR or Grayscale (ITU-R 601-2
 * luma, rounded as PIL does). The output shape depends on the bytes, so they must be known at plan
 * time — a constant, or a graph input, which keys the plan by its value — and decoding happens
 * then. Formats: PNG, BMP, PNM, uncompressed TIFF and baseline JPEG (see image-formats.ts).
 */
import type { OpDef } from '../types.js';
import { decodeImage } from '../../image/image-formats.js';
import { requireDtype } from '../util.js';

const imageDecoder: OpDef = {
  opType: 'ImageDecoder', since: 20, attributes: ['pixel_format'],
  prepare(ctx) {
    requireDtype(ctx, 0, ['uint8']);
    const format = ctx.attrs.oneOf('pixel_format', ['RGB', 'BGR', 'Grayscale'], 'RGB');
    const x = ctx.input(0);
    if (x.dims.length !== 1) ctx.fail(`encoded_stream must be 1-D bytes, got [${x.dims}]`, 'SHAPE_MISMATCH');
    const bytes = x.value as Uint8Array | undefined;
    if (!bytes) ctx.fail(`the encoded image ('${x.name}') must be known at plan time (a constant or a graph input)`, 'UNSUPPORTED_OP');
    let img;
    try { img = decodeImage(bytes!); } catch (e) { return ctx.fail(`cannot decode the image: ${(e as Error).message}`, 'UNSUPPORTED_OP'); }
    const { width, height, rgb } = img;
    const n = width * height, channels = format === 'Grayscale' ? 1 : 3;
    const out = new Uint8Array(n * channels);
    for (let i = 0; i < n; i++) {
      const r = rgb[i * 3]!, g = rgb[i * 3 + 1]!, b = rgb[i * 3 + 2]!;
      if (format === 'Grayscale') out[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
      else if (format === 'BGR') { out[i * 3] = b; out[i * 3 + 1] = g; out[i * 3 + 2] = r; } else out.set(rgb.subarray(i * 3, i * 3 + 3), i * 3);
    }
    return { outputs: [{ dtype: 'uint8', dims: [height, width, channels] }], dataFree: true, evaluate: () => [out] };
  },
};

export const imageDecoderOps: readonly OpDef[] = [imageDecoder];
