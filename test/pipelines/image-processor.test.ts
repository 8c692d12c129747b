// preprocessor_config.json → pixel_values, against transformers.js v4's own image processor
// classes on the same pixels (float32 values identical but for rare 1-level resize differences),
// and JPEG/PNG decoding against sharp's
// (what RawImage.fromBlob uses in Node).
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { CLIPImageProcessor, ConvNextImageProcessor, RawImage, ViTImageProcessor } from '@huggingface/transformers';
import { preprocessImages, type ImageProcessorConfig } from '../../src/image/processor.js';
import type { PixelImage } from '../../src/image/pixels.js';
import { readImage } from '../../src/pipelines/image-input.js';

function picture(width: number, height: number, channels: number, seed: number): PixelImage {
  const data = new Uint8Array(width * height * channels);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; data[i] = (i % 97) + (s >>> 26); }
  return { data, width, height, channels };
}
const raw = (m: PixelImage) => new RawImage(new Uint8ClampedArray(m.data), m.width, m.height, m.channels as 3);

const CASES: Array<[string, new (c: object) => { _call(img: unknown): Promise<{ pixel_values: { data: Float32Array; dims: number[] } }> }, ImageProcessorConfig]> = [
  ['ViT {height, width}, mean/std 0.5', ViTImageProcessor as never, {
    image_processor_type: 'ViTImageProcessor', do_resize: true, size: { height: 24, width: 20 }, resample: 2,
    do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5],
  }],
  ['CLIP shortest_edge + center crop', CLIPImageProcessor as never, {
    image_processor_type: 'CLIPImageProcessor', do_resize: true, size: { shortest_edge: 24 }, resample: 2, do_center_crop: true,
    crop_size: { height: 24, width: 24 }, do_rescale: true, rescale_factor: 0.00392156862745098, do_normalize: true,
    image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711], do_convert_rgb: true,
  }],
  ['ConvNext crop_pct, scalar mean, channel flip', ConvNextImageProcessor as never, {
    image_processor_type: 'ConvNextImageProcessor', size: { shortest_edge: 28 }, crop_pct: 0.875, resample: 2,
    do_normalize: true, image_mean: 0.45, image_std: 0.22, do_flip_channel_order: true,
  }],
  ['no resize, integer crop, no rescale', ViTImageProcessor as never, {
    image_processor_type: 'ViTImageProcessor', do_resize: false, do_center_crop: true, crop_size: 16, do_rescale: false,
  }],
];

describe('image processors = transformers.js', () => {
  it.each(CASES)('%s', async (_name, Cls, config) => {
    const images = [picture(40, 30, 3, 1), picture(33, 47, 4, 2), picture(36, 36, 1, 3)];
    const ours = preprocessImages(images, config);
    const ref = await new Cls(config)._call(images.map(raw));
    expect(ours.dims).toEqual(ref.pixel_values.dims);
    // Identical values, except where the resize is 1 level off libvips (rare; see src/image/pixels.ts).
    const refData = ref.pixel_values.data as Float32Array, std = config.image_std ?? 1;
    const level = (config.rescale_factor ?? 1 / 255) / Math.min(...(Array.isArray(std) ? std : [std]));
    let off = 0;
    for (let i = 0; i < refData.length; i++) {
      if (ours.data[i] === refData[i]) continue;
      off++;
      expect(Math.abs(ours.data[i]! - refData[i]!)).toBeLessThanOrEqual(level * 1.0001);
    }
    expect(off / refData.length).toBeLessThan(0.002);
  });

  it('refuses what it does not run, naming it', () => {
    expect(() => preprocessImages([picture(4, 4, 3, 1)], { do_pad: true })).toThrow(/do_pad/);
    expect(() => preprocessImages([picture(4, 4, 3, 1)], { resample: 3, size: 2 })).toThrow(/resample 3/);
    expect(() => preprocessImages([picture(4, 4, 3, 1), picture(5, 4, 3, 1)], { do_resize: false })).toThrow(/image 1 becomes 3×4×5/);
  });
});

describe('decoding = sharp', () => {
  it.each(['jpeg', 'png'] as const)('%s bytes decode to the pixels RawImage.fromBlob gives', async (format) => {
    const src = picture(37, 29, 3, 9);
    const s = sharp(src.data, { raw: { width: 37, height: 29, channels: 3 } });
    const bytes = new Uint8Array(await (format === 'jpeg' ? s.jpeg({ quality: 80 }) : s.png()).toBuffer());
    const ours = await readImage('test', bytes, 'the image');
    const ref = await RawImage.fromBlob(new Blob([bytes]));
    expect([ours.width, ours.height, ours.channels]).toEqual([ref.width, ref.height, ref.channels]);
    expect(Buffer.from(ours.data).equals(Buffer.from(ref.data))).toBe(true);
  });
});
