// readWav on every format it claims (written by test/audio/wav-writer.ts with exactly
// representable values, so decoding must be exact), odd chunks, extensible headers, G.711 against
// Python's audioop values, a real espeak-ng file, and the refusals of bad or truncated files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mixToMono, readAudio, readWav, TesseraError } from '../../src/index.js';
import { encodeWav, type WavSpec } from './wav-writer';

const FIXTURE = join(__dirname, '..', 'fixtures', 'audio', 'speech-espeak-22k.wav');

/** Values every format holds exactly: multiples of 1/128 within [−1, 1). */
function ramp(n: number, phase: number): number[] {
  return Array.from({ length: n }, (_, i) => (((i * 37 + phase) % 256) - 128) / 128);
}

function refuses(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TesseraError);
    expect((e as TesseraError).code).toBe('INVALID_ARGUMENT');
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a TesseraError');
}

describe('readWav', () => {
  for (const format of ['pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32', 'float64'] as const) {
    for (const extensible of [false, true]) {
      it(`${format}${extensible ? ' (WAVE_FORMAT_EXTENSIBLE)' : ''}, stereo, LIST and fact chunks of odd sizes`, () => {
        const left = ramp(301, 0), right = ramp(301, 91);
        const bytes = encodeWav({ rate: 22050, channels: [left, right], format, extensible, before: [['LIST', 13]], between: [['fact', 4], ['junk', 7]] });
        const wav = readWav(bytes);
        expect(wav.sampleRate).toBe(22050);
        expect(wav.channels).toBe(2);
        expect(wav.encoding).toBe(format.startsWith('float') ? 'float' : 'pcm');
        expect(wav.bitsPerSample).toBe({ pcm8: 8, pcm16: 16, pcm24: 24, pcm32: 32, float32: 32, float64: 64 }[format]);
        expect(Array.from(wav.channelData[0]!)).toEqual(left);
        expect(Array.from(wav.channelData[1]!)).toEqual(right);
        expect(Array.from(wav.samples)).toEqual(left.map((l, i) => Math.fround((l + right[i]!) / 2)));
      });
    }
  }

  it('integer scaling: full-scale negative is −1, as ffmpeg and Web Audio decode', () => {
    const u8 = encodeWav({ rate: 8000, channels: [[-1, 0, 0.5]], format: 'pcm16' });
    expect(Array.from(readWav(u8).samples)).toEqual([-1, 0, 0.5]);
    expect(Array.from(readWav(encodeWav({ rate: 8000, channels: [[-1, 0.9921875]], format: 'pcm8' })).samples)).toEqual([-1, 0.9921875]);
  });

  it('G.711 µ-law and A-law (values from Python audioop.ulaw2lin / alaw2lin)', () => {
    for (const [tag, codes, want] of [[7, [0x00, 0x7f, 0x80, 0xff], [-32124, 0, 32124, 0]], [6, [0x00, 0x55, 0xd5, 0x80], [-5504, -8, 8, 5504]]] as const) {
      const u8 = encodeWav({ rate: 8000, channels: [[0, 0, 0, 0]], format: 'pcm8' });
      const v = new DataView(u8.buffer);
      v.setUint16(20, tag, true);
      u8.set(codes, u8.length - 4);
      const wav = readWav(u8);
      expect(wav.encoding).toBe(tag === 7 ? 'mulaw' : 'alaw');
      expect(Array.from(wav.samples, (x) => x * 32768)).toEqual(want);
    }
  });

  it('a data size of 0xFFFFFFFF (a streaming encoder) means to the end of the file', () => {
    const wav = readWav(encodeWav({ rate: 16000, channels: [ramp(10, 3)], format: 'pcm16', dataSize: 0xffffffff }));
    expect(Array.from(wav.samples)).toEqual(ramp(10, 3));
  });

  it('ArrayBuffer and offset views are read in place', () => {
    const bytes = encodeWav({ rate: 16000, channels: [ramp(5, 1)], format: 'pcm16' });
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    expect(Array.from(readWav(padded.subarray(3)).samples)).toEqual(ramp(5, 1));
    expect(Array.from(readWav(bytes.buffer as ArrayBuffer).samples)).toEqual(ramp(5, 1));
  });

  it('an espeak-ng recording (22050 Hz, 16-bit mono) and readAudio to 16 kHz', () => {
    const bytes = readFileSync(FIXTURE);
    const wav = readWav(bytes);
    expect([wav.sampleRate, wav.channels, wav.bitsPerSample, wav.encoding]).toEqual([22050, 1, 16, 'pcm']);
    expect(wav.samples.length).toBe(41299);
    const at16 = readAudio(bytes);
    expect(at16.length).toBe(Math.ceil((41299 * 16000) / 22050));
    let e22 = 0, e16 = 0;
    for (const x of wav.samples) e22 += x * x;
    for (const x of at16) e16 += x * x;
    // Energy per second is kept (espeak's speech has little above 7 kHz).
    expect(e16 / 16000).toBeCloseTo(e22 / 22050, 3);
  });

  const good: WavSpec = { rate: 16000, channels: [ramp(8, 0), ramp(8, 5)], format: 'pcm16' };
  it('refuses what is not a WAV, or not a complete one', () => {
    refuses(() => readWav(new Uint8Array(5)), /too short/);
    refuses(() => readWav(new TextEncoder().encode('ID3\x04 this is an mp3 file')), /not a WAV file/);
    const rf64 = encodeWav(good); rf64.set([0x52, 0x46, 0x36, 0x34], 0);
    refuses(() => readWav(rf64), /RF64 files are not supported/);
    const full = encodeWav(good);
    refuses(() => readWav(full.subarray(0, full.length - 3)), /data chunk declares 32 bytes but only 29 follow \(truncated/);
    refuses(() => readWav(full.subarray(0, 36)), /no data chunk/);
    refuses(() => readWav(encodeWav({ ...good, dataSize: 30 })), /not a whole number of 4-byte frames/);
    const noFmt = encodeWav(good); noFmt.set([0x78, 0x78, 0x78, 0x78], 12);
    refuses(() => readWav(noFmt), /no fmt chunk/);
    refuses(() => readWav('RIFF' as unknown as Uint8Array), /expected the file's bytes/);
  });

  it('refuses headers that contradict themselves or formats it cannot decode', () => {
    const patch = (f: (v: DataView) => void) => { const u8 = encodeWav(good); f(new DataView(u8.buffer)); return u8; };
    refuses(() => readWav(patch((v) => v.setUint32(24, 0, true))), /sample rate of 0 Hz/);
    refuses(() => readWav(patch((v) => v.setUint16(22, 0, true))), /0 channels/);
    refuses(() => readWav(patch((v) => v.setUint16(32, 6, true))), /block align 6 ≠ 2 channels × 2 bytes/);
    refuses(() => readWav(patch((v) => v.setUint16(34, 12, true))), /12-bit integer PCM is not supported/);
    refuses(() => readWav(patch((v) => v.setUint16(20, 2, true))), /format code 2 is not supported/); // MS ADPCM
    refuses(() => readWav(patch((v) => { v.setUint16(20, 3, true); v.setUint16(34, 16, true); })), /16-bit float/);
    const ext = encodeWav({ ...good, extensible: true });
    new DataView(ext.buffer).setUint16(44, 0x55, true);
    refuses(() => readWav(ext), /sub-format 85 is not supported/);
  });
});

describe('mixToMono', () => {
  const l = Float32Array.from([1, 0.5, -1]), r = Float32Array.from([0, 0.5, 1]);
  it('average (default) and transformers.js\' √2·(L + R)/2', () => {
    expect(Array.from(mixToMono([l, r]))).toEqual([0.5, 0.5, 0]);
    expect(Array.from(mixToMono([l, r], 'transformers.js'))).toEqual([Math.SQRT2 / 2, Math.SQRT2 / 2, 0].map(Math.fround));
    expect(mixToMono([l])).toBe(l);
    expect(mixToMono([l, r, r], 'transformers.js')).toBe(l);
  });
  it('refuses no channels and ragged channels', () => {
    refuses(() => mixToMono([]), /no channels/);
    refuses(() => mixToMono([l, r.subarray(1)]), /differ in length \(3, 2\)/);
  });
});
