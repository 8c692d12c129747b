/**
 * The audio a speech pipeline accepts, checked and brought to one Float32Array of mono samples at
 * the model's rate: a Float32Array or Float64Array (taken as already at that rate, as
 * transformers.js takes it), or a WAV file — its bytes, or a path (Node) / URL — decoded, mixed
 * to mono and resampled (src/audio/read-audio.ts).
 */
import { TesseraError } from '../api/errors.js';
import { readAudio } from '../audio/index.js';
import { platform } from '../platform/platform.js';

/** Samples at the model's rate (16 kHz for Whisper), or a WAV file's bytes, path or URL. */
export type AudioInput = Float32Array | Float64Array | Uint8Array | ArrayBuffer | string | URL;

/**
 * The samples of `input` at `samplingRate`, checked: not empty, every sample finite.
 * @throws TesseraError INVALID_ARGUMENT naming what is wrong.
 */
export async function loadAudio(input: AudioInput, samplingRate: number): Promise<Float32Array> {
  let samples: Float32Array;
  if (input instanceof Float32Array) samples = input;
  else if (input instanceof Float64Array) samples = new Float32Array(input);
  else if (input instanceof Uint8Array || input instanceof ArrayBuffer) samples = readAudio(input, samplingRate);
  else if (typeof input === 'string' || input instanceof URL) samples = readAudio(await platform.readModel(input, { cache: false }), samplingRate);
  else throw new TesseraError('INVALID_ARGUMENT', `speech input: pass a Float32Array of samples at ${samplingRate} Hz, or a WAV file (bytes, path or URL), got ${describe(input)}`);
  if (!samples.length) throw new TesseraError('INVALID_ARGUMENT', 'speech input: the audio is empty (0 samples)');
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i]!)) throw new TesseraError('INVALID_ARGUMENT', `speech input: sample ${i} is ${samples[i]} (every sample must be a finite number)`);
  }
  return samples;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'an object';
}
