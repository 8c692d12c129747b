/** scripts/make-whisper.mjs: Whisper-shaped folders (micro/tiny/base/small) from the committed weight-less templates. */
import type onnxProto from 'onnx-proto';

type Model = onnxProto.onnx.ModelProto;
/** Template metadata (models/whisper/templates/<size>.json). */
export interface WhisperTemplateMeta { size: string; text_vocab: number; learned_merges: number; config: Record<string, unknown>; generation_config: Record<string, unknown>; preprocessor_config: Record<string, unknown>; graphs: Record<string, { name: string; param: string; transposed: boolean; dims: number[] }[]> }
/** Whisper's special tokens after the text vocabulary. */
export function specialTokens(): string[];
/** tokenizer.json and tokenizer_config.json objects for a text vocabulary of `textVocab` tokens. */
export function whisperTokenizer(textVocab: number, learned: number): [Record<string, unknown>, Record<string, unknown>];
/** The template's three graphs with weights filled (seeded, or from `weights`); `timestamped`: decoders with cross_attentions.{i}. */
export function loadTemplate(size: string, options?: { seed?: number; weights?: (param: string, shape: number[]) => Float32Array; timestamped?: boolean }): { meta: WhisperTemplateMeta; graphs: Record<'encoder' | 'decoder' | 'decoder_with_past', Model> };
/** Every ONNX file of the folder for the given formats. */
export function buildOnnx(meta: WhisperTemplateMeta, graphs: Record<string, Model>, formats?: ('fp32' | 'fp16' | 'q8' | 'q4')[]): Record<string, Model>;
/** Writes the folder; returns the files written. */
export function makeWhisper(size?: string, outDir?: string, options?: { formats?: ('fp32' | 'fp16' | 'q8' | 'q4')[]; seed?: number; log?: (s: string) => void; timestamped?: boolean }): string[];
/** True when the folder holds the tokenizer and every requested format. */
export function haveWhisper(outDir: string, formats?: ('fp32' | 'fp16' | 'q8' | 'q4')[]): boolean;
