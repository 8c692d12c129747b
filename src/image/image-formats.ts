/**
 * Image formats for ImageDecoder, decoded in TypeScript to 8-bit RGB rows (top row first): PNG
 * (8-bit gray/RGB/palette/alpha, not interlaced), BMP (24/32-bit uncompressed), PNM (P5/P6,
 * maxval 255), baseline TIFF (uncompressed 8-bit RGB or gray strips) and baseline JPEG
 * (jpeg.ts, bit-exact with libjpeg-turbo). WebP and JPEG 2000 are recognised and refused.
 * Errors are thrown as plain Errors with the reason.
 */
import { inflateZlib } from './inflate.js';
import { decodeJpeg } from './jpeg.js';

export interface RgbImage { width: number; height: number; rgb: Uint8Array }

const MAX_PIXELS = 1 << 24; // 16 Mpx (48 MB of RGB): bounds what hostile headers can make us allocate

function checkSize(w: number, h: number): void {
  if (!(w > 0 && h > 0 && Number.isSafeInteger(w * h) && w * h <= MAX_PIXELS)) throw new Error(`an image of ${w} × ${h} pixels is outside what tessera decodes`);
}

export function sniff(b: Uint8Array): string {
  const s = (i: number, t: string) => t.split('').every((c, k) => b[i + k] === c.charCodeAt(0));
  if (b[0] === 0x89 && s(1, 'PNG')) return 'png';
  if (s(0, 'BM')) return 'bmp';
  if (b[0] === 0x50 && (b[1] === 0x35 || b[1] === 0x36)) return 'pnm';
  if (s(0, 'II*\0') || s(0, 'MM\0*')) return 'tiff';
  if (b[0] === 0xff && b[1] === 0xd8) return 'jpeg';
  if (s(0, 'RIFF') && s(8, 'WEBP')) return 'webp';
  if (s(4, 'jP  ') || (b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51)) return 'jpeg2000';
  return 'unknown';
}

export function decodeImage(b: Uint8Array): RgbImage {
  const kind = sniff(b);
  switch (kind) {
    case 'png': return png(b);
    case 'bmp': return bmp(b);
    case 'pnm': return pnm(b);
    case 'tiff': return tiff(b);
    case 'jpeg': return decodeJpeg(b);
    default: throw new Error(`${kind === 'unknown' ? 'the bytes are not an image format tessera knows' : `tessera does not decode ${kind}`} (it decodes PNG, BMP, PNM, uncompressed TIFF and baseline JPEG)`);
  }
}

function need(b: Uint8Array, end: number): void { if (end > b.length) throw new Error('the image data ends early'); }

function bmp(b: Uint8Array): RgbImage {
  need(b, 34);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const offset = dv.getUint32(10, true), width = dv.getInt32(18, true), rawH = dv.getInt32(22, true);
  const bpp = dv.getUint16(28, true), compression = dv.getUint32(30, true);
  if ((bpp !== 24 && bpp !== 32) || (compression !== 0 && !(compression === 3 && bpp === 32))) throw new Error(`BMP with ${bpp} bits per pixel and compression ${compression} is not supported (24/32-bit uncompressed are)`);
  const height = Math.abs(rawH); checkSize(width, height);
  const step = bpp / 8, stride = Math.ceil((width * step) / 4) * 4;
  need(b, offset + stride * height);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = offset + (rawH > 0 ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      const p = row + x * step, o = (y * width + x) * 3;
      rgb[o] = b[p + 2]!; rgb[o + 1] = b[p + 1]!; rgb[o + 2] = b[p]!;
    }
  }
  return { width, height, rgb };
}

function pnm(b: Uint8Array): RgbImage {
  let p = 2;
  const token = (): number => {
    for (;;) {
      while (p < b.length && /\s/.test(String.fromCharCode(b[p]!))) p++;
      if (b[p] === 0x23) { while (p < b.length && b[p] !== 0x0a) p++; continue; }
      break;
    }
    let v = '';
    while (p < b.length && /[0-9]/.test(String.fromCharCode(b[p]!))) v += String.fromCharCode(b[p++]!);
    if (!v) throw new Error('a malformed PNM header');
    return Number(v);
  };
  const gray = b[1] === 0x35, width = token(), height = token(), maxval = token();
  p++; // the single whitespace after maxval
  if (maxval !== 255) throw new Error(`PNM with maxval ${maxval} is not supported (255 is)`);
  checkSize(width, height);
  const n = width * height, rgb = new Uint8Array(n * 3);
  need(b, p + n * (gray ? 1 : 3));
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = gray ? b[p + i]! : b[p + i * 3 + c]!;
  return { width, height, rgb };
}

function tiff(b: Uint8Array): RgbImage {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength), le = b[0] === 0x49;
  need(b, 8);
  const u16 = (o: number) => { need(b, o + 2); return dv.getUint16(o, le); };
  const u32 = (o: number) => { need(b, o + 4); return dv.getUint32(o, le); };
  const ifd = u32(4), n = u16(ifd), tags = new Map<number, number[]>();
  for (let k = 0; k < n; k++) {
    const e = ifd + 2 + 12 * k, tag = u16(e), type = u16(e + 2), count = u32(e + 4);
    const size = type === 3 ? 2 : type === 4 ? 4 : 0;
    if (!size || count > 1 << 20) continue; // only SHORT and LONG values matter for baseline images
    const at = count * size <= 4 ? e + 8 : u32(e + 8);
    tags.set(tag, Array.from({ length: count }, (_, i) => (size === 2 ? u16(at + 2 * i) : u32(at + 4 * i))));
  }
  const one = (t: number, d?: number) => { const v = tags.get(t)?.[0] ?? d; if (v === undefined) throw new Error(`TIFF tag ${t} is missing`); return v; };
  const width = one(256), height = one(257), spp = one(277, 1), compression = one(259, 1), photometric = one(262), planar = one(284, 1);
  const bits = tags.get(258) ?? [1];
  if (compression !== 1 || planar !== 1 || bits.some((v) => v !== 8) || !((photometric === 2 && spp >= 3) || (photometric <= 1 && spp >= 1))) {
    throw new Error(`TIFF with compression ${compression}, photometric ${photometric}, ${spp} samples of [${bits}] bits is not supported (uncompressed 8-bit RGB or gray is)`);
  }
  checkSize(width, height);
  const offsets = tags.get(273) ?? [], counts = tags.get(279) ?? [], rows = one(278, height);
  const rgb = new Uint8Array(width * height * 3), rowBytes = width * spp;
  for (let y = 0; y < height; y++) {
    const strip = Math.floor(y / rows), base = offsets[strip];
    if (base === undefined || (counts[strip] !== undefined && counts[strip]! < Math.min(rows, height - strip * rows) * rowBytes)) throw new Error('TIFF strips do not cover the image');
    const row = base + (y - strip * rows) * rowBytes;
    need(b, row + rowBytes);
    for (let x = 0; x < width; x++) {
      const p = row + x * spp, o = (y * width + x) * 3;
      if (photometric === 2) { rgb[o] = b[p]!; rgb[o + 1] = b[p + 1]!; rgb[o + 2] = b[p + 2]!; } else {
        const g = photometric === 0 ? 255 - b[p]! : b[p]!;
        rgb[o] = rgb[o + 1] = rgb[o + 2] = g;
      }
    }
  }
  return { width, height, rgb };
}

function png(b: Uint8Array): RgbImage {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 8, width = 0, height = 0, depth = 0, color = -1, interlace = 0;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  for (;;) {
    need(b, p + 8);
    const len = dv.getUint32(p), type = String.fromCharCode(...b.subarray(p + 4, p + 8));
    need(b, p + 12 + len);
    const data = b.subarray(p + 8, p + 8 + len);
    if (type === 'IHDR') { width = dv.getUint32(p + 8); height = dv.getUint32(p + 12); depth = data[8]!; color = data[9]!; interlace = data[12]!; }
    else if (type === 'PLTE') palette = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    p += 12 + len;
  }
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[color];
  if (depth !== 8 || channels === undefined || interlace !== 0 || (color === 3 && !palette)) {
    throw new Error(`PNG with bit depth ${depth}, color type ${color}${interlace ? ', interlaced' : ''} is not supported (8-bit, not interlaced, is)`);
  }
  checkSize(width, height);
  const stream = new Uint8Array(idat.reduce((a, d) => a + d.length, 0));
  idat.reduce((o, d) => { stream.set(d, o); return o + d.length; }, 0);
  const stride = width * channels, raw = inflateZlib(stream, height * (stride + 1));
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!, src = y * (stride + 1) + 1, o = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? px[o + i - channels]! : 0, up = y ? px[o - stride + i]! : 0, c = y && i >= channels ? px[o - stride + i - channels]! : 0;
      let pred: number;
      switch (f) {
        case 0: pred = 0; break;
        case 1: pred = a; break;
        case 2: pred = up; break;
        case 3: pred = (a + up) >> 1; break;
        case 4: { const q = a + up - c, pa = Math.abs(q - a), pb = Math.abs(q - up), pc = Math.abs(q - c); pred = pa <= pb && pa <= pc ? a : pb <= pc ? up : c; break; }
        default: throw new Error(`PNG filter type ${f} is invalid`);
      }
      px[o + i] = (raw[src + i]! + pred) & 0xff;
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const s = i * channels;
    if (color === 3) {
      const k = px[s]! * 3;
      if (k + 2 >= palette!.length) throw new Error('a PNG palette index is out of range');
      rgb[i * 3] = palette![k]!; rgb[i * 3 + 1] = palette![k + 1]!; rgb[i * 3 + 2] = palette![k + 2]!;
    } else if (channels >= 3) { rgb[i * 3] = px[s]!; rgb[i * 3 + 1] = px[s + 1]!; rgb[i * 3 + 2] = px[s + 2]!; }
    else rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = px[s]!;
  }
  return { width, height, rgb };
}
