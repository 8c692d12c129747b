// tessera's resize and center crop against transformers.js v4's RawImage in Node, which runs them
// through sharp (libvips): resize = affine with the bilinear interpolator, center_crop = extract or
// extend with black.
import { describe, expect, it } from 'vitest';
import { RawImage } from '@huggingface/transformers';
import { centerCrop, resizeImage, toRgb, type PixelImage } from '../../src/image/pixels.js';

function noise(width: number, height: number, channels: number, seed: number): PixelImage {
  const data = new Uint8Array(width * height * channels);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; data[i] = s >>> 24; }
  return { data, width, height, channels };
}
const raw = (img: PixelImage) => new RawImage(new Uint8ClampedArray(img.data), img.width, img.height, img.channels as 3);

describe('image pixels vs transformers.js RawImage (sharp)', () => {
  it.each([[7, 5, 11, 9], [7, 5, 3, 2], [40, 30, 36, 27], [50, 37, 32, 32], [33, 64, 36, 69], [224, 160, 36, 25],
    [17, 19, 64, 48], [61, 47, 36, 36], [640, 480, 256, 192], [300, 200, 384, 256]])(
    'bilinear resize %i×%i → %i×%i gives the same bytes', async (W, H, w, h) => {
      const img = noise(W, H, 3, W * 1000 + h);
      const ours = resizeImage(img, w, h, 2);
      const ref = await raw(img).resize(w, h, { resample: 2 });
      expect([ours.width, ours.height, ours.channels]).toEqual([ref.width, ref.height, ref.channels]);
      expect(Buffer.from(ours.data).equals(Buffer.from(ref.data))).toBe(true);
    });

  it.each([[1000, 750, 224, 224, 0.005], [47, 33, 34, 24, 0.03], [33, 47, 24, 34, 0.005]])(
    'downscale %i×%i → %i×%i is within 1 level (libvips rounds a few coordinates differently)', async (W, H, w, h, share) => {
      const img = noise(W, H, 3, W * 1000 + h);
      const ours = resizeImage(img, w, h, 2);
      const ref = await raw(img).resize(w, h, { resample: 2 });
      let off = 0, max = 0;
      for (let i = 0; i < ours.data.length; i++) { const d = Math.abs(ours.data[i]! - ref.data[i]!); if (d) off++; max = Math.max(max, d); }
      expect(max).toBeLessThanOrEqual(1);
      expect(off / ours.data.length).toBeLessThan(share);
    });

  it.each([[36, 48, 32, 32], [31, 29, 20, 20], [64, 40, 33, 27], [20, 20, 25, 23], [9, 7, 12, 12]])(
    'center crop %i×%i → %i×%i gives the same bytes', async (W, H, w, h) => {
      const img = noise(W, H, 3, W + H);
      const ours = centerCrop(img, w, h);
      const ref = await raw(img).center_crop(w, h);
      expect([ours.width, ours.height]).toEqual([ref.width, ref.height]);
      expect(Buffer.from(ours.data).equals(Buffer.from(ref.data))).toBe(true);
    });

  it('a crop wider but shorter than the image pads and crops (transformers.js in Node throws there)', async () => {
    const img = noise(40, 30, 3, 3);
    await expect(raw(img).center_crop(32, 32)).rejects.toThrow(/extract_area/);
    const ours = centerCrop(img, 32, 32);
    expect(Array.from(ours.data.slice(0, 32 * 3))).toEqual(new Array(96).fill(0)); // row 0 is padding
    expect(Array.from(ours.data.slice(32 * 3, 32 * 3 + 3))).toEqual(Array.from(img.data.slice(4 * 3, 4 * 3 + 3)));
  });

  it('converts gray and RGBA to RGB as RawImage.rgb()', () => {
    expect(Array.from(toRgb({ data: new Uint8Array([5, 9]), width: 2, height: 1, channels: 1 }).data)).toEqual([5, 5, 5, 9, 9, 9]);
    expect(Array.from(toRgb({ data: new Uint8Array([1, 2, 3, 4]), width: 1, height: 1, channels: 4 }).data)).toEqual([1, 2, 3]);
  });

  it('refuses resample methods it does not reproduce', () => {
    expect(() => resizeImage(noise(4, 4, 3, 1), 2, 2, 3)).toThrow(/resample 3 \(bicubic\) is not supported/);
  });
});
