/** Audio input: Whisper's log-mel features (a Wasm kernel), WAV decoding and resampling. */
export { WhisperFeatureExtractor } from './whisper-feature-extractor.js';
export type { WhisperExtractOptions, WhisperFeatureExtractorConfig, WhisperFeatures } from './whisper-feature-extractor.js';
export { readWav, mixToMono } from './wav.js';
export type { WavAudio } from './wav.js';
export { resample } from './resample.js';
export type { ResampleFilter, ResampleOptions } from './resample.js';
export { readAudio } from './read-audio.js';
