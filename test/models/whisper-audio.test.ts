/**
 * models/whisper/audio: the espeak-ng clips other tests build on are what their names say —
 * PCM 16-bit mono at 16 kHz, 22,050 Hz and 8 kHz, the long one past Whisper's 30 s window —
 * and hold speech: loud stretches and, in the long clip, the silent pauses between phrases.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../../models/whisper/audio/', import.meta.url));

function header(name: string): { rate: number; channels: number; bits: number; samples: Int16Array } {
  const b = readFileSync(`${dir}${name}`);
  expect(b.toString('ascii', 0, 4)).toBe('RIFF');
  expect(b.toString('ascii', 8, 12)).toBe('WAVE');
  let p = 12;
  while (b.toString('ascii', p, p + 4) !== 'data') p += 8 + b.readUInt32LE(p + 4);
  const n = b.readUInt32LE(p + 4) / 2;
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = b.readInt16LE(p + 8 + 2 * i);
  return { rate: b.readUInt32LE(24), channels: b.readUInt16LE(22), bits: b.readUInt16LE(34), samples };
}

/** RMS of each 20 ms frame, as a fraction of full scale. */
function frameRms(s: Int16Array, rate: number): number[] {
  const f = Math.round(rate * 0.02), out: number[] = [];
  for (let i = 0; i + f <= s.length; i += f) {
    let e = 0;
    for (let j = i; j < i + f; j++) e += (s[j]! / 32768) ** 2;
    out.push(Math.sqrt(e / f));
  }
  return out;
}

describe('models/whisper/audio', () => {
  it.each([['hello-16k.wav', 16000, 3, 4], ['numbers-22k.wav', 22050, 1, 2.5], ['long-8k.wav', 8000, 30, 40]])('%s: PCM16 mono at %i Hz, %f–%f s of speech', (name, rate, lo, hi) => {
    const h = header(name as string);
    expect([h.rate, h.channels, h.bits]).toEqual([rate, 1, 16]);
    const seconds = h.samples.length / (rate as number);
    expect(seconds).toBeGreaterThan(lo as number);
    expect(seconds).toBeLessThan(hi as number);
    const rms = frameRms(h.samples, rate as number);
    expect(Math.max(...rms)).toBeGreaterThan(0.05);
  });

  it('long-8k.wav has pauses: runs of ≥ 0.4 s below -50 dBFS between speech', () => {
    const h = header('long-8k.wav');
    const rms = frameRms(h.samples, h.rate);
    let pauses = 0, run = 0;
    for (const r of rms) { if (r < 0.00316) run++; else { if (run >= 20) pauses++; run = 0; } }
    expect(pauses).toBeGreaterThanOrEqual(8);
  });
});
