/**
 * From a WAV file to what a speech model takes: decoded, channels averaged to mono, resampled to
 * the model's rate. transformers.js' `read_audio` does this only where `AudioContext` exists
 * (browsers: the browser decodes and resamples); in Node it throws and asks for samples. This
 * runs the same everywhere (Node, browsers, Workers) and reads WAV only.
 */
import { readWav, mixToMono } from './wav.js';
import { resample } from './resample.js';

/**
 * A WAV file's bytes as mono float32 samples at `samplingRate` Hz (16 kHz, Whisper's, by default).
 * @throws TesseraError INVALID_ARGUMENT for a file readWav refuses or a bad rate.
 */
export function readAudio(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, samplingRate = 16000): Float32Array {
  const wav = readWav(bytes);
  const mono = mixToMono(wav.channelData);
  return resample(mono, wav.sampleRate, samplingRate);
}
