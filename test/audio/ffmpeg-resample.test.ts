// resample()'s default filter against ffmpeg 5.1's own resampler (libswresample, default options:
// what openai-whisper's load_audio and the Python ASR pipeline run). The fixtures were made once
// with Debian's ffmpeg (not needed to run this test):
//   ffmpeg -i ffmpeg-in-44k.wav -ac 1 -ar 16000 -c:a pcm_f32le ffmpeg-out-44k-to-16k.wav
//   ffmpeg -i ffmpeg-in-8k.wav  -ac 1 -ar 16000 -c:a pcm_f32le ffmpeg-out-8k-to-16k.wav
// The inputs are 16-bit noise + a chirp up to 12 kHz (3.8 kHz at 8 kHz), loud at both ends, so
// the ends — where ffmpeg mirrors the signal — are compared too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAudio, readWav, resample } from '../../src/index.js';

const dir = join(__dirname, '..', 'fixtures', 'audio');

describe('resample equals ffmpeg', () => {
  for (const name of ['44k', '8k']) {
    it(`${name} → 16 kHz, every sample including the ends`, () => {
      const input = readWav(readFileSync(join(dir, `ffmpeg-in-${name}.wav`)));
      const want = readWav(readFileSync(join(dir, `ffmpeg-out-${name}-to-16k.wav`)));
      expect([want.sampleRate, want.encoding, want.bitsPerSample]).toEqual([16000, 'float', 32]);
      const got = resample(input.samples, input.sampleRate, 16000);
      expect(got.length).toBe(want.samples.length);
      let max = 0;
      for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i]! - want.samples[i]!));
      expect(max).toBeLessThan(5e-7);
      // readAudio is the same path.
      expect(readAudio(readFileSync(join(dir, `ffmpeg-in-${name}.wav`)))).toEqual(got);
    });
  }
});
