/**
 * ImageDecoder beyond the node tests' one image per format: PNGs written here with node:zlib
 * (dynamic Huffman blocks) and every filter type, BMP rows bottom-up with padding, the BGR and
 * Grayscale pixel formats, and truncated or unsupported bytes refused with the node named.
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/index.js';
import { runNode } from '../unit-a/run-node.js';

const u8 = (b: ArrayLike<number>) => new Tensor('uint8', Uint8Array.from(b), [b.length]);
const decode = async (bytes: ArrayLike<number>, pixel_format = 'RGB') => (await runNode({ op: 'ImageDecoder', opset: 20, name: 'dec', attrs: { pixel_format }, inputs: [u8(bytes)] }))[0]!;

function chunk(type: string, data: Uint8Array): number[] {
  const len = [24, 16, 8, 0].map((s) => (data.length >>> s) & 0xff);
  return [...len, ...Array.from(type, (c) => c.charCodeAt(0)), ...data, 0, 0, 0, 0]; // CRC is not checked
}

/** An 8-bit RGB PNG of `px` (rows of [r, g, b]), row y filtered with filter y % 5. */
function png(width: number, height: number, px: number[]): Uint8Array {
  const stride = width * 3, raw: number[] = [];
  for (let y = 0; y < height; y++) {
    const f = y % 5;
    raw.push(f);
    for (let i = 0; i < stride; i++) {
      const at = (yy: number, ii: number) => (yy < 0 || ii < 0 ? 0 : px[yy * stride + ii]!);
      const a = at(y, i - 3), b = at(y - 1, i), c = at(y - 1, i - 3);
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f]!;
      raw.push((px[y * stride + i]! - pred) & 0xff);
    }
  }
  const ihdr = new Uint8Array([0, 0, 0, width, 0, 0, 0, height, 8, 2, 0, 0, 0]);
  return Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...chunk('IHDR', ihdr), ...chunk('IDAT', deflateSync(Uint8Array.from(raw))), ...chunk('IEND', new Uint8Array(0))]);
}

describe('ImageDecoder', () => {
  it('PNG with every filter type and a dynamic-Huffman stream', async () => {
    const w = 7, h = 10, px = Array.from({ length: w * h * 3 }, (_, i) => (i * 37 + (i % 11) * 5) & 0xff);
    const y = await decode(png(w, h, px));
    expect(y.dims).toEqual([h, w, 3]);
    expect(Array.from(y.data as Uint8Array)).toEqual(px);
  });

  it('BMP rows stored bottom-up with 4-byte padding, as BGR and Grayscale', async () => {
    // 1 × 2 image, 24-bit: top pixel (r 10, g 20, b 30), bottom (r 200, g 100, b 50); each row padded to 4 bytes.
    const header = [0x42, 0x4d, ...new Array(8).fill(0), 54, 0, 0, 0, 40, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 24, 0, ...new Array(24).fill(0)];
    const bytes = [...header, 50, 100, 200, 0, 30, 20, 10, 0];
    expect(Array.from((await decode(bytes)).data as Uint8Array)).toEqual([10, 20, 30, 200, 100, 50]);
    expect(Array.from((await decode(bytes, 'BGR')).data as Uint8Array)).toEqual([30, 20, 10, 50, 100, 200]);
    const gray = await decode(bytes, 'Grayscale');
    expect(gray.dims).toEqual([2, 1, 1]);
    expect(Array.from(gray.data as Uint8Array)).toEqual([Math.round(10 * 0.299 + 20 * 0.587 + 30 * 0.114), Math.round(200 * 0.299 + 100 * 0.587 + 50 * 0.114)]);
  });

  it('refuses truncated data, WebP and an unknown pixel format, naming the node', async () => {
    const whole = png(3, 3, new Array(27).fill(9));
    await expect(decode(whole.subarray(0, whole.length - 30))).rejects.toThrow(/ImageDecoder node 'dec': cannot decode the image: /);
    await expect(decode([...Array.from('RIFF', (c) => c.charCodeAt(0)), 0, 0, 0, 0, ...Array.from('WEBP', (c) => c.charCodeAt(0))])).rejects.toThrow(/ImageDecoder node 'dec': cannot decode the image: tessera does not decode webp/);
    await expect(decode(whole, 'CMYK')).rejects.toThrow(/ImageDecoder node 'dec': attribute 'pixel_format' value 'CMYK' is not supported/);
  });
});
