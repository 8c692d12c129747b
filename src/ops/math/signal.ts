/**
 * DFT and STFT: a direct O(n²) transform per line, in float64 (twiddles precomputed per plan). Real input
 * ends in a dimension of 1, complex in 2 (real, imaginary); onesided keeps bins 0…n/2, and with
 * inverse it takes such a half spectrum and returns the real signal.
 */
import { shapeSize } from '../../api/tensor.js';
import type { OpContext, OpDef } from '../types.js';
import { product, requireDtype, requiredInts } from '../util.js';

function knownInt(ctx: OpContext, i: number, what: string): number | undefined {
  if (!ctx.inputs[i]) return undefined;
  const v = requiredInts(ctx, i, what);
  if (v.length !== 1) ctx.fail(`${what} (input ${i}) must be a scalar`, 'SHAPE_MISMATCH');
  return v[0]!;
}

const dft: OpDef = {
  opType: 'DFT', since: 17, attributes: ['axis', 'inverse', 'onesided'],
  prepare(ctx) {
    const x = ctx.input(0);
    requireDtype(ctx, 0, ['float32', 'float64']);
    const r = x.dims.length;
    const comps = x.dims[r - 1]!;
    if (r < 2 || (comps !== 1 && comps !== 2)) ctx.fail(`input must end in a dimension of 1 (real) or 2 (complex), got [${x.dims}]`, 'SHAPE_MISMATCH');
    if (ctx.opset >= 20 && ctx.attrs.has('axis')) throw ctx.attrs.error('axis', 'is an input from opset 20');
    const rawAxis = ctx.opset >= 20 ? knownInt(ctx, 2, 'axis') ?? -2 : ctx.attrs.int('axis', 1);
    const axis = rawAxis < 0 ? rawAxis + r : rawAxis;
    if (axis < 0 || axis > r - 2) ctx.fail(`axis ${rawAxis} is not a signal axis of [${x.dims}]`, 'INVALID_ATTRIBUTE');
    const inverse = ctx.attrs.int('inverse', 0) === 1, onesided = ctx.attrs.int('onesided', 0) === 1;
    const L = x.dims[axis]!;
    // Inverse of a one-sided spectrum of H bins: a real signal of 2(H − 1) samples unless told.
    const N = knownInt(ctx, 1, 'dft_length') ?? (inverse && onesided ? 2 * (L - 1) : L);
    if (!(N >= 1)) ctx.fail(`dft_length must be positive, got ${N}`);
    const outLen = onesided && !inverse ? Math.floor(N / 2) + 1 : N;
    const outComps = onesided && inverse ? 1 : 2;
    const outDims = [...x.dims.slice(0, r - 1), outComps];
    outDims[axis] = outLen;
    const outer = product(x.dims, 0, axis), inner = product(x.dims, axis + 1, r - 1);
    const cos = new Float64Array(N), sin = new Float64Array(N);
    for (let t = 0; t < N; t++) { cos[t] = Math.cos((2 * Math.PI * t) / N); sin[t] = Math.sin((2 * Math.PI * t) / N); }
    const sign = inverse ? 1 : -1, scale = inverse ? 1 / N : 1;
    const n = shapeSize(x.dims), nOut = shapeSize(outDims);
    return {
      outputs: [{ dtype: x.dtype, dims: outDims }],
      build: (bd) => {
        const vx = bd.view(x.dtype, bd.inputs[0]!, n), vy = bd.view(x.dtype, bd.outputs[0]!, nOut);
        const re = new Float64Array(N), im = new Float64Array(N);
        return () => {
          const X = vx() as Float32Array, Y = vy() as Float32Array;
          for (let o = 0; o < outer; o++) {
            for (let j = 0; j < inner; j++) {
              re.fill(0); im.fill(0);
              for (let t = 0; t < Math.min(L, N); t++) {
                const p = ((o * L + t) * inner + j) * comps;
                re[t] = X[p]!;
                im[t] = comps === 2 ? X[p + 1]! : 0;
              }
              if (inverse && onesided) {
                // Rebuild the full spectrum from its conjugate symmetry.
                for (let k = Math.min(L, N); k < N; k++) { re[k] = re[N - k]!; im[k] = -im[N - k]!; }
              }
              for (let k = 0; k < outLen; k++) {
                let sr = 0, si = 0;
                for (let t = 0; t < N; t++) {
                  const w = (k * t) % N, c = cos[w]!, s = sign * sin[w]!;
                  sr += re[t]! * c - im[t]! * s;
                  si += re[t]! * s + im[t]! * c;
                }
                const q = ((o * outLen + k) * inner + j) * outComps;
                Y[q] = sr * scale;
                if (outComps === 2) Y[q + 1] = si * scale;
              }
            }
          }
        };
      },
    };
  },
};

/** STFT: windowed frames of the signal, each transformed like DFT (frames × bins × [re, im]). */
const stft: OpDef = {
  opType: 'STFT', since: 17, attributes: ['onesided'],
  prepare(ctx) {
    const x = ctx.input(0);
    requireDtype(ctx, 0, ['float32', 'float64']);
    if (x.dims.length !== 3 || (x.dims[2] !== 1 && x.dims[2] !== 2)) ctx.fail(`signal must be [batch, length, 1 or 2], got [${x.dims}]`, 'SHAPE_MISMATCH');
    const [B, L, comps] = x.dims as [number, number, number];
    const step = knownInt(ctx, 1, 'frame_step')!;
    if (step === undefined || step < 1) ctx.fail('frame_step must be a positive scalar');
    const win = ctx.inputs[2];
    const given = knownInt(ctx, 3, 'frame_length');
    if (win && (win.dims.length !== 1 || (given !== undefined && win.dims[0] !== given))) ctx.fail(`window [${win.dims}] does not match frame_length ${given}`, 'SHAPE_MISMATCH');
    const N = given ?? win?.dims[0];
    if (N === undefined || N < 1 || N > L) ctx.fail('frame_length (or a window) must be given and fit the signal');
    const onesided = ctx.attrs.int('onesided', 1) === 1;
    if (onesided && comps === 2) throw ctx.attrs.error('onesided', 'cannot be 1 for a complex signal');
    const frames = Math.floor((L - N!) / step) + 1, bins = onesided ? Math.floor(N! / 2) + 1 : N!;
    const cos = new Float64Array(N!), sin = new Float64Array(N!);
    for (let t = 0; t < N!; t++) { cos[t] = Math.cos((2 * Math.PI * t) / N!); sin[t] = Math.sin((2 * Math.PI * t) / N!); }
    const outDims = [B, frames, bins, 2];
    return {
      outputs: [{ dtype: x.dtype, dims: outDims }],
      build: (bd) => {
        const vx = bd.view(x.dtype, bd.inputs[0]!, B * L * comps), vy = bd.view(x.dtype, bd.outputs[0]!, shapeSize(outDims));
        const vw = win ? bd.view(win.dtype, bd.inputs[2]!, N!) : undefined;
        return () => {
          const X = vx(), Y = vy(), W = vw?.();
          for (let b = 0; b < B; b++) {
            for (let f = 0; f < frames; f++) {
              for (let k = 0; k < bins; k++) {
                let sr = 0, si = 0;
                for (let t = 0; t < N!; t++) {
                  const p = (b * L + f * step + t) * comps, w = W ? (W[t] as number) : 1;
                  const a = (X[p] as number) * w, c = comps === 2 ? (X[p + 1] as number) * w : 0;
                  const i = (k * t) % N!;
                  sr += a * cos[i]! + c * sin[i]!;
                  si += c * cos[i]! - a * sin[i]!;
                }
                const q = ((b * frames + f) * bins + k) * 2;
                Y[q] = sr; Y[q + 1] = si;
              }
            }
          }
        };
      },
    };
  },
};

export const signalOps: OpDef[] = [dft, stft];
