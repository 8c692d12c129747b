/**
 * A Hugging Face image processor from its preprocessor_config.json, run as transformers.js v4 runs
 * it (image_processors_utils.js ImageProcessor.preprocess, and ConvNextImageProcessor's resize):
 * to RGB, resize (size as {height, width}, {shortest_edge[, longest_edge]} or a number), center
 * crop, rescale, normalise, optional RGB→BGR flip, HWC → CHW float32; a batch is stacked into one
 * [n, 3, h, w] tensor. Options transformers.js handles only for a few model families (padding,
 * thumbnails, margin cropping, size divisibility) are refused by name instead of being ignored.
 */
import { TesseraError } from '../api/errors.js';
import { centerCrop, resizeImage, toRgb, type PixelImage } from './pixels.js';

/** The preprocessor_config.json fields an image processor reads; others are kept and ignored. */
export interface ImageProcessorConfig {
  /** 'ViTImageProcessor', 'ConvNextImageProcessor', … (feature_extractor_type in older files). */
  image_processor_type?: string;
  /** Older name of image_processor_type. */
  feature_extractor_type?: string;
  /** Resize at all (default: whether `size` is set). */
  do_resize?: boolean;
  /** Target size: { height, width }, { shortest_edge, longest_edge? } or a number (shortest edge). */
  size?: number | { height?: number; width?: number; shortest_edge?: number; longest_edge?: number };
  /** PIL resample code (2 bilinear, the default). */
  resample?: number;
  /** Crop the centre after resizing. */
  do_center_crop?: boolean;
  /** The crop: a number (square) or { height, width }. */
  crop_size?: number | { height: number; width: number };
  /** ConvNext: the shortest edge is first resized to shortest_edge / crop_pct (default 224 / 256). */
  crop_pct?: number;
  /** Multiply pixel values by rescale_factor (default true). */
  do_rescale?: boolean;
  /** Default 1 / 255. */
  rescale_factor?: number;
  /** Subtract image_mean and divide by image_std per channel. */
  do_normalize?: boolean;
  /** Per-channel mean (or one number for all). */
  image_mean?: number | number[];
  /** Per-channel standard deviation (or one number for all). */
  image_std?: number | number[];
  /** Convert to RGB first (default true). */
  do_convert_rgb?: boolean;
  /** Swap R and B at the end (MobileViT-style models). */
  do_flip_channel_order?: boolean;
  /** Any other field. */
  [key: string]: unknown;
}

/** One preprocessed batch: pixel_values [n, 3, height, width], float32, CHW per image. */
export interface PixelValues {
  /** The stacked values. */
  data: Float32Array;
  /** [n, channels, height, width]. */
  dims: [number, number, number, number];
}

const UNSUPPORTED = ['do_pad', 'do_thumbnail', 'do_crop_margin', 'size_divisibility', 'size_divisor', 'keep_aspect_ratio'] as const;

function fail(message: string): never {
  throw new TesseraError('INVALID_ARGUMENT', `image processor: ${message}`);
}

/**
 * Checks a preprocessor_config.json once, so a pipeline refuses it at load time.
 * @throws TesseraError INVALID_ARGUMENT naming the option tessera does not run.
 */
export function checkImageProcessorConfig(config: ImageProcessorConfig): void {
  for (const key of UNSUPPORTED) {
    if (config[key]) fail(`preprocessor_config.json sets ${key}, which tessera's image pipelines do not run`);
  }
  const resample = config.resample ?? 2;
  if (resample !== 2 && resample !== 4 && resample !== 5) fail(`resample ${resample} is not supported (bilinear, 2, is)`);
}

/** transformers.js's get_resize_output_image_size for the shapes `size` takes. */
export function resizeTarget(width: number, height: number, size: ImageProcessorConfig['size'], config: ImageProcessorConfig): [number, number] {
  let shortest: number | undefined, longest: number | undefined;
  if (typeof size === 'number' && Number.isInteger(size)) {
    shortest = size;
    longest = (config.max_size as number | undefined) ?? size;
  } else if (size !== undefined && typeof size === 'object') {
    shortest = size.shortest_edge;
    longest = size.longest_edge;
  }
  if (shortest !== undefined || longest !== undefined) {
    const short = shortest === undefined ? 1 : Math.max(shortest / width, shortest / height);
    const w = width * short, h = height * short;
    const long = longest === undefined ? 1 : Math.min(longest / w, longest / h);
    // transformers.js rounds to 2 decimals before flooring, against float noise.
    return [Math.floor(Number((w * long).toFixed(2))), Math.floor(Number((h * long).toFixed(2)))];
  }
  if (size !== undefined && typeof size === 'object' && size.width !== undefined && size.height !== undefined) return [size.width, size.height];
  return fail(`cannot resize with size ${JSON.stringify(size)}`);
}

function isConvNext(config: ImageProcessorConfig): boolean {
  const type = config.image_processor_type ?? config.feature_extractor_type ?? '';
  return type === 'ConvNextImageProcessor' || type === 'ConvNextFeatureExtractor';
}

function resize(img: PixelImage, config: ImageProcessorConfig): PixelImage {
  const resample = config.resample ?? 2;
  if (!isConvNext(config)) {
    const [w, h] = resizeTarget(img.width, img.height, config.size, config);
    return resizeImage(img, w, h, resample);
  }
  const size = config.size;
  const shortest = typeof size === 'object' ? size.shortest_edge : undefined;
  if (shortest === undefined) fail("ConvNextImageProcessor's size must have 'shortest_edge'");
  if (shortest >= 384) return resizeImage(img, shortest, shortest, resample);
  const cropPct = config.crop_pct ?? 224 / 256;
  const [w, h] = resizeTarget(img.width, img.height, { shortest_edge: Math.floor(shortest / cropPct) }, config);
  return centerCrop(resizeImage(img, w, h, resample), shortest, shortest);
}

function perChannel(v: number | number[] | undefined, channels: number, name: string): number[] {
  const list = Array.isArray(v) ? v : new Array<number>(channels).fill(v as number);
  if (list.length !== channels || list.some((x) => typeof x !== 'number')) fail(`${name} must be ${channels} numbers (one per channel), got ${JSON.stringify(v)}`);
  return list;
}

/** One image → its CHW float32 values and size, as ImageProcessor.preprocess computes them. */
export function preprocessImage(image: PixelImage, config: ImageProcessorConfig): { data: Float32Array; channels: number; height: number; width: number } {
  let img = config.do_convert_rgb ?? true ? toRgb(image) : image;
  if (config.do_resize ?? config.size !== undefined) img = resize(img, config);
  if (config.do_center_crop) {
    const crop = config.crop_size;
    const [w, h] = typeof crop === 'number' ? [crop, crop] : crop ? [crop.width, crop.height] : fail('do_center_crop is set without crop_size');
    img = centerCrop(img, w, h);
  }
  const { width, height, channels: c } = img;
  const hwc = Float32Array.from(img.data);
  if (config.do_rescale ?? true) {
    const f = config.rescale_factor ?? 1 / 255;
    for (let i = 0; i < hwc.length; i++) hwc[i] = f * hwc[i]!;
  }
  if (config.do_normalize) {
    const mean = perChannel(config.image_mean, c, 'image_mean'), std = perChannel(config.image_std, c, 'image_std');
    for (let i = 0; i < hwc.length; i += c) {
      for (let k = 0; k < c; k++) hwc[i + k] = (hwc[i + k]! - mean[k]!) / std[k]!;
    }
  }
  const flip = config.do_flip_channel_order === true;
  if (flip && c !== 3) fail('do_flip_channel_order needs an RGB image');
  const chw = new Float32Array(hwc.length), plane = width * height;
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < c; k++) chw[(flip ? c - 1 - k : k) * plane + p] = hwc[p * c + k]!;
  }
  return { data: chw, channels: c, height, width };
}

/**
 * Preprocesses images and stacks them as pixel_values [n, c, h, w].
 * @throws TesseraError INVALID_ARGUMENT when the images end up with different sizes (nothing
 * resizes them to one size) or the config asks for what tessera does not run.
 */
export function preprocessImages(images: readonly PixelImage[], config: ImageProcessorConfig): PixelValues {
  checkImageProcessorConfig(config);
  const each = images.map((img) => preprocessImage(img, config));
  const first = each[0]!;
  each.forEach((e, i) => {
    if (e.channels !== first.channels || e.height !== first.height || e.width !== first.width) {
      fail(`image ${i} becomes ${e.channels}×${e.height}×${e.width} but image 0 ${first.channels}×${first.height}×${first.width}; a batch needs one size (set size/crop_size in preprocessor_config.json)`);
    }
  });
  const per = first.data.length, data = new Float32Array(per * each.length);
  each.forEach((e, i) => data.set(e.data, i * per));
  return { data, dims: [each.length, first.channels, first.height, first.width] };
}
