/** The public surface every entry (Node, browser, Workers) exports. */
export { InferenceSession } from './api/session.js';
export type { SessionOptions, RunOptions, RunProfile, ValueMetadata, FeedsType, FetchesType, ReturnType } from './api/session.js';
export { Tensor } from './api/tensor.js';
export type { TensorType, TensorDataTypeMap } from './api/tensor.js';
export { TesseraError } from './api/errors.js';
export type { TesseraErrorCode } from './api/errors.js';
export { env } from './runtime/wasm.js';
export type { ModelCache, ProgressCallback } from './platform/fetch-model.js';
export type { WasmEnv, WasmSource, WasmVariant } from './runtime/wasm.js';
export { operatorTable, supportedOps } from './ops/index.js';
export { BertTokenizer } from './text/index.js';
export type { BatchEncoding, BatchOptions, BertTokenizerConfig, BertVocabOptions, TruncationOptions } from './text/index.js';
export { Tokenizer } from './text/index.js';
export type {
  ChatMessage, ChatTemplateOptions, EncodedRow, EncodingWithOffsets, TokenIds, TokenizerBatchEncoding, TokenizerBatchOptions,
  TokenizerDecodeOptions, TokenizerEncodeOptions, TokenizerPretrainedOptions,
} from './text/index.js';
export type { ModelFolderOptions } from './platform/model-folder.js';
export { pipeline, FillMaskPipeline, cosSim } from './pipelines/index.js';
export type { FillMaskOptions, FillMaskPipelineOptions, FillMaskResult, HubOptions } from './pipelines/index.js';
export type {
  FeatureExtractionOptions, FeatureExtractionPipeline, FillMaskCall, ModelConfig, PipelineBase, PipelineDtype, PipelineOptions,
  PipelineParts, PipelinePartsInput, PipelineTask, PipelineTokenizer, PipelineTypes, ProgressInfo, TextClassificationOptions,
  TextClassificationPipeline, TextClassificationResult, ZeroShotClassificationOptions, ZeroShotClassificationPipeline,
  ZeroShotClassificationResult,
} from './pipelines/index.js';
export type { TextGenerationCallOptions, TextGenerationDtype, TextGenerationOutput, TextGenerationPartsInput, TextGenerationPipeline, TextGenerationPipelineOptions } from './pipelines/index.js';
export { GenerationSession } from './generation/session.js';
export type { GenerationSessionOptions, GenerationStats, GenerateHooks } from './generation/session.js';
export type { GenerationConfig } from './generation/config.js';
export { BaseStreamer, TextStreamer } from './generation/streamers.js';
export type { StreamerTokenizer, TextStreamerOptions } from './generation/streamers.js';
export type { AsrCallOptions, AsrDtype, AsrNoSpeech, AsrOutput, AsrPipelineOptions, AutomaticSpeechRecognitionPipeline } from './pipelines/index.js';
export { WhisperModel } from './speech/whisper-model.js';
export type { WhisperModelConfig, WhisperModelFiles, WhisperStats } from './speech/whisper-model.js';
export { quantizeDynamic, quantizeInt4 } from './quantize/index.js';
export type { QuantizeDynamicOptions, QuantizeDynamicReport } from './quantize/index.js';
export { VoiceActivityDetector } from './audio/vad.js';
export type { SampleStream, SpeechSegment, VoiceActivityOptions } from './audio/vad.js';
export { WhisperFeatureExtractor, readWav, readAudio, mixToMono, resample } from './audio/index.js';
export type { ResampleFilter, ResampleOptions, WavAudio, WhisperExtractOptions, WhisperFeatureExtractorConfig, WhisperFeatures } from './audio/index.js';
