// Text tokenizers. Each lives in its own module with no import-time side effects, so bundlers
// drop the ones an application does not use.
export { BertTokenizer } from './bert-tokenizer.js';
export type {
  BatchEncoding, BatchOptions, BertTokenizerConfig, BertVocabOptions, TruncationOptions,
} from './bert-tokenizer.js';
export { Tokenizer } from './tokenizer.js';
export type {
  EncodedRow, EncodingWithOffsets, TokenIds, TokenizerBatchEncoding, TokenizerBatchOptions, TokenizerDecodeOptions,
  TokenizerEncodeOptions,
} from './tokenizer.js';
export type { ChatMessage, ChatTemplateOptions } from './chat-template.js';
export type { TokenizerPretrainedOptions } from './pretrained.js';
