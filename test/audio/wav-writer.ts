// A WAV encoder for the tests: any format readWav reads, extensible headers, extra chunks
// before/after fmt (odd sizes, so the pad byte matters), and a data-size override to forge
// truncated files.
export interface WavSpec {
  rate: number;
  channels: Float64Array[] | number[][];
  format: 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';
  extensible?: boolean;
  /** Chunks written before fmt / between fmt and data, as [id, bodyLength]. */
  before?: [string, number][];
  between?: [string, number][];
  dataSize?: number;
}

const BITS = { pcm8: 8, pcm16: 16, pcm24: 24, pcm32: 32, float32: 32, float64: 64 } as const;

export function encodeWav(spec: WavSpec): Uint8Array {
  const bits = BITS[spec.format];
  const bytes = bits / 8;
  const nch = spec.channels.length;
  const frames = spec.channels[0]!.length;
  const dataLen = frames * nch * bytes;
  const fmtLen = spec.extensible ? 40 : 16;
  const extra = [...(spec.before ?? []), ...(spec.between ?? [])].reduce((s, [, n]) => s + 8 + n + (n & 1), 0);
  const total = 12 + 8 + fmtLen + extra + 8 + dataLen;
  const u8 = new Uint8Array(total);
  const v = new DataView(u8.buffer);
  let at = 0;
  const id = (s: string) => { for (let i = 0; i < 4; i++) u8[at + i] = s.charCodeAt(i); at += 4; };
  const chunk = (name: string, n: number) => { id(name); v.setUint32(at, n, true); at += 4; for (let i = 0; i < n; i++) u8[at + i] = (i * 7) & 0xff; at += n + (n & 1); };
  id('RIFF'); v.setUint32(at, total - 8, true); at += 4; id('WAVE');
  for (const [name, n] of spec.before ?? []) chunk(name, n);
  id('fmt '); v.setUint32(at, fmtLen, true); at += 4;
  const tag = spec.format.startsWith('float') ? 3 : 1;
  v.setUint16(at, spec.extensible ? 0xfffe : tag, true);
  v.setUint16(at + 2, nch, true);
  v.setUint32(at + 4, spec.rate, true);
  v.setUint32(at + 8, spec.rate * nch * bytes, true);
  v.setUint16(at + 12, nch * bytes, true);
  v.setUint16(at + 14, bits, true);
  if (spec.extensible) {
    v.setUint16(at + 16, 22, true);
    v.setUint16(at + 18, bits, true);
    v.setUint32(at + 20, nch === 2 ? 3 : 4, true);
    v.setUint16(at + 24, tag, true); // GUID xxxxxxxx-0000-0010-8000-00aa00389b71, first two bytes the code
    u8.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], at + 26);
  }
  at += fmtLen;
  for (const [name, n] of spec.between ?? []) chunk(name, n);
  id('data'); v.setUint32(at, spec.dataSize ?? dataLen, true); at += 4;
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < nch; c++) {
      const x = spec.channels[c]![f]!;
      switch (spec.format) {
        case 'pcm8': v.setUint8(at, Math.round(x * 128) + 128); break;
        case 'pcm16': v.setInt16(at, Math.round(x * 32768), true); break;
        case 'pcm24': { const s = Math.round(x * 8388608); v.setUint16(at, s & 0xffff, true); v.setInt8(at + 2, s >> 16); break; }
        case 'pcm32': v.setInt32(at, Math.round(x * 2147483648), true); break;
        case 'float32': v.setFloat32(at, x, true); break;
        case 'float64': v.setFloat64(at, x, true); break;
      }
      at += bytes;
    }
  }
  return u8;
}
