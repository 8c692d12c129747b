/**
 * What image pipelines accept as an image, turned into 8-bit pixels: a file path (Node) or URL
 * (string or URL object), encoded bytes (PNG, JPEG, BMP, PNM, TIFF: src/image's decoders, the
 * JPEG one bit-exact with libjpeg-turbo as sharp decodes it for transformers.js), a Blob, or
 * decoded pixels `{ data, width, height, channels? }` (an ImageData has 4 channels).
 */
import { TesseraError } from '../api/errors.js';
import { decodeImage } from '../image/image-formats.js';
import type { PixelImage } from '../image/pixels.js';
import { platform } from '../platform/platform.js';

/** Decoded pixels: rows top to bottom, channels interleaved; `channels` defaults to data.length / (width × height). */
export interface ImageDataLike {
  /** The pixel bytes. */
  data: Uint8Array | Uint8ClampedArray;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 1, 3 or 4. */
  channels?: number;
}

/** One image input of an image pipeline. */
export type ImageInput = string | URL | Uint8Array | ArrayBuffer | Blob | ImageDataLike;

function bad(task: string, where: string, message: string, cause?: unknown): never {
  throw new TesseraError('INVALID_ARGUMENT', `${task}: ${where} ${message}`, cause === undefined ? undefined : { cause });
}

function decode(task: string, where: string, bytes: Uint8Array): PixelImage {
  try {
    const { width, height, rgb } = decodeImage(bytes);
    return { data: rgb, width, height, channels: 3 };
  } catch (e) {
    return bad(task, where, `could not be decoded: ${(e as Error).message}`, e);
  }
}

/** Reads one image input into pixels; `where` names it in errors (e.g. 'images[2]'). */
export async function readImage(task: string, input: unknown, where: string): Promise<PixelImage> {
  if (typeof input === 'string' || input instanceof URL) {
    const location = String(input);
    if (location === '') bad(task, where, 'is an empty string; pass a path, a URL, bytes or { data, width, height }');
    let bytes: Uint8Array;
    try {
      bytes = await platform.readModel(location, { cache: false });
    } catch (e) {
      return bad(task, where, `('${location}') could not be read: ${(e as Error).message}`, e);
    }
    return decode(task, `${where} ('${location}')`, bytes);
  }
  if (input instanceof Uint8Array && !('width' in input)) return decode(task, where, input);
  if (input instanceof ArrayBuffer) return decode(task, where, new Uint8Array(input));
  if (typeof Blob !== 'undefined' && input instanceof Blob) return decode(task, where, new Uint8Array(await input.arrayBuffer()));
  if (input && typeof input === 'object' && 'data' in input && 'width' in input && 'height' in input) {
    const { data, width, height } = input as ImageDataLike;
    if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) bad(task, where, 'has data that is not a Uint8Array or Uint8ClampedArray');
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) bad(task, where, `has a size of ${String(width)} × ${String(height)}, not positive whole numbers`);
    const channels = (input as ImageDataLike).channels ?? data.length / (width * height);
    if (![1, 3, 4].includes(channels) || data.length !== width * height * channels) {
      bad(task, where, `has ${data.length} bytes for ${width} × ${height} pixels${(input as ImageDataLike).channels ? ` × ${channels} channels` : ''}; expected 1, 3 or 4 bytes per pixel`);
    }
    return { data, width, height, channels };
  }
  const kind = input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input;
  return bad(task, where, `is ${kind}; pass a path or URL, encoded bytes (PNG, JPEG, …), a Blob or { data, width, height, channels? }`);
}

/** One input or an array of them → pixels, each named in errors; an empty array is refused. */
export async function readImages(task: string, input: unknown): Promise<PixelImage[]> {
  const list = Array.isArray(input) ? input : [input];
  if (list.length === 0) bad(task, 'the batch', 'is empty; pass at least one image');
  return Promise.all(list.map((x, i) => readImage(task, x, Array.isArray(input) ? `images[${i}]` : 'the image')));
}
