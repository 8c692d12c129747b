/** scripts/make-decoder.mjs: the bench's Qwen3-shaped decoder and the quantizers it applies. */
import type onnxProto from 'onnx-proto';

/** Writes the Hugging Face folder (default bench/out/qwen3-0.6b-8l); returns the files written. */
export function makeDecoder(outDir?: string, options?: { formats?: ('fp32' | 'q8' | 'q4')[]; seed?: number }): string[];
/** True when `outDir` already holds the tokenizer and every requested format. */
export function haveDecoder(outDir: string, formats?: ('fp32' | 'q8' | 'q4')[]): boolean;
/** onnxruntime quantize_dynamic as transformers.js runs it (int8 per tensor, MatMulConstBOnly, uint8 Gather), in place. */
export function quantizeQ8(model: onnxProto.onnx.ModelProto): onnxProto.onnx.ModelProto;
/** onnxruntime MatMul4BitsQuantizer (MatMulNBits, symmetric), in place. */
export function quantizeQ4(model: onnxProto.onnx.ModelProto, block?: number): onnxProto.onnx.ModelProto;
