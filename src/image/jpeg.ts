/**
 * Baseline JPEG (SOF0/SOF1, Huffman, 8-bit; gray, or YCbCr at 4:4:4, 4:2:2 or 4:2:0) decoded to RGB
 * bit for bit as libjpeg-turbo does by default — the decoder behind PIL, hence behind ONNX's
 * ImageDecoder reference: the integer "islow" IDCT with its range-limit table, "fancy" (triangle)
 * chroma upsampling, and fixed-point YCbCr→RGB tables. Progressive and arithmetic-coded files are
 * refused. Malformed data throws an Error with the reason.
 */
import type { RgbImage } from './image-formats.js';

const ZIGZAG = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63];

interface Table { lookup: Map<number, number> } // (length << 16 | code) → symbol
interface Component { id: number; h: number; v: number; tq: number; td: number; ta: number; pred: number; bw: number; bh: number; coefs: Int32Array }

function huffTable(counts: ArrayLike<number>, symbols: ArrayLike<number>): Table {
  const lookup = new Map<number, number>();
  let code = 0, k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < counts[len - 1]!; i++) lookup.set((len << 16) | code++, symbols[k++]!);
    code <<= 1;
  }
  return { lookup };
}

/** libjpeg's post-IDCT range limit: index (value & 1023), centred on 128, wrapping like the C table. */
function idctLimit(v: number): number {
  const i = v & 1023;
  return i < 128 ? i + 128 : i < 512 ? 255 : i < 896 ? 0 : i - 896;
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
const descale = (x: number, n: number) => (x + (1 << (n - 1))) >> n;

/** jpeg_idct_islow: coefficients (natural order, dequantised) → 8×8 samples at out[o + y·stride + x]. */
function idctIslow(c: Int32Array, out: Uint8Array, o: number, stride: number, ws: Int32Array): void {
  const CB = 13, P1 = 2;
  for (let col = 0; col < 8; col++) {
    if (!c[8 + col] && !c[16 + col] && !c[24 + col] && !c[32 + col] && !c[40 + col] && !c[48 + col] && !c[56 + col]) {
      const dc = c[col]! * (1 << P1);
      for (let r = 0; r < 8; r++) ws[r * 8 + col] = dc;
      continue;
    }
    odd_even(c[col]!, c[8 + col]!, c[16 + col]!, c[24 + col]!, c[32 + col]!, c[40 + col]!, c[48 + col]!, c[56 + col]!, CB - P1, (r, v) => { ws[r * 8 + col] = v; });
  }
  for (let row = 0; row < 8; row++) {
    const w = row * 8, d = o + row * stride;
    if (!ws[w + 1] && !ws[w + 2] && !ws[w + 3] && !ws[w + 4] && !ws[w + 5] && !ws[w + 6] && !ws[w + 7]) {
      const v = idctLimit(descale(ws[w]!, P1 + 3));
      for (let x = 0; x < 8; x++) out[d + x] = v;
      continue;
    }
    odd_even(ws[w]!, ws[w + 1]!, ws[w + 2]!, ws[w + 3]!, ws[w + 4]!, ws[w + 5]!, ws[w + 6]!, ws[w + 7]!, CB + P1 + 3, (x, v) => { out[d + x] = idctLimit(v); });
  }
}

/** One 8-point islow pass (even and odd parts), results descaled by `shift`. */
function odd_even(i0: number, i1: number, i2: number, i3: number, i4: number, i5: number, i6: number, i7: number, shift: number, put: (k: number, v: number) => void): void {
  let z1 = (i2 + i6) * 4433;
  const t2e = z1 + i6 * -15137, t3e = z1 + i2 * 6270;
  const t0e = (i0 + i4) * 8192, t1e = (i0 - i4) * 8192;
  const t10 = t0e + t3e, t13 = t0e - t3e, t11 = t1e + t2e, t12 = t1e - t2e;
  let t0 = i7, t1 = i5, t2 = i3, t3 = i1;
  z1 = t0 + t3; let z2 = t1 + t2, z3 = t0 + t2, z4 = t1 + t3;
  const z5 = (z3 + z4) * 9633;
  t0 *= 2446; t1 *= 16819; t2 *= 25172; t3 *= 12299;
  z1 *= -7373; z2 *= -20995; z3 *= -16069; z4 *= -3196;
  z3 += z5; z4 += z5;
  t0 += z1 + z3; t1 += z2 + z4; t2 += z2 + z3; t3 += z1 + z4;
  put(0, descale(t10 + t3, shift)); put(7, descale(t10 - t3, shift));
  put(1, descale(t11 + t2, shift)); put(6, descale(t11 - t2, shift));
  put(2, descale(t12 + t1, shift)); put(5, descale(t12 - t1, shift));
  put(3, descale(t13 + t0, shift)); put(4, descale(t13 - t0, shift));
}

export function decodeJpeg(b: Uint8Array): RgbImage {
  const need = (e: number) => { if (e > b.length) throw new Error('the JPEG data ends early'); };
  const qt: Int32Array[] = [], dc: Table[] = [], ac: Table[] = [];
  let comps: Component[] = [], width = 0, height = 0, hmax = 1, vmax = 1, restart = 0, p = 2, scanned = false;
  while (!scanned) {
    need(p + 4);
    if (b[p] !== 0xff) throw new Error('a JPEG marker was expected');
    const m = b[p + 1]!;
    if (m === 0xff) { p++; continue; }
    const len = (b[p + 2]! << 8) | b[p + 3]!, s = p + 4, e = p + 2 + len;
    need(e);
    if (m === 0xdb) {
      for (let q = s; q < e;) {
        const pq = b[q]! >> 4, id = b[q]! & 15, t = new Int32Array(64);
        for (let k = 0; k < 64; k++) t[ZIGZAG[k]!] = pq ? (b[q + 1 + 2 * k]! << 8) | b[q + 2 + 2 * k]! : b[q + 1 + k]!;
        qt[id] = t; q += 1 + 64 * (pq ? 2 : 1);
      }
    } else if (m === 0xc4) {
      for (let q = s; q < e;) {
        const tc = b[q]! >> 4, id = b[q]! & 15, counts = b.subarray(q + 1, q + 17);
        const n = counts.reduce((x, y) => x + y, 0);
        (tc ? ac : dc)[id] = huffTable(counts, b.subarray(q + 17, q + 17 + n));
        q += 17 + n;
      }
    } else if (m === 0xc0 || m === 0xc1) {
      if (b[s] !== 8) throw new Error(`JPEG sample precision ${b[s]} is not supported (8 is)`);
      height = (b[s + 1]! << 8) | b[s + 2]!; width = (b[s + 3]! << 8) | b[s + 4]!;
      comps = Array.from({ length: b[s + 5]! }, (_, i) => {
        const o = s + 6 + 3 * i;
        return { id: b[o]!, h: b[o + 1]! >> 4, v: b[o + 1]! & 15, tq: b[o + 2]!, td: 0, ta: 0, pred: 0, bw: 0, bh: 0, coefs: new Int32Array(0) };
      });
      if (comps.some((c) => c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4)) throw new Error('JPEG sampling factors must be 1 to 4');
      hmax = Math.max(...comps.map((c) => c.h)); vmax = Math.max(...comps.map((c) => c.v));
    } else if (m >= 0xc2 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      throw new Error(`JPEG coding process 0x${m.toString(16)} (progressive, lossless or arithmetic) is not supported (baseline is)`);
    } else if (m === 0xdd) restart = (b[s]! << 8) | b[s + 1]!;
    else if (m === 0xda) {
      const n = b[s]!;
      if (n !== comps.length) throw new Error('JPEG scans that cover only some components are not supported');
      for (let i = 0; i < n; i++) {
        const c = comps.find((x) => x.id === b[s + 1 + 2 * i]);
        if (!c) throw new Error('a JPEG scan names an unknown component');
        c.td = b[s + 2 + 2 * i]! >> 4; c.ta = b[s + 2 + 2 * i]! & 15;
      }
      p = e; scanned = true; break;
    }
    p = e;
  }
  if (!comps.length || (comps.length !== 1 && comps.length !== 3)) throw new Error(`JPEG with ${comps.length} components is not supported (1 or 3 are)`);
  if (!(width > 0 && height > 0 && width * height <= 1 << 24)) throw new Error(`a JPEG of ${width} × ${height} pixels is outside what tessera decodes`);
  const single = comps.length === 1;
  if (single) comps[0]!.h = comps[0]!.v = hmax = vmax = 1;
  if (!single && (comps[1]!.h !== 1 || comps[1]!.v !== 1 || comps[2]!.h !== 1 || comps[2]!.v !== 1 || ![1, 2].includes(comps[0]!.h) || ![1, 2].includes(comps[0]!.v))) {
    throw new Error('JPEG chroma subsampling other than 4:4:4, 4:2:2, 4:4:0 or 4:2:0 is not supported');
  }
  const mcux = Math.ceil(width / (8 * hmax)), mcuy = Math.ceil(height / (8 * vmax));
  for (const c of comps) {
    c.bw = single ? Math.ceil(width / 8) : mcux * c.h; c.bh = single ? Math.ceil(height / 8) : mcuy * c.v;
    c.coefs = new Int32Array(c.bw * c.bh * 64);
    if (!qt[c.tq] || !dc[c.td] || !ac[c.ta]) throw new Error('a JPEG component refers to a missing table');
  }

  // Entropy-coded data: bits MSB first, 0xFF00 is a literal 0xFF, a marker yields zero bits.
  let bitBuf = 0, bitCount = 0;
  const bit = (): number => {
    if (bitCount === 0) {
      let v = 0;
      if (p < b.length) {
        v = b[p]!;
        if (v === 0xff) { const nx = b[p + 1]; if (nx === 0) p += 2; else v = 0; } else p++;
      }
      bitBuf = v; bitCount = 8;
    }
    bitCount--;
    return (bitBuf >> bitCount) & 1;
  };
  const bits = (n: number) => { let v = 0; for (let i = 0; i < n; i++) v = (v << 1) | bit(); return v; };
  const extend = (v: number, n: number) => (n && v < 1 << (n - 1) ? v - (1 << n) + 1 : v);
  const decode = (t: Table): number => {
    let code = 0;
    for (let len = 1; len <= 16; len++) {
      code = (code << 1) | bit();
      const s = t.lookup.get((len << 16) | code);
      if (s !== undefined) return s;
    }
    throw new Error('an invalid JPEG Huffman code');
  };
  const block = (c: Component, bx: number, by: number) => {
    const o = (by * c.bw + bx) * 64, q = qt[c.tq]!, cf = c.coefs;
    const s = decode(dc[c.td]!);
    c.pred += extend(bits(s), s);
    cf[o] = c.pred * q[0]!;
    for (let k = 1; k < 64;) {
      const rs = decode(ac[c.ta]!), r = rs >> 4, sz = rs & 15;
      if (!sz) { if (r !== 15) break; k += 16; continue; }
      k += r;
      if (k > 63) throw new Error('a JPEG block has more than 64 coefficients');
      cf[o + ZIGZAG[k]!] = extend(bits(sz), sz) * q[ZIGZAG[k]!]!;
      k++;
    }
  };
  const total = single ? comps[0]!.bw * comps[0]!.bh : mcux * mcuy;
  for (let m = 0; m < total; m++) {
    if (restart && m > 0 && m % restart === 0) {
      bitCount = 0;
      while (p + 1 < b.length && !(b[p] === 0xff && b[p + 1]! >= 0xd0 && b[p + 1]! <= 0xd7)) p++;
      p += 2;
      for (const c of comps) c.pred = 0;
    }
    if (single) { const c = comps[0]!; block(c, m % c.bw, Math.floor(m / c.bw)); continue; }
    const mx = m % mcux, my = Math.floor(m / mcux);
    for (const c of comps) for (let v = 0; v < c.v; v++) for (let h = 0; h < c.h; h++) block(c, mx * c.h + h, my * c.v + v);
  }

  // IDCT into per-component planes, then upsample and convert.
  const ws = new Int32Array(64);
  const planes = comps.map((c) => {
    const stride = c.bw * 8, plane = new Uint8Array(stride * c.bh * 8);
    for (let by = 0; by < c.bh; by++) for (let bx = 0; bx < c.bw; bx++) idctIslow(c.coefs.subarray((by * c.bw + bx) * 64, (by * c.bw + bx + 1) * 64), plane, by * 8 * stride + bx * 8, stride, ws);
    return { plane, stride, w: Math.ceil((width * c.h) / hmax), h: Math.ceil((height * c.v) / vmax) };
  });
  const rgb = new Uint8Array(width * height * 3);
  if (single) {
    const { plane, stride } = planes[0]!;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgb.fill(plane[y * stride + x]!, (y * width + x) * 3, (y * width + x) * 3 + 3);
    return { width, height, rgb };
  }
  const Y = planes[0]!, cb = upsample(planes[1]!, hmax, vmax), cr = upsample(planes[2]!, hmax, vmax);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = Y.plane[y * Y.stride + x]!, u = cb.data[y * cb.stride + x]! - 128, v = cr.data[y * cr.stride + x]! - 128, o = (y * width + x) * 3;
      rgb[o] = clamp(l + ((91881 * v + 32768) >> 16));
      rgb[o + 1] = clamp(l + ((-22554 * u + 32768 - 46802 * v) >> 16));
      rgb[o + 2] = clamp(l + ((116130 * u + 32768) >> 16));
    }
  }
  return { width, height, rgb };
}

/** libjpeg-turbo's fancy upsampling of a chroma plane by (hf, vf) ∈ {1, 2}² (triangle filter, its rounding). */
function upsample(c: { plane: Uint8Array; stride: number; w: number; h: number }, hf: number, vf: number): { data: Uint8Array; stride: number } {
  if (hf === 1 && vf === 1) return { data: c.plane, stride: c.stride };
  const ow = c.w * hf, oh = c.h * vf, out = new Uint8Array(ow * oh);
  const at = (r: number, x: number) => c.plane[Math.min(Math.max(r, 0), c.h - 1) * c.stride + x]!;
  for (let r = 0; r < c.h; r++) {
    for (let v = 0; v < vf; v++) {
      const orow = (r * vf + v) * ow;
      // Vertical triangle (h2v2): 3 × this row + the neighbour on the output row's side.
      const col = vf === 2 ? (x: number) => 3 * at(r, x) + at(v === 0 ? r - 1 : r + 1, x) : (x: number) => at(r, x);
      if (hf === 1) { for (let x = 0; x < c.w; x++) out[orow + x] = (col(x) + 1 + v) >> 2; continue; } // h1v2: bias 1, then 2
      if (vf === 1) {
        // h2v1: 3 × nearer + further, rounding +1 / +2 alternately.
        if (c.w === 1) { out[orow] = out[orow + 1] = at(r, 0); continue; }
        out[orow] = at(r, 0); out[orow + 1] = (at(r, 0) * 3 + at(r, 1) + 2) >> 2;
        for (let x = 1; x < c.w - 1; x++) {
          out[orow + 2 * x] = (at(r, x) * 3 + at(r, x - 1) + 1) >> 2;
          out[orow + 2 * x + 1] = (at(r, x) * 3 + at(r, x + 1) + 2) >> 2;
        }
        const l = c.w - 1;
        out[orow + 2 * l] = (at(r, l) * 3 + at(r, l - 1) + 1) >> 2; out[orow + 2 * l + 1] = at(r, l);
        continue;
      }
      if (c.w === 1) { out[orow] = out[orow + 1] = (col(0) * 4 + 8) >> 4; continue; }
      let last = col(0), cur = col(0), next = col(1);
      out[orow] = (cur * 4 + 8) >> 4; out[orow + 1] = (cur * 3 + next + 7) >> 4;
      for (let x = 1; x < c.w - 1; x++) {
        last = cur; cur = next; next = col(x + 1);
        out[orow + 2 * x] = (cur * 3 + last + 8) >> 4; out[orow + 2 * x + 1] = (cur * 3 + next + 7) >> 4;
      }
      last = cur; cur = next;
      out[orow + 2 * (c.w - 1)] = (cur * 3 + last + 8) >> 4; out[orow + 2 * (c.w - 1) + 1] = (cur * 4 + 7) >> 4;
    }
  }
  return { data: out, stride: ow };
}
