/**
 * RFC 1950/1951 zlib inflate (stored, fixed and dynamic Huffman blocks), for PNG in ImageDecoder.
 * Synchronous and dependency-free: DecompressionStream is async and Node's zlib is not in browsers.
 * Malformed input throws an Error with a reason; the caller turns it into a TesseraError.
 */

const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** Canonical Huffman table: counts per length and symbols in code order. */
interface Huffman { counts: Uint16Array; symbols: Uint16Array }

function huffman(lengths: ArrayLike<number>): Huffman {
  const counts = new Uint16Array(16), offs = new Uint16Array(16), symbols = new Uint16Array(lengths.length);
  for (let i = 0; i < lengths.length; i++) counts[lengths[i]!]!++;
  counts[0] = 0;
  for (let i = 1; i < 16; i++) offs[i] = offs[i - 1]! + counts[i - 1]!;
  for (let i = 0; i < lengths.length; i++) if (lengths[i]) symbols[offs[lengths[i]!]!++] = i;
  return { counts, symbols };
}

export function inflateZlib(src: Uint8Array, expected: number): Uint8Array {
  if (src.length < 2 || (src[0]! & 0x0f) !== 8 || ((src[0]! << 8) | src[1]!) % 31 !== 0) throw new Error('not a zlib stream');
  if (src[1]! & 0x20) throw new Error('zlib preset dictionaries are not supported');
  const out = new Uint8Array(expected);
  let o = 0, pos = 2, bit = 0;
  const bits = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) {
      if (pos >= src.length) throw new Error('the compressed data ends early');
      v |= ((src[pos]! >> bit) & 1) << i;
      if (++bit === 8) { bit = 0; pos++; }
    }
    return v;
  };
  const decode = (h: Huffman): number => {
    let code = 0, first = 0, index = 0;
    for (let len = 1; len < 16; len++) {
      code |= bits(1);
      const count = h.counts[len]!;
      if (code - count < first) {
        const k = index + (code - first);
        if (k >= h.symbols.length) throw new Error('an invalid Huffman code');
        return h.symbols[k]!;
      }
      index += count; first = (first + count) << 1; code <<= 1;
    }
    throw new Error('an invalid Huffman code');
  };
  const put = (v: number) => { if (o >= expected) throw new Error('the data inflates past the image size'); out[o++] = v; };
  let last = 0;
  while (!last) {
    last = bits(1);
    const type = bits(2);
    if (type === 0) {
      if (bit) { bit = 0; pos++; }
      if (pos + 4 > src.length) throw new Error('the compressed data ends early');
      const len = src[pos]! | (src[pos + 1]! << 8);
      pos += 4;
      if (pos + len > src.length) throw new Error('the compressed data ends early');
      for (let i = 0; i < len; i++) put(src[pos++]!);
      continue;
    }
    let lit: Huffman, dist: Huffman;
    if (type === 1) {
      const l = new Uint8Array(288); l.fill(8, 0, 144); l.fill(9, 144, 256); l.fill(7, 256, 280); l.fill(8, 280, 288);
      lit = huffman(l); dist = huffman(new Uint8Array(30).fill(5));
    } else if (type === 2) {
      const hlit = bits(5) + 257, hdist = bits(5) + 1, hclen = bits(4) + 4;
      const cl = new Uint8Array(19);
      for (let i = 0; i < hclen; i++) cl[CL_ORDER[i]!] = bits(3);
      const clh = huffman(cl), lens = new Uint8Array(hlit + hdist);
      for (let i = 0; i < hlit + hdist;) {
        const sym = decode(clh);
        if (sym < 16) { lens[i++] = sym; continue; }
        const [rep, prev] = sym === 16 ? [3 + bits(2), i > 0 ? lens[i - 1]! : -1] : sym === 17 ? [3 + bits(3), 0] : [11 + bits(7), 0];
        if (prev < 0 || i + rep > lens.length) throw new Error('invalid code lengths');
        lens.fill(prev, i, i + rep); i += rep;
      }
      lit = huffman(lens.subarray(0, hlit)); dist = huffman(lens.subarray(hlit));
    } else throw new Error('a reserved block type');
    for (;;) {
      const sym = decode(lit);
      if (sym < 256) { put(sym); continue; }
      if (sym === 256) break;
      const li = sym - 257;
      if (li >= 29) throw new Error('an invalid length code');
      const len = LEN_BASE[li]! + bits(LEN_EXTRA[li]!);
      const di = decode(dist);
      if (di >= 30) throw new Error('an invalid distance code');
      const d = DIST_BASE[di]! + bits(DIST_EXTRA[di]!);
      if (d > o) throw new Error('a distance before the start of the data');
      for (let i = 0; i < len; i++) put(out[o - d]!);
    }
  }
  if (o !== expected) throw new Error(`the data inflates to ${o} bytes, ${expected} expected`);
  return out;
}
