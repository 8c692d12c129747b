// Audio front-end kernels (Whisper's log-mel features, src/audio/): the power spectrogram of
// windowed frames through a mixed-radix FFT in float64, and the log10 / dynamic-range / affine
// normalisation of a mel spectrogram. The mel projection itself is a plain gemm_f32 over the
// power spectrogram, which `stft_power_f64` writes directly as packed-B panels.
//
// Why float64: transformers.js computes its FFT in float64 and rounds the power to float32; an
// f32 FFT (or a DFT as an f32 GEMM) leaves ~1e-7 of the frame's peak as noise, which near the
// −80 dB floor of the features is 1e-4 of the output (an estimate). A float64 FFT costs ~25 kflop
// a frame, two frames at a time in the two lanes of f64x2: ~10 ms for 3000 frames, where the DFT
// as a GEMM would be ~0.96 GFLOP.
import { log_f32x4 } from './activation';

// One complex pair: re at p, im at p + 16; each an f64x2 holding frame A and frame B.
const PAIR: usize = 32;

// @ts-ignore: decorator
@inline function twRe(tw: usize, k: i32): v128 { return v128.load64_splat(tw + (<usize>k << 4)); }
// @ts-ignore: decorator
@inline function twIm(tw: usize, k: i32): v128 { return v128.load64_splat(tw + (<usize>k << 4) + 8); }

// Complex product (vr + i·vi)·(c + i·s), one f64x2 lane per frame.
// @ts-ignore: decorator
@inline function cmr(vr: v128, vi: v128, c: v128, s: v128): v128 { return f64x2.sub(f64x2.mul(vr, c), f64x2.mul(vi, s)); }
// @ts-ignore: decorator
@inline function cmi(vr: v128, vi: v128, c: v128, s: v128): v128 { return f64x2.add(f64x2.mul(vr, s), f64x2.mul(vi, c)); }

// One Stockham pass of radix R over M points (Govindaraju et al.): butterfly j reads src[j + r·L]
// (L = M / R), twiddled by W_M^{(j mod Ns)·r·M/(Ns·R)}, and writes dst[(j − j mod Ns)·R + j mod Ns
// + r·Ns]. After all passes (Ns = product of the radices so far) the output is in natural order.
// The butterflies sharing j mod Ns share their twiddles, so those are loaded once per jm (and
// skipped for jm = 0, the whole first pass).
function fft_pass(src: usize, dst: usize, tw: usize, M: i32, R: i32, Ns: i32, tmp: usize): void {
  const L = M / R;
  const tstride = M / (Ns * R);
  const wq = M / R; // W_R^1 = tw[wq]
  const groups = L / Ns;
  const inStep = <usize>L * PAIR;
  const outStep = <usize>Ns * PAIR;
  for (let jm = 0; jm < Ns; jm++) {
    const t1 = jm * tstride;
    const tw1 = jm != 0;
    if (R == 2) {
      const c1 = twRe(tw, t1), s1 = twIm(tw, t1);
      for (let g = 0; g < groups; g++) {
        const j = g * Ns + jm;
        const pin = src + <usize>j * PAIR;
        const pout = dst + <usize>(g * Ns * R + jm) * PAIR;
        const ar = v128.load(pin), ai = v128.load(pin + 16);
        let br = v128.load(pin + inStep), bi = v128.load(pin + inStep + 16);
        if (tw1) { const t = cmr(br, bi, c1, s1); bi = cmi(br, bi, c1, s1); br = t; }
        v128.store(pout, f64x2.add(ar, br));
        v128.store(pout + 16, f64x2.add(ai, bi));
        v128.store(pout + outStep, f64x2.sub(ar, br));
        v128.store(pout + outStep + 16, f64x2.sub(ai, bi));
      }
    } else if (R == 4) {
      const c1 = twRe(tw, t1), s1 = twIm(tw, t1);
      const c2 = twRe(tw, 2 * t1), s2 = twIm(tw, 2 * t1);
      const c3 = twRe(tw, 3 * t1), s3 = twIm(tw, 3 * t1);
      for (let g = 0; g < groups; g++) {
        const j = g * Ns + jm;
        const pin = src + <usize>j * PAIR;
        const pout = dst + <usize>(g * Ns * R + jm) * PAIR;
        const v0r = v128.load(pin), v0i = v128.load(pin + 16);
        let v1r = v128.load(pin + inStep), v1i = v128.load(pin + inStep + 16);
        let v2r = v128.load(pin + 2 * inStep), v2i = v128.load(pin + 2 * inStep + 16);
        let v3r = v128.load(pin + 3 * inStep), v3i = v128.load(pin + 3 * inStep + 16);
        if (tw1) {
          let t = cmr(v1r, v1i, c1, s1); v1i = cmi(v1r, v1i, c1, s1); v1r = t;
          t = cmr(v2r, v2i, c2, s2); v2i = cmi(v2r, v2i, c2, s2); v2r = t;
          t = cmr(v3r, v3i, c3, s3); v3i = cmi(v3r, v3i, c3, s3); v3r = t;
        }
        const s02r = f64x2.add(v0r, v2r), s02i = f64x2.add(v0i, v2i);
        const d02r = f64x2.sub(v0r, v2r), d02i = f64x2.sub(v0i, v2i);
        const s13r = f64x2.add(v1r, v3r), s13i = f64x2.add(v1i, v3i);
        const d13r = f64x2.sub(v1r, v3r), d13i = f64x2.sub(v1i, v3i);
        // y1 = d02 − i·d13, y3 = d02 + i·d13; −i·(a + ib) = b − ia.
        v128.store(pout, f64x2.add(s02r, s13r));
        v128.store(pout + 16, f64x2.add(s02i, s13i));
        v128.store(pout + outStep, f64x2.add(d02r, d13i));
        v128.store(pout + outStep + 16, f64x2.sub(d02i, d13r));
        v128.store(pout + 2 * outStep, f64x2.sub(s02r, s13r));
        v128.store(pout + 2 * outStep + 16, f64x2.sub(s02i, s13i));
        v128.store(pout + 3 * outStep, f64x2.sub(d02r, d13i));
        v128.store(pout + 3 * outStep + 16, f64x2.add(d02i, d13r));
      }
    } else if (R == 5) {
      const k1 = twRe(tw, wq), k1n = twIm(tw, wq); // cos 2π/5, −sin 2π/5
      const k2 = twRe(tw, 2 * wq), k2n = twIm(tw, 2 * wq); // cos 4π/5, −sin 4π/5
      const c1 = twRe(tw, t1), s1 = twIm(tw, t1);
      const c2 = twRe(tw, 2 * t1), s2 = twIm(tw, 2 * t1);
      const c3 = twRe(tw, 3 * t1), s3 = twIm(tw, 3 * t1);
      const c4 = twRe(tw, 4 * t1), s4 = twIm(tw, 4 * t1);
      for (let g = 0; g < groups; g++) {
        const j = g * Ns + jm;
        const pin = src + <usize>j * PAIR;
        const pout = dst + <usize>(g * Ns * R + jm) * PAIR;
        const v0r = v128.load(pin), v0i = v128.load(pin + 16);
        let v1r = v128.load(pin + inStep), v1i = v128.load(pin + inStep + 16);
        let v2r = v128.load(pin + 2 * inStep), v2i = v128.load(pin + 2 * inStep + 16);
        let v3r = v128.load(pin + 3 * inStep), v3i = v128.load(pin + 3 * inStep + 16);
        let v4r = v128.load(pin + 4 * inStep), v4i = v128.load(pin + 4 * inStep + 16);
        if (tw1) {
          let t = cmr(v1r, v1i, c1, s1); v1i = cmi(v1r, v1i, c1, s1); v1r = t;
          t = cmr(v2r, v2i, c2, s2); v2i = cmi(v2r, v2i, c2, s2); v2r = t;
          t = cmr(v3r, v3i, c3, s3); v3i = cmi(v3r, v3i, c3, s3); v3r = t;
          t = cmr(v4r, v4i, c4, s4); v4i = cmi(v4r, v4i, c4, s4); v4r = t;
        }
        const t1r = f64x2.add(v1r, v4r), t1i = f64x2.add(v1i, v4i);
        const t2r = f64x2.add(v2r, v3r), t2i = f64x2.add(v2i, v3i);
        const t3r = f64x2.sub(v1r, v4r), t3i = f64x2.sub(v1i, v4i);
        const t4r = f64x2.sub(v2r, v3r), t4i = f64x2.sub(v2i, v3i);
        const a1r = f64x2.add(v0r, f64x2.add(f64x2.mul(k1, t1r), f64x2.mul(k2, t2r)));
        const a1i = f64x2.add(v0i, f64x2.add(f64x2.mul(k1, t1i), f64x2.mul(k2, t2i)));
        const a2r = f64x2.add(v0r, f64x2.add(f64x2.mul(k2, t1r), f64x2.mul(k1, t2r)));
        const a2i = f64x2.add(v0i, f64x2.add(f64x2.mul(k2, t1i), f64x2.mul(k1, t2i)));
        // With kn = −sin: −i·b1 where b1 = sin1·t3 + sin2·t4 is i·(k1n·t3 + k2n·t4) =: i·m1;
        // b2 = sin2·t3 − sin1·t4 gives −i·b2 = i·(k2n·t3 − k1n·t4) =: i·m2; i·(x + iy) = −y + ix.
        const m1r = f64x2.add(f64x2.mul(k1n, t3r), f64x2.mul(k2n, t4r));
        const m1i = f64x2.add(f64x2.mul(k1n, t3i), f64x2.mul(k2n, t4i));
        const m2r = f64x2.sub(f64x2.mul(k2n, t3r), f64x2.mul(k1n, t4r));
        const m2i = f64x2.sub(f64x2.mul(k2n, t3i), f64x2.mul(k1n, t4i));
        v128.store(pout, f64x2.add(v0r, f64x2.add(t1r, t2r)));
        v128.store(pout + 16, f64x2.add(v0i, f64x2.add(t1i, t2i)));
        v128.store(pout + outStep, f64x2.sub(a1r, m1i));
        v128.store(pout + outStep + 16, f64x2.add(a1i, m1r));
        v128.store(pout + 4 * outStep, f64x2.add(a1r, m1i));
        v128.store(pout + 4 * outStep + 16, f64x2.sub(a1i, m1r));
        v128.store(pout + 2 * outStep, f64x2.sub(a2r, m2i));
        v128.store(pout + 2 * outStep + 16, f64x2.add(a2i, m2r));
        v128.store(pout + 3 * outStep, f64x2.add(a2r, m2i));
        v128.store(pout + 3 * outStep + 16, f64x2.sub(a2i, m2r));
      }
    } else {
      // Any other radix: twiddled inputs into tmp, then the R-point DFT written out,
      // W_R^{qr} = tw[((q·r) mod R)·M/R].
      for (let g = 0; g < groups; g++) {
        const j = g * Ns + jm;
        const pin = src + <usize>j * PAIR;
        const pout = dst + <usize>(g * Ns * R + jm) * PAIR;
        for (let r = 0; r < R; r++) {
          const p = pin + <usize>r * inStep;
          const vr = v128.load(p), vi = v128.load(p + 16);
          const k = r * t1;
          const c = twRe(tw, k), s = twIm(tw, k);
          const q = tmp + <usize>r * PAIR;
          v128.store(q, cmr(vr, vi, c, s));
          v128.store(q + 16, cmi(vr, vi, c, s));
        }
        for (let r = 0; r < R; r++) {
          let accR = v128.load(tmp), accI = v128.load(tmp + 16);
          for (let q = 1; q < R; q++) {
            const k = ((q * r) % R) * wq;
            const c = twRe(tw, k), s = twIm(tw, k);
            const vr = v128.load(tmp + <usize>q * PAIR), vi = v128.load(tmp + <usize>q * PAIR + 16);
            accR = f64x2.add(accR, cmr(vr, vi, c, s));
            accI = f64x2.add(accI, cmi(vr, vi, c, s));
          }
          v128.store(pout + <usize>r * outStep, accR);
          v128.store(pout + <usize>r * outStep + 16, accI);
        }
      }
    }
  }
}

/**
 * Power spectrogram of `nFrames` frames of an f32 signal: frame f is the N samples at x + f·hop,
 * times `window` (N f64), real FFT in f64 (an M = N/2-point complex FFT of the even/odd samples,
 * radices `factors[0..nFactors)` with product M, then the split step), |X[k]|² for k = 0…M rounded
 * to f32. Output: packed-B panels with K = M + 1 rows (bins) and one column per frame
 * (out[(f >> 3)·K·8 + k·8 + (f & 7)]), columns past nFrames zeroed up to a multiple of 8.
 * tw: M complex f64 W_M^k = (cos, −sin)(2πk/M), then M + 1 complex W_N^k. scratch:
 * `(2·M + max radix)·32` bytes. N must be even.
 */
export function stft_power_f64(x: usize, hop: i32, nFrames: i32, window: usize, N: i32, factors: usize, nFactors: i32,
  tw: usize, scratch: usize, out: usize): void {
  const M = N >> 1;
  const K = M + 1;
  const bufA = scratch;
  const bufB = scratch + <usize>M * PAIR;
  const tmp = bufB + <usize>M * PAIR;
  const post = tw + (<usize>M << 4);
  const half = f64x2.splat(0.5);
  for (let f = 0; f < nFrames; f += 2) {
    const two = f + 1 < nFrames;
    const p0 = x + <usize>f * hop * 4;
    const p1 = two ? p0 + <usize>hop * 4 : p0;
    // z[n] = x[2n]·w[2n] + i·x[2n+1]·w[2n+1], frame f in lane 0 and f + 1 in lane 1.
    for (let n = 0; n < M; n++) {
      const w = v128.load(window + (<usize>n << 4));
      const a = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p0 + (<usize>n << 3))), w);
      const b = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p1 + (<usize>n << 3))), w);
      const q = bufA + <usize>n * PAIR;
      v128.store(q, v128.shuffle<f64>(a, b, 0, 2));
      v128.store(q + 16, v128.shuffle<f64>(a, b, 1, 3));
    }
    let src = bufA, dst = bufB, Ns = 1;
    for (let s = 0; s < nFactors; s++) {
      const R = load<i32>(factors + (<usize>s << 2));
      fft_pass(src, dst, tw, M, R, Ns, tmp);
      Ns *= R;
      const t = src; src = dst; dst = t;
    }
    // X[k] = E + W_N^k·O with E = (Z[k] + conj Z[M−k])/2, O = −i·(Z[k] − conj Z[M−k])/2.
    const col = out + ((<usize>(f >> 3) * K * 8 + <usize>(f & 7)) << 2);
    for (let k = 0; k <= M; k++) {
      const zk = src + <usize>(k == M ? 0 : k) * PAIR;
      const zm = src + <usize>(k == 0 ? 0 : M - k) * PAIR;
      const zkr = v128.load(zk), zki = v128.load(zk + 16), zmr = v128.load(zm), zmi = v128.load(zm + 16);
      const er = f64x2.mul(f64x2.add(zkr, zmr), half), ei = f64x2.mul(f64x2.sub(zki, zmi), half);
      const or = f64x2.mul(f64x2.add(zki, zmi), half), oi = f64x2.mul(f64x2.sub(zmr, zkr), half);
      const c = twRe(post, k), s = twIm(post, k);
      const xr = f64x2.add(er, f64x2.sub(f64x2.mul(c, or), f64x2.mul(s, oi)));
      const xi = f64x2.add(ei, f64x2.add(f64x2.mul(c, oi), f64x2.mul(s, or)));
      const pw = f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(xr, xr), f64x2.mul(xi, xi)));
      const dstp = col + (<usize>k << 5);
      if (two) v128.store64_lane(dstp, pw, 0);
      else v128.store32_lane(dstp, pw, 0);
    }
  }
  // Columns past the last frame are part of the last panel: the GEMM reads them, so zero them.
  const cols = (nFrames + 7) & ~7;
  for (let f = nFrames; f < cols; f++) {
    const col = out + ((<usize>(f >> 3) * K * 8 + <usize>(f & 7)) << 2);
    for (let k = 0; k < K; k++) store<f32>(col + (<usize>k << 5), 0);
  }
}

/**
 * Whisper's 'log10_max_norm' in place over n floats: y = log10(max(x, floor)), then, with m the
 * largest y, y = (max(y, m − range) + shift)·scale (Whisper: floor 1e-10, range 8, shift 4,
 * scale 0.25).
 */
export function log_mel_norm_f32(x: usize, n: i32, floor: f32, range: f32, shift: f32, scale: f32): void {
  const fl = f32x4.splat(floor);
  const inv = f32x4.splat(<f32>0.43429448190325182); // 1 / ln 10
  let mv = f32x4.splat(-Infinity);
  let m: f32 = -Infinity;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    const y = f32x4.mul(log_f32x4(f32x4.max(v128.load(p), fl)), inv);
    v128.store(p, y);
    mv = f32x4.max(mv, y);
  }
  for (; i < n; i++) {
    const p = x + (<usize>i << 2);
    const y = f32x4.extract_lane(f32x4.mul(log_f32x4(f32x4.splat(max(load<f32>(p), floor))), inv), 0);
    store<f32>(p, y);
    m = max(m, y);
  }
  m = max(m, max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3))));
  const lo = f32x4.splat(m - range), sh = f32x4.splat(shift), sc = f32x4.splat(scale);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(p, f32x4.mul(f32x4.add(f32x4.max(v128.load(p), lo), sh), sc));
  }
  for (; i < n; i++) {
    const p = x + (<usize>i << 2);
    store<f32>(p, (max(load<f32>(p), m - range) + shift) * scale);
  }
}
