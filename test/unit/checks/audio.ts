// The audio kernels (assembly/audio.ts) against float64 references: stft_power_f64 against a
// direct DFT for frame lengths whose half factors into every butterfly the kernel has (4, 2, 5,
// 3 and the generic prime path), odd frame counts (the lone last frame) and panel tails;
// log_mel_norm_f32 against Math.log10. Canaries after every buffer catch writes past the end.
import { fftRadices, hannWindow, stftTwiddles } from '../../../src/audio/spectral';
import { rng, type Heap } from '../harness';
import type { KernelEntry } from '../kernel-table';
import type { Case } from './types';

/** Heap.alloc counts floats; f64 tables take two each. */
function putF64(h: Heap, a: Float64Array): number {
  const p = h.alloc(a.length * 2);
  new Float64Array(h.memory.buffer, p, a.length).set(a);
  return p;
}

function directPower(x: Float32Array, start: number, w: Float64Array, N: number): Float64Array {
  const out = new Float64Array(N / 2 + 1);
  for (let k = 0; k <= N / 2; k++) {
    let re = 0, im = 0;
    for (let n = 0; n < N; n++) {
      const v = x[start + n]! * w[n]!;
      re += v * Math.cos((2 * Math.PI * k * n) / N);
      im -= v * Math.sin((2 * Math.PI * k * n) / N);
    }
    out[k] = re * re + im * im;
  }
  return out;
}

// [N, hop, frames]: 400 (Whisper: 4·2·5·5), 512 (4·4·4·4), 480 (4·4·3·5), 14 (7: generic),
// 44 (2·11), 8 (4).
const STFT: [number, number, number][] = [[400, 160, 7], [512, 128, 4], [480, 160, 3], [14, 3, 9], [44, 10, 1], [8, 2, 16]];

function stftCases(): Case[] {
  return STFT.map(([N, hop, frames]) => ({
    name: `N=${N} (radices ${fftRadices(N / 2).join('·')}), hop ${hop}, ${frames} frames`,
    run: (h) => {
      const r = rng(N * 31 + frames);
      const len = (frames - 1) * hop + N;
      const x = new Float32Array(len);
      for (let i = 0; i < len; i++) x[i] = Math.sin(i * 0.37) * 0.8 + (r() - 0.5) * 0.3;
      const w = hannWindow(N);
      const M = N / 2, K = M + 1;
      const radices = fftRadices(M);
      const px = h.put(x);
      const pw = putF64(h, w);
      const pf = h.alloc(radices.length);
      new Int32Array(h.memory.buffer, pf, radices.length).set(radices);
      const ptw = putF64(h, stftTwiddles(N));
      const scratch = h.alloc((2 * M + Math.max(...radices)) * 8);
      const cols = Math.ceil(frames / 8) * 8;
      const out = h.alloc(cols * K);
      h.k.stft_power_f64(px, hop, frames, pw, N, pf, radices.length, ptw, scratch, out);
      const got = h.get(out, cols * K);
      for (let f = 0; f < cols; f++) {
        const want = f < frames ? directPower(x, f * hop, w, N) : new Float64Array(K);
        let peak = 0;
        for (const v of want) peak = Math.max(peak, v);
        for (let b = 0; b < K; b++) {
          const g = got[(f >> 3) * K * 8 + b * 8 + (f & 7)]!;
          // The f32 rounding of the power, plus the float64 DFT's own error far below the peak.
          if (!(Math.abs(g - want[b]!) <= Math.abs(want[b]!) * 1.2e-7 + peak * 1e-13 + 1e-30)) return `frame ${f} bin ${b}: got ${g}, want ${want[b]}`;
        }
      }
      return h.checkCanaries();
    },
  }));
}

function logMelCases(): Case[] {
  return [1, 3, 4, 37, 240].map((n) => ({
    name: `n=${n}, zeros and 1e-14 … 1e4`,
    run: (h) => {
      const r = rng(n);
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = r() < 0.2 ? 0 : 10 ** (-14 + 18 * r());
      const p = h.put(x);
      h.k.log_mel_norm_f32(p, n, 1e-10, 8, 4, 0.25);
      const logs = Array.from(x, (v) => Math.log10(Math.max(v, 1e-10)));
      const m = Math.max(...logs);
      const got = h.get(p, n);
      for (let i = 0; i < n; i++) {
        const want = (Math.max(logs[i]!, m - 8) + 4) / 4;
        if (!(Math.abs(got[i]! - want) < 2e-6)) return `[${i}] got ${got[i]}, want ${want}`;
      }
      return h.checkCanaries();
    },
  }));
}

export function audioCases(e: KernelEntry): Case[] {
  return e.name === 'stft_power_f64' ? stftCases() : logMelCases();
}
