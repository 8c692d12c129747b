// resample(): the frequency response measured on pure tones (amplitude and phase fitted over the
// output's steady part), for down-, up- and odd-ratio conversions; DC and timing; refusals.
import { describe, expect, it } from 'vitest';
import { resample, TesseraError } from '../../src/index.js';

function tone(n: number, rate: number, freq: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * freq * i) / rate));
}

/** Least-squares amplitude and phase of a tone at `freq` over y[from … to). */
function fit(y: Float32Array, rate: number, freq: number, from: number, to: number): { amp: number; phase: number; residual: number } {
  let ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
  for (let i = from; i < to; i++) {
    const s = Math.sin((2 * Math.PI * freq * i) / rate), c = Math.cos((2 * Math.PI * freq * i) / rate);
    ss += s * s; cc += c * c; sc += s * c; ys += y[i]! * s; yc += y[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (ys * cc - yc * sc) / det, b = (yc * ss - ys * sc) / det;
  let r = 0;
  for (let i = from; i < to; i++) r = Math.max(r, Math.abs(y[i]! - a * Math.sin((2 * Math.PI * freq * i) / rate) - b * Math.cos((2 * Math.PI * freq * i) / rate)));
  return { amp: Math.hypot(a, b), phase: Math.atan2(b, a), residual: r };
}

function rms(y: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += y[i]! * y[i]!;
  return Math.sqrt(s / (to - from));
}

const db = (x: number) => 20 * Math.log10(x);

describe('resample frequency response', () => {
  // [from, to, tones kept (Hz), tones removed (Hz)] per filter, with the gain allowed on kept
  // tones and the level removed tones must be under.
  const designs: { filter: 'ffmpeg' | 'sharp'; gainDb: number; floorDb: number; cases: [number, number, number[], number[]][] }[] = [
    // ffmpeg's: −6 dB at 0.97 of Nyquist, the transition centred there (some aliasing just above).
    { filter: 'ffmpeg', gainDb: 0.1, floorDb: -60, cases: [
      [44100, 16000, [100, 1000, 3000, 5500], [9700, 11000, 20000]],
      [48000, 16000, [440, 5500], [9700, 23000]],
      [22050, 16000, [1000, 5500], [9700, 10500]],
      [44101, 16000, [1000, 5500], [9700, 12000]], // gcd 1: interpolated filter phases
      [8000, 16000, [300, 3000], []],
      [16000, 44100, [1000, 6000], []],
    ] },
    // 'sharp': flat to 0.8 of Nyquist, nothing from Nyquist on.
    { filter: 'sharp', gainDb: 0.01, floorDb: -80, cases: [
      [44100, 16000, [100, 1000, 3000, 6000], [8000, 8500, 11000, 20000]],
      [48000, 16000, [440, 6400], [8000, 9000, 23000]],
      [22050, 16000, [1000, 6000], [8100, 10000]],
      [44101, 16000, [1000, 6000], [8200, 12000]],
      [8000, 16000, [300, 3000], []],
      [16000, 44100, [1000, 6000], []],
    ] },
  ];
  for (const { filter, gainDb, floorDb, cases } of designs) {
    for (const [from, to, kept, removed] of cases) {
      it(`${filter}: ${from} → ${to} Hz`, () => {
        const n = Math.round(from * 0.25);
        const edge = Math.ceil(to * 0.01); // the filter's reach
        for (const f of kept) {
          const y = resample(tone(n, from, f), from, to, { filter });
          expect(y.length).toBe(Math.ceil((n * to) / from));
          const { amp, phase, residual } = fit(y, to, f, edge, y.length - edge);
          expect(Math.abs(db(amp)), `${f} Hz gain ${db(amp).toFixed(4)} dB`).toBeLessThan(gainDb);
          expect(Math.abs(phase), `${f} Hz phase`).toBeLessThan(1e-3); // output j is input time j·from/to: no delay
          expect(residual, `${f} Hz residual`).toBeLessThan(3e-3 + (1 - amp));
        }
        for (const f of removed) {
          const y = resample(tone(n, from, f), from, to, { filter });
          expect(db(rms(y, edge, y.length - edge) * Math.SQRT2), `${f} Hz leaks`).toBeLessThan(floorDb);
        }
      });
    }
  }

  it("ffmpeg's filter lets a little through just above Nyquist, 'sharp' does not", () => {
    const x = tone(11025, 44100, 8400);
    const lvl = (filter: 'ffmpeg' | 'sharp') => { const y = resample(x, 44100, 16000, { filter }); return db(rms(y, 160, y.length - 160) * Math.SQRT2); };
    expect(lvl('ffmpeg')).toBeGreaterThan(-40);
    expect(lvl('sharp')).toBeLessThan(-80);
  });

  it('DC stays DC; the same rate is a copy', () => {
    const y = resample(new Float32Array(4410).fill(0.5), 44100, 16000);
    for (let i = 160; i < y.length - 160; i++) expect(Math.abs(y[i]! - 0.5)).toBeLessThan(1e-5);
    const x = tone(100, 16000, 1000);
    const same = resample(x, 16000, 16000);
    expect(same).not.toBe(x);
    expect(Array.from(same)).toEqual(Array.from(x));
    expect(resample(new Float32Array(0), 44100, 16000).length).toBe(0);
    // Shorter than the filter: the mirrored ends fold again; a constant stays that constant.
    for (const n of [1, 2, 3, 7]) {
      const y = resample(new Float32Array(n).fill(0.5), 44100, 16000);
      expect(y.length).toBe(Math.ceil((n * 16000) / 44100));
      for (const v of y) expect(Math.abs(v - 0.5)).toBeLessThan(1e-3);
    }
  });
});

describe('resample refuses', () => {
  function refuses(f: () => unknown, pattern: RegExp): void {
    try { f(); } catch (e) {
      expect(e).toBeInstanceOf(TesseraError);
      expect((e as Error).message).toMatch(pattern);
      return;
    }
    throw new Error('expected a TesseraError');
  }
  it('rates that are not positive integers, non-finite samples', () => {
    const x = new Float32Array(10);
    refuses(() => resample(x, 44100.5, 16000), /fromRate must be a positive integer.*44100.5/);
    refuses(() => resample(x, 0, 16000), /fromRate/);
    refuses(() => resample(x, 16000, -8000), /toRate/);
    refuses(() => resample(x, 16000, NaN), /toRate/);
    const bad = new Float32Array(10); bad[4] = Infinity;
    refuses(() => resample(bad, 8000, 16000), /sample 4 is Infinity/);
    refuses(() => resample(x, 8000, 16000, { filter: 'cubic' as 'sharp' }), /filter must be 'ffmpeg' or 'sharp'/);
  });
});
