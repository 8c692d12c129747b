/**
 * 8-bit interleaved images and the pixel operations image pipelines run before the model: channel
 * conversion, resize and center crop, written to give the pixels transformers.js v4 gives in Node.
 * There its RawImage resizes and crops through sharp (libvips): `resize` is libvips' affine
 * transform with the bilinear interpolator — source position = output position × (in / out), no
 * half-pixel shift, uchar fixed point with 12-bit weights, pixels past the right/bottom edge black;
 * identical bytes on most sizes test/pipelines/image-pixels.test.ts checks; on some downscales
 * (47×33 → 34×24: 2 % of values; 1000×750 → 224×224: 0.3 %) values are 1 level off, where
 * libvips' coordinate arithmetic rounds differently in ways not yet reproduced —
 * and `centerCrop` is an extract, or an extend with black when the crop is larger than the image.
 * Nearest and bicubic are not reproduced (see resizeImage).
 */
import { TesseraError } from '../api/errors.js';

/** An 8-bit image, rows top to bottom, channels interleaved (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). */
export interface PixelImage {
  /** `width × height × channels` bytes. */
  data: Uint8Array | Uint8ClampedArray;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Channels per pixel. */
  channels: number;
}

/** The image as 3-channel RGB (gray is repeated, alpha dropped without compositing, as RawImage.rgb()). */
export function toRgb(img: PixelImage): PixelImage {
  const { width, height, channels, data } = img;
  if (channels === 3) return img;
  if (channels !== 1 && channels !== 4) {
    throw new TesseraError('INVALID_ARGUMENT', `image: cannot convert ${channels} channels to RGB (1, 3 or 4 can be)`);
  }
  const n = width * height, out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    out[i * 3] = data[s]!;
    out[i * 3 + 1] = data[channels === 1 ? s : s + 1]!;
    out[i * 3 + 2] = data[channels === 1 ? s : s + 2]!;
  }
  return { data: out, width, height, channels: 3 };
}

const SHIFT = 12, SCALE = 1 << SHIFT; // libvips' VIPS_INTERPOLATE_SHIFT

/** PIL resample codes as preprocessor_config.json stores them → names (transformers.js's table). */
const RESAMPLE_NAMES: Record<number, string> = { 0: 'nearest', 1: 'lanczos', 2: 'bilinear', 3: 'bicubic', 4: 'box', 5: 'hamming' };

/**
 * Resizes to `width × height`. Bilinear (2), and box (4) / hamming (5) which transformers.js also
 * runs as bilinear, give sharp's pixels; other methods are refused rather than approximated.
 */
export function resizeImage(img: PixelImage, width: number, height: number, resample: number | string = 2): PixelImage {
  if (img.width === width && img.height === height) return img;
  const method = typeof resample === 'number' ? RESAMPLE_NAMES[resample] : resample;
  if (method !== 'bilinear' && method !== 'box' && method !== 'hamming') {
    throw new TesseraError('INVALID_ARGUMENT', `image resize: resample ${JSON.stringify(resample)} (${method ?? 'unknown'}) is not supported; tessera resizes bilinear (2), as transformers.js does for 2, 4 and 5`);
  }
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new TesseraError('INVALID_ARGUMENT', `image resize: target size ${width} × ${height} is not a positive whole number of pixels`);
  }
  const { data, channels: c, width: W, height: H } = img;
  // sharp passes the matrix [w/W, 0, 0, h/H]; libvips inverts it and walks the input in a frame
  // with a 1-pixel border (coordinates + 1): y per row, x by repeated addition of 1/a along the row.
  // The floating-point sums decide which fixed-point weights a pixel gets, so they are kept as is.
  const ia = 1 / (width / W), id = 1 / (height / H);
  const out = new Uint8Array(width * height * c);
  const px = (x: number, y: number, k: number): number => (x >= 0 && y >= 0 && x < W && y < H ? data[(y * W + x) * c + k]! : 0);
  for (let Y = 0; Y < height; Y++) {
    const y = id * Y + 1, fy0 = Math.floor(y), fy = Math.trunc((y - fy0) * SCALE), fyd = SCALE - fy, iy = fy0 - 1;
    let x = 1;
    for (let X = 0; X < width; X++, x += ia) {
      const fx0 = Math.floor(x), fx = Math.trunc((x - fx0) * SCALE), ix = fx0 - 1;
      const c4 = (fy * fx) >> SHIFT, c2 = (fyd * fx) >> SHIFT, c3 = fy - c4, c1 = fyd - c2;
      const o = (Y * width + X) * c;
      for (let k = 0; k < c; k++) {
        const v = c1 * px(ix, iy, k) + c2 * px(ix + 1, iy, k) + c3 * px(ix, iy + 1, k) + c4 * px(ix + 1, iy + 1, k);
        out[o + k] = (v + (SCALE >> 1)) >> SHIFT;
      }
    }
  }
  return { data: out, width, height, channels: c };
}

/** The centred `width × height` window (RawImage.center_crop: offsets floored, black where it leaves the image). */
export function centerCrop(img: PixelImage, width: number, height: number): PixelImage {
  if (img.width === width && img.height === height) return img;
  const { data, channels: c, width: W, height: H } = img;
  const wOff = (W - width) / 2, hOff = (H - height) / 2;
  // Source of output (0, 0): a positive offset crops (floor), a negative one pads (floor of −offset).
  const sx = wOff >= 0 ? Math.floor(wOff) : -Math.floor(-wOff);
  const sy = hOff >= 0 ? Math.floor(hOff) : -Math.floor(-hOff);
  const out = new Uint8Array(width * height * c);
  for (let y = 0; y < height; y++) {
    const iy = y + sy;
    if (iy < 0 || iy >= H) continue;
    for (let x = 0; x < width; x++) {
      const ix = x + sx;
      if (ix < 0 || ix >= W) continue;
      const s = (iy * W + ix) * c, o = (y * width + x) * c;
      for (let k = 0; k < c; k++) out[o + k] = data[s + k]!;
    }
  }
  return { data: out, width, height, channels: c };
}
