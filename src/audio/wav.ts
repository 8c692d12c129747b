/**
 * WAV decoding (RIFF/WAVE) into float32 channels, for the audio pipelines: integer PCM of 8, 16,
 * 24 and 32 bits, IEEE float 32/64, G.711 µ-law and A-law, and WAVE_FORMAT_EXTENSIBLE around
 * those; chunks other than `fmt ` and `data` (LIST, fact, cue, …) are skipped, odd-sized chunks
 * with their pad byte. Integer samples are scaled as ffmpeg and Web Audio do (s / 2^(bits−1),
 * 8-bit as (u − 128) / 128). A file that is not what it claims — truncated data, a block size
 * that does not match, an unknown format — is refused with a TesseraError naming the problem;
 * nothing is guessed.
 */
import { TesseraError } from '../api/errors.js';

/** A decoded WAV file. */
export interface WavAudio {
  /** Sample rate, Hz (a positive integer). */
  sampleRate: number;
  /** Number of channels. */
  channels: number;
  /** One Float32Array per channel, in the file's order (left, right, …), values in [−1, 1] for integer PCM. */
  channelData: Float32Array[];
  /** The channels mixed to mono by averaging (channelData[0] itself for mono files). */
  samples: Float32Array;
  /** How the samples were stored: 'pcm' (integer), 'float', 'mulaw' or 'alaw'. */
  encoding: 'pcm' | 'float' | 'mulaw' | 'alaw';
  /** Bits per stored sample (8, 16, 24, 32, 64). */
  bitsPerSample: number;
}

const FORMAT_PCM = 1, FORMAT_FLOAT = 3, FORMAT_ALAW = 6, FORMAT_MULAW = 7, FORMAT_EXTENSIBLE = 0xfffe;

function bad(message: string): never {
  throw new TesseraError('INVALID_ARGUMENT', `readWav: ${message}`);
}

function fourCC(v: DataView, at: number): string {
  return String.fromCharCode(v.getUint8(at), v.getUint8(at + 1), v.getUint8(at + 2), v.getUint8(at + 3));
}

function asBytes(bytes: Uint8Array | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const got = bytes === null ? 'null' : (bytes as object)?.constructor?.name ?? typeof bytes;
  return bad(`expected the file's bytes (Uint8Array or ArrayBuffer), got ${got}`);
}

/**
 * Decodes a WAV file's bytes.
 * @throws TesseraError INVALID_ARGUMENT naming what is wrong (not RIFF/WAVE, no fmt or data chunk,
 * truncated data, unsupported encoding, inconsistent block size, a sample rate of 0).
 */
export function readWav(bytes: Uint8Array | ArrayBuffer | ArrayBufferView): WavAudio {
  const u8 = asBytes(bytes);
  const v = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  if (u8.length < 12) bad(`${u8.length} bytes is too short for a WAV file (a RIFF header is 12)`);
  const riff = fourCC(v, 0);
  if (riff === 'RF64' || riff === 'RIFX') bad(`${riff} files are not supported (only little-endian RIFF WAVE)`);
  if (riff !== 'RIFF' || fourCC(v, 8) !== 'WAVE') bad(`not a WAV file (starts with '${fourCC(v, 0)}'…'${fourCC(v, 8)}', expected 'RIFF'…'WAVE')`);

  let fmt: { tag: number; channels: number; rate: number; blockAlign: number; bits: number } | undefined;
  let data: { at: number; size: number } | undefined;
  for (let at = 12; at + 8 <= u8.length;) {
    const id = fourCC(v, at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'data') {
      // 0xFFFFFFFF: written by a streaming encoder that never came back to fill the size in.
      const available = u8.length - body;
      if (size === 0xffffffff) data = { at: body, size: available };
      else if (size > available) bad(`the data chunk declares ${size} bytes but only ${available} follow (truncated file)`);
      else data = { at: body, size };
    } else if (id === 'fmt ') {
      if (size < 16 || body + size > u8.length) bad(`the fmt chunk is ${size < 16 ? `${size} bytes (at least 16 needed)` : 'truncated'}`);
      let tag = v.getUint16(body, true);
      const bits = v.getUint16(body + 14, true);
      if (tag === FORMAT_EXTENSIBLE) {
        if (size < 40) bad(`WAVE_FORMAT_EXTENSIBLE needs a 40-byte fmt chunk, this one has ${size}`);
        tag = v.getUint16(body + 24, true); // the sub-format GUID's first two bytes are the format code
        if (tag !== FORMAT_PCM && tag !== FORMAT_FLOAT && tag !== FORMAT_ALAW && tag !== FORMAT_MULAW) bad(`WAVE_FORMAT_EXTENSIBLE sub-format ${tag} is not supported (PCM 1, float 3, A-law 6, µ-law 7 are)`);
      }
      fmt = { tag, channels: v.getUint16(body + 2, true), rate: v.getUint32(body + 4, true), blockAlign: v.getUint16(body + 12, true), bits };
    }
    if (data && fmt) break;
    at = body + size + (size & 1); // chunks are padded to even sizes
  }
  if (!fmt) bad('no fmt chunk (the file says nothing of its sample format)');
  if (!data) bad('no data chunk (no samples)');
  const { tag, channels, rate, bits, blockAlign } = fmt;
  if (channels === 0) bad('the fmt chunk declares 0 channels');
  if (rate === 0) bad('the fmt chunk declares a sample rate of 0 Hz');
  let encoding: WavAudio['encoding'];
  if (tag === FORMAT_PCM) {
    if (bits !== 8 && bits !== 16 && bits !== 24 && bits !== 32) bad(`${bits}-bit integer PCM is not supported (8, 16, 24, 32 are)`);
    encoding = 'pcm';
  } else if (tag === FORMAT_FLOAT) {
    if (bits !== 32 && bits !== 64) bad(`${bits}-bit float is not supported (32, 64 are)`);
    encoding = 'float';
  } else if (tag === FORMAT_MULAW || tag === FORMAT_ALAW) {
    if (bits !== 8) bad(`${tag === FORMAT_MULAW ? 'µ' : 'A'}-law samples must be 8 bits, the file says ${bits}`);
    encoding = tag === FORMAT_MULAW ? 'mulaw' : 'alaw';
  } else {
    bad(`format code ${tag} is not supported (PCM 1, IEEE float 3, A-law 6, µ-law 7, extensible 0xFFFE are; compressed WAVs need a decoder)`);
  }
  const bytesPer = bits / 8;
  if (blockAlign !== channels * bytesPer) bad(`block align ${blockAlign} ≠ ${channels} channels × ${bytesPer} bytes`);
  if (data.size % blockAlign !== 0) bad(`the data chunk (${data.size} bytes) is not a whole number of ${blockAlign}-byte frames (truncated file)`);
  const frames = data.size / blockAlign;
  const channelData = Array.from({ length: channels }, () => new Float32Array(frames));
  decode(v, data.at, frames, channels, bytesPer, encoding, channelData);
  return { sampleRate: rate, channels, channelData, samples: mixToMono(channelData), encoding, bitsPerSample: bits };
}

function decode(v: DataView, at: number, frames: number, channels: number, bytesPer: number, encoding: WavAudio['encoding'], out: Float32Array[]): void {
  const table = encoding === 'mulaw' ? MULAW : encoding === 'alaw' ? ALAW : undefined;
  for (let c = 0; c < channels; c++) {
    const o = out[c]!;
    let p = at + c * bytesPer;
    const step = channels * bytesPer;
    if (table) for (let i = 0; i < frames; i++, p += step) o[i] = table[v.getUint8(p)]!;
    else if (encoding === 'float') {
      if (bytesPer === 4) for (let i = 0; i < frames; i++, p += step) o[i] = v.getFloat32(p, true);
      else for (let i = 0; i < frames; i++, p += step) o[i] = v.getFloat64(p, true);
    } else if (bytesPer === 1) for (let i = 0; i < frames; i++, p += step) o[i] = (v.getUint8(p) - 128) / 128;
    else if (bytesPer === 2) for (let i = 0; i < frames; i++, p += step) o[i] = v.getInt16(p, true) / 32768;
    else if (bytesPer === 3) for (let i = 0; i < frames; i++, p += step) o[i] = ((v.getInt8(p + 2) << 16) | v.getUint16(p, true)) / 8388608;
    else for (let i = 0; i < frames; i++, p += step) o[i] = v.getInt32(p, true) / 2147483648;
  }
}

// G.711 expansions to 16-bit linear (ITU-T G.711 / Sun's g711.c), scaled like 16-bit PCM.
const MULAW = Float32Array.from({ length: 256 }, (_, i) => {
  const u = ~i & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return ((u & 0x80) ? 0x84 - t : t - 0x84) / 32768;
});
const ALAW = Float32Array.from({ length: 256 }, (_, i) => {
  const a = i ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else t = (t + 0x108) << (seg - 1);
  return ((a & 0x80) ? t : -t) / 32768;
});

/**
 * Mixes channels to one: 'average' (the default) is the mean of the channels; 'transformers.js'
 * is what its browser `read_audio` does: √2·(L + R)/2 for stereo, the first channel otherwise.
 * @throws TesseraError INVALID_ARGUMENT when there are no channels or their lengths differ.
 */
export function mixToMono(channelData: readonly Float32Array[], mode: 'average' | 'transformers.js' = 'average'): Float32Array {
  if (channelData.length === 0) throw new TesseraError('INVALID_ARGUMENT', 'mixToMono: no channels');
  const n = channelData[0]!.length;
  if (channelData.some((c) => c.length !== n)) throw new TesseraError('INVALID_ARGUMENT', `mixToMono: channels differ in length (${channelData.map((c) => c.length).join(', ')})`);
  if (channelData.length === 1) return channelData[0]!;
  const out = new Float32Array(n);
  if (mode === 'transformers.js') {
    if (channelData.length !== 2) return channelData[0]!;
    const [l, r] = channelData as [Float32Array, Float32Array];
    const s = Math.sqrt(2);
    for (let i = 0; i < n; i++) out[i] = (s * (l[i]! + r[i]!)) / 2;
    return out;
  }
  for (const c of channelData) for (let i = 0; i < n; i++) out[i] += c[i]!;
  const inv = 1 / channelData.length;
  for (let i = 0; i < n; i++) out[i] *= inv;
  return out;
}
